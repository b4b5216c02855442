"""BF-P12, BF-P13: empirical extremal vectors of G_n converge to the population ones (no training)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from numerics import data
from theory import extremal, local_maximum
from theory import references as ref

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import at_least, gated, measured, regime, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.strategies import teachers
from checks.suites.threshold.points import SIGMA, e5_teacher, sigma_ball


@dataclass(frozen=True)
class ExtremalDesign(Design):
    """E5 samples (no training): empirical extremal vectors of G_n by projected ascent, both signs, per (n, seed).

    Arguments:
        ns: sample sizes n.
        seeds: samples per n (seeds seed, seed + 1, …).
        d: input dimension.
        sigma: noise level σ of y = β*·x + ξ.
        teacher: β* (empty: E5's unit teacher of dimension d).
        fit_from: smallest n of the log–log angle fit (the small-n angles are O(1), outside the asymptotic regime).
        cos_n: the n at which cos(u₊ⁿ, u₊) is compared with the [C] value of BF-P12 (must be one of ns).
        starts: random starts of the projected ascent per sign.
        ascent_steps: projected-ascent steps; each endpoint is then walked to an exact local maximum
            (`theory.local_maximum`), so they only need to start it near one (1000 steps give the counts of 3000,
            ±1 per n summed over the standard seeds, at half the cost).
        judge_count: judge BF-P13 (the count) too. The family's instances judge the direction and the rate only
            (BF-P12): the n at which the count has fallen to 2 depends on d and β*, which the theory does not give.
        instances: teachers β* drawn by the family (`checks.strategies.teachers`), each judged at one n.
    """

    ns: tuple[int, ...] = (20, 40, 80, 160, 320, 640, 1280)
    seeds: int = 5
    d: int = 5
    sigma: float = SIGMA
    teacher: tuple[float, ...] = ()
    fit_from: int = 80
    cos_n: int = 640
    starts: int = 64
    ascent_steps: int = 1000
    judge_count: bool = True
    instances: int = 8
    presets: ClassVar = {"quick": dict(ns=(20, 80, 320, 640, 1280), seeds=3, instances=3),
                         "full": dict(seeds=9, instances=50)}
    paper_source: ClassVar = "BF-ST Fig. 1's data (E5: d = 5, σ = 0.5); no training, so the full design's seeds"
    sources: ClassVar = {"d": "E5 / BF-ST Fig. 1: d = 5",
                         "cos_n": "docs/theory/bf-threshold.md#bf-p12 [C]: cos ≈ 0.95 at n = 640"}

    def validate(self):
        positive(self, "ns", "seeds", "d", "sigma", "starts", "ascent_steps")
        if self.teacher and len(self.teacher) != self.d:
            raise CheckError(f"teacher has {len(self.teacher)} entries; it needs d = {self.d}")
        if self.teacher and not np.linalg.norm(self.teacher) > 0:
            raise CheckError("teacher β* must be non-zero")
        if self.cos_n not in self.ns:
            raise CheckError(f"cos_n={self.cos_n} must be one of ns={self.ns}")
        if self.instances < 0:
            raise CheckError(f"instances={self.instances} must be ≥ 0")


COS_MERGE = 0.999  # theory.extremal.ascent_extremal's de-duplication: endpoints within arccos(0.999) = 2.56° merge
MERGE_FACTORS = (0.1, 1.0, 10.0)  # BF-P13 count: ×1 of that the claim, ×0.1 our refinement, ×10 shown (0.26° … 25.6°)


def merged_count(found, angle: float) -> int:
    """Distinct directions among the ascent endpoints `found` [(u, value)], best first, merged greedily within
    `angle` rad (ascent_extremal's rule at cos_merge = cos(angle))."""
    return len(_merge(found, angle)[0])


def search_spread(found, angle: float) -> float:
    """The search's resolution: the largest angle (rad) from an endpoint to the direction it was merged into."""
    return _merge(found, angle)[1]


def polished(X, y, sign, starts, steps, seed):
    """The projected-ascent endpoints of one sign (`theory.extremal.ascent_extremal`, no merging), each walked to an
    exact strict local maximum of −sign·G_n (`theory.local_maximum.polish`): ([(u, −sign·G_n(u))] best first, how
    many of them are certified). Endpoints of one basin then coincide to rounding, so the merge angles below count
    distinct maximisers, not the ascent's unconverged scatter."""
    found = extremal.ascent_extremal(X, y, sign, n_starts=starts, steps=steps, seed=seed, cos_merge=1.0)
    if not found:
        return [], 0
    U, ok = local_maximum.polish(np.array([u for u, _ in found]), X, y, sign)
    val = -sign * extremal.G_n(U, X, y)
    order = np.argsort(-val)
    return [(U[i], float(val[i])) for i in order if val[i] > 0], int(ok.sum())


def _merge(found, angle):
    kept, spread = [], 0.0
    for u, _ in found:
        cos = [float(u @ v) for v in kept]
        if all(c < np.cos(angle) for c in cos):
            kept.append(u)
        else:
            spread = max(spread, float(np.arccos(min(1.0, max(cos)))))
    return kept, spread


# per drawn teacher: one large n, cheap ascent, direction and rate only (BF-P12)
FAMILY_RUN = dict(ns=(1000,), seeds=3, starts=16, ascent_steps=1000, cos_n=1000, judge_count=False)


def _rate_times(k):
    return lambda f: (lambda S, b: [dataclasses.replace(e, G=k * e.G, rate=k * e.rate) for e in f(S, b)])


def _angle_power(p):
    """The angle law with n^(−p) instead of n^(−1/2)."""
    def change(f):
        n = f.args[0]
        return dataclasses.replace(f, rhs=f.rhs * sp.sqrt(n) / n ** p)
    return change


def _slope_fit(ns, angles):
    """Pooled least-squares slope of log angle against log n, and its standard error."""
    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(angles, float))
    if len(set(ns)) < 3:
        return float("nan"), float("nan")
    coef, cov = np.polyfit(x, y, 1, cov=True)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


@register
class PopulationExtremal(Check):
    name = "threshold.population_extremal"
    paper = "BF-ST"
    prediction_id = "BF-P12"
    also_judges = ("BF-P13",)
    claim = ("The empirical positive extremal vector u₊ⁿ of G_n converges to the population one Σ β*/|Σ "
             "β*| at rate ~ n^{-1/2} (up to logs), with the population rate 1/2 ‖Σβ*‖ (no training)")
    claims = {"BF-P13": "The number of distinct empirical extremal vectors of G_n falls to the population count 2 "
                        "(u+ and u- = -u+) as n grows"}
    provenance = "[R] rate, [C] thresholds"
    provenances = {"BF-P13": "[R] count, [C] search"}
    design = ExtremalDesign
    uses = {"population": lambda: extremal.population_extremal_vectors,
            "angle_law": extremal.angle_concentration,
            "second_moment": lambda: extremal.unit_ball_second_moment}
    alternatives = (Variant("rate × 2 (F2.8 rate ‖Σβ*‖ without its ½)", {"population": _rate_times(2.0)},
                            why="dropping the ½ of relu(t) = (t + |t|)/2 in G(w) = −½ wᵀΣβ*"),
                    Variant("angle ∝ n^(−1) (slope −1)", {"angle_law": _angle_power(1)},
                            why="a parametric 1/n rate instead of the √n concentration"),
                    Variant("one extremal vector at large n (u₊ only)",
                            {"population": lambda f: (lambda S, b: f(S, b)[:1])},
                            against="BF-P13", why="for linear data G(−u) = −G(u), so ±u₊ may be taken for one "
                                                  "direction: the threshold's 'single direction'"),
                    Variant("two per sign at large n (count 4)", {"population": lambda f: (lambda S, b: 2 * f(S, b))},
                            against="BF-P13", why="the two-half-space OLS fit (BF-P14's reference) has two directions "
                                                  "per sign, one per half-space"))
    mutants = (Variant("mirrored u₊ (β* → −β*)", {"population": lambda f: (lambda S, b: f(S, -np.asarray(b)))}),
               Variant("rate × 2 (missing ½)", {"population": _rate_times(2.0)}),
               Variant("Σ = I/d instead of I/(d + 2)", {"second_moment": lambda f: (lambda d: sp.Integer(1) / d)}),
               Variant("angle ∝ n^(−1)", {"angle_law": _angle_power(1)}),
               Variant("angle ∝ n^(+1/2) (sign)", {"angle_law": _angle_power(-0.5)}),
               Variant("only u₊ (count 1)", {"population": lambda f: (lambda S, b: f(S, b)[:1])}, against="BF-P13"),
               Variant("count doubled (±u₊ counted twice)", {"population": lambda f: (lambda S, b: 2 * f(S, b))},
                       against="BF-P13"))
    family = staticmethod(lambda d: teachers().map(lambda t: dict(t, **FAMILY_RUN)))

    def predict(self, d, th):
        beta = e5_teacher(d.d, d.teacher)
        ext = th.population(sigma_ball(d.d, th.second_moment), beta)
        plus = next(e for e in ext if e.kind == "min")
        n = th.angle_law.args[0]
        return {"u": plus.u, "rate": plus.rate, "count": len(ext),
                "slope": float(ref.elasticity(th.angle_law, n.name))}

    def observe(self, d):
        beta = e5_teacher(d.d, d.teacher)
        rows = []
        for n in d.ns:
            for s in range(d.seeds):
                ds = data.linear_teacher(n, d.d, d.sigma, seed=d.seed + s, beta=beta)
                # every endpoint (cos_merge = 1: no merging), walked to an exact local maximum (certified), merged
                # below at several tolerances
                (pos, ok_pos), (neg, ok_neg) = (polished(ds.X, ds.y, sign, d.starts, d.ascent_steps, s)
                                                for sign in (1.0, -1.0))
                counts = {f: merged_count(pos, f * np.arccos(COS_MERGE)) + merged_count(neg, f * np.arccos(COS_MERGE))
                          for f in MERGE_FACTORS}
                rows.append(dict(n=n, seed=d.seed + s, u=pos[0][0], rate_pos=pos[0][1],
                                 u_neg=neg[0][0] if neg else None, rate_neg=neg[0][1] if neg else float("nan"),
                                 count=counts[1.0], counts=counts, certified=ok_pos + ok_neg,
                                 endpoints=len(pos) + len(neg),
                                 spread=max(search_spread(f, np.arccos(COS_MERGE)) for f in (pos, neg))))
        return {"rows": rows}

    def _table(self, d, pred, obs):
        rows, u = obs["rows"], pred["u"]
        ns = sorted({r["n"] for r in rows})
        ang = {id(r): float(np.arccos(np.clip(r["u"] @ u, -1, 1))) for r in rows}
        med = [float(np.median([ang[id(r)] for r in rows if r["n"] == n])) for n in ns]
        count = [float(np.median([r["count"] for r in rows if r["n"] == n])) for n in ns]
        fit = [r for r in rows if r["n"] >= d.fit_from]
        slope, se = _slope_fit([r["n"] for r in fit], [max(ang[id(r)], 1e-300) for r in fit])
        big = [r for r in rows if r["n"] == ns[-1]]
        rates = [r["rate_pos"] for r in big] + [r["rate_neg"] for r in big if np.isfinite(r["rate_neg"])]
        by_tol = {f: [float(np.median([r["counts"][f] for r in rows if r["n"] == n])) for n in ns]
                  for f in MERGE_FACTORS}
        spread = float(np.median([r["spread"] for r in rows if r["n"] == ns[-1]]))
        certified = int(sum(r["certified"] for r in big))
        return dict(n=ns, angle=med, count=count, count_by_tolerance=by_tol, spread=spread, slope=slope, slope_se=se,
                    certified=certified, endpoints=int(sum(r["endpoints"] for r in big)),
                    rate=float(np.median(rates)),
                    cos=float(np.cos(med[ns.index(d.cos_n)])) if d.cos_n in ns else float("nan"))

    def criteria(self, d, pred, obs):
        t = self._table(d, pred, obs)
        out = [at_least(f"cos(u₊ⁿ, u₊) (median) at n = {d.cos_n}", t["cos"], 0.95,
                        "[C] of BF-P12: cos ≈ 0.95 at d = 5, n = 640, σ = 0.5 (a run of this sample gave ≈ 0.99); a "
                        "wrong population direction (mirrored β*) gives cos ≈ −1.")]
        if np.isfinite(t["slope"]):
            out.append(within(f"log–log slope of the angle against n (n ≥ {d.fit_from}, all seeds pooled)",
                              t["slope"], pred["slope"], 3 * t["slope_se"],
                              f"Tolerance = 3 standard errors of the pooled least-squares slope (SE {t['slope_se']:.3f}"
                              ", from the scatter of log angle over seeds and n): the fit's own uncertainty. The "
                              "√log n of the sup-over-u bound would shift the local slope by 1/(2 ln n) ≈ 0.08 here, "
                              "inside that band ('up to logs'); the referee's slope −1 is 0.5 away."))
        out.append(_relative_within(
            f"median empirical rate |G_n(u±ⁿ)| at n = {t['n'][-1]}", t["rate"], pred["rate"], 0.25,
            "Relative to the predicted rate ½‖Σβ*‖ (1/14 for E5): the seed-to-seed spread of the maximal |G_n| at "
            "n = 1280 is ≈ 10% (sampling std of y·relu(u·x)/√n ≈ 7%, plus the maximisation over u, which biases it "
            "up by ≈ 2%), so the median of ≥ 4 values is within ≈ 5–10%; 25% leaves room for the quick tier. The "
            "referee's rate × 2 (+100%) and Σ = I/d (+40%) lie outside."))
        if d.judge_count:
            tol = {f: t["count_by_tolerance"][f][-1] for f in MERGE_FACTORS}
            out += [within(f"median count of distinct extremal vectors at n = {t['n'][-1]}", t["count"][-1],
                           pred["count"], 0.0,
                           "Counts are integers and the population count (±u₊, F2.8) is exact: the median over seeds "
                           "at the largest n must equal it (projected ascent of both signs, merged at cos > 0.999).",
                           prediction_id="BF-P13"),
                    measured(f"median count at n = {t['n'][-1]}, de-duplication angle ×{MERGE_FACTORS[-1]:g} "
                             f"({MERGE_FACTORS[-1] * np.degrees(np.arccos(COS_MERGE)):.3g}°)", tol[MERGE_FACTORS[-1]],
                             "Shown, not judged: a wider merge angle can only join directions, and ±u₊ are 180° "
                             "apart, so once the count at ×1 equals the population count this one equals it by "
                             "construction (it was a criterion until a referee rerun found it could not fail).",
                             prediction_id="BF-P13", details={"count_at_largest_n_by_factor":
                                                              {str(f): c for f, c in tol.items()}}),
                    *gated(regime(f"every ascent endpoint at n = {t['n'][-1]} is walked to a certified strict local "
                                  "maximum (regime reached)", t["certified"] == t["endpoints"],
                                  f"{t['endpoints'] - t['certified']} of {t['endpoints']} endpoints at n = "
                                  f"{t['n'][-1]} did not reach a certified local maximum "
                                  "(theory.local_maximum.walk): raise ascent_steps so that they start nearer one",
                                  "A count at a merge angle below the search's own resolution would count unconverged "
                                  "endpoints; certified maximisers (exact KKT point with multipliers strictly inside "
                                  "their ranges, theory.local_maximum) are exact, so every merge angle counts distinct "
                                  "maximisers.", value=f"{t['certified']}/{t['endpoints']}",
                                  tolerance="all", prediction_id="BF-P13"),
                           [within(f"median count at n = {t['n'][-1]}, de-duplication angle ×{MERGE_FACTORS[0]:g}",
                                   tol[MERGE_FACTORS[0]], pred["count"], 0.0,
                                   "The finer end of the ×0.1 … ×10 stability: distinct spurious maximisers near ±u₊ "
                                   "would show here (integers, exact). A refinement of ours, not the claim: the "
                                   "specification counts at the search's own merge angle (judged above, ×1); that the "
                                   "count is the same at every finer angle is our reading.", prediction_id="BF-P13",
                                   level="refinement", tag="R")]),
                    at_least(f"median count at the smallest n = {t['n'][0]} above the population count",
                             t["count"][0], pred["count"] + 1,
                             "BF-P13 says the count *falls* to the population count: at small n there must be more "
                             "extremal vectors than the population has (F2.8: 'at small n there can be many').",
                             prediction_id="BF-P13")]
        return out

    def numbers(self, d, pred, obs):
        t = self._table(d, pred, obs)
        return dict(n=t["n"], median_angle=t["angle"], median_count=t["count"],
                    median_count_by_merge_factor={str(f): c for f, c in t["count_by_tolerance"].items()},
                    certified_endpoints_at_largest_n=f"{t['certified']}/{t['endpoints']}",
                    merged_spread_deg_at_largest_n=float(np.degrees(t["spread"])), slope=t["slope"],
                    slope_se=t["slope_se"], median_rate=t["rate"], predicted_rate=pred["rate"])

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        t = self._table(d, pred, obs)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        ax1.loglog(t["n"], t["angle"], "o-", label="median angle(u+^n, u+)")
        n = np.array(t["n"], float)
        ax1.loglog(n, t["angle"][-1] * (n / n[-1]) ** pred["slope"], "k--", lw=1,
                   label=f"predicted slope {pred['slope']:g}")
        ax1.set(xlabel="n", ylabel="angle (rad)", title="empirical → population extremal vector")
        ax1.legend(fontsize=8)
        for f, mark in zip(MERGE_FACTORS, "v^s"):
            ax2.semilogx(t["n"], t["count_by_tolerance"][f], mark + "-", ms=4,
                         label=f"merged within {np.degrees(f * np.arccos(COS_MERGE)):.2f}°")
        ax2.legend(fontsize=8)
        ax2.axhline(pred["count"], ls=":", c="k")
        ax2.set(xlabel="n", ylabel="distinct certified maximisers (median)",
                title=f"the count falls to {pred['count']} (BF-P13)")
        return {"": fig}


def _relative_within(name, value, predicted, rel, rationale, **kw):
    """|value − predicted| ≤ rel·|predicted|."""
    c = within(name, value, predicted, rel * abs(float(predicted)), rationale, **kw)
    return dataclasses.replace(c, tolerance=f"|obs − pred| ≤ {rel:g}·|pred|")
