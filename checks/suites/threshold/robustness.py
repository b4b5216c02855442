"""BF-P19: the optimization threshold with GeLU and with Adam (same E5 data, same sweep machinery and cache)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from numerics.sweep import run_sweep

from ...core import Check, Variant, register
from ...criteria import at_least, at_most, within
from ...design import Design, positive
from .common import INTERPOLATING, REFERENCE_USES, SIGMA, cache_dir, references, threshold_point


@dataclass(frozen=True)
class RobustnessDesign(Design):
    """Two fixed protocols on E5 data (d = 5, σ = 0.5), each at one n below and one n above the threshold.

    Adam at step 1e-3 keeps fitting slowly, so its "above" point is taken further out (at n = 1280 it was at 0.49 σ²
    after 20000 steps).

    Arguments:
        seeds: seeds per (protocol, n).
        d, sigma, m, lam: data and init as in threshold.sweep.
        gelu_lr, gelu_steps, gelu_ns: GeLU + GD protocol (step, steps, (n below, n above)).
        adam_lr, adam_steps, adam_ns: ReLU + Adam protocol.
        fraction: not interpolating = train MSE ≥ fraction·σ² (threshold.sweep's n* fraction).
        n_test: fresh test points per seed.
        cache: folder of the cached sweep rows ("" = results/cache/threshold).
    """

    seeds: int = 1
    d: int = 5
    sigma: float = SIGMA
    m: int = 200
    lam: float = 1e-3
    gelu_lr: float = 0.2
    gelu_steps: int = 20_000
    gelu_ns: tuple[int, ...] = (20, 640)
    adam_lr: float = 1e-3
    adam_steps: int = 20_000
    adam_ns: tuple[int, ...] = (20, 2560)
    fraction: float = 0.5
    n_test: int = 20_000
    cache: str = ""
    # quick (tests only; the check's tiers are standard and full): a smaller width, GeLU at twice the step over the
    # same flow time 4000, Adam at 3× the step for 2000 steps; ≈ 10 s on 2 CPU processes. A calibration run (seed
    # 0) gave GeLU 0.01 σ² at n = 20 and 0.96 σ² (×0.93 OLS) at n = 320, Adam 0.000 σ² and 0.80 σ² (×0.81 OLS).
    presets: ClassVar = {"quick": dict(m=100, gelu_lr=0.4, gelu_steps=10_000, gelu_ns=(20, 320), adam_lr=3e-3,
                                       adam_steps=2_000, adam_ns=(20, 1280), n_test=2_000),
                         "full": dict(seeds=2)}

    def validate(self):
        positive(self, "seeds", "d", "sigma", "m", "lam", "gelu_lr", "gelu_steps", "gelu_ns", "adam_lr", "adam_steps",
                 "adam_ns", "fraction", "n_test")

    def protocols(self):
        """(activation, optimizer, step, steps, n below, n above) of each variant."""
        return (("gelu", "gd", self.gelu_lr, self.gelu_steps, *self.gelu_ns),
                ("relu", "adam", self.adam_lr, self.adam_steps, *self.adam_ns))


@register
class ThresholdRobustness(Check):
    name = "threshold.robustness"
    paper = "BF-ST"
    prediction_id = "BF-P19"
    claim = ("The optimization threshold is not an artefact of ReLU or of plain GD: with GeLU (GD) and with Adam "
             "(ReLU) the network still interpolates at small n and, beyond some n, stops interpolating and lands "
             "near the OLS train MSE")
    provenance = "[V] phenomenon, [R] reference, [C] fractions"
    design = RobustnessDesign
    tiers = ("standard", "full")
    uses = dict(REFERENCE_USES)
    mutants = (Variant("interpolation persists (OLS train reference 0)",
                       {"train_loss": lambda f: (lambda b, X, y: 0.0)}),
               Variant("σ not squared (OLS train × 1/σ = 2)", {"train_loss": lambda f: (lambda b, X, y: 2 * f(b, X, y))}))

    def predict(self, d, th):
        seeds = [d.seed + s for s in range(d.seeds)]
        return {"refs": {(hi, s): references(hi, s, d.d, d.sigma, th) for *_, hi in d.protocols() for s in seeds},
                "sigma2": d.sigma ** 2}

    def observe(self, d):
        configs = [dict(n=n, seed=d.seed + s, d=d.d, m=d.m, lam=d.lam, horizon=lr * steps, plateau=lr * steps / 10,
                        activation=act, optimizer=opt, lr=lr, sigma=d.sigma, n_test=d.n_test)
                   for act, opt, lr, steps, lo, hi in d.protocols() for n in (lo, hi) for s in range(d.seeds)]
        rows = run_sweep(threshold_point, configs, cache=cache_dir(d), workers=2, desc="threshold robustness")
        return {"rows": [dict(r["config"], **{k: r["result"][k] for k in ("end", "time", "train_mse")}) for r in rows]}

    def _table(self, d, pred, obs):
        per = []
        for act, opt, lr, steps, lo, hi in d.protocols():
            rows = [r for r in obs["rows"] if r["activation"] == act and r["optimizer"] == opt]
            above = [r for r in rows if r["n"] == hi]
            per.append(dict(variant=f"{act}+{opt}", lr=lr, steps=steps, n_below=lo, n_above=hi,
                            train_below=[r["end"]["train_mse"] for r in rows if r["n"] == lo],
                            train_above=[r["end"]["train_mse"] for r in above],
                            ols_train_above=[pred["refs"][(hi, r["seed"])]["ols_train"] for r in above],
                            test_below=[r["end"]["test_mse"] for r in rows if r["n"] == lo],
                            test_above=[r["end"]["test_mse"] for r in above]))
        return per

    def criteria(self, d, pred, obs):
        s2, out = pred["sigma2"], []
        for p in self._table(d, pred, obs):
            v = p["variant"]
            out += [at_most(f"{v}: max train MSE at n = {p['n_below']}", max(p["train_below"]), INTERPOLATING * s2,
                            "Interpolating = train MSE ≤ 0.1 σ² (threshold.sweep's stated fraction)."),
                    at_least(f"{v}: min train MSE at n = {p['n_above']}", min(p["train_above"]), d.fraction * s2,
                             f"Not interpolating = train MSE ≥ {d.fraction:g} σ² (threshold.sweep's n* fraction).")]
            for tr, ols in zip(p["train_above"], p["ols_train_above"]):
                out.append(within(f"{v}: train MSE at n = {p['n_above']}", tr, ols, 0.4 * ols,
                                  "Within a factor [0.6, 1.4] of the OLS train MSE on the same sample ([C]: a "
                                  "calibration run gave 0.97 for GeLU and 0.78 for Adam, which is still fitting "
                                  "slowly); each variant is one fixed protocol (step, steps), the paper gives no "
                                  "constants. A reference of 0 (no threshold) or ×2 (σ for σ²) falls outside."))
        return out

    def numbers(self, d, pred, obs):
        return {"variants": self._table(d, pred, obs), "sigma2": pred["sigma2"]}

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        for i, r in enumerate(sorted(obs["rows"], key=lambda r: (r["activation"], r["n"]))):
            t = np.maximum(np.asarray(r["time"]) / r["lr"], 1)  # steps: Adam's step is not a flow time
            ax.loglog(t, r["train_mse"], color=f"C{i}", label=f"{r['activation']}+{r['optimizer']}, n={r['n']}")
        ax.axhline(d.sigma ** 2, color="k", ls=":", label="σ²")
        ax.axhline(d.fraction * d.sigma ** 2, color="grey", ls="--", lw=0.8, label=f"{d.fraction:g} σ²")
        ax.set(xlabel="step", ylabel="train MSE", title="Threshold with GeLU and Adam (BF-P19)")
        ax.legend(fontsize=7)
        return {"": fig}
