"""Extremal fixed points (BF-P5, with BF-P6) on Stewart's 1-D data with bias (E3): after the early phase the neuron
directions form at most as many clusters as G_n has extremal vectors, the count does not grow with m, and each cluster
direction is a fixed point of the direction flow with the sign rule of G_n."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from numerics import data
from theory import extremal

from ...core import Check, Variant, register
from ...criteria import at_most, holds
from ...design import Design, positive
from .common import direction_clusters, early_run


@dataclass(frozen=True)
class FixedPointsDesign(Design):
    """E3 (Stewart et al., n points with bias), balanced GD at λ to ε_max·T_λ for several widths.

    Arguments:
        n: data points of E3.
        lam: init scale.
        lr: GD step on L.
        eps_max: horizon as a fraction of T_λ.
        widths: the widths m compared (the cluster count must not grow with m).
    """

    n: int = 40
    lam: float = 1e-8
    lr: float = 0.05
    eps_max: float = 0.5
    widths: tuple[int, ...] = (100, 1000, 10000)
    presets: ClassVar = {"quick": dict(widths=(100, 1000))}
    sources: ClassVar = {"widths": "experiments.md BF-P5: m ∈ {100, 1000, 10000}", "n": "experiments.md E3: 40 points"}

    def validate(self):
        positive(self, "n", "lam", "lr", "eps_max", "widths")


@register
class ExtremalFixedPoints(Check):
    name = "early_alignment.fixed_points"
    paper = "BF-EA"
    prediction_id = "BF-P5"
    also_judges = ("BF-P6",)
    claim = ("After the early phase the neuron directions form at most #extremal-vectors clusters, and the count does "
             "not grow with m (Stewart 1-D data with bias)")
    claims = {"BF-P6": "Each cluster direction u is a fixed point, res(u) = |(I-uu^T)g_n(u)|/|g_n(u)| ~ 0, with the sign "
                       "rule: positive clusters at G_n(u) < 0, negative clusters at G_n(u) > 0"}
    provenance = "[R]"
    design = FixedPointsDesign
    uses = {"extremals": lambda: extremal.enumerate_extremal, "G": lambda: extremal.G_n,
            "residual": lambda: extremal.residual}
    mutants = (Variant("G_n of the negated labels (sign rule reversed)", {"G": lambda f: (lambda w, X, y: f(w, X, -y))},
                       against="BF-P6"),
               Variant("residual without the tangent projection (‖g_n‖/‖g_n‖)",
                       {"residual": lambda f: (lambda u, X, y: np.ones(np.shape(u)[:-1]))}, against="BF-P6"),
               Variant("residual of the opposite direction −u", {"residual": lambda f: (lambda u, X, y: f(-u, X, y))},
                       against="BF-P6"),
               Variant("only the maxima of G_n counted (kinds confused)",
                       {"extremals": lambda f: (lambda X, y: [e for e in f(X, y) if e.kind == "max"])}))

    def predict(self, d, th):
        ds = data.stewart(n=d.n, seed=d.seed)
        X, y = ds.inputs, ds.y
        return {"n_extremal": len(th.extremals(X, y)), "G": lambda u: th.G(u, X, y), "res": lambda u: th.residual(u, X, y)}

    def observe(self, d):
        ds = data.stewart(n=d.n, seed=d.seed)
        out = []
        for m in d.widths:
            tr, _, _ = early_run(ds, m, d.lam, d.seed, (), d.eps_max, d.lr)
            out.append(dict(m=m, clusters=direction_clusters(tr.W[-1], tr.a[-1], tr.norm_product[-1])))
        return {"runs": out}

    def _rows(self, pred, obs):
        rows = []
        for run in obs["runs"]:
            res = [float(pred["res"](c["u"])) for c in run["clusters"]]
            sign_ok = [bool((pred["G"](c["u"]) < 0) == (c["sign"] > 0)) for c in run["clusters"]]
            rows.append(dict(m=run["m"], n_clusters=len(run["clusters"]), max_res=max(res), sign_rule=all(sign_ok)))
        return rows

    def criteria(self, d, pred, obs):
        rows = self._rows(pred, obs)
        counts = [r["n_clusters"] for r in rows]
        return [
            at_most("largest cluster count over the widths", max(counts), pred["n_extremal"],
                    "BF-P5: at most one cluster per extremal vector of G_n (exact enumeration, F2.4); the count is an "
                    "integer, no tolerance. Clusters at angle 1e-2 with mass ≥ 1e-3·max (experiments.md §0)."),
            holds("cluster count does not grow with m", all(b <= a for a, b in zip(counts, counts[1:])), value=counts,
                  rationale="BF-P5: width independence; an integer count compared exactly across m."),
            at_most("max res(u) over the cluster directions", max(r["max_res"] for r in rows), 0.02,
                    "BF-P6: at λ = 1e-8 and ε = 0.5 the alignment error is ~λ^(cε); res ≤ 0.02 (about 1°) is far below "
                    "the spacing of distinct extremal vectors, so a non-fixed direction misses by ≥ 10×.",
                    prediction_id="BF-P6"),
            holds("sign rule: positive clusters at G_n < 0, negative at G_n > 0", all(r["sign_rule"] for r in rows),
                  rationale="BF-P6: a sign, exact (no tolerance).", prediction_id="BF-P6"),
        ]

    def numbers(self, d, pred, obs):
        return {"runs": self._rows(pred, obs), "n_extremal": pred["n_extremal"]}
