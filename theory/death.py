"""λ-free death of negative neurons in the early phase (F2.3; BF-P4's rate).

While h ≈ 0 a balanced neuron with sign(a) = −1 turns on the sphere by the ascent of G_n (F2.3):

  du/dt = −(I − uuᵀ) g_n(u),   g_n(u) = (1/n) Σ_{k: u·x_k > 0} y_k x_k   (`theory.extremal.g_n`, relu'(0) = 0)
  t_death(u₀) = inf{t ≥ 0 : u(t)·x_k ≤ 0 for every k}                      (no active sample: dead, frozen)
  still active at t:  F(t) = #{j : t_death(u_j) > t} / #directions          (t_death = 0 for directions dead at init)

The flow does not involve λ: in flow time the early-phase direction dynamics is the same at every init scale, so a
run at scale λ judged at t = ε·T_λ (T_λ = ln(1/λ_eff)/g*, `theory.extremal.alignment_horizon`) sees F(ε·T_λ)
negative neurons still active, as long as the phase lasts. On labels that vanish at the edge of the data the push
∝ Σ_active y_k x_k vanishes near death, so t_death is algebraic (≈ 70 on the Stewart data at n = 40, against
≈ 1/g* on E2), and BF-P4 needs ε·T_λ ≥ max t_death.

Integrator: explicit Euler on the sphere, u ← (u − dt·(I − uuᵀ)g_n(u))/‖·‖, at a fixed step dt (default
DEFAULT_DT = 0.02 flow-time units). The death time is the first grid time k·dt with no active sample: both the
Euler error and the grid carry O(dt), so halving dt moves the death times by O(dt) (tests/theory/test_death.py).
A direction the step leaves unchanged in floating point (a fixed point: g_n(u) ∥ u, or no label on its active set)
never dies.
"""
from __future__ import annotations

import math

import numpy as np

from . import validate
from .errors import TheoryError
from .extremal import _g

__all__ = ["DEFAULT_DT", "DEFAULT_T_MAX", "death_times", "still_active_fraction"]

DEFAULT_DT = 0.02      # flow-time step: death times converge as O(dt); 0.02 is ≲ 0.1 % of Stewart's ≈ 70
DEFAULT_T_MAX = 500.0  # flow-time horizon: ≈ 7× Stewart's slowest death at n = 40 (≈ 71)
MAX_STEPS = 5_000_000  # cost guard on t_max/dt (each step costs ≈ directions·n·d)


def _directions(U, d: int) -> np.ndarray:
    U = validate.array("U", U, ndim=(1, 2))
    U = np.atleast_2d(U)
    if U.shape[1] != d:
        raise TheoryError(f"U has {U.shape[1]} columns but X has d={d}; give initial directions of shape (m, {d})")
    norm = np.linalg.norm(U, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise TheoryError("U has a zero row; every initial direction must be a nonzero vector (it is normalised here)")
    return U / norm


def death_times(U, X, y, *, dt: float = DEFAULT_DT, t_max: float = DEFAULT_T_MAX,
                never: float = math.inf) -> np.ndarray:
    """Flow time at which each initial direction of a negative neuron first has no active sample (F2.3).

    du/dt = −(I − uuᵀ) g_n(u) (sign(a) = −1), by explicit Euler on the sphere at the fixed step dt; a direction
    with no active sample at t = 0 has death time 0. Vectorised over the directions (rows of U).

    Arguments:
        U: initial directions (m, d) or (d,), nonzero rows (normalised here); e.g. the w_j(0) of negative neurons.
        X: inputs (n, d), the matrix the network sees (x̃ = (x, 1) with a hidden bias).  y: labels (n,).
        dt: Euler step in flow time (0 < dt ≤ 0.5); the death times carry an O(dt) error.
        t_max: flow-time horizon (> 0, t_max/dt ≤ 5·10⁶ steps).
        never: value for a direction still active at t_max (default inf; any number, e.g. t_max or −1).

    Returns:
        death times (m,), float: multiples of dt, 0 for directions dead at init, `never` for those alive at t_max.
    """
    X, y = validate.data(X, y)
    U = _directions(U, X.shape[1])
    dt = validate.positive("dt", dt)
    if dt > 0.5:
        raise TheoryError(f"dt={dt!r} is too coarse for the Euler flow (|dt·g_n| must stay ≪ 1); pass dt ≤ 0.5, "
                          f"e.g. the default {DEFAULT_DT}")
    t_max = validate.positive("t_max", t_max)
    steps = math.ceil(t_max / dt - 1e-9)
    if steps > MAX_STEPS:
        raise TheoryError(f"t_max/dt = {t_max / dt:.3g} steps exceeds {MAX_STEPS:.0e}; raise dt or lower t_max")
    if isinstance(never, bool) or not isinstance(never, (int, float, np.floating, np.integer)) or math.isnan(never):
        raise TheoryError(f"never must be a number (inf, t_max, −1, …), got {never!r}")
    out = np.full(len(U), float(never))
    live = (U @ X.T > 0).any(axis=1)
    out[~live] = 0.0
    idx = np.flatnonzero(live)
    V = U[idx]
    for k in range(1, steps + 1):
        if not len(idx):
            break
        g = _g(V, X, y)  # g_n on the input checked once above (as in extremal's loops)
        step = V - dt * (g - np.sum(g * V, axis=1, keepdims=True) * V)
        step /= np.linalg.norm(step, axis=1, keepdims=True)
        dead = ~(step @ X.T > 0).any(axis=1)
        frozen = np.all(step == V, axis=1) & ~dead  # a floating-point fixed point never dies
        out[idx[dead]] = k * dt
        keep = ~(dead | frozen)
        idx, V = idx[keep], step[keep]
    return out


def still_active_fraction(times, t) -> float | np.ndarray:
    """F(t): the fraction of directions whose death time exceeds t (BF-P4's predicted still-active fraction).

    Arguments:
        times: death times (m,) from `death_times` with its default never = inf (≥ 0; inf counts as active).
        t: flow time(s) ≥ 0, a number or a 1-D array.

    Returns:
        a float for a number t, an array of t's shape otherwise.
    """
    try:
        times = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise TheoryError(f"times must be an array of death times, got {type(times).__name__}") from None
    if times.ndim != 1 or not len(times):
        raise TheoryError(f"times must be a non-empty 1-D array (one death time per direction), got shape "
                          f"{times.shape}")
    if np.any(np.isnan(times)) or np.any(times < 0):
        raise TheoryError("times must be ≥ 0 and not NaN: death times from death_times (inf: never died)")
    scalar = np.ndim(t) == 0
    ts = np.atleast_1d(validate.real("t", t) if scalar else validate.array("t", t, ndim=1))
    if np.any(ts < 0):
        raise TheoryError(f"t must be ≥ 0 (a flow time), got {t!r}")
    frac = (times[None, :] > ts[:, None]).mean(axis=1)
    return float(frac[0]) if scalar else frac
