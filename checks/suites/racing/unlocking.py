"""PIN-10: gating changes unlock targets; escape times follow dt_c/d ln(1/λ) = 1/s_c."""
from __future__ import annotations

import functools

import numpy as np

import numerics
from numerics import data
from theory import racing

from ...core import FAIL, PASS, Check, register
from ...io import save_figure
from .runs import neuron_targets


# --------------------------------------------------------------------------- PIN-10
def fit_steps(tr, X, y, cluster) -> list:
    """Per data cluster c: the first checkpoint time where its loss falls below half its initial value."""
    H = np.einsum("cnm,cm->cn", np.maximum(np.einsum("cmd,nd->cnm", tr.W, X), 0.0), tr.a)
    out = []
    for c in np.unique(cluster):
        L = ((H[:, cluster == c] - y[cluster == c]) ** 2).mean(1)
        below = L < L[0] / 2
        out.append(float(tr.time[np.argmax(below)]) if below.any() else float("nan"))
    return out


@functools.lru_cache(maxsize=16)
def unlock_run(norms: tuple, lam: float, seed: int):
    """E6 init-scale scan: d = 10, 50 points per cluster, m = 300, η = 0.05, 4000 steps, checkpoints every 5."""
    ds = data.xor_clusters(norms, 50, 10, 0.05, seed=seed)
    W, a = numerics.init_params(300, 10, scale=lam, seed=seed)
    tr = numerics.train(ds.inputs, ds.y, W, a, lr=0.05, steps=4000, n_checkpoints=0, linear_every=5,
                        progress=False, desc=f"unlock λ={lam:g}")
    return ds, tr


