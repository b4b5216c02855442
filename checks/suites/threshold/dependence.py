"""BF-P17: how the threshold n* moves with the input dimension d (the d scan), the init scale λ and the width m."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from theory.references import alignment_time, elasticity, sufficient_threshold

from checks.frame.core import Check, Variant, loglog_fit, register
from checks.frame.criteria import Criterion, at_most, gated, holds, measured, regime, undecided
from checks.frame.errors import CheckError
from checks.suites.threshold.convergence import (CAPACITY, EARLY, STATIONARY, capacity_reading, capacity_width,
                                                  network_reading, parameters, train_at)
from checks.suites.threshold.dimension_scan import crossing, d_scan, time_unit
from checks.suites.threshold.locate import INTERPOLATING, locate_threshold
from checks.suites.threshold.sweep_cache import sweep_rows
from checks.suites.threshold.sweep_design import SweepDesign

VARIABLES = {"d": "d", "lambda": "lam", "m": "m"}  # variable (symbol of theory's formula) → design field


@dataclass(frozen=True)
class DependenceDesign(SweepDesign):
    """The d scan (n* at several input dimensions d, each at its width to interpolate), and for the full/paper
    tiers one sweep per changed λ or m beside a base sweep.

    Arguments:
        variables: which dependences to judge (d, lambda, m).
        d_values: input dimensions of the d scan (≥ 3, increasing): n* is located at each, its direction judged
            between neighbours, log n* fitted on log d (reported).
        d_span: each d's grid is round(2d·r^j) ≤ d_span·d (from 2d: every d starts below n*).
        d_ratio: r, the factor between neighbouring n of the d scan's grid.
        d_lam: init scale λ of the d scan (Theorem 2's regime λ ≤ 1e-6).
        d_horizon: flow time of every d scan run in units of its own T_λ (F2.5 with F2.8), so no d trains longer
            in the theory's time unit; n* is also read at d_horizon/4 (horizon-stable n*).
        d_changed, d_ns: the former two-point d arm (base d → d_changed on the grid d_ns); unused by the d scan.
        lam_changed: the changed init scale λ (base grid).
        m_changed: the changed width m (base grid).
    """

    # the base sweep of the λ and m variables (full, paper) keeps the former threshold.sweep design (its own width
    # and grid, not threshold.sweep's capacity-derived ones): the d scan below does not read them
    ns: tuple[int, ...] = (10, 20, 40, 80, 160, 320, 640, 1280)
    m: int = 200
    lam: float = 1e-3
    variables: tuple[str, ...] = ("d",)
    # d = 3, 4, 6: neighbours a factor ≥ 4/3 apart, so d³ moves n* by ≥ 2.4× between them and even a d² law by
    # ≥ 1.8×, more than the one grid step (√2) the direction criterion asks. Calibration (λ = 1e-6, 18 T_λ, 3
    # seeds, grid 2d·√2^j ≤ 16d at the width to interpolate): median crossings of ½σ² at n* ≈ 12, 28, 55 (the
    # same brackets at H/4), d = 2 ≈ 10 (many protected sign flips: not used), d = 8 above its grid's 128 (n = 128
    # still falls from 0.12 at H/4 to 0.001 at H: d = 8 needs n ≥ 256 and the full tier).
    d_values: tuple[int, ...] = (3, 4, 6)
    d_span: int = 16
    d_ratio: float = 2 ** 0.5
    d_lam: float = 1e-6
    d_horizon: float = 72.0
    d_changed: int = 10
    d_ns: tuple[int, ...] = (160, 320, 640, 1280)
    lam_changed: float = 1e-6
    m_changed: int = 50
    # Horizon: n* read at 18 and 72 T_λ. At 4.5 and 18 T_λ the standard scan reads the same brackets at every d
    # (n* = 11.9, 28.2, 58.5, stationary), but d = 6 moves between 18 and 72 T_λ (its n = 96 median falls from 0.217
    # to 0.121 < ½σ²), so the standard verdict is the longer pair's (≈ 16 s; interpolating runs stop early).
    # quick (tests only; the check's tiers are standard, full, paper): the 4.5/18 T_λ pair on a doubling grid (4 n per
    # d, a subset of the standard grid's points), where every gate is reached: the observation the mutants are
    # judged on (tests/checks/suites/test_teeth.py), not a verdict on the claim.
    presets: ClassVar = {"quick": dict(d_ratio=2.0, d_horizon=18.0),
                         # the λ and m arms at the width to interpolate their largest n (m(d + 1) ≥ 4·1280 at d = 5)
                         "full": dict(variables=("d", "lambda", "m"), d_values=(3, 4, 6, 8, 12), d_span=64, m=854,
                                      m_changed=1708),
                         "paper": dict(variables=("d", "lambda", "m"), d_values=(3, 4, 6, 8, 12), d_span=64,
                                       m=10_000, m_changed=20_000)}
    sources: ClassVar = {"d_changed": "BF-ST appendix: d = 10 preliminary runs"}
    paper_source: ClassVar = ("BF-ST Fig. 1 width m = 10000 at d = 5 and the appendix's d = 10 (preliminary; d = 20 "
                              "announced); n* against d, λ and m. Full-batch GD from the small balanced init, the "
                              "regime of the theorem whose sufficient n ≳ d³ it shows as a bound, not Fig. 1's SGD and "
                              "default init (threshold.sweep's paper preset runs those)")
    paper_needs: ClassVar = "cuda"
    paper_cpu: ClassVar = ("> 2.4 h on 1 CPU core (issue #27: GD at (n, 10⁴, 10), 5–24 steps/s with torch; "
                           "2·10⁴ steps per seed at 4 n for its d = 10 arm alone)")

    def validate(self):
        super().validate()
        bad = [v for v in self.variables if v not in VARIABLES]
        if bad or not self.variables:
            raise CheckError(f"variables={self.variables!r}: use some of {', '.join(VARIABLES)}")
        if self.d_changed <= 0 or self.lam_changed <= 0 or self.m_changed <= 0:
            raise CheckError("d_changed, lam_changed and m_changed must be > 0")
        arms = [v for v in self.variables if v != "d"]
        widths = [self.m] + ([self.m_changed] if "m" in arms else [])
        if arms and min(widths) * (self.d + 1) < CAPACITY * max(self.ns):
            raise CheckError(f"the {' and '.join(arms)} arm{'s' if len(arms) > 1 else ''} cannot interpolate n = "
                             f"{max(self.ns)}: m = {min(widths)} gives m(d + 1) = {min(widths) * (self.d + 1)} < "
                             f"{CAPACITY}·{max(self.ns)}; set m (and m_changed) ≥ "
                             f"{capacity_width(max(self.ns), self.d)} or a smaller largest n")
        if len(set(self.d_values)) < 3 or min(self.d_values) < 1 or list(self.d_values) != sorted(set(self.d_values)):
            raise CheckError(f"d_values={self.d_values!r}: give ≥ 3 increasing dimensions (a fit with a standard "
                             "error), e.g. d_values=3,4,6")
        if self.d_span < 4 or not self.d_ratio > 1 or not self.d_lam > 0 or not self.d_horizon > 0:
            raise CheckError(f"d_span={self.d_span}, d_ratio={self.d_ratio}, d_lam={self.d_lam}, d_horizon="
                             f"{self.d_horizon}: need d_span ≥ 4, d_ratio > 1, d_lam > 0 and d_horizon > 0")

    def d_grid(self, dim: int) -> tuple[list[int], int]:
        """(grid, width) of the d scan at dimension `dim`: round(2·dim·d_ratio^j) ≤ d_span·dim, and the width to
        interpolate 4× its largest n (convergence.capacity_width)."""
        out, j = [], 0
        while (n := int(round(2 * dim * self.d_ratio ** j))) <= self.d_span * dim:
            if not out or n > out[-1]:
                out.append(n)
            j += 1
        return out, capacity_width(out[-1], dim)

    def changed(self, v: str) -> tuple[float, float, tuple]:
        """(base value, changed value, n grid) of variable v."""
        return {"d": (self.d, self.d_changed, self.d_ns), "lambda": (self.lam, self.lam_changed, self.ns),
                "m": (self.m, self.m_changed, self.ns)}[v]


def scaled_horizon(design, config: dict, formula=None) -> float:
    """The design's horizon kept fixed in units of T_λ: horizon · T_λ(config)/T_λ(base), so a changed d (T_λ ∝ d + 2)
    trains as far, in the theory's time unit, as the base run."""
    f = formula or alignment_time()
    return design.horizon * time_unit(f, config["d"], config["m"], config["lam"]) / time_unit(f, design.d, design.m,
                                                                                             design.lam)


def n_star(d, rows, ns) -> tuple:
    """(n*, lower bracket, medians) of the median final train MSE over seeds (threshold.sweep's locator)."""
    med = [float(np.median([r["end"]["train_mse"] for r in rows if r["n"] == n])) for n in ns]
    return locate_threshold(list(ns), med, d.sigma ** 2, d.fraction) + (med,)


GRID_STEP = 2 ** 0.5  # the direction criterion's effect size: n* moves by at least one step of the standard grid
MIN_SEEDS = 3


def _d_power(k):
    """The sufficient threshold with d^k instead of d³."""
    def change(f):
        d = f.args[0]
        return dataclasses.replace(f, rhs=f.rhs / d ** 3 * d ** k)
    return change


@register
class ThresholdDependence(Check):
    name = "threshold.dependence"
    paper = "BF-ST"
    prediction_id = "BF-P17"
    claim = ("For a fixed protocol the threshold n* increases with the input dimension d (the theorem's sufficient "
             "threshold grows like d³ and may be loose: a bound, not the law), and does not grow with the width m or "
             "as the init scale λ decreases")
    provenance = "[V] direction from the bound n ≳ d³; [R] the d³ bound as an upper growth rate; [C] grid step"
    design = DependenceDesign
    tiers = ("standard", "full", "paper")
    # T_λ (F2.5 with F2.8, theory.references.alignment_time) only sets the protocol's horizons (scaled_horizon,
    # d_scan) and is shown in units of it; no criterion here judges it, so it is not one of the theory objects this
    # check's prediction reads (and no T_λ mutant is declared: a "kill" through the horizon spread was true by
    # construction; docs/mutants.md).
    uses = {"threshold": sufficient_threshold, "reading": lambda: network_reading}
    alternatives = (Variant("n* independent of d (flat)", {"threshold": _d_power(0)},
                            why="a threshold set by the protocol (step, horizon) alone, not by the dimension"),
                    Variant("a capacity-limited net (n* ∝ m(d + 1): train MSE σ²(1 − P/n)₊)",
                            {"reading": lambda f: capacity_reading},
                            why="'no interpolation because parameters < n': its n* would be set by P = m(d + 1), "
                                "beyond every grid built at the width to interpolate"))
    mutants = (Variant("n* shrinking with d (d⁻¹)", {"threshold": _d_power(-1)}),)

    def predict(self, d, th):
        exps = {v: float(elasticity(th.threshold, v)) for v in d.variables}
        unit = alignment_time()  # the protocol's time unit, as observe sets the horizons from it
        units = {"base": time_unit(unit, d.d, d.m, d.lam)}
        for v in d.variables:
            if v == "d":  # the d scan: T_λ at every d of the scan, at its own width
                units["d"] = {dim: time_unit(unit, dim, d.d_grid(dim)[1], d.d_lam) for dim in d.d_values}
                continue
            kw = dict(m=d.m, lam=d.lam, d=d.d) | {VARIABLES[v]: d.changed(v)[1]}
            units[v] = time_unit(unit, kw["d"], kw["m"], kw["lam"])
        return {"exponent": exps, "time_unit": units, "reading": th.reading}

    def observe(self, d):
        out = {"d_scan": d_scan(d)} if "d" in d.variables else {}
        others = [v for v in d.variables if v != "d"]
        if others:
            out["base"] = dict(ns=list(d.ns), rows=sweep_rows(d, d.ns, m=d.m, lam=d.lam, d=d.d), horizon=d.horizon)
        for v in others:
            _, value, ns = d.changed(v)
            kw = dict(m=d.m, lam=d.lam, d=d.d) | {VARIABLES[v]: value}
            h = scaled_horizon(d, kw)
            out[v] = dict(ns=list(ns), rows=sweep_rows(d, ns, **kw, horizon=h), config=kw, horizon=h)
        return out

    def _d_table(self, d, pred, obs):
        """The d scan: per d the median train MSE at H and H/4 (the check's reading), n* at both (interpolated
        crossings of fraction·σ²), the deciding points' stationarity; the log–log fit of n* on d."""
        level, s2, rows = d.fraction * d.sigma ** 2, d.sigma ** 2, []
        for dim, run in obs["d_scan"].items():
            P = parameters(run["m"], dim)
            rd = [pred["reading"](r, {"sigma2": s2}, P) for r in run["rows"]]
            med = lambda key, n: float(np.median([x[key] for x in rd if x["n"] == n]))  # noqa: E731
            at_h, at_early = [med("train", n) for n in run["ns"]], [med("train_early", n) for n in run["ns"]]
            (star, i), (star_early, i_early) = crossing(run["ns"], at_h, level), crossing(run["ns"], at_early, level)
            moving, flipped = [], []
            for k in ((i, i + 1) if i is not None else ()):  # the deciding points: median at H/2 vs H
                n, here = run["ns"][k], [(r, x) for r, x in zip(run["rows"], rd) if x["n"] == run["ns"][k]]
                half = float(np.median([train_at(r, r["time"][-1] / 2) for r, _ in here]))
                change = abs(at_h[k] - half) / max(at_h[k], 1e-300)
                if at_h[k] > INTERPOLATING * s2 and change >= STATIONARY:
                    moving.append(dict(n=n, change=change))
                # a seed whose GD run flipped a protected sign (BF-P3) is not tracking the flow: n*'s bracket must
                # not depend on it (the median stays on its side of the level with that seed at 0 and at +inf)
                flips = [r["sign_flips"] for r, _ in here]
                if any(flips):
                    sides = {float(np.median([0.0 if f else x["train"] for (_, x), f in zip(here, flips)])) < level,
                             float(np.median([np.inf if f else x["train"] for (_, x), f in zip(here, flips)])) < level}
                    flipped.append(dict(n=n, flips=sum(flips), decides=len(sides) > 1))
            rows.append(dict(d=dim, m=run["m"], parameters=P, ns=run["ns"], train_median=at_h,
                             train_median_early=at_early, n_star=star, n_star_early=star_early,
                             bracket=None if i is None else run["ns"][i:i + 2],
                             bracket_early=None if i_early is None else run["ns"][i_early:i_early + 2],
                             moving=moving, flipped=flipped, horizon=run["horizon"],
                             horizon_in_T=run["horizon"] / pred["time_unit"]["d"][dim],
                             sign_flips_before=sum(r.get("sign_flips_first", r["sign_flips"]) for r in run["rows"]),
                             sign_flips_after=sum(r["sign_flips"] for r in run["rows"])))
        ok = [r for r in rows if r["n_star"] is not None]
        k, se = loglog_fit([r["d"] for r in ok], [r["n_star"] for r in ok]) if len(ok) >= 3 else (None, None)
        return dict(per_d=rows, exponent=k, exponent_se=se, predicted_exponent=pred["exponent"]["d"])

    def _d_criteria(self, d, pred, obs):
        t = self._d_table(d, pred, obs)
        per, p = t["per_d"], t["predicted_exponent"]
        units = [r["horizon_in_T"] for r in per]
        # a time unit ≤ 0 is no time unit: the horizons cannot be "as many T_λ" (a sign-flipped T_λ would pass)
        spread = max(abs(u / units[0] - 1) for u in units) if min(units) > 0 else float("inf")
        dims = ", ".join(str(r["d"]) for r in per)
        out = [measured(f"spread of the d scan's horizons in units of T_λ (d = {dims})", spread,
                        "The protocol in the theory's time unit: every d trains for as many T_λ (F2.5 with F2.8: T_λ = "
                        "2(d + 2) ln(1/λ_eff)/‖β*‖) as the others, so a shift of n* is not unfinished training. Shown, "
                        "not judged: the horizons are set from this formula, so the spread is 0 by construction and "
                        "cannot test T_λ (the n* brackets at H/4 and H test that the budget does not set n*).")]
        narrow = [r["d"] for r in per if r["parameters"] < CAPACITY * r["ns"][-1]]
        moved = [(r["d"], r["bracket_early"], r["bracket"]) for r in per if r["bracket_early"] != r["bracket"]]
        moving = [(r["d"], m["n"], round(m["change"], 4)) for r in per for m in r["moving"]]
        flipping = [(r["d"], f["n"], f["flips"]) for r in per for f in r["flipped"] if f["decides"]]
        gates = [regime(f"m(d + 1) ≥ {CAPACITY}·largest n at every d (regime reached: width to interpolate)",
                        not narrow, f"d = {narrow}: the width cannot interpolate 4× the grid's largest n",
                        "A network with P ≥ n parameters can interpolate n points: 'stops interpolating' is then not "
                        "a representation limit.", value=[r["parameters"] for r in per]),
                 regime(f"≥ {MIN_SEEDS} seeds per point (regime reached)", d.seeds >= MIN_SEEDS,
                        f"{d.seeds} seed(s): set seeds ≥ {MIN_SEEDS}", "n* is read on the median over seeds; one "
                        "seed is an anecdote.", value=d.seeds),
                 regime(f"n* bracket at H/{EARLY} equals the bracket at H at every d (regime reached: horizon-stable "
                        "n*)", not moved, f"(d, bracket at H/{EARLY}, bracket at H) = {moved}: n* is set by the "
                        f"horizon; rerun with --set d_horizon={EARLY * d.d_horizon:g} (n* then read at the present "
                        "horizon and 4× it), or on the full tier",
                        f"n* is the optimisation threshold only if the budget does not set it: read on the same runs "
                        f"at two horizons a factor {EARLY} apart ({d.d_horizon / EARLY:g} and {d.d_horizon:g} T_λ), "
                        "its bracket must not move.", value=[[r["n_star_early"], r["n_star"]] for r in per],
                        tolerance="same bracket"),
                 regime("the points deciding n* are stationary (regime reached: at convergence)", not moving,
                        f"(d, n, change of the median train MSE over the last half) = {moving}: still moving",
                        f"The median train MSE at the two points bracketing n* changed by < {STATIONARY:.0%} over the "
                        "last half of the run (or interpolates, ≤ 0.1 σ²): n* is read at a stationary point.",
                        value=len(moving), tolerance="0 points still moving"),
                 regime("protected sign flips cannot move n*'s bracket (regime reached: tracking the flow)",
                        not flipping, f"(d, n, flips) = {flipping}: a seed whose GD run flipped a protected sign "
                        "decides the median; raise refine", "A GD run that flips a protected sign(a_j) (BF-P3: the "
                        "flow cannot) is not tracking the flow; such points were rerun at half the step up to "
                        f"{d.refine} times. Flips left are harmless only where the median at the deciding point "
                        "stays on its side of the level whatever the flipping seeds read (0 or +inf).",
                        value=sum(f["flips"] for r in per for f in r["flipped"]),
                        tolerance="no deciding flips")]
        missing = [r["d"] for r in per if r["n_star"] is None]
        claim = [holds(f"n* inside the grid at every d (d = {dims})", not missing,
                       f"The threshold exists at every d of the scan: the median train MSE crosses {d.fraction:g}·σ² "
                       "inside each d's grid (built at the width to interpolate: a capacity-limited net never crosses "
                       "there). Missing at d = " + (", ".join(map(str, missing)) or "none") + ".",
                       value=[r["n_star"] for r in per])]
        for a, b in zip(per, per[1:]):
            name = f"n* ratio from d = {a['d']} to d = {b['d']}"
            if a["n_star"] is None or b["n_star"] is None:
                claim.append(undecided(name, "no n* at one of the two dimensions"))
                continue
            ratio = b["n_star"] / a["n_star"]
            good = (ratio >= GRID_STEP if p > 0 else ratio <= 1 / GRID_STEP if p < 0
                    else 1 / GRID_STEP < ratio < GRID_STEP)
            claim.append(Criterion(name, ratio, f"≥ {GRID_STEP:.3g} if n* increases with d; ≤ {1 / GRID_STEP:.3g} "
                                   f"if it decreases; inside ({1 / GRID_STEP:.3g}, {GRID_STEP:.3g}) if flat",
                                   bool(good),
                                   "BF-P17's direction: n* increases with d. n* is the interpolated crossing of "
                                   f"{d.fraction:g}·σ² by the median train MSE over {d.seeds} seeds; one step of the "
                                   "standard grid (√2) is the effect size, so n* must grow by at least that much "
                                   "between neighbouring d (d³ predicts ≥ 2.4×, a d² law ≥ 1.8× on d = 3, 4, 6) and a "
                                   "flat n* stays within it.", predicted=p))
        out += gated(gates, claim)
        name = f"fitted exponent ∂ln n*/∂ln d (log–log fit over d = {dims})"
        if t["exponent"] is None or not np.isfinite(t["exponent_se"]):
            return out + [undecided(name, "fewer than 3 dimensions with an n*", level="refinement")]
        k, se = t["exponent"], t["exponent_se"]
        out.append(measured(name, k, f"The local growth rate of n* over the scan, ± {se:.2f} (1 SE from the fit's "
                            "residuals); reported, not scored: the paper states a sufficient bound (n ≳ d³), not the "
                            "law of n*.", details=dict(se=se)))
        return out + gated(gates, [at_most(
            f"fitted exponent ≤ the sufficient bound's exponent {p:g} (+ 2 SE)", k, p + 2 * se,
            "The d³ bound as a bound [R]: a threshold that suffices for every d cannot be outgrown by the observed "
            "n* for long, so the local slope of log n* on log d must not exceed the bound's exponent by more than 2 "
            "standard errors of the fit. A bound exponent below the data's (a d⁻¹ or d⁰ bound) fails.",
            level="refinement", tag="R")])

    def _table(self, d, pred, obs):
        per, b_med = {}, None
        if "base" in obs:
            b_star, b_lo, b_med = n_star(d, obs["base"]["rows"], obs["base"]["ns"])
        for v, p in pred["exponent"].items():
            if v == "d":
                continue
            star, lo, med = n_star(d, obs[v]["rows"], obs[v]["ns"])
            base_value, value, _ = d.changed(v)
            row = dict(predicted_exponent=p, base_value=base_value, value=value, n_star=star, bracket=lo,
                       base_n_star=b_star, base_bracket=b_lo, train_median=med, ns=obs[v]["ns"],
                       horizon=obs[v]["horizon"], base_horizon=obs["base"]["horizon"],
                       horizon_in_T=obs[v]["horizon"] / pred["time_unit"][v],
                       base_horizon_in_T=obs["base"]["horizon"] / pred["time_unit"]["base"],
                       sign_flips_before=sum(r.get("sign_flips_first", r["sign_flips"]) for r in obs[v]["rows"]),
                       sign_flips_after=sum(r["sign_flips"] for r in obs[v]["rows"]))
            if star is not None and b_star is not None:
                ratio = math.log(value / base_value)
                row.update(grid_steps=math.log2(star / b_star), observed_exponent=math.log(star / b_star) / ratio + 0.0,
                           exponent_halfwidth=abs(math.log(2) / ratio))  # one grid step on each n*
            per[v] = row
        return per, b_med

    def criteria(self, d, pred, obs):
        per, _ = self._table(d, pred, obs)
        out = self._d_criteria(d, pred, obs) if "d" in pred["exponent"] else []
        for v, r in per.items():
            out.append(measured(f"horizon of the {v} = {r['value']:g} sweep over the base's, in units of T_λ",
                                r["horizon_in_T"] / r["base_horizon_in_T"],
                                "The protocol in the theory's time unit: the changed run trains for as many T_λ (F2.5 "
                                "with F2.8: T_λ = 2(d + 2) ln(1/λ_eff)/‖β*‖) as the base run. Shown, not judged: the "
                                "horizon is set from this formula, so the ratio is 1 by construction."))
            if "observed_exponent" not in r:
                out.append(undecided(f"exponent of n* in {v}", f"no n* on the grid for {v} or the base run"))
                continue
            p, e, w = r["predicted_exponent"], r["observed_exponent"], r["exponent_halfwidth"]
            steps = r["grid_steps"]
            good = steps >= 1 if p > 0 else steps <= -1 if p < 0 else abs(steps) <= 1
            out.append(Criterion(f"n* grid steps when {v}: {r['base_value']:g} → {r['value']:g}", steps,
                                 "≥ 1 if exponent > 0; ≤ −1 if < 0; |·| ≤ 1 if 0", bool(good),
                                 "n* is read on a doubling grid (brackets of a factor 2): a predicted exponent > 0 "
                                 "needs n* to grow by at least one grid step, a predicted 0 to stay within one step. "
                                 "The direction of the dependence (the sufficient bound may be loose).", predicted=p))
            if p != 0:
                out.append(Criterion(f"exponent ∂ln n*/∂ln {v}", e, f"|obs − pred| ≤ 2·{w:g} (two grid steps)",
                                     bool(abs(e - p) <= 2 * w),
                                     "The observed exponent log(n*₂/n*₁)/log(v₂/v₁) is known to ±1 grid step on each "
                                     "n*, i.e. ±log 2/log(v₂/v₁) per side: two half-widths. This separates the "
                                     "theorem's d³ from the referee's d¹ only if the observed exponent is > 2·w away "
                                     "from one of them.", predicted=p))
        return out

    def numbers(self, d, pred, obs):
        per, b_med = self._table(d, pred, obs)
        if "d" in pred["exponent"]:
            per["d"] = self._d_table(d, pred, obs)
        return {"per_variable": per, "base_train_median": b_med}

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        scan = "d" in d.variables and obs.get("d_scan")
        fig, axes = plt.subplots(1, 2 if scan else 1, figsize=(10.4 if scan else 5.6, 3.8), squeeze=False)
        ax = axes[0][0]
        if scan:
            self._exponent_panel(axes[0][1], d, pred, obs)
        if scan:  # the d scan: medians at H (solid) and at H/4 (dashed), each d at its own width
            for i, r in enumerate(self._d_table(d, pred, obs)["per_d"]):
                ax.semilogx(r["ns"], r["train_median"], "o-", color=f"C{i}", label=f"d={r['d']}, m={r['m']} (at H)")
                ax.semilogx(r["ns"], r["train_median_early"], "--", color=f"C{i}", lw=0.8, alpha=0.7,
                            label=f"dashed: at H/{EARLY}" if i == 0 else None)
        runs = []
        if "base" in obs:
            runs += [("base", obs["base"], dict(d=d.d, m=d.m, lam=d.lam))] + [
                (v, obs[v], obs[v]["config"]) for v in pred["exponent"] if v != "d"]
        for i, (label, run, c) in enumerate(runs, start=len(d.d_values) if scan else 0):
            med = n_star(d, run["rows"], run["ns"])[2]
            ax.semilogx(run["ns"], med, "o-", color=f"C{i}", label=f"d={c['d']}, m={c['m']}, λ={c['lam']:g}")
        ax.axhline(d.fraction * d.sigma ** 2, color="grey", ls="--", lw=0.8, label=f"{d.fraction:g} σ² (n* criterion)")
        ax.axhline(d.sigma ** 2, color="k", ls=":", label="σ²")
        ax.set(xlabel="n", ylabel="median final train MSE", title="Where the threshold moves (BF-P17)")
        ax.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        return {"": fig}

    def _exponent_panel(self, ax, d, pred, obs):
        """n* against d on log–log axes: the observed n* (at H and H/4), the fitted slope ± 2 SE (a measure), the
        sufficient bound's growth d³ (a bound: c unknown, drawn through the smallest d's n*) and the flat
        alternative."""
        import matplotlib.pyplot as plt

        t = self._d_table(d, pred, obs)
        ok = [r for r in t["per_d"] if r["n_star"] is not None]
        if len(ok) < 2:
            ax.text(0.5, 0.5, "fewer than 2 dimensions with an n*", ha="center", transform=ax.transAxes)
            return
        dims, ns = np.array([r["d"] for r in ok], float), np.array([r["n_star"] for r in ok], float)
        centre_d, centre_n = np.exp(np.mean(np.log(dims))), np.exp(np.mean(np.log(ns)))
        grid = np.geomspace(dims.min() * 0.9, dims.max() * 1.1, 50)
        ax.loglog(dims, ns, "ko", label="observed n* at H (crossing of ½σ²)")
        early = [(r["d"], r["n_star_early"]) for r in t["per_d"] if r["n_star_early"] is not None]
        if early:
            ax.loglog(*zip(*early), "kx", label=f"n* at H/{EARLY}")
        if t["exponent"] is not None:
            k, se = t["exponent"], t["exponent_se"]
            ax.fill_between(grid, centre_n * (grid / centre_d) ** (k - 2 * se),
                            centre_n * (grid / centre_d) ** (k + 2 * se),
                            color="C0", alpha=0.2, label=f"fit: slope {k:.2f} ± 2·{se:.2f}")
        sup = f"{t['predicted_exponent']:g}".translate(str.maketrans("0123456789.-", "⁰¹²³⁴⁵⁶⁷⁸⁹·⁻"))
        ax.loglog(grid, ns[0] * (grid / dims[0]) ** t["predicted_exponent"], color="C3", ls="-",
                  label=f"sufficient bound's growth ∝ d{sup} (a bound; c unknown)")
        ax.loglog(grid, centre_n + 0 * grid, color="grey", ls=":", label="alternative: n* independent of d")
        ax.set_xticks([r["d"] for r in t["per_d"]], [f"{r['d']:g}" for r in t["per_d"]])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set(xlabel="d", ylabel="n*", title="n* against d (fit reported, d³ a bound)")
        ax.legend(fontsize=7, loc="lower right")
