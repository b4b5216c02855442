"""GD as the gradient-flow proxy: its O(η) error, the η/2 estimate of it, and an event-located integrator of order p."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

import numerics
from numerics import fidelity, flow

from theory.discretisation import HEUN, Tableau, rk_order

from checks.frame.core import Check, Variant, register, relative_slope
from checks.frame.criteria import undecided, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError


def kink_problem(seed: int, n: int = 10, d: int = 3, m: int = 6, scale: float = 0.5, mix: float = 0.5):
    """n Gaussian inputs in ℝ^d, a two-ReLU teacher y = relu(u·x) − mix·relu(v·x), m Gaussian neurons at scale λ.

    The defaults (n = 10, d = 3, m = 6, λ = 0.5, mix = ½) are large enough that gating patterns flip many times
    before T = 3.

    Arguments:
        seed: seed of the data (numpy) and of the init (torch).
        n, d, m, scale, mix: the sizes, the init scale λ and the teacher's second coefficient.

    Returns:
        (X, y, W0, a0) as float64 numpy arrays.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) - mix * np.maximum(X @ rng.standard_normal(d), 0)
    W, a = numerics.init_params(m, d, scale=scale, scheme="gaussian", seed=seed)
    return X, y, W.numpy(), a.numpy()


def _theta(W, a) -> np.ndarray:
    return np.concatenate([np.ravel(W), np.ravel(a)])


def tableau_of(spec: dict) -> Tableau:
    """numerics' plain-number tableau as a theory Tableau (floats become exact rationals)."""
    return Tableau(spec["name"], tuple(map(tuple, spec["A"])), tuple(spec["b"]), tuple(spec["c"]))


@dataclass(frozen=True)
class FidelityDesign(Design):
    """The kink problem (see `kink_problem`), integrated to a fixed flow time by GD and by an event-located RK method.

    Arguments:
        n, d, m: samples, input dimension and neurons of the kink problem.
        init_scale: λ of the Gaussian init.
        teacher_mix: the teacher's second coefficient, y = relu(u·x) − mix·relu(v·x).
        horizon: flow time T at which θ(T) is compared with the reference flow.
        steps: step lengths h of the event-located (and the plain) integrator; the slope is fitted over them.
        lrs: GD step sizes η of the slope fit; the η/2 (Richardson) estimate is judged at the largest.
        ref_refine: the reference flow uses the step min(steps) / ref_refine with the same integrator.
        event_tableau: the integrator's tableau, one of numerics.flow.TABLEAUS (euler, heun, rk4).
        event_tol: bisection tolerance of a located flip, relative to the step.
    """

    n: int = 10
    d: int = 3
    m: int = 6
    init_scale: float = 0.5
    teacher_mix: float = 0.5
    horizon: float = 3.0
    steps: tuple[float, ...] = (0.1, 0.05, 0.025, 0.0125)
    lrs: tuple[float, ...] = (0.02, 0.01, 0.005, 0.0025)
    ref_refine: int = 8
    event_tableau: str = "rk4"
    event_tol: float = 1e-12
    presets: ClassVar = {"quick": dict(steps=(0.1, 0.05, 0.025), lrs=(0.02, 0.01, 0.005))}

    def validate(self):
        positive(self, "n", "d", "m", "init_scale", "horizon", "steps", "lrs", "ref_refine", "event_tol")
        if len(self.steps) < 2 or len(self.lrs) < 2:
            raise CheckError(f"steps={self.steps!r}, lrs={self.lrs!r}: each slope needs at least two step sizes")
        if self.event_tableau not in flow.TABLEAUS:
            raise CheckError(f"event_tableau={self.event_tableau!r} is not supported; use one of "
                             f"{', '.join(flow.TABLEAUS)}")
        if max(self.steps) > self.horizon or max(self.lrs) > self.horizon:
            raise CheckError(f"steps and lrs must not exceed horizon={self.horizon:g}")


def _tableaus() -> dict:
    """Every integrator of numerics.flow as a theory Tableau, by name."""
    return {name: tableau_of(spec) for name, spec in flow.TABLEAUS.items()}


def _each(change):
    """Variant helper: apply `change` to every event tableau (whichever the design runs)."""
    return lambda tabs: {name: change(t) for name, t in tabs.items()}


R = sp.Rational
MIDPOINT = Tableau("explicit midpoint", ((0, 0), (R(1, 2), 0)), (0, 1), (0, R(1, 2)))
KUTTA3 = Tableau("Kutta's third-order method", ((0, 0, 0), (R(1, 2), 0, 0), (-1, 2, 0)), (R(1, 6), R(2, 3), R(1, 6)),
                 (0, R(1, 2), 1))
