"""BF-P17: how the threshold n* moves with the input dimension d, the init scale λ and the width m."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from theory.references import alignment_time, elasticity, evaluate, plateau_time, sufficient_threshold

from ...core import Check, Variant, loglog_fit, register
from ...criteria import Criterion, at_most, undecided, within
from ...errors import CheckError
from .locate import locate_threshold
from .points import e5_teacher
from .sweep_cache import sweep_rows
from .sweep_design import SweepDesign

VARIABLES = {"d": "d", "lambda": "lam", "m": "m"}  # variable (symbol of theory's formula) → design field


@dataclass(frozen=True)
class DependenceDesign(SweepDesign):
    """The base sweep of threshold.sweep, then one sweep per changed variable (d, λ or m), the rest fixed.

    Arguments:
        variables: which dependences to judge (d, lambda, m).
        d_changed: the changed input dimension (its grid: `d_ns`).
        d_ns: the n grid of the changed-d sweep (n* moves right).
        lam_changed: the changed init scale λ (base grid).
        m_changed: the changed width m (base grid).
        d_values: input dimensions of the d scan (variable d): n* is located at each and log n* fitted on log d.
        d_m: width of the d scan (n* does not grow with m, BF-P17; 50 keeps d = 12 affordable on 2 CPUs).
        d_seeds: seeds per point of the d scan (median train MSE over them).
        d_max_n: the d scan stops (n* undecided there) beyond this n.
    """

    # the base sweep of the λ and m variables (full, paper) keeps the former threshold.sweep design (its own width
    # and grid, not threshold.sweep's capacity-derived ones): the d scan below does not read them
    ns: tuple[int, ...] = (10, 20, 40, 80, 160, 320, 640, 1280)
    m: int = 200
    lam: float = 1e-3
    variables: tuple[str, ...] = ("d",)
    d_changed: int = 10
    # (160 … 1280): with the horizon scaled by T_λ (×1.65 at d = 10) the old grid (80 … 2560) took 417 s uncached;
    # n = 80 interpolates to 1e-12 (no information) and n = 2560 costs as much as the rest together while only
    # re-confirming "stays above" (0.83 σ² there; 0.64 σ² at n* = 1280, 0.06 σ² at 640 in that run).
    d_ns: tuple[int, ...] = (160, 320, 640, 1280)
    lam_changed: float = 1e-6
    m_changed: int = 50
    # d = 3 … 12 (a factor 4, so one unit of exponent is a factor 4 in n*): a calibration scan (seed 0, m = 50)
    # gave n* ≈ 14, 38, 152, 475, 1294 and a fitted exponent 3.33 ± 0.14; the check's own scan (seed 0, refine 1)
    # n* = 24, 38, 185, 475, 1240, exponent 3.00 ± 0.19 (d² and d⁴ 5 SE away). d = 3, 4, 6 alone: ± 0.62;
    # the old two-point d = 5 → 10 design had a ±2 exponent band and could not tell d² from d³.
    d_values: tuple[int, ...] = (3, 4, 6, 8, 12)
    d_m: int = 50
    d_seeds: int = 1
    d_max_n: int = 8192
    # quick (tests only; the check's tiers are standard, full, paper): one seed at width 50, ≈ 30 s on 2 CPU
    # processes. A calibration run (seed 0) gave n* = 80 (bracket 20) at d = 5 and n* = 1280 (bracket 640, train MSE
    # 0.40 σ² at n = 640) at d = 10: 4 grid steps, inside d³'s ±2 and outside d¹'s.
    presets: ClassVar = {"quick": dict(SweepDesign.presets["quick"], seeds=1, m=50, d_ns=(160, 640, 1280)),
                         "full": dict(variables=("d", "lambda", "m")),
                         "paper": dict(variables=("d", "lambda", "m"), m=10_000)}
    sources: ClassVar = {"d_changed": "BF-ST appendix: d = 10 preliminary runs"}
    paper_source: ClassVar = ("BF-ST Fig. 1 width m = 10000 at d = 5 and the appendix's d = 10 (preliminary; d = 20 "
                              "announced: --set d_changed=20 with a wider d_ns); n* against d, λ and m. Full-batch GD "
                              "from the small balanced init, the regime of the theorem whose n* ∝ d³/… it tests, not "
                              "Fig. 1's SGD and default init (threshold.sweep's paper preset runs those)")
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
        if len(set(self.d_values)) < 3 or min(self.d_values) < 1 or list(self.d_values) != sorted(self.d_values):
            raise CheckError(f"d_values={self.d_values!r}: give ≥ 3 increasing dimensions (a fit with a standard "
                             "error), e.g. d_values=3,4,6,8,12")
        if self.d_m <= 0 or self.d_seeds <= 0 or self.d_max_n <= 2 * max(self.d_values):
            raise CheckError("d_m and d_seeds must be > 0 and d_max_n > 2·max(d_values)")

    def changed(self, v: str) -> tuple[float, float, tuple]:
        """(base value, changed value, n grid) of variable v."""
        return {"d": (self.d, self.d_changed, self.d_ns), "lambda": (self.lam, self.lam_changed, self.ns),
                "m": (self.m, self.m_changed, self.ns)}[v]


def time_unit(formula, d: int, m: int, lam: float) -> float:
    """T_λ of the E5 run (d, m, λ) from the alignment-time formula (F2.5 with F2.8, theory.references)."""
    return evaluate(formula, d=d, m=m, **{"lambda": lam}, beta_norm=float(np.linalg.norm(e5_teacher(d))))


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


SCAN_RATIO = 2 ** 0.5  # the d scan's n grid 2d·√2^j: n* interpolated between neighbours a factor √2 apart
STOP_ABOVE = 2  # the scan stops once this many consecutive medians are ≥ fraction·σ² (n* found, "stays above")
FIRST, LATER = 6, 3  # grid points per d in the first round (cheap small n) and in each later one (process start-up
# is ≈ 10 s a round on 2 CPUs); the result does not depend on them: points past the stop are dropped


def scan_grid(dim: int, max_n: int) -> list[int]:
    """The d scan's sample sizes at dimension `dim`: round(2d·√2^j) ≤ max_n (from 2d: every d starts below n*)."""
    out, j = [], 0
    while (n := int(round(2 * dim * SCAN_RATIO ** j))) <= max_n:
        if not out or n > out[-1]:
            out.append(n)
        j += 1
    return out


