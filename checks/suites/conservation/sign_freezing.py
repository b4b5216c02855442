"""Sign freezing (BF-P3): under gradient flow from a balanced-enough init, sign(a_j) never flips."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

import numerics
from numerics import data
from theory.network import sign_frozen

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import at_least, at_most
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError


@dataclass(frozen=True)
class SignFreezingDesign(Design):
    """Stewart data (n samples), width m, GD at step lr for flow time `horizon`, from each init scheme.

    Arguments:
        n: Stewart samples.
        m: hidden width.
        init_scale: scale of the initialisation.
        lr: GD step size η.
        horizon: flow time T of every run.
        schemes: init schemes (balanced and dominated have Δ_j(0) ≥ 0; gaussian has both signs).
    """

    n: int = 40
    m: int = 200
    init_scale: float = 0.1
    lr: float = 0.05
    horizon: float = 200.0
    schemes: tuple[str, ...] = ("balanced", "dominated", "gaussian")
    presets: ClassVar = {"quick": dict(horizon=40.0)}

    def validate(self):
        positive(self, "n", "m", "init_scale", "lr", "horizon")
        if not self.schemes:
            raise CheckError("schemes=(): give at least one init scheme, e.g. schemes=balanced,gaussian")


@register
class SignFreezing(Check):
    name = "conservation.sign_freezing"
    paper = "ABIDE"
    prediction_id = "BF-P3"
    claim = ("Under balanced or dominated init (Δ_j(0) = a_j² − ‖w_j‖² ≥ 0) sign(a_j) never changes along "
             "GD training; neurons with Δ_j(0) < 0 are not constrained")
    provenance = "[R]"
    design = SignFreezingDesign
    uses = {"frozen": lambda: sign_frozen}
    alternatives = (Variant("every neuron's sign is frozen, whatever Δ_j(0)",
                            {"frozen": lambda rule: (lambda d0, s: np.ones_like(d0, bool))},
                            why="small-init GD might never flip an output weight, law or no law"),)
    mutants = (Variant("every init freezes", {"frozen": lambda rule: (lambda d0, s: np.ones_like(d0, bool))}),
               Variant("inequality reversed (Δ_j(0) ≤ 0 freezes)",
                       {"frozen": lambda rule: (lambda d0, s: rule(-d0, s))}),
               Variant("|Δ_j(0)| instead of Δ_j(0)", {"frozen": lambda rule: (lambda d0, s: rule(np.abs(d0), s))}))

    def predict(self, d, th):
        return {"frozen": th.frozen}

    def observe(self, d):
        ds = data.stewart(n=d.n, seed=d.seed)
        X, y = torch.tensor(ds.inputs), torch.tensor(ds.y)
        runs = []
        for scheme in d.schemes:
            W, a = numerics.init_params(d.m, X.shape[1], scale=d.init_scale, scheme=scheme, seed=d.seed)
            tr = numerics.train(X, y, W, a, lr=d.lr, horizon=d.horizon, record_patterns=False, progress=False)
            flipped = (np.sign(tr.a) != np.sign(tr.a[0])).any(axis=0)
            runs.append(dict(scheme=scheme, delta0=tr.conserved[0], scale=tr.a_norm[0] ** 2 + tr.w_norm[0] ** 2,
                             flipped=flipped))
        return {"runs": runs}

    def _table(self, pred, obs):
        table = []
        for r in obs["runs"]:
            frozen = np.asarray(pred["frozen"](r["delta0"], r["scale"]), bool)
            table.append(dict(scheme=r["scheme"], predicted_frozen=int(frozen.sum()), flipped=int(r["flipped"].sum()),
                              violations=int(np.sum(frozen & r["flipped"]))))
        return table

    def criteria(self, d, pred, obs):
        table = self._table(pred, obs)
        return [at_most("sign flips of neurons predicted frozen", sum(t["violations"] for t in table), 0,
                        "Exact invariant up to the O(η²) per-step defect: with η = 0.05 and balanced init the defect "
                        "cannot drive |a_j| through 0, so a single flip of a predicted-frozen neuron refutes it."),
                at_least("neurons predicted frozen", sum(t["predicted_frozen"] for t in table), 1,
                         "Non-vacuity: with no neuron predicted frozen the first criterion tests nothing.")]

    def numbers(self, d, pred, obs):
        return {"runs": self._table(pred, obs)}
