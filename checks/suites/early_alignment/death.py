"""BF-P4's rate for early_alignment.alignment: the λ-free death flow of negative neurons (`theory.death`, F2.3) as
a regime test (has the grid's smallest λ a horizon ε·T_λ past the flow's death times?) and a predicted-vs-observed
criterion per λ (the still-active fraction at ε·T_λ), with the alternatives and mutants of that prediction.

The flow runs from the run's own initial directions of the negative neurons (the init draws the same standard normal
directions at every λ of the grid; only the scale changes), so the comparison carries no sampling noise of its own:
what is left is GD against the flow (the step lr, the O(λᶜ) output), see `fraction_criteria`.
"""
from __future__ import annotations

import math

import numpy as np

from theory import death, extremal

from checks.frame.core import Variant
from checks.frame.criteria import regime, within

QUANTILE = 0.95  # the regime: 95 % of the initially alive negative neurons dead (by the flow) by ε·T_λ
FRACTION_TOL = 0.02  # slack of |observed − flow-predicted| fraction beyond the lr time band (`fraction_criteria`)
_CACHE: dict = {}


def times(pred: dict, U: np.ndarray) -> np.ndarray:
    """Flow death times (`pred["death"]`, i.e. `theory.death.death_times` or a variant) of the directions U on the
    check's data, cached per (function, U) so that the variants that keep the flow do not integrate it again."""
    fn, X, y = pred["death"], pred["X"], pred["y"]
    key = (fn, U.tobytes(), X.tobytes(), y.tobytes())
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = np.asarray(fn(U, X, y), float)
    return _CACHE[key]


def lam_needed(lam: float, T: float, t: float, eps: float, g_star: float) -> float:
    """The λ at which ε·T_λ = t, from a run at (λ, T_λ): T_λ = ln(1/λ_eff)/g* with λ_eff ∝ λ at fixed m
    (`theory.extremal.alignment_horizon`), so ln(1/λ) must grow by g*·(t/ε − T_λ); 0.0 below the float range."""
    log10 = math.log10(lam) - g_star * (t / eps - T) / math.log(10)
    return 10.0 ** log10 if log10 > -300 else 0.0


def regime_criterion(d, pred, obs, rows):
    """Regime (a): the flow's 95 %-quantile death time of the initially alive negative neurons ≤ ε·T_λ at the
    smallest λ. The quantile, not the max: the ≤ 0.05 bound it gates allows 5 % stragglers, and the max is an
    extreme order statistic that grows with m (one neuron on the single slowest sample sets it: on E2 at the quick
    tier one neuron of 240 dies at 11 > ε·T_λ = 9.0). The fix it names is the λ where the max is passed too, so that
    the flow predicts 0 there and GD's O(lr) lag behind the flow (`fraction_criteria`) has the whole 0.05."""
    e, run = d.eps_judged, obs["runs"][-1]
    td = times(pred, run["U_neg"])
    alive = td[td > 0]
    t_q = float(np.quantile(alive, QUANTILE, method="higher")) if len(alive) else 0.0  # inf-safe
    t_all = float(alive.max()) if len(alive) else 0.0
    horizon = e * run["T"]
    need = lam_needed(run["lam"], run["T"], t_all, e, pred["g_star"]) if np.isfinite(t_all) else 0.0
    fac = 10.0 ** math.floor(math.log10(need / d.lam)) if need > 0 else 0.0
    grid = ",".join(f"{f:g}" for f in d.lam_factors)
    why = ("the death flow (theory.death.death_times, F2.3) kills 95 % of the initially alive negative neurons "
           + (f"by flow time {t_q:.3g} (all by {t_all:.3g})" if np.isfinite(t_q) else
              f"not within t_max = {death.DEFAULT_T_MAX:g}")
           + f", but ε·T_λ = {horizon:.3g} at the smallest λ = {run['lam']:.3g}: the grid stops before BF-P4's "
           "λ → 0 regime (negative neurons whose last active samples have labels near 0 die slowly); "
           + (f"ε·T_λ passes them all at λ ≈ {need:.2g}; add it: --set lam_factors={grid},{fac:g}" if fac > 0 else
              f"some do not die within t_max = {death.DEFAULT_T_MAX:g} (labels ≈ 0 on their active set)"
              if not np.isfinite(t_all) else "the λ that passes them all is below the float range"))
    return regime(f"flow's {QUANTILE:.0%}-quantile death time of the initially alive negative neurons ≤ ε·T_λ at the "
                  f"smallest λ (regime reached: negative neurons have had time to die)", t_q <= horizon, why,
                  "BF-P4 is a λ → 0 statement with no rate; in flow time the early-phase direction flow is λ-free, "
                  "so the fraction still active at ε·T_λ is the flow's F(ε·T_λ), and the limit is reached only once "
                  "ε·T_λ passes the death times (≈ 6 on E2; ≈ 61 on the Stewart data, whose labels vanish at x = ±1)",
                  value=t_q if t_q <= horizon else None, tolerance=f"≤ {horizon:.3g}", prediction_id="BF-P4",
                  details=dict(death_time_quantile=t_q, max_death_time=t_all, lam_needed=need, lam_factor_needed=fac,
                               alive_at_init=int(len(alive))))


