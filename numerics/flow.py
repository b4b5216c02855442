"""Gradient flow θ' = −∇L(θ) integrated piecewise: Runge–Kutta steps inside a gating region, gating flips as events.

Between flips the ReLU field is smooth: with the gating D = 1[X Wᵀ > 0] held fixed, σ(z) = D·z and the field is
a polynomial in θ (`loss_and_grad(..., gates=D)`). An explicit Runge–Kutta method of order p keeps order p over the
whole run if each flip is located and the integration restarted there:
  1. step θ → θ₁ by h with the field of the current gating D;
  2. if the sign pattern of X W₁ᵀ differs from D, bisect the step length s ∈ (0, h] for the first change (to
     `event_tol`·h), take that step, and set D to the new pattern (the crossing entries flip);
  3. if a flipped pre-activation is driven back by the new field as well as by the old one, the flow slides
     along the kink (a Filippov sliding mode): it is not piecewise smooth there and `SlidingModeError` is raised.
Gradient descent with step η is the same construction with the Euler tableau and no events (order 1).
"""
from __future__ import annotations

import math
import numpy as np
import torch

from . import model, validate
from .record import Trajectory, from_states

# Butcher tableaus (A strictly lower triangular, b, c) as plain numbers; `theory.discretisation` derives their order.
EULER = dict(name="explicit Euler (gradient descent)", A=((0.0,),), b=(1.0,), c=(0.0,))
RK4 = dict(name="classical RK4",
           A=((0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), (0.0, 0.5, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)),
           b=(1 / 6, 1 / 3, 1 / 3, 1 / 6), c=(0.0, 0.5, 0.5, 1.0))
HEUN = dict(name="Heun", A=((0.0, 0.0), (1.0, 0.0)), b=(0.5, 0.5), c=(0.0, 1.0))
TABLEAUS = {"euler": EULER, "heun": HEUN, "rk4": RK4}  # by name, for settings that choose the integrator


class SlidingModeError(RuntimeError):
    """A gating flip the flow cannot leave: both sides of the kink push the pre-activation back into it."""


def rk_step(W, a, X, y, gates, h: float, tableau: dict, loss: str = "square"):
    """One explicit Runge–Kutta step of θ' = −∇L(θ) with the gating held at `gates`.

    Arguments:
        W, a: (m, d) and (m,) float64 tensors, the state (not modified).
        X, y: (n, d) and (n,) data tensors.
        gates: (n, m) bool gating D held fixed in every stage, or None (each stage takes its own state's gating).
        h: the step length.
        tableau: a Butcher tableau dict with keys "A" (strictly lower triangular rows), "b", "c" (plain numbers).
        loss: "square" or "logistic".

    Returns:
        (W1, a1), the new state as fresh tensors.
    """
    kW, ka = [], []
    for i, row in enumerate(tableau["A"]):
        Wi, ai = W.clone(), a.clone()
        for j in range(i):
            if row[j]:
                Wi.add_(kW[j], alpha=h * row[j])
                ai.add_(ka[j], alpha=h * row[j])
        lg = model.loss_and_grad(Wi, ai, X, y, loss, gates=gates)
        kW.append(-lg.grad_W)
        ka.append(-lg.grad_a)
    W1, a1 = W.clone(), a.clone()
    for bi, gw, ga in zip(tableau["b"], kW, ka):
        if bi:
            W1.add_(gw, alpha=h * bi)
            a1.add_(ga, alpha=h * bi)
    return W1, a1


def _gating(W, X):
    return model.preactivation(W, X) > 0


