"""BF-P15: above n*, one direction cluster per sign at u±ⁿ after the fitting phase, and the network close to OLS."""
from __future__ import annotations

import numpy as np

from numerics import data
from theory import extremal
from theory import references as ref

from ... import neurons
from ...core import Check, Variant, register
from ...criteria import Criterion, at_least, at_most, undecided
from .common import TWO_HALF_SPACE_USES, SweepDesign, expected_gap, references, sweep_rows, test_points
from .sweep import RATIO_TOL, RATIO_WHY, _no_split, excess_ratio


def _swapped_signs(f):
    """Mutant: the positive and negative extremal vectors swapped."""
    return lambda X, y, sign=1.0, **kw: f(X, y, -sign, **kw)


def _hs_loss_doubled(f):
    """Mutant: the two-half-space loss already in the MSE convention, so MSE = 2L is applied twice."""
    import dataclasses

    return lambda X, y, u: (lambda hs: dataclasses.replace(hs, train_loss=2 * hs.train_loss))(f(X, y, u))


@register
class TwoDirections(Check):
    name = "threshold.two_directions"
    paper = "BF-ST"
    prediction_id = "BF-P15"
    claim = ("Above n*, just after the fitting phase the positive neurons form one direction cluster at u₊ⁿ and the "
             "negative ones one at u-ⁿ (~ -u₊ⁿ), and the network is close to the OLS estimator: sup_x |h(x) − "
             "beta_ols.x| is small and decreases with n; clusters split slowly later at finite λ")
    provenance = "[R] directions, [C] tolerances"
    design = SweepDesign
    uses = {**TWO_HALF_SPACE_USES, "ascent": lambda: extremal.ascent_extremal, "ols": lambda: ref.ols}
    mutants = (Variant("u₊ⁿ and u₋ⁿ swapped", {"ascent": _swapped_signs}),
               Variant("β̂_OLS of −y", {"ols": lambda f: (lambda X, y: f(X, -np.asarray(y)))}),
               Variant("two-half-space reference without its cut (global OLS)", {"two_half_space": _no_split}),
               Variant("two-half-space MSE = 2L applied twice", {"two_half_space": _hs_loss_doubled}))

    def predict(self, d, th):
        out = {}
        for n in d.ns:
            ds = data.linear_teacher(n, d.d, d.sigma, seed=d.seed)
            out[n] = dict(beta=th.ols(ds.X, ds.y))
        ds = data.linear_teacher(d.ns[-1], d.d, d.sigma, seed=d.seed)  # directions: judged at the largest n only
        out[d.ns[-1]].update(u_plus=th.ascent(ds.X, ds.y, 1.0)[0][0], u_minus=th.ascent(ds.X, ds.y, -1.0)[0][0])
        # F2.9/F2.10 references of the plateau at the largest n, every seed: same samples, same test points
        hi = d.ns[-1]
        return {"per_n": out, "sigma2": d.sigma ** 2, "gap": expected_gap(th, d.sigma, d.d, hi),
                "refs": {d.seed + s: references(hi, d.seed + s, d.d, d.sigma, th, d.n_test) for s in range(d.seeds)}}

    def observe(self, d):
        from ..early_alignment import direction_clusters

        te = test_points(d.d, d.seed, d.n_test, d.sigma).X[:d.sup_points]
        per, plateau = [], []
        for r in sweep_rows(d, d.ns, m=d.m, lam=d.lam, d=d.d):
            if r["n"] == d.ns[-1]:
                plateau.append(dict(seed=r["seed"], t=r["plateau"]["t"], train=r["plateau"]["train_mse"],
                                    test=r["plateau"]["test_mse"]))
            if r["seed"] != d.seed:
                continue
            row = dict(n=r["n"])
            for tag in ("plateau", "end"):
                W, a = np.array(r[tag]["W"]), np.array(r[tag]["a"])
                cl = direction_clusters(W, a, np.abs(a) * np.linalg.norm(W, axis=1), angle=float(np.arccos(0.99)))
                info = dict(t=r[tag]["t"], h=neurons.predict(W, a, te), clusters_pos=sum(c["sign"] > 0 for c in cl),
                            clusters_neg=sum(c["sign"] < 0 for c in cl))
                for sgn, key in ((1.0, "pos"), (-1.0, "neg")):
                    cs = [c for c in cl if c["sign"] == sgn]
                    top = max(cs, key=lambda c: c["mass"]) if cs else None
                    info[f"u_{key}"] = top["u"] if cs else None
                    info[f"mass_{key}"] = top["mass"] / sum(c["mass"] for c in cs) if cs else 0.0
                row[tag] = info
            per.append(row)
        return {"rows": sorted(per, key=lambda r: r["n"]), "test_X": te, "plateau": plateau}

    def _plateau(self, d, pred, obs):
        """The plateau at the largest n against the F2.9 two-half-space and global OLS references (medians)."""
        rows, refs = obs["plateau"], pred["refs"]
        med = lambda xs: float(np.median(xs))  # noqa: E731
        t = dict(n=d.ns[-1], t=rows[0]["t"], train=med([r["train"] for r in rows]),
                 test=med([r["test"] for r in rows]),
                 hs_train=med([refs[r["seed"]]["hs_train"] for r in rows]),
                 hs_test=med([refs[r["seed"]]["hs_test"] for r in rows]),
                 ols_train=med([refs[r["seed"]]["ols_train"] for r in rows]),
                 ols_test=med([refs[r["seed"]]["ols_test"] for r in rows]),
                 hs_consistent=[bool(refs[r["seed"]]["hs_consistent"]) for r in rows],
                 gap=pred["gap"]["train_gap"], expected=pred["gap"])
        s2 = pred["sigma2"]
        t.update(ratio=excess_ratio(t["test"], t["ols_test"], s2), hs_ratio=excess_ratio(t["hs_test"], t["ols_test"], s2))
        return t

    def _table(self, d, pred, obs):
        te, out, pred = obs["test_X"], [], pred["per_n"]
        for r in obs["rows"]:
            row = dict(n=r["n"])
            for tag in ("plateau", "end"):
                i = r[tag]
                row[tag] = dict(t=i["t"], sup_dev=float(np.max(np.abs(i["h"] - te @ pred[r["n"]]["beta"]))),
                                clusters_pos=i["clusters_pos"], clusters_neg=i["clusters_neg"],
                                mass_pos=i["mass_pos"], mass_neg=i["mass_neg"])
                if "u_plus" in pred[r["n"]]:
                    for key, target in (("pos", pred[r["n"]]["u_plus"]), ("neg", pred[r["n"]]["u_minus"])):
                        u = i[f"u_{key}"]
                        row[tag][f"cos_{key}"] = float(u @ target) if u is not None else float("nan")
            out.append(row)
        return out

    def criteria(self, d, pred, obs):
        per = self._table(d, pred, obs)
        hi = per[-1]["plateau"]
        above = [r for r in per if r["plateau"]["sup_dev"] < 1.0 and r["n"] >= 80]  # non-interpolating side
        cos = ("[C] cos > 0.99 of BF-P15 (docs/theory/bf-threshold.md#bf-p15), at the plateau 2 T_λ of the largest n, clusters cut at "
               "cos 0.99; a swapped pair u₊ⁿ ↔ u₋ⁿ gives cos ≈ −1.")
        mass = "[C] the heaviest cluster of a sign carries ≥ 90% of that sign's mass |a_j|‖w_j‖ (one cluster)."
        out = [at_least(f"cos(heaviest + cluster, u₊ⁿ) at n = {per[-1]['n']}", hi["cos_pos"], 0.99, cos),
               at_least(f"cos(heaviest − cluster, u₋ⁿ) at n = {per[-1]['n']}", hi["cos_neg"], 0.99, cos),
               at_least("mass share of the heaviest + cluster", hi["mass_pos"], 0.9, mass),
               at_least("mass share of the heaviest − cluster", hi["mass_neg"], 0.9, mass),
               at_most(f"sup_x |h(x) − β̂_OLS·x| at the plateau, n = {per[-1]['n']}", hi["sup_dev"], 0.5 * d.sigma,
                       f"Half the noise level σ ([C]): relative to the typical label noise, over {d.sup_points} test "
                       "points; an OLS of the wrong sign misses by ≈ 2‖β*‖.")]
        if len(above) >= 2:
            out.append(at_most(f"sup deviation at n = {above[-1]['n']} minus at n = {above[0]['n']}",
                               above[-1]["plateau"]["sup_dev"] - above[0]["plateau"]["sup_dev"], 0.0,
                               "BF-P15: sup |h − β̂_OLS·x| → 0 as n grows; judged as a decrease from the smallest "
                               "non-interpolating n (sup < 1, n ≥ 80) to the largest (the sign is the claim)."))
        else:
            out.append(undecided("sup deviation decreases with n", "fewer than two non-interpolating n on the grid"))
        p = self._plateau(d, pred, obs)
        lo, up = p["hs_train"] - p["gap"], p["ols_train"] + p["gap"]
        out += [Criterion(f"plateau train MSE at n = {p['n']} (median over seeds, t = {p['t']:.0f})", p["train"],
                          f"in [two-half-space − δ, OLS + δ] = [{lo:.5f}, {up:.5f}], δ = σ²d/n = {p['gap']:.5f}",
                          bool(lo <= p["train"] <= up),
                          "BF-P15/F2.9: the plateau is the two-half-space OLS stationary point, whose train MSE lies "
                          "slightly below global OLS (both computed on the same samples, the cut at u₊ⁿ). The "
                          "tolerance δ is F2.10's expected gap between the two references, E[OLS train] − E[2hs "
                          "train] = σ²d/n (d extra effective parameters): the effect size that separates them, so a "
                          "plateau that had kept fitting (more pieces) or stayed at a wrong reference falls out.",
                          predicted=p["hs_train"]),
                at_most(f"plateau excess-risk ratio (test MSE − σ²)/(OLS test MSE − σ²) at n = {p['n']}", p["ratio"],
                        p["hs_ratio"] + RATIO_TOL, "At the plateau (BF-P15, F2.9–F2.10). " + RATIO_WHY)]
        return out

    def numbers(self, d, pred, obs):
        return {"per_n": self._table(d, pred, obs), "plateau": self._plateau(d, pred, obs)}
