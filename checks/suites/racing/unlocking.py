"""PIN-10: gating changes unlock targets; escape times follow dt_c/d ln(1/λ) = 1/s_c."""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

import numerics
from numerics import data
from theory import racing

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import Criterion, at_most, holds
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.frame.protocol import Paper
from checks.suites.racing.runs import neuron_targets, racing_init


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
def unlock_run(norms: tuple, lam: float, seed: int, n_per: int = 50, d: int = 10, noise: float = 0.05,
               m: int = 300, lr: float = 0.05, steps: int = 4000, every: int = 5):
    """E6 init-scale scan: XOR clusters of `norms`, balanced init at scale λ, full-batch GD, checkpoints every
    `every` steps (defaults: d = 10, 50 points per cluster, m = 300, η = 0.05, 4000 steps)."""
    ds = data.xor_clusters(norms, n_per, d, noise, seed=seed)
    W, a = racing_init(m, d, lam, seed)
    tr = numerics.train(ds.inputs, ds.y, W, a, lr=lr, steps=steps, n_checkpoints=0, linear_every=every,
                        progress=False, desc=f"unlock λ={lam:g}")
    return ds, tr


@dataclass(frozen=True)
class UnlockDesign(Design):
    """E6 init-scale scan (docs/theory/pinson-racing.md#e6, prior construction): XOR clusters, m = 300, η = 0.05,
    4000 steps.

    Arguments:
        norms: the four cluster norms of the scan (distinct rates s_c).
        equal_norms: the cluster norms of the equal-rate control.
        n_per, d, noise: points per cluster, input dimension, noise std of the clusters.
        m, lr, steps, every: hidden width, GD step, GD steps and the checkpoint spacing (in steps).
        lams: init scales λ of the scan (the slope is fitted against ln(1/λ)).
        control_lam: λ of the equal-norm control and of the gating-flip log.
    """

    norms: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)
    equal_norms: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    n_per: int = 50
    d: int = 10
    noise: float = 0.05
    m: int = 300
    lr: float = 0.05
    steps: int = 4000
    every: int = 5
    lams: tuple[float, ...] = (1e-8, 1e-6, 1e-4, 1e-2)
    control_lam: float = 1e-4
    presets: ClassVar = {"quick": dict(lams=(1e-6, 1e-4, 1e-2)), "paper": dict(d=2, m=1000)}
    protocol: ClassVar = {
        "norms": Paper((1.0, 2.0, 3.0, 4.0), "spec E6 init-scale scan [C] (the paper: 4 different norms, not stated)"),
        "d": Paper(2, "Pinson Figs. 2–5 [R: drawn in 2-D]", why="the E6 prior construction (d = 10) of the spec's "
                   "[C] fit steps; the paper tier runs d = 2"),
        "m": Paper(1000, "Pinson Fig. 3 caption", why="the E6 prior construction (m = 300); the paper tier runs 1000"),
        "init": Paper("balanced, per-weight std λ/√d, a = ±‖w‖", "spec E6 and PIN-8 convention",
                      run=lambda d: "balanced, per-weight std λ/√d, a = ±‖w‖"),
        "lr": Paper(0.05, "spec E6 init-scale scan [C] (the paper: not stated)"),
        "steps": Paper(4000, "spec E6 init-scale scan [C] (the paper: not stated)"),
        "judged at": Paper("fit step of each cluster (its loss below half its initial value), against ln(1/λ)",
                           "spec E6 'fit step', PIN-10", run=lambda d: "fit step of each cluster, slope against "
                           "ln(1/λ)", compare=False)}
    paper_source: ClassVar = ("Pinson Figs. 2 and 4 (captions; docs/theory/pinson-racing.md#e6): 4 norms → 4 drops, "
                              "init scale varied; paper-like XOR construction d = 2, m = 1000 "
                              "(scalar output: no such setting)")

    def validate(self):
        positive(self, "norms", "equal_norms", "n_per", "d", "m", "lr", "steps", "every", "lams", "control_lam")
        if self.noise < 0:
            raise CheckError(f"noise={self.noise!r} must be ≥ 0")
        if len(self.norms) != 4 or len(self.equal_norms) != 4:
            raise CheckError("norms and equal_norms: XOR clusters have four norms, e.g. norms=1,2,3,4")
        if len(set(self.lams)) < 2:
            raise CheckError(f"lams={self.lams!r}: the slope needs at least two init scales")

    def run(self, norms, lam):
        return unlock_run(tuple(norms), float(lam), self.seed, self.n_per, self.d, self.noise, self.m, self.lr,
                          self.steps, self.every)