def event_flow(X, y, W0, a0, *, horizon: float, step: float, record_at_times=(), loss: str = "square",
               tableau: dict = RK4, event_tol: float = 1e-12, max_events: int = 100_000,
               locate_events: bool = True) -> Trajectory:
    """Integrate the ReLU gradient flow to `horizon` with steps ≤ `step`, locating every gating flip.

    With `locate_events=False` it is the plain method: every stage takes the gating of its own state, steps run
    straight through the kinks, and the order drops (kept as the contrast that shows why events are located).

    Arguments:
        X, y: data, X (n, d) and y (n,).
        W0, a0: one network, W0 (m, d) and a0 (m,) (scalar output); float64 throughout.
        horizon: final flow time T > 0.
        step: the largest step length h > 0.
        record_at_times: flow times in (0, T) to record at exactly (steps are shortened to land on them).
        loss: "square" or "logistic".
        tableau: the explicit Runge–Kutta method (`RK4`, `EULER` or a dict of the same form).
        event_tol: bisection tolerance of a located flip, relative to the step.
        max_events: the most gating flips allowed before the run is declared chattering (RuntimeError).
        locate_events: locate each flip and restart there (default), or step straight through the kinks.

    Returns:
        a `Trajectory` at t = 0, the `record_at_times` and T: `patterns` is the gating at each record time, `step`
        the cumulative number of integrator steps, `events` every located flip (t, sample k, neuron j, new gate)
        (empty with `locate_events=False`), and `config` the tableau name, step, horizon and loss.

    Raises:
        InputError on bad arguments; SlidingModeError where the flow slides along a kink; FloatingPointError if
        the state leaves the finite range.
    """
    horizon = validate.positive("horizon", horizon)
    step = validate.positive("step", step)
    event_tol = validate.positive("event_tol", event_tol)
    validate.choice("loss", loss, model.LOSSES)
    W = validate.as_tensor("W0", W0, dtype=torch.float64, device="cpu").clone()
    a = validate.as_tensor("a0", a0, dtype=torch.float64, device="cpu").clone()
    X, y = validate.data(X, y, dtype=torch.float64, device="cpu")
    validate.params(W, a, X.shape[1], y)
    if W.dim() != 2 or a.dim() != 1:
        raise validate.InputError("event_flow integrates one network with scalar output: W0 (m, d), a0 (m,)")
    stops = sorted({float(t) for t in record_at_times if 0 < float(t) < horizon} | {horizon})
    rec = {"time": [0.0], "step": [0], "W": [W.numpy().copy()], "a": [a.numpy().copy()],
           "loss": [float(model.loss_value(W, a, X, y, loss))], "patterns": [_gating(W, X).numpy()]}
    D, t, n_steps, flips = _gating(W, X), 0.0, 0, []
    for stop in stops:
        while t < stop * (1 - 1e-15):
            h = min(step, stop - t)
            W1, a1 = rk_step(W, a, X, y, D if locate_events else None, h, tableau, loss)
            n_steps += 1
            if locate_events and not torch.equal(_gating(W1, X), D):
                h, W1, a1 = _first_flip(W, a, X, y, D, h, tableau, loss, event_tol)
                D1 = _gating(W1, X)
                ks, js = torch.nonzero(D != D1, as_tuple=True)
                flips.extend((t + h, int(k), int(j), int(D1[k, j])) for k, j in zip(ks, js))
                _refuse_sliding(W1, a1, X, y, D1, ks, js, loss, t + h)
                D = D1
                if len(flips) > max_events:
                    raise RuntimeError(f"more than max_events={max_events} gating flips before t={t + h:g}; "
                                       "the run chatters: shorten the horizon or raise max_events")
            W, a, t = W1, a1, t + h
            if not (math.isfinite(float(W.abs().max())) and math.isfinite(float(a.abs().max()))):
                raise FloatingPointError(f"the flow left the finite range by t={t:g}: use a smaller step than {step:g}")
        t = stop
        rec["time"].append(t)
        rec["step"].append(n_steps)
        rec["W"].append(W.numpy().copy())
        rec["a"].append(a.numpy().copy())
        rec["loss"].append(float(model.loss_value(W, a, X, y, loss)))
        rec["patterns"].append(_gating(W, X).numpy())
    return from_states(np.array(rec["time"]), np.array(rec["step"], dtype=np.int64), np.array(rec["loss"]),
                       np.stack(rec["W"]), np.stack(rec["a"]), np.stack(rec["patterns"]), events=flips,
                       config=dict(tableau=tableau["name"], step=step, horizon=horizon, loss=loss,
                                   locate_events=locate_events, event_tol=event_tol))


def _first_flip(W, a, X, y, D, h, tableau, loss, event_tol):
    """Bisect s ∈ (0, h] for the first step length whose end state has a gating other than D."""
    lo, hi = 0.0, h
    W_hi, a_hi = rk_step(W, a, X, y, D, hi, tableau, loss)
    while hi - lo > event_tol * h:
        mid = 0.5 * (lo + hi)
        W_mid, a_mid = rk_step(W, a, X, y, D, mid, tableau, loss)
        if torch.equal(_gating(W_mid, X), D):
            lo = mid
        else:
            hi, W_hi, a_hi = mid, W_mid, a_mid
    return hi, W_hi, a_hi


def _refuse_sliding(W, a, X, y, D1, ks, js, loss, t):
    """Each flipped pre-activation (samples ks, neurons js) must keep moving to its new side under D1's field."""
    grad_W = model.loss_and_grad(W, a, X, y, loss, gates=D1).grad_W
    zdot = -(X[ks] * grad_W[js]).sum(-1)  # d/dt (w_j·x_k) = −x_k·∂L/∂w_j under the new gating
    side = torch.where(D1[ks, js], 1.0, -1.0).to(zdot.dtype)
    back = (zdot * side) < 0
    if bool(back.any()):
        i = int(torch.nonzero(back)[0])
        raise SlidingModeError(
            f"sliding mode at t={t:.6g}: the pre-activation of sample {int(ks[i])} at neuron {int(js[i])} is pushed "
            f"back into the kink from both sides (Filippov); the flow is not piecewise smooth there, so no "
            f"event-located integrator keeps its order past it. Integrate to an earlier horizon")