NO_STEP = Tableau("no step (order 0)", ((0,),), (0,), (0,))


def _orders_below(k: int):
    """Variant helper: each tableau replaced by a known method of order p − k (p its derived order; 0: no step)."""
    known = {1: tableau_of(flow.EULER), 2: HEUN, 3: KUTTA3}
    return _each(lambda t: known.get(rk_order(t) - k, NO_STEP))


@register
class FlowFidelity(Check):
    name = "engine.flow_fidelity"
    paper = "GF"
    prediction_id = "GF-proxy"
    new_predictions = {"GF-proxy": "GD as a proxy of the gradient flow (the toolkit's own claim)"}
    claim = ("GD with step η is explicit Euler on the gradient flow, so θ_η(T) is off by O(ηᵖ), p = order of "
             "its tableau, and the η/2 rerun estimates that error (Richardson); an RK method that stops at every "
             "gating flip keeps its smooth order across the ReLU kinks")
    provenance = "[R]"
    design = FidelityDesign
    uses = {"gd_tableau": lambda: tableau_of(flow.EULER), "event_tableaus": _tableaus}
    alternatives = (
        Variant("GD error O(η²) (its local error order)", {"gd_tableau": lambda t: MIDPOINT},
                why="the per-step defect of GD is O(η²); a referee could read that as the error at fixed T"),
        Variant("kinks cost two orders: located RK at order p − 2", {"event_tableaus": _orders_below(2)},
                why="the field is only Lipschitz across a kink; one might expect the located method to lose order"),
        Variant("kinks cost one order: located RK at order p − 1", {"event_tableaus": _orders_below(1)},
                why="locating a flip to event_tol might leave an O(h^p) error per event"),
    )
    mutants = (
        Variant("GD claimed second order (Heun's tableau)", {"gd_tableau": lambda t: HEUN}),
        Variant("events claimed first order (Euler's tableau)",
                {"event_tableaus": _each(lambda t: tableau_of(flow.EULER))}),
        Variant("RK weights all equal (derived order 2 for RK4)",
                {"event_tableaus": _each(lambda t: dataclasses.replace(t, b=(R(1, len(t.b)),) * len(t.b)))}),
        Variant("RK stage A₃₂ = 1 instead of ½ (derived order 1 for RK4)",
                {"event_tableaus": _each(lambda t: dataclasses.replace(
                    t, A=tuple(tuple(1 if (i, j) == (2, 1) else v for j, v in enumerate(row))
                               for i, row in enumerate(t.A)), c=tuple(1 if i == 2 else v for i, v in enumerate(t.c)))
                    if len(t.b) == 4 else t)}),
        Variant("GD step counted twice (b = 2: derived order 0)",
                {"gd_tableau": lambda t: dataclasses.replace(t, b=tuple(2 * v for v in t.b))}),
    )

    def predict(self, d, th):
        return {"gd_order": rk_order(th.gd_tableau), "event_order": rk_order(th.event_tableaus[d.event_tableau])}

    def observe(self, d):
        X, y, W, a = kink_problem(d.seed, d.n, d.d, d.m, d.init_scale, d.teacher_mix)
        steps, lrs = np.array(d.steps), np.array(d.lrs)
        tab = flow.TABLEAUS[d.event_tableau]

        def integrate(h, **kw):
            return flow.event_flow(X, y, W, a, horizon=d.horizon, step=h, tableau=tab, event_tol=d.event_tol, **kw)

        try:
            ref = integrate(steps.min() / d.ref_refine)
            event = [integrate(h) for h in steps]
        except flow.SlidingModeError as exc:
            return {"sliding": str(exc)}
        plain = [integrate(h, locate_events=False) for h in steps]
        truth = _theta(ref.W[-1], ref.a[-1])

        def gd(lr):
            return numerics.train(X, y, W, a, lr=lr, horizon=d.horizon, n_checkpoints=0, stop_tol=0.0, progress=False,
                                  record_patterns=False)

        runs = {lr: gd(lr) for lr in lrs}
        judged = float(lrs.max())
        halving = fidelity.step_halving(lambda lr: runs[lr] if lr in runs else gd(lr),
                                        {"theta": lambda tr: _theta(tr.W[-1], tr.a[-1]),
                                         "loss": lambda tr: tr.loss[-1]},
                                        lr=judged, order=1)
        err = lambda th: float(np.max(np.abs(th - truth)))  # noqa: E731
        return {"steps": steps, "lrs": lrs, "flips": len(ref.events), "first_flips": ref.events[:5],
                "event_error": np.array([err(_theta(p.W[-1], p.a[-1])) for p in event]),
                "plain_error": np.array([err(_theta(p.W[-1], p.a[-1])) for p in plain]),
                "gd_error": np.array([err(_theta(runs[lr].W[-1], runs[lr].a[-1])) for lr in lrs]),
                "gd_error_judged": err(_theta(runs[judged].W[-1], runs[judged].a[-1])),
                "halving_change": halving["theta"]["change"], "loss_flow": float(ref.loss[-1]),
                "loss_change": halving["loss"]["change"]}

    @staticmethod
    def _ratio(pred, obs) -> float:
        """Richardson: the error of the η run ≈ Δ · 2^p / (2^p − 1), Δ = |θ_η − θ_η/2|; its ratio to the true error."""
        p = pred["gd_order"]
        factor = 2.0 ** p / (2.0 ** p - 1.0) if p > 0 else float("inf")
        return obs["halving_change"] * factor / obs["gd_error_judged"]

    def criteria(self, d, pred, obs):
        names = ("log-log slope of the GD error at T against η", "log-log slope of the event-located RK error at T "
                 "against h", "η/2 (Richardson) estimate / true GD error at the largest η")
        if "sliding" in obs:
            return [undecided(n, "the flow slides along a kink (Filippov): " + obs["sliding"]) for n in names]
        if obs["flips"] == 0:
            return [undecided(n, "no gating flip before T: the event path was not exercised") for n in names]
        return [
            within(names[0], relative_slope(obs["lrs"], obs["gd_error"]), pred["gd_order"], 0.15,
                   "Log-log slopes over a factor 4-8 in the step carry pre-asymptotic curvature; on 7 seeds of this "
                   "problem the GD slope was 0.98-1.13 ([C]), hence |slope - p| <= 0.15, well inside the distance 1 "
                   "to the next integer order."),
            within(names[1], relative_slope(obs["steps"], obs["event_error"]), pred["event_order"], 0.3,
                   "On 7 seeds of this problem the event-located RK4 slope was 3.89-4.01 ([C]); |slope - p| <= 0.3 "
                   "leaves that spread plus margin and still separates p from p - 1 (distance 1)."),
            within(names[2], self._ratio(pred, obs), 1.0, 0.25,
                   "Richardson extrapolation neglects the O(eta^(p+1)) term, a relative error of order eta at the "
                   "largest eta; within 25% of the true GD error (distance to the p = 2 factor 4/3 vs 2: 33%)."),
        ]

    def numbers(self, d, pred, obs):
        if "sliding" in obs or obs["flips"] == 0:
            return {"sliding": obs.get("sliding", ""), "flips": obs.get("flips", 0)}
        return dict(gd_slope=relative_slope(obs["lrs"], obs["gd_error"]),
                    event_slope=relative_slope(obs["steps"], obs["event_error"]),
                    plain_slope=relative_slope(obs["steps"], obs["plain_error"]),
                    richardson_ratio=self._ratio(pred, obs), predicted_gd_order=pred["gd_order"],
                    predicted_event_order=pred["event_order"], flips=obs["flips"], first_flips=obs["first_flips"],
                    lrs=obs["lrs"], gd_error=obs["gd_error"], steps=obs["steps"], event_error=obs["event_error"],
                    plain_error=obs["plain_error"], loss_flow=obs["loss_flow"],
                    loss_change_at_half_step=obs["loss_change"])

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        if "sliding" in obs or obs["flips"] == 0:
            return {}
        fig, ax = plt.subplots(figsize=(5.4, 3.8))
        for x, e, p, style, label in (
                (obs["lrs"], obs["gd_error"], pred["gd_order"], "o-", "GD (step η)"),
                (obs["steps"], obs["event_error"], pred["event_order"], "s-", f"{d.event_tableau}, flips located"),
                (obs["steps"], obs["plain_error"], None, "^--", f"{d.event_tableau} through the kinks")):
            ax.loglog(x, e, style, label=label)
            if p is not None:
                ax.loglog(x, e[-1] * (x / x[-1]) ** p, "k:", lw=0.8)
        est = self._ratio(pred, obs) * obs["gd_error_judged"]
        ax.loglog([obs["lrs"].max()], [est], "x", color="C0", ms=9, label="η/2 estimate of the GD error")
        ax.set(xlabel="step", ylabel=r"max |θ(T) − θ$_{flow}$(T)|",
               title=f"Fidelity to gradient flow, T = {d.horizon:g}, {obs['flips']} gating flips")
        ax.legend(fontsize=7)
        return {"": fig}
