"""PIN-6/8/9: small init merges neurons into few clusters; the F1.8 merge rule; pruning low-norm neurons."""
from __future__ import annotations

import numpy as np

from theory import racing

from ... import neurons
from ...core import FAIL, PASS, Check, register
from ...io import save_figure
from .runs import OwnData


# --------------------------------------------------------------------------- PIN-6, PIN-8, PIN-9
class _MergePrune(OwnData, Check):
    paper = "Pinson"
    prediction_id = "PIN-6/8/9"
    provenance = "[R] merge rule, [C] counts"
    dataset = "xor"
    tolerance_rationale = ("Merge (F1.8): |h' - h| must stay under the Lipschitz bound sum_i p_i |w_i/|w_i| - u| |x| "
                           "on every sample and be <= 1% of |h| (O(1 - cos), cos > 0.99); the plain coefficient a_i "
                           "is reported for contrast. Counts [C]: clusters non-decreasing in lambda (slack 1) and "
                           "<= 20 of 300 at lambda <= 1e-3, where <= 20 clusters hold 90% of sum p; pruning every "
                           "neuron with p_j < 1e-3 max p changes the training loss by < 1% relative (PIN-9).")

    def __init__(self, coefficient=None):
        f = racing.formulas()["F1.8"]
        fn = f.numeric("numpy")
        self.coefficient = coefficient or (lambda a, r: fn(a, r, 0.0, 0.0))

    def lams(self, ctx):
        return ctx.pick((1e-6, 1e-3, 1e-1), (1e-6, 1e-4, 1e-3, 1e-2, 1e-1))

    def predict(self, ctx):
        return {"coefficient": self.coefficient}

    def observe(self, ctx):
        return {"runs": {lam: self.run_for(ctx, ctx.seed, lam) for lam in self.lams(ctx)}}

    def judge(self, predicted, observed):
        rows = []
        for lam, (ds, tr) in observed["runs"].items():
            X, y, W, a = ds.inputs, ds.y, tr.W[-1], tr.a[-1]
            labels = neurons.parameter_clusters(W, a)
            Wm, am, U = neurons.merge(W, a, labels, predicted["coefficient"])
            h, hm = neurons.predict(W, a, X), neurons.predict(Wm, am, X)
            bound = neurons.merge_error_bound(W, a, labels, U, X)
            p = np.abs(a) * np.linalg.norm(W, axis=1)
            mass = neurons.cluster_mass(p, labels)
            k90 = int(np.searchsorted(np.cumsum(mass) / mass.sum(), 0.9) + 1)
            keep = p >= 1e-3 * p.max()
            loss = 0.5 * np.mean((h - y) ** 2)
            loss_pruned = 0.5 * np.mean((neurons.predict(W[keep], a[keep], X) - y) ** 2)
            rows.append(dict(lam=lam, clusters=int(len(U)), merge_change=float(np.linalg.norm(hm - h) / np.linalg.norm(h)),
                             within_bound=bool(np.all(np.abs(hm - h) <= bound + 1e-12 * np.abs(h).max())),
                             clusters_for_90pct=k90, pruned=int((~keep).sum()), loss=float(loss),
                             prune_change=float(abs(loss_pruned - loss) / loss)))
        counts = [r["clusters"] for r in rows]
        small = [r for r in rows if r["lam"] <= 1e-3]
        ok = (all(r["within_bound"] and r["merge_change"] <= 0.01 for r in small)
              and all(b >= a_ - 1 for a_, b in zip(counts, counts[1:]))
              and all(r["clusters"] <= 20 and r["clusters_for_90pct"] <= 20 for r in small)
              and all(r["prune_change"] < 0.01 for r in rows))
        obs = "; ".join(f"λ={r['lam']:.0e}: {r['clusters']} clusters ({r['clusters_for_90pct']} hold 90% of Σp), "
                        f"merge Δh {r['merge_change']:.1e}, {r['pruned']} pruned: loss Δ {r['prune_change']:.1e}"
                        for r in rows)
        return self.verdict(PASS if ok else FAIL, "few clusters at small λ; merge exact to O(1-cos); prune < 1%", obs,
                            "see rationale", runs=rows)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        rows = verdict.numbers["runs"]
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.loglog([r["lam"] for r in rows], [r["clusters"] for r in rows], "o-")
        ax.set(xlabel="init scale λ", ylabel="clusters of (w; a) at cos > 0.99",
               title=f"Mutual alignment: {observed['runs'][rows[0]['lam']][0].name}")
        return [save_figure(fig, ctx.figure_path(self.name))]


@register
class MergePruneXor(_MergePrune):
    name = "racing.merge_prune"
    dataset = "xor"
    claim = ("Small init makes neurons mutually align (E6): few clusters of (w; a) at small lambda, more as lambda "
             "grows; merging a cluster with the F1.8 coefficient sum a_i|w_i| leaves h unchanged to O(1 - cos); "
             "keeping only the top clusters barely changes the loss")


@register
class MergePruneDigits(_MergePrune):
    name = "racing.merge_prune_digits"
    dataset = "digits"
    claim = ("Mutual alignment, merging and pruning on real images (digits 3 vs 8, m = 300): few clusters at small "
             "lambda, the F1.8 merge leaves h unchanged to O(1 - cos), the top clusters carry the loss")