def _medians(rows, ns):
    return [float(np.median([r["end"]["train_mse"] for r in rows if r["n"] == n])) for n in ns]


def crossing(ns, med, level) -> float | None:
    """n* as the last upward crossing of `level` by the median train MSE, log-linear between the last point below
    and the next one (None: no point below, or the last point is below)."""
    below = [i for i, v in enumerate(med) if v < level]
    if not below or below[-1] == len(med) - 1:
        return None
    i = below[-1]
    t = (level - med[i]) / (med[i + 1] - med[i])
    return float(ns[i] * (ns[i + 1] / ns[i]) ** t)


def _stop(med, level) -> int | None:
    """Index after which the scan stops: the end of the first run of STOP_ABOVE medians ≥ level after one below."""
    seen_below = False
    for i, v in enumerate(med):
        seen_below |= v < level
        if seen_below and i + 1 >= STOP_ABOVE and min(med[i + 1 - STOP_ABOVE:i + 1]) >= level:
            return i
    return None


def d_scan(design) -> dict:
    """For each d of `design.d_values`: train up the grid `scan_grid` (every d in the same 2-process round: FIRST
    points, then LATER per round) until STOP_ABOVE consecutive medians stay ≥ fraction·σ² after one below, or the
    grid ends. The horizon is the design's, kept fixed in units of T_λ (d + 2 grows it).
    Returns {d: dict(ns, rows, horizon)}."""
    from numerics.sweep import run_sweep

    from .points import threshold_point
    from .sweep_cache import cache_dir, point_options

    f, seeds = alignment_time(), [design.seed + s for s in range(design.d_seeds)]
    base = time_unit(f, design.d, design.d_m, design.lam)
    state = {dim: dict(grid=scan_grid(dim, design.d_max_n), ns=[], rows=[], done=False,
                       horizon=design.horizon * time_unit(f, dim, design.d_m, design.lam) / base)
             for dim in design.d_values}
    level = design.fraction * design.sigma ** 2
    while True:
        todo = []
        for dim, st in state.items():
            k = len(st["ns"])
            new = [] if st["done"] else st["grid"][k:k + (LATER if k else FIRST)]
            st["done"] = not new
            st["ns"] += new
            todo += [(dim, n) for n in new]
        if not todo:
            break
        configs = [dict(n=n, seed=s, d=dim, m=design.d_m, lam=design.lam, horizon=state[dim]["horizon"], lr=design.lr,
                        sigma=design.sigma, n_test=design.n_test,
                        plateau=plateau_time(design.lam, design.d_m, dim, e5_teacher(dim), design.init), refine=int(design.refine),
                        **point_options(design)) for dim, n in todo for s in seeds]
        for c, r in zip(configs, run_sweep(threshold_point, configs, cache=cache_dir(design), workers=2,
                                           desc="threshold d scan")):
            state[c["d"]]["rows"].append(r["result"])
        for st in state.values():
            i = _stop(_medians(st["rows"], st["ns"]), level)
            if i is not None:
                st.update(done=True, ns=st["ns"][:i + 1], rows=[r for r in st["rows"] if r["n"] <= st["ns"][i]])
    return {dim: dict(ns=st["ns"], rows=st["rows"], horizon=st["horizon"]) for dim, st in state.items()}