def _escape(change):
    """Alternative helper: the escape time t_c(p_c0, s) with its right-hand side changed."""
    return lambda f: dataclasses.replace(f, rhs=change(f.rhs, *f.args))


@register
class Unlocking(Check):
    name = "racing.unlocking"
    paper = "Pinson"
    prediction_id = "PIN-10"
    claim = ("Staggered escapes: on XOR clusters of norms (1, 2, 3, 4) each cluster is fitted at its own time, in the "
             "order of its rate s_c, and the fit time moves by dt_c/d ln(1/λ) = 1/s_c; equal norms fit together")
    provenance = "[R] slope, [C] tolerance"
    design = UnlockDesign
    uses = {"escape": racing.escape_time}
    alternatives = (
        Variant("p_c(0) ∝ λ instead of λ²: slope 1/(2 s_c)",
                {"escape": _escape(lambda r, pc, s: r.subs(pc, pc ** 0.5))},
                why="counting the initial norm |w| ∝ λ instead of p = |a||w| ∝ λ²"),
        Variant("escape when p_c(0) e^{s_c t} = O(1): slope 2/s_c", {"escape": _escape(lambda r, pc, s: 2 * r)},
                why="the rate s_c of (w, a) read as the growth rate of p"))
    mutants = ()  # theory.racing declares F1.9b's mutants

    def predict(self, d, th):
        ds = data.xor_clusters(d.norms, d.n_per, d.d, d.noise, seed=d.seed)
        cl = ds.meta["cluster"]
        gates = np.stack([cl == c for c in np.unique(cl)], 1).astype(float)
        s_c = np.linalg.norm(racing.gated_correlation(ds.inputs, ds.y, gates), axis=1)
        return {"s_c": s_c, "slope": racing.escape_slope(th.escape).numeric("numpy")(s_c) * np.ones_like(s_c)}

    def observe(self, d):
        scan = {}
        for lam in sorted(set(d.lams)):
            ds, tr = d.run(d.norms, lam)
            scan[lam] = dict(fit=fit_steps(tr, ds.inputs, ds.y, ds.meta["cluster"]), time=tr.time, loss=tr.loss)
        ds, tr = d.run(d.norms, d.control_lam)
        flips = self._flip_targets(ds, tr)
        dse, tre = d.run(d.equal_norms, d.control_lam)
        return {"scan": scan, "flips": flips, "equal_fit": fit_steps(tre, dse.inputs, dse.y, dse.meta["cluster"])}

    @staticmethod
    def _flip_targets(ds, tr):
        """Gating flips (F1.9a) before the first fit, and the angle by which each moves the neuron's target."""
        X, y = ds.inputs, ds.y
        first = np.nanmin(fit_steps(tr, X, y, ds.meta["cluster"]))
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

    @staticmethod
    def _fits(obs):
        lams = sorted(obs["scan"])
        return lams, np.array([obs["scan"][lam]["fit"] for lam in lams])  # (λ, cluster)

    @classmethod
    def _slopes(cls, obs):
        lams, fits = cls._fits(obs)
        if not np.all(np.isfinite(fits)):
            return np.full(fits.shape[1], np.nan)
        ell = np.log(1 / np.array(lams))
        return np.array([np.polyfit(ell, fits[:, c], 1)[0] for c in range(fits.shape[1])])

    def criteria(self, d, pred, obs):
        s_c, slope_pred = pred["s_c"], pred["slope"]
        lams, fits = self._fits(obs)
        slope_obs = self._slopes(obs)
        out = []
        for c, (norm, so, sp_) in enumerate(zip(d.norms, slope_obs, slope_pred)):
            rel = abs(so / sp_ - 1) if np.isfinite(so) and sp_ != 0 else float("inf")
            out.append(Criterion(
                f"cluster {c} (norm {norm:g}, s_c = {s_c[c]:.3g}): slope of t_c against ln(1/λ)", float(so),
                "|obs/pred − 1| ≤ 0.1", bool(rel <= 0.10),
                f"[C] of PIN-10: ±10% of the F1.9b slope, s_c from the cluster-gated correlation of the data; "
                f"prior runs deviated 2-3%, and the fit times are read off checkpoints {d.every} steps apart; the "
                "near misses 1/(2 s_c) and 2/s_c are 50% and 100% away.", predicted=float(sp_),
                details=dict(relative_deviation=rel)))
        out.append(holds("every cluster is fitted at every λ (loss below half its initial value)",
                         bool(np.all(np.isfinite(fits))), "Without a fit time there is no escape to time (PIN-10).",
                         value=int(np.isfinite(fits).sum())))
        order = [bool(np.all(np.isfinite(f))) and list(np.argsort(f)) == list(np.argsort(-s_c)) for f in fits]
        out.append(holds("clusters are fitted in the order of s_c at every λ", all(order),
                         "Exact order: the rates s_c of norms (1, 2, 3, 4) differ by ≥ 25%, far above the init "
                         "spread (PIN-10).", value=order))
        eq = np.array(obs["equal_fit"])
        spread = float(np.nanmax(eq) / np.nanmin(eq)) if np.all(np.isfinite(eq)) else float("inf")
        out.append(at_most("equal-norm control: max/min cluster fit time", spread, 1.15,
                           "[C] of PIN-10: equal s_c drop together; prior fit times 700-750 (spread ≤ 1.07), so "
                           "≤ 1.15 leaves room for the init spread while distinct norms differ ≥ 1.5×."))
        return out

    def numbers(self, d, pred, obs):
        lams, fits = self._fits(obs)
        return dict(s_c=pred["s_c"], slope_predicted=pred["slope"], slope_observed=self._slopes(obs),
                    fit_times={f"{lam:g}": f for lam, f in zip(lams, fits)}, equal_norm_fit_times=obs["equal_fit"],
                    flips=obs["flips"])

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        for i, (lam, run) in enumerate(sorted(obs["scan"].items())):
            ax1.semilogy(run["time"], run["loss"], color=f"C{i}", label=f"λ = {lam:.0e}")
            for t_c in run["fit"]:
                ax1.axvline(t_c, color=f"C{i}", ls=":", lw=0.8)
        ax1.set(xlabel="flow time t", ylabel="training loss", title="loss; dotted: cluster fit times")
        ax1.legend(fontsize=7)
        lams, fits = self._fits(obs)
        ell = np.log(1 / np.array(lams))
        for c in range(fits.shape[1]):
            ax2.plot(ell, fits[:, c], "o", color=f"C{c}", label=f"s_c = {pred['s_c'][c]:.2f}")
            b = np.mean(fits[:, c] - pred["slope"][c] * ell)
            ax2.plot(ell, b + pred["slope"][c] * ell, "-", color=f"C{c}", lw=1)
        ax2.set(xlabel="ln(1/λ)", ylabel="fit time t_c", title="points: observed; lines: slope 1/s_c (F1.9b)")
        ax2.legend(fontsize=7)
        fig.tight_layout()
        return {"": fig}
