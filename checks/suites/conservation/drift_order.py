"""Drift of a_j² − ‖w_j‖² over a fixed horizon (MPG-P3): the GD drift's order in η, the per-step defect's order, and
the SGD bound of F3.2-SGD as stated (E|h(θ_i) − h(θ_0)| ≤ (C_h C_L/2) Σ η_l²)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp
import torch

import numerics
from theory.network import drift_order, gd_defect_formula, law_hessian_norm, sgd_bound_formula

from checks.frame.core import Check, Variant, register, relative_slope
from checks.frame.criteria import at_most, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.suites.conservation.gd_step_exact import _eta_to, _setup


@dataclass(frozen=True)
class DriftDesign(Design):
    """E8 ReLU variant, GD and SGD over a fixed horizon at several step sizes.

    Arguments:
        lrs: step sizes η of the log-log fits.
        horizon: flow time T of every run.
        batch_size: SGD batch (drawn uniformly without replacement at every step).
        sgd_seeds: SGD runs per η (the expectation of F3.2-SGD is their mean).
    """

    lrs: tuple[float, ...] = (0.04, 0.02, 0.01, 0.005, 0.0025)
    horizon: float = 2.0
    batch_size: int = 5
    sgd_seeds: int = 8
    presets: ClassVar = {"quick": dict(lrs=(0.04, 0.02, 0.01, 0.005), sgd_seeds=4)}
    sources: ClassVar = {"lrs": "docs/theory/mpg-conservation.md#mpg-p3 (E8 drift order): η = 0.04, 0.02, 0.01, 0.005 "
                                "at T = 2 ([C] slope 1.04)"}

    def validate(self):
        positive(self, "lrs", "horizon", "batch_size", "sgd_seeds")
        if len(self.lrs) < 2:
            raise CheckError(f"lrs={self.lrs!r}: the slope needs at least two step sizes")


def _laws(W, a):
    return (a ** 2 - (W ** 2).sum(-1)).numpy()


def _sgd_run(X, y, W, a, lr, steps, batch, seed):
    """SGD through the engine's gradient (numerics.loss_and_grad) on uniform batches: (|h(T) − h(0)| per neuron, the
    largest ‖∇L_batch‖² met along the run)."""
    rng = np.random.default_rng(seed)
    W, a = W.clone(), a.clone()
    h0, g2 = _laws(W, a), 0.0
    for _ in range(steps):
        idx = torch.tensor(rng.choice(len(y), batch, replace=False))
        lg = numerics.loss_and_grad(W, a, X[idx], y[idx])
        g2 = max(g2, float((lg.grad_W ** 2).sum() + (lg.grad_a ** 2).sum()))
        W, a = W - lr * lg.grad_W, a - lr * lg.grad_a
    return np.abs(_laws(W, a) - h0), g2


@register
class DriftOrder(Check):
    name = "conservation.drift_order"
    paper = "ABIDE"
    prediction_id = "MPG-P3"
    claim = ("Over a fixed horizon T the GD drift of a_j² − ‖w_j‖² scales as ηᵖ with p from the per-step defect (whose "
             "own slope is 2), and the SGD drift obeys E|h(θ_i) − h(θ_0)| ≤ (C_h C_L/2) Σ η_l² (F3.2-SGD)")
    provenance = "[V: SGD bound; R; C]"
    design = DriftDesign
    uses = {"defect": gd_defect_formula, "sgd_bound": sgd_bound_formula, "hessian": lambda: law_hessian_norm}
    alternatives = (Variant("drift independent of η (p = 0)", {"defect": _eta_to(1)},
                            why="an O(η) per-step defect accumulates to an η-independent drift"),
                    Variant("drift ∝ η² (p = 2)", {"defect": _eta_to(3)},
                            why="the per-step defect order itself, if steps did not accumulate"),
                    Variant("SGD drift bounded by one step's defect (no accumulation)",
                            {"sgd_bound": lambda f: f.subs({f.args[1]: 1})},
                            why="the per-step defect is O(η²) and SGD noise averages out, so the drift would not "
                                "grow with the number of steps"))
    mutants = ()  # theory declares F3.2's wrong powers of η and F3.2-SGD's (Σ η³, one step's bound)

    def predict(self, d, th):
        eta, i, ch, cl = th.sgd_bound.args
        return {"order": drift_order(th.defect), "step_order": drift_order(th.defect) + 1,
                "bound": sp.lambdify((eta, i, ch, cl), th.sgd_bound.rhs, "numpy"), "C_h": th.hessian}

    def observe(self, d):
        X, y, W, a = _setup(False, "square", None, d.seed)
        lrs = np.array(d.lrs)
        drift, step, sgd, sgd_g2, steps = [], [], [], [], []
        lg = numerics.loss_and_grad(W, a, X, y)
        for lr in lrs:
            tr = numerics.train(X, y, W, a, lr=lr, horizon=d.horizon, n_checkpoints=2, stop_tol=0.0, progress=False,
                                record_patterns=False)
            drift.append(np.abs(tr.conserved[-1] - tr.conserved[0]).max())
            step.append(np.abs(_laws(W - lr * lg.grad_W, a - lr * lg.grad_a) - _laws(W, a)).max())  # one GD step
            n_steps = int(round(d.horizon / lr))
            runs = [_sgd_run(X, y, W, a, lr, n_steps, d.batch_size, d.seed + s) for s in range(d.sgd_seeds)]
            sgd.append(np.mean([r[0] for r in runs], axis=0))  # E|h_j(θ_i) − h_j(θ_0)| per neuron
            sgd_g2.append(max(r[1] for r in runs))
            steps.append(n_steps)
        return {"lr": lrs, "drift": np.array(drift), "step": np.array(step), "sgd_drift": np.array(sgd),
                "C_L": np.array(sgd_g2), "steps": np.array(steps), "d": int(X.shape[1])}

    def _ratios(self, pred, obs):
        """E|Δh| (max over neurons) over the F3.2-SGD bound at each η."""
        bound = pred["bound"](obs["lr"], obs["steps"], pred["C_h"](obs["d"]), obs["C_L"])
        return obs["sgd_drift"].max(axis=1) / bound

    def criteria(self, d, pred, obs):
        ratios = self._ratios(pred, obs)
        return [within("log-log slope of the GD drift against η", relative_slope(obs["lr"], obs["drift"]),
                       pred["order"], 0.1,
                       "The slope over η in [0.0025, 0.04] carries O(η) curvature; a prior run measured 1.04 ([C]), "
                       "so |slope − p| ≤ 0.1; the alternatives p = 0 and p = 2 are 1 away (MPG-P3)."),
                within("log-log slope of the per-step defect max_j|Δh_j| (one GD step from θ₀) against η",
                       relative_slope(obs["lr"], obs["step"]), pred["step_order"], 0.1,
                       "The spec's [1.9, 2.1]: one step changes h by exactly η²(g_a² − ‖g_w‖²) (F3.2), so the slope is "
                       "2 to round-off; a first-order (η) or third-order (η³) defect is 1 away."),
                at_most("max over η of E|h_j(θ_i) − h_j(θ_0)| / ((C_h C_L/2) Σ η_l²) (SGD, F3.2-SGD as stated)",
                        float(ratios.max()), 1.0,
                        "The [V] bound (arXiv 2506.06194, Prop. 5.1) with C_h = ‖∂²h‖ = 2 from theory, C_L the largest "
                        "‖∇L_batch‖² met along the runs (≥ E‖∇L_batch‖²) and E the mean over the SGD seeds; a bound, "
                        "so ≤ 1. Its one-step reading (no Σ over steps) or Σ η³ undercuts the observed drift.",
                        details={"ratio_per_eta": [float(r) for r in ratios]})]

    def numbers(self, d, pred, obs):
        sgd = obs["sgd_drift"].max(axis=1)
        return dict(lr=obs["lr"], gd_drift=obs["drift"], per_step_defect=obs["step"], sgd_drift=sgd,
                    sgd_slope=relative_slope(obs["lr"], sgd), sgd_C_L=obs["C_L"],
                    sgd_bound_ratio=self._ratios(pred, obs))

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.6))
        lr, dr = obs["lr"], obs["drift"]
        ax.loglog(lr, dr, "o-", label="GD drift (observed)")
        ax.loglog(lr, obs["sgd_drift"].max(axis=1), "s--", alpha=0.7, label=f"SGD drift (batch {d.batch_size}, mean)")
        ax.loglog(lr, pred["bound"](lr, obs["steps"], pred["C_h"](obs["d"]), obs["C_L"]), "r-.", lw=1,
                  label="F3.2-SGD bound")
        ref = dr[-1] * (lr / lr[-1]) ** pred["order"]
        ax.loglog(lr, ref, "k:", label=f"predicted slope {pred['order']}")
        ax.fill_between(lr, dr[-1] * (lr / lr[-1]) ** (pred["order"] - 0.1),
                        dr[-1] * (lr / lr[-1]) ** (pred["order"] + 0.1), color="grey", alpha=0.2,
                        label="tolerance: slope ± 0.1")
        ax.set_xticks(lr, [f"{x:g}" for x in lr])  # the step sizes themselves; no crowded minor labels
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set(xlabel="step size η", ylabel=r"max$_j$ |Δ$_j$(T) − Δ$_j$(0)|",
               title="Drift of a²−‖w‖² over T (MPG-P3)")
        ax.legend(fontsize=8)
        return {"": fig}