RESOLUTION = 0.5  # half the distance between neighbouring integer exponents (d², d³, d⁴): the effect size


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
    claim = ("For a fixed protocol the threshold n* grows with the input dimension d like the theorem's sufficient "
             "threshold n_suff = c d³, and does not grow with the width m or as the init scale λ decreases")
    provenance = "[R] exponent 3 from the [V] bound n ≳ d³, [C] fit tolerance"
    design = DependenceDesign
    tiers = ("standard", "full", "paper")
    uses = {"threshold": sufficient_threshold, "time_unit": alignment_time}
    alternatives = (Variant("n* ∝ d (exponent 1)", {"threshold": _d_power(1)},
                            why="a threshold set by the d parameters of the OLS fit, not by the d³ of the theorem"),
                    Variant("n* ∝ d⁴ (exponent 4)", {"threshold": _d_power(4)},
                            why="the observed n* grows faster than d³ at small d (pre-asymptotic terms)"))
    mutants = (Variant("n* independent of d", {"threshold": _d_power(0)}),
               Variant("n* shrinking with d (d⁻¹)", {"threshold": _d_power(-1)}),
               Variant("T_λ without the d + 2 of Σ = I/(d + 2) (rate ½‖β*‖)",
                       {"time_unit": lambda f: dataclasses.replace(f, rhs=f.rhs / (2 * (f.args[0] + 2)))}))

    def predict(self, d, th):
        exps = {v: float(elasticity(th.threshold, v)) for v in d.variables}
        units = {"base": time_unit(th.time_unit, d.d, d.m, d.lam)}
        for v in d.variables:
            if v == "d":  # the d scan: T_λ at every d of the scan (width d_m), and at the base d
                units["d"] = {dim: time_unit(th.time_unit, dim, d.d_m, d.lam) for dim in d.d_values}
                continue
            kw = dict(m=d.m, lam=d.lam, d=d.d) | {VARIABLES[v]: d.changed(v)[1]}
            units[v] = time_unit(th.time_unit, kw["d"], kw["m"], kw["lam"])
        return {"exponent": exps, "time_unit": units}

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
        """The d scan: n* at every d (interpolated crossing), and the log–log fit of n* on d."""
        level, rows = d.fraction * d.sigma ** 2, []
        for dim, run in obs["d_scan"].items():
            med = _medians(run["rows"], run["ns"])
            rows.append(dict(d=dim, ns=run["ns"], train_median=med, n_star=crossing(run["ns"], med, level),
                             horizon=run["horizon"], horizon_in_T=run["horizon"] / pred["time_unit"]["d"][dim],
                             sign_flips_before=sum(r.get("sign_flips_first", r["sign_flips"]) for r in run["rows"]),
                             sign_flips_after=sum(r["sign_flips"] for r in run["rows"])))
        ok = [r for r in rows if r["n_star"] is not None]
        k, se = loglog_fit([r["d"] for r in ok], [r["n_star"] for r in ok]) if len(ok) >= 3 else (None, None)
        return dict(per_d=rows, exponent=k, exponent_se=se, predicted_exponent=pred["exponent"]["d"])

    def _d_criteria(self, d, pred, obs):
        t = self._d_table(d, pred, obs)
        units = [r["horizon_in_T"] for r in t["per_d"]]
        # a time unit ≤ 0 is no time unit: the horizons cannot be "as many T_λ" (a sign-flipped T_λ would pass)
        spread = max(abs(u / units[0] - 1) for u in units) if min(units) > 0 else float("inf")
        dims = ", ".join(str(r["d"]) for r in t["per_d"])
        out = [at_most(f"spread of the d scan's horizons in units of T_λ (d = {dims})", spread, 1e-6,
                       "Same protocol in the theory's time unit: every d trains for as many T_λ (F2.5 with F2.8: T_λ "
                       "= 2(d + 2) ln(1/λ_eff)/‖β*‖) as the others, so a shift of n* is not unfinished training. "
                       "1e-6: float round-off (the horizons are set from the formula); a T_λ without the d + 2 is off "
                       "by ≥ 40% between d = 3 and 12.")]
        name = f"exponent ∂ln n*/∂ln d (log–log fit over d = {dims})"
        if t["exponent"] is None:
            return out + [undecided(name, "fewer than 3 dimensions with an n* on their scan (raise d_max_n)")]
        k, se, p = t["exponent"], t["exponent_se"], t["predicted_exponent"]
        if 2 * se >= RESOLUTION:
            return out + [undecided(name, f"2 standard errors of the fit ({2 * se:.2f}) ≥ {RESOLUTION}: it cannot "
                                          "tell neighbouring integer exponents apart (more d values or seeds)",
                                    value=k)]
        return out + [within(name, k, p, 2 * se,
                             f"n* at each d is the interpolated last crossing of {d.fraction:g}·σ² by the median "
                             f"final train MSE on the grid 2d·√2^j (a factor √2 bracket, interpolated); the slope of "
                             f"log n* on log d over d = {dims} has the standard error {se:.3f} from its residuals: "
                             "tolerance 2 SE (≈ 95%). The scan must resolve half a unit (2 SE < 0.5), so d³ is "
                             "told from the referee's d and from a d² or d⁴ law (each ≥ 1 unit away).")]

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
            out.append(within(f"horizon of the {v} = {r['value']:g} sweep in units of its T_λ", r["horizon_in_T"],
                              r["base_horizon_in_T"], 1e-6 * r["base_horizon_in_T"],
                              "Same protocol in the theory's time unit: the changed run trains for as many T_λ "
                              "(F2.5 with F2.8: T_λ = 2(d + 2) ln(1/λ_eff)/‖β*‖) as the base run, so a shift of n* is "
                              "not unfinished training. Relative 1e-6: a float round-off bound (the horizon is set "
                              "from the formula); a T_λ without the d + 2 misses by ≈ 40% at d = 5 → 10."))
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
        runs = [(f"d={dim} (d scan)", run, dict(d=dim, m=d.d_m, lam=d.lam)) for dim, run in obs.get("d_scan", {}).items()]
        if "base" in obs:
            runs += [("base", obs["base"], dict(d=d.d, m=d.m, lam=d.lam))] + [
                (v, obs[v], obs[v]["config"]) for v in pred["exponent"] if v != "d"]
        for i, (label, run, c) in enumerate(runs):
            med = n_star(d, run["rows"], run["ns"])[2]
            ax.semilogx(run["ns"], med, "o-", color=f"C{i}", label=f"d={c['d']}, m={c['m']}, λ={c['lam']:g}")
        ax.axhline(d.fraction * d.sigma ** 2, color="grey", ls="--", lw=0.8, label=f"{d.fraction:g} σ² (n* criterion)")
        ax.axhline(d.sigma ** 2, color="k", ls=":", label="σ²")
        ax.set(xlabel="n", ylabel="median final train MSE", title="Where the threshold moves (BF-P17)")
        ax.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        return {"": fig}

    def _exponent_panel(self, ax, d, pred, obs):
        """n* against d on log–log axes: the observed n*, the fitted slope ± 2 SE, the predicted d³ and the
        alternatives d¹ and d⁴ through the same centre."""
        import matplotlib.pyplot as plt

        t = self._d_table(d, pred, obs)
        ok = [r for r in t["per_d"] if r["n_star"] is not None]
        if len(ok) < 2:
            ax.text(0.5, 0.5, "fewer than 2 dimensions with an n*", ha="center", transform=ax.transAxes)
            return
        dims, ns = np.array([r["d"] for r in ok], float), np.array([r["n_star"] for r in ok], float)
        centre_d, centre_n = np.exp(np.mean(np.log(dims))), np.exp(np.mean(np.log(ns)))
        grid = np.geomspace(dims.min() * 0.9, dims.max() * 1.1, 50)
        ax.loglog(dims, ns, "ko", label="observed n* (crossing of ½σ²)")
        if t["exponent"] is not None:
            k, se = t["exponent"], t["exponent_se"]
            ax.fill_between(grid, centre_n * (grid / centre_d) ** (k - 2 * se), centre_n * (grid / centre_d) ** (k + 2 * se),
                            color="C0", alpha=0.2, label=f"fit: slope {k:.2f} ± 2·{se:.2f}")
        styles = {t["predicted_exponent"]: ("C3", "-", "prediction"), 1: ("grey", ":", "alternative"),
                  4: ("C1", "--", "alternative")}
        for expo, (colour, ls, kind) in styles.items():
            sup = f"{expo:g}".translate(str.maketrans("0123456789.-", "⁰¹²³⁴⁵⁶⁷⁸⁹·⁻"))
            ax.loglog(grid, centre_n * (grid / centre_d) ** expo, color=colour, ls=ls, label=f"{kind}: n* ∝ d{sup}")
        ax.set_xticks(dims, [f"{x:g}" for x in dims])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set(xlabel="d", ylabel="n*", title="Exponent of n* in d (log–log fit)")
        ax.legend(fontsize=7, loc="upper left")
