"""BF-P17: how the threshold n* moves with the input dimension d, the init scale λ and the width m."""
from __future__ import annotations

import math

import numpy as np

from theory.references import elasticity, sufficient_threshold

from ..core import FAIL, INCONCLUSIVE, PASS, Check, register
from ..io import save_figure
from .threshold import D, SIGMA, locate_threshold, sweep_config, sweep_rows

# variable → (symbol of theory's formula, config key, changed value, n grid for the changed run: quick, standard)
CHANGES = {
    "d": ("d", "d", 10, ((160, 640, 2560), (80, 160, 320, 640, 1280, 2560))),
    "lambda": ("lambda", "lam", 1e-6, None),  # None: the base grid
    "m": ("m", "m", 50, None),
}


def n_star(rows, ns) -> tuple:
    """(n*, lower bracket) of the median final train MSE over seeds (threshold.sweep's locator)."""
    med = [float(np.median([r["end"]["train_mse"] for r in rows if r["n"] == n])) for n in ns]
    return locate_threshold(list(ns), med, SIGMA ** 2) + (med,)


@register
class ThresholdDependence(Check):
    name = "threshold.dependence"
    paper = "BF-ST"
    prediction_id = "BF-P17"
    claim = ("For a fixed protocol the threshold n* grows with the input dimension d, and does not grow with the "
             "width m or as the init scale lambda decreases: the dependences of the theorem's sufficient threshold "
             "n_suff = c d^3 (loose, constant unknown)")
    provenance = "[V] directions, [C] grid tolerance"
    tolerance_rationale = ("n* is read on a doubling grid (brackets of a factor 2), so the observed exponent "
                           "log(n*_2/n*_1)/log(v_2/v_1) is known to about one grid step. A predicted exponent > 0 "
                           "needs n* to grow by at least one grid step; a predicted 0 needs n* to stay within one "
                           "grid step. Only the direction is claimed: the sufficient bound may be loose.")
    tiers = ("standard", "full")

    def __init__(self, threshold=None):
        self.threshold = threshold or sufficient_threshold()

    def variables(self, ctx) -> tuple:
        """d in every tier that runs the check (quick only in tests, on a coarse grid); λ and m in the full tier."""
        return ctx.pick(("d",), ("d",), ("d", "lambda", "m"))

    def predict(self, ctx):
        return {v: float(elasticity(self.threshold, CHANGES[v][0])) for v in self.variables(ctx)}

    def observe(self, ctx):
        base = sweep_config(ctx)
        out = {"base": dict(config={k: base[k] for k in ("m", "lam")} | {"d": D}, ns=list(base["ns"]),
                            rows=sweep_rows(ctx, **base))}
        for v in self.variables(ctx):
            _, key, value, grids = CHANGES[v]
            cfg = dict(base, **{key: value})
            cfg["ns"] = ctx.pick(*grids) if grids else base["ns"]
            out[v] = dict(config={k: cfg.get(k, D) for k in ("d", "m", "lam")}, ns=list(cfg["ns"]),
                          rows=sweep_rows(ctx, **cfg))
        return out

    def judge(self, predicted, observed):
        b_star, b_lo, b_med = n_star(observed["base"]["rows"], observed["base"]["ns"])
        per, ok, missing = {}, True, []
        for v, p in predicted.items():
            star, lo, med = n_star(observed[v]["rows"], observed[v]["ns"])
            base_value = observed["base"]["config"][CHANGES[v][1]]
            if star is None or b_star is None:
                missing.append(v)
                per[v] = dict(predicted_exponent=p, n_star=star, base_n_star=b_star, train_median=med)
                continue
            steps = math.log2(star / b_star)  # grid steps of a factor 2
            exponent = math.log(star / b_star) / math.log(CHANGES[v][2] / base_value) + 0.0  # no "-0.0"
            good = steps >= 1 if p > 0 else steps <= -1 if p < 0 else abs(steps) <= 1
            ok &= good
            per[v] = dict(predicted_exponent=p, value=CHANGES[v][2], base_value=base_value, n_star=star, bracket=lo,
                          base_n_star=b_star, base_bracket=b_lo, grid_steps=steps, observed_exponent=exponent,
                          train_median=med, ns=observed[v]["ns"], ok=good)
        pred = "; ".join(f"∂ln n*/∂ln {v} = {p:g}" for v, p in predicted.items())
        if missing:
            return self.verdict(INCONCLUSIVE, pred, f"no n* on the grid for {', '.join(missing)} (or the base run)",
                                "-", base_n_star=b_star, per_variable=per)
        obs = "; ".join(f"{v}: n* {per[v]['base_n_star']} → {per[v]['n_star']} ({per[v]['base_value']:g} → "
                        f"{per[v]['value']:g}; exponent {per[v]['observed_exponent']:.1f})" for v in per)
        return self.verdict(PASS if ok else FAIL, pred, obs, "direction, ± one grid step (factor 2)",
                            base_n_star=b_star, base_bracket=b_lo, base_train_median=b_med, per_variable=per)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        runs = [("base", observed["base"])] + [(v, observed[v]) for v in predicted]
        for i, (label, run) in enumerate(runs):
            med = n_star(run["rows"], run["ns"])[2]
            c = run["config"]
            ax.semilogx(run["ns"], med, "o-", color=f"C{i}", label=f"d={c['d']}, m={c['m']}, λ={c['lam']:g}")
        ax.axhline(0.5 * SIGMA ** 2, color="grey", ls="--", lw=0.8, label="0.5 σ² (n* criterion)")
        ax.axhline(SIGMA ** 2, color="k", ls=":", label="σ²")
        ax.set(xlabel="n", ylabel="median final train MSE", title="Where the threshold moves (BF-P17)")
        ax.legend(fontsize=7, loc="center right")
        return [save_figure(fig, ctx.figure_path(self.name))]
