"""BF-P15: above n*, one direction cluster per sign at u±ⁿ after the fitting phase, and the network close to OLS."""
from __future__ import annotations

import numpy as np

from numerics import data
from theory import extremal
from theory import references as ref

from checks.observe import neurons
from checks.frame.core import Check, Variant, register
from checks.frame.criteria import at_least, at_most, gated, holds, regime, undecided
from checks.suites.threshold.locate import locate_threshold
from checks.suites.threshold.points import test_points
from checks.suites.threshold.references import TWO_HALF_SPACE_USES, expected_gap, references
from checks.suites.threshold.sweep_cache import sweep_rows
from checks.suites.threshold.sweep_design import SweepDesign
from checks.suites.threshold.convergence import CAPACITY, capacity_width, parameters
from checks.suites.threshold.sweep import _no_split, excess_ratio


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
    uses = {**TWO_HALF_SPACE_USES, "ascent": lambda: extremal.ascent_extremal, "ols": lambda: ref.ols,
            "plateau_train": lambda: (lambda train, refs: train)}
    alternatives = (Variant("the plateau is the OLS estimator of each sample (global OLS, d parameters)",
                            {"plateau_train": lambda f: (lambda train, refs: refs["ols_train"])},
                            why="BF-P15 says the network is close to OLS: the sceptic's reading is global OLS itself, "
                                "not the two-half-space estimator of F2.9 (the data separate them by σ²d/n)"),)
    mutants = (Variant("β̂_OLS of −y", {"ols": lambda f: (lambda X, y: f(X, -np.asarray(y)))}),
               Variant("two-half-space reference without its cut (global OLS)", {"two_half_space": _no_split}),
               Variant("two-half-space MSE = 2L applied twice", {"two_half_space": _hs_loss_doubled}))
    # judged by the cos criteria only, which the quick tier's seed 0 fails (a finding: its n = 320 plateau is split,
    # expected-status.toml): shown on the quick design at seed 1 (tests/checks/suites/threshold/test_threshold.py)
    regime_mutants = (Variant("u₊ⁿ and u₋ⁿ swapped", {"ascent": _swapped_signs}),)

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
                "plateau_train": th.plateau_train,
                "refs": {d.seed + s: references(hi, d.seed + s, d.d, d.sigma, th, d.n_test) for s in range(d.seeds)}}

    def observe(self, d):
        from checks.suites.early_alignment import direction_clusters

        te = test_points(d.d, d.seed, d.n_test, d.sigma).X[:d.sup_points]
        per, plateau, shares = [], [], []
        for r in sweep_rows(d, d.ns, m=d.m, lam=d.lam, d=d.d):
            if r["n"] == d.ns[-1]:
                plateau.append(dict(seed=r["seed"], t=r["plateau"]["t"], train=r["plateau"]["train_mse"],
                                    test=r["plateau"]["test_mse"]))
            row = dict(n=r["n"], seed=r["seed"], end_train=r["end"]["train_mse"])
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
            shares.append(dict(n=r["n"], seed=r["seed"], end_train=r["end"]["train_mse"],
                               **{k: row["plateau"][k] for k in ("mass_pos", "mass_neg", "clusters_pos",
                                                                 "clusters_neg")}))
            if r["seed"] == d.seed:
                per.append(row)
        return {"rows": sorted(per, key=lambda r: r["n"]), "test_X": te, "plateau": plateau, "shares": shares}

    def _plateau(self, d, pred, obs):
        """The plateau at the largest n against the F2.9 two-half-space and global OLS references, per seed."""
        rows, refs = obs["plateau"], pred["refs"]
        med = lambda xs: float(np.median(xs))  # noqa: E731
        seeds = [dict(seed=r["seed"], train=pred["plateau_train"](r["train"], refs[r["seed"]]),
                      hs_train=refs[r["seed"]]["hs_train"], ols_train=refs[r["seed"]]["ols_train"]) for r in rows]
        for x in seeds:
            x.update(to_hs=abs(x["train"] - x["hs_train"]), to_ols=abs(x["train"] - x["ols_train"]))
        t = dict(n=d.ns[-1], t=rows[0]["t"], train=med([x["train"] for x in seeds]), seeds=seeds,
                 test=med([r["test"] for r in rows]),
                 hs_train=med([refs[r["seed"]]["hs_train"] for r in rows]),
                 hs_test=med([refs[r["seed"]]["hs_test"] for r in rows]),
                 ols_train=med([refs[r["seed"]]["ols_train"] for r in rows]),
                 ols_test=med([refs[r["seed"]]["ols_test"] for r in rows]),
                 hs_consistent=[bool(refs[r["seed"]]["hs_consistent"]) for r in rows],
                 gap=pred["gap"]["train_gap"], expected=pred["gap"])
        s2 = pred["sigma2"]
        t.update(ratio=excess_ratio(t["test"], t["ols_test"], s2),
                 hs_ratio=excess_ratio(t["hs_test"], t["ols_test"], s2))
        return t

    def _n_star(self, d, obs):
        """(n*, bracket) of the same sweep rows (threshold.sweep's locator, median final train MSE over seeds)."""
        med = [float(np.median([r["end_train"] for r in obs["shares"] if r["n"] == n])) for n in d.ns]
        return locate_threshold(list(d.ns), med, d.sigma ** 2, d.fraction)

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

    def _regimes(self, d, n_star):
        P, n_max = parameters(d.m, d.d), d.ns[-1]
        return [regime(f"parameters m(d + 1) ≥ {CAPACITY}·largest n (regime reached: width to interpolate)",
                       P >= CAPACITY * n_max, f"m = {d.m} gives m(d + 1) = {P} < {CAPACITY}·{n_max}; set m ≥ "
                       f"{capacity_width(n_max, d.d)}", "Above n* only if the network could interpolate there.",
                       value=P),
                regime("a grid n ≥ 2 n* (regime reached: above the threshold)",
                       n_star is not None and n_max >= 2 * n_star and n_star > d.ns[0],
                       f"n* = {n_star} on the grid {list(d.ns)}: no n ≥ 2n* to judge; extend ns (with the width)",
                       "BF-P15 is about n above n*: judged at every grid n ≥ 2 n* (n* of the same runs, median final "
                       "train MSE ≥ fraction·σ²).", value=n_star)]

    def criteria(self, d, pred, obs):
        per = self._table(d, pred, obs)
        n_star, _ = self._n_star(d, obs)
        hi = per[-1]["plateau"]
        cos = ("[C] cos > 0.99 of BF-P15 (docs/theory/bf-threshold.md#bf-p15), at the plateau 2 T_λ of the largest n, "
               "clusters cut at "
               "cos 0.99; a swapped pair u₊ⁿ ↔ u₋ⁿ gives cos ≈ −1.")
        above = [r for r in obs["shares"] if n_star is not None and r["n"] >= 2 * n_star]
        share = min((min(r["mass_pos"], r["mass_neg"]) for r in above), default=float("nan"))
        worst = min(above, key=lambda r: min(r["mass_pos"], r["mass_neg"])) if above else {}
        out = [at_least(f"cos(heaviest + cluster, u₊ⁿ) at n = {per[-1]['n']}", hi["cos_pos"], 0.99, cos),
               at_least(f"cos(heaviest − cluster, u₋ⁿ) at n = {per[-1]['n']}", hi["cos_neg"], 0.99, cos),
               at_least(f"min mass share of the heaviest cluster of a sign, every seed and n ≥ 2n* = "
                        f"{2 * n_star if n_star else '—'} (plateau)", share, 0.9,
                        "[C] one cluster per sign: the heaviest cluster of each sign carries ≥ 90% of that sign's mass "
                        "|a_j|‖w_j‖, at every grid n ≥ 2n* and every seed (not only at the largest n): "
                        "the plateau of a "
                        f"network that had kept fitting splits into several clusters (worst: {worst.get('n')}, seed "
                        f"{worst.get('seed')}, clusters (+, −) = ({worst.get('clusters_pos')}, "
                        f"{worst.get('clusters_neg')}))."),
               at_most(f"sup_x |h(x) − β̂_OLS·x| at the plateau, n = {per[-1]['n']}", hi["sup_dev"], 0.5 * d.sigma,
                       f"Half the noise level σ ([C]): relative to the typical label noise, over {d.sup_points} test "
                       "points; an OLS of the wrong sign misses by ≈ 2‖β*‖.")]
        above_sup = [r for r in per if r["plateau"]["sup_dev"] < 1.0 and r["n"] >= 2 * (n_star or 0) and n_star]
        if len(above_sup) >= 2:
            out.append(at_most(f"sup deviation at n = {above_sup[-1]['n']} minus at n = {above_sup[0]['n']}",
                               above_sup[-1]["plateau"]["sup_dev"] - above_sup[0]["plateau"]["sup_dev"], 0.0,
                               "BF-P15: sup |h − β̂_OLS·x| → 0 as n grows; judged as a decrease from the smallest "
                               "grid n ≥ 2n* to the largest (the sign is the claim)."))
        else:
            out.append(undecided("sup deviation decreases with n", "fewer than two grid n ≥ 2n*"))
        p = self._plateau(d, pred, obs)
        closer = [x["to_hs"] < x["to_ols"] for x in p["seeds"]]
        out.append(holds(f"plateau train MSE closer to the two-half-space OLS than to global OLS, every seed "
                         f"(n = {p['n']}, t = {p['t']:.0f})", all(closer),
                         "BF-P15/F2.9: the plateau is the two-half-space OLS stationary point, whose train MSE lies "
                         "below global OLS by ≈ σ²d/n (F2.10); both computed on each seed's sample (the cut at u₊ⁿ). "
                         "Per seed |train − two-half-space| < |train − OLS|: the global OLS estimator itself scores "
                         "0 < |OLS − two-half-space| and is rejected.",
                         value=[[round(x["to_hs"], 5), round(x["to_ols"], 5)] for x in p["seeds"]],
                         tolerance="|train − 2hs| < |train − OLS| per seed"))
        return gated(self._regimes(d, n_star), out)

    def numbers(self, d, pred, obs):
        n_star, below = self._n_star(d, obs)
        return {"per_n": self._table(d, pred, obs), "plateau": self._plateau(d, pred, obs), "n_star": n_star,
                "n_star_bracket": [below, n_star], "shares": obs["shares"]}