def fraction_criteria(d, pred, obs, rows):
    """(b): at each λ, observed fraction of negative neurons still active at ε·T_λ against the flow's F(ε·T_λ),
    within FRACTION_TOL plus the flow's change over the time band (1 ± lr)·ε·T_λ (GD's lag, see the rationale)."""
    e, out = d.eps_judged, []
    for run, row in zip(obs["runs"], rows):
        td, t = times(pred, run["U_neg"]), e * run["T"]
        f, lo, hi = (death.still_active_fraction(td, s * t) if len(td) else 0.0 for s in (1, 1 + d.lr, 1 - d.lr))
        out.append(within(f"fraction of negative neurons still active at ε = {e}, λ = {run['lam']:.0e} vs the death "
                          f"flow's F(ε·T_λ = {t:.3g})", row["neg_active"], f, FRACTION_TOL + hi - lo,
                          prediction_id="BF-P4", details=dict(band=[lo, hi], slack=FRACTION_TOL), rationale=(
                              "F2.3 in flow time: the negative neurons' directions follow du/dt = −(I − uuᵀ)g_n(u) "
                              "from their own init, so the fraction still active at ε·T_λ is the flow's F "
                              "(theory.death). Tolerance: F((1 − lr)ε·T_λ) − F((1 + lr)ε·T_λ) + 0.02. GD is an Euler "
                              "scheme of step lr on that flow and lags it by a time ∝ lr·t: on Stewart (E3) 1–1.2 "
                              "flow-time units at t ≈ 50–60, ≈ 0.4·lr·t (0.079 observed vs F = 0.029 at λ = 1e-42, "
                              "m = 2000; the gap halves at lr = 0.02), so the band in time scales the tolerance with "
                              "F's slope; 0.02 is ~2 neurons at m = 200 (E2: GD and the flow agree to 1 neuron, "
                              "0.263/0.258, 0.202/0.206). Effect sizes it resolves (E2, λ = 1e-2): death at the rate "
                              "g* (F ≡ 0) misses by 0.20–0.26, no turning by ≥ 0.4, death times ×2 by ≥ 0.2; "
                              "Stewart at λ ≥ 1e-16: 0.74 against 0.")))
    return out


def _die_at_rate(f):
    """Alternative: every alive negative neuron dies after one e-fold at the leading rate g*, 1/g* (→ F ≈ 0 on the
    grid)."""
    def change(U, X, y, **kw):
        g = max(e.rate for e in extremal.extremal_vectors(X, y))
        return np.where((np.asarray(U) @ np.asarray(X).T > 0).any(axis=1), 1.0 / g, 0.0)
    return change


def _frozen(f):
    """Alternative: negative neurons only shrink and never turn in the phase (lazy): the alive ones never die."""
    return lambda U, X, y, **kw: np.where((np.asarray(U) @ np.asarray(X).T > 0).any(axis=1), np.inf, 0.0)


ALTERNATIVES = (
    Variant("negative neurons die at the leading rate g* (within 1/g*, F ≈ 0 at every λ of the grid)",
            {"death": _die_at_rate}, against="BF-P4",
            why="an escape at the exponential rate g* of the extremal vector, independent of the labels at the edge "
                "of the data, takes O(1/g*) flow time ≪ ε·T_λ"),
    Variant("negative neurons do not turn during the phase (the alive fraction stays the init's)",
            {"death": _frozen}, against="BF-P4",
            why="in the lazy / linearised picture small neurons only rescale, so their activation patterns stay"))
MUTANTS = (
    Variant("death times of the flow ×2", {"death": lambda f: lambda *a, **k: 2.0 * f(*a, **k)}, against="BF-P4"),
    Variant("death flow with the wrong sign (negative neurons descend G_n)",
            {"death": lambda f: lambda U, X, y, **k: f(U, X, -np.asarray(y, float), **k)}, against="BF-P4"))