@register
class Unlocking(Check):
    name = "racing.unlocking"
    paper = "Pinson"
    prediction_id = "PIN-10"
    claim = ("Staggered escapes: on XOR clusters of norms (1, 2, 3, 4) each cluster is fitted at its own time, in the "
             "order of its rate s_c, and the fit time moves by dt_c/d ln(1/lambda) = 1/s_c; equal norms fit together")
    provenance = "[R] slope, [C] tolerance"
    tolerance_rationale = ("Slope of t_c against ln(1/lambda) within 10% of the F1.9b slope 1/s_c (s_c from the "
                           "cluster-gated correlation of the data) ([C] of PIN-10; prior runs: 2-3%); fit order = "
                           "order of s_c at every lambda; equal-norm control: max/min fit time <= 1.15 ([C] 700-750).")

    def __init__(self, slope=None):
        self.slope = (slope or racing.escape_slope()).numeric("numpy")

    def lams(self, ctx):
        return ctx.pick((1e-6, 1e-4, 1e-2), (1e-8, 1e-6, 1e-4, 1e-2))

    def predict(self, ctx):
        ds = data.xor_clusters((1.0, 2.0, 3.0, 4.0), 50, 10, 0.05, seed=ctx.seed)
        cl = ds.meta["cluster"]
        gates = np.stack([cl == c for c in np.unique(cl)], 1).astype(float)
        s_c = np.linalg.norm(racing.gated_correlation(ds.inputs, ds.y, gates), axis=1)
        return {"s_c": s_c, "slope": self.slope(s_c)}

    def observe(self, ctx):
        scan = {}
        for lam in self.lams(ctx):
            ds, tr = unlock_run((1.0, 2.0, 3.0, 4.0), lam, ctx.seed)
            scan[lam] = dict(fit=fit_steps(tr, ds.inputs, ds.y, ds.meta["cluster"]), time=tr.time, loss=tr.loss)
        ds, tr = unlock_run((1.0, 2.0, 3.0, 4.0), 1e-4, ctx.seed)
        flips = self._flip_targets(ds, tr)
        dse, tre = unlock_run((1.0, 1.0, 1.0, 1.0), 1e-4, ctx.seed)
        return {"scan": scan, "flips": flips, "equal_fit": fit_steps(tre, dse.inputs, dse.y, dse.meta["cluster"])}

    @staticmethod
    def _flip_targets(ds, tr):
        """Gating flips (F1.9a) before the first fit, and the angle by which each moves the neuron's target."""
        X, y = ds.inputs, ds.y
        first = min(fit_steps(tr, X, y, ds.meta["cluster"]))
        idx = [i for i in range(1, len(tr.time)) if tr.time[i] <= first]
        changes = []
        for i in idx:
            flipped = np.flatnonzero((tr.patterns[i] != tr.patterns[i - 1]).any(0))
            if len(flipped) == 0:
                continue
            e = y - np.maximum(X @ tr.W[i].T, 0) @ tr.a[i]
            before, _ = neuron_targets(X, e, tr.W[i][flipped], tr.a[i][flipped], tr.patterns[i - 1][:, flipped])
            after, _ = neuron_targets(X, e, tr.W[i][flipped], tr.a[i][flipped], tr.patterns[i][:, flipped])
            changes.extend(np.degrees(np.arccos(np.clip(np.sum(before * after, 1), -1, 1))).tolist())
        return dict(events=len(changes), median_deg=float(np.median(changes)) if changes else 0.0,
                    max_deg=float(np.max(changes)) if changes else 0.0)

    def judge(self, predicted, observed):
        s_c, slope_pred = predicted["s_c"], predicted["slope"]
        lams = sorted(observed["scan"])
        fits = np.array([observed["scan"][lam]["fit"] for lam in lams])  # (λ, cluster)
        ell = np.log(1 / np.array(lams))
        slope_obs = np.array([np.polyfit(ell, fits[:, c], 1)[0] for c in range(fits.shape[1])])
        rel = np.abs(slope_obs / slope_pred - 1)
        order_ok = all(list(np.argsort(f)) == list(np.argsort(-s_c)) for f in fits)
        eq = np.array(observed["equal_fit"])
        spread = float(eq.max() / eq.min())
        ok = bool(np.all(np.isfinite(fits)) and rel.max() <= 0.10 and order_ok and spread <= 1.15)
        obs = (f"slopes {np.round(slope_obs, 2).tolist()} vs 1/s_c {np.round(slope_pred, 2).tolist()} "
               f"(max rel. dev. {rel.max():.2f}); order by s_c: {order_ok}; equal norms spread {spread:.2f}; "
               f"{observed['flips']['events']} gating flips before the first fit (median target turn "
               f"{observed['flips']['median_deg']:.1f}°)")
        return self.verdict(PASS if ok else FAIL, "dt_c/dln(1/λ) = 1/s_c; order by s_c", obs,
                            "±10%; exact order; spread ≤ 1.15", s_c=s_c, slope_predicted=slope_pred,
                            slope_observed=slope_obs, fit_times={f"{lam:g}": f for lam, f in zip(lams, fits)},
                            equal_norm_fit_times=eq, flips=observed["flips"])

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        for i, (lam, run) in enumerate(sorted(observed["scan"].items())):
            ax1.semilogy(run["time"], run["loss"], color=f"C{i}", label=f"λ = {lam:.0e}")
            for t_c in run["fit"]:
                ax1.axvline(t_c, color=f"C{i}", ls=":", lw=0.8)
        ax1.set(xlabel="flow time t", ylabel="training loss", title="loss; dotted: cluster fit times")
        ax1.legend(fontsize=7)
        lams = sorted(observed["scan"])
        ell = np.log(1 / np.array(lams))
        fits = np.array([observed["scan"][lam]["fit"] for lam in lams])
        for c in range(fits.shape[1]):
            ax2.plot(ell, fits[:, c], "o", color=f"C{c}", label=f"s_c = {predicted['s_c'][c]:.2f}")
            b = np.mean(fits[:, c] - predicted["slope"][c] * ell)
            ax2.plot(ell, b + predicted["slope"][c] * ell, "-", color=f"C{c}", lw=1)
        ax2.set(xlabel="ln(1/λ)", ylabel="fit time t_c", title="points: observed; lines: slope 1/s_c (F1.9b)")
        ax2.legend(fontsize=7)
        return [save_figure(fig, ctx.figure_path(self.name))]
