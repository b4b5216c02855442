"""Counting conservation laws (MPG-P6, P7, P13, P14) and sign freezing (BF-P3 / PIN-1)."""
from __future__ import annotations

import numpy as np
import torch

import numerics
from numerics import data
from theory import lie

from ..core import FAIL, PASS, Check, register


@register
class LawCount(Check):
    name = "conservation.law_count"
    paper = "ABIDE"
    prediction_id = "MPG-P6"
    claim = ("The Lie-algebra count N = D - dim Lie(W_phi) equals the number of conserved quadratics found by the "
             "degree-2 law search, on random two-layer architectures (linear U V^T and ReLU path-lifting, "
             "with/without bias); the Frobenius gap is 0 for ReLU and r(r-1)/2 for linear nets with r <= min(n, m)")
    provenance = "[V]"
    tolerance_rationale = ("Integer counts, no tolerance; ranks by SVD with rtol 1e-9 and each count accepted only "
                           "if identical at 3 random points (theory.lie.RTOL).")

    def __init__(self, count=None):
        self.count = count or (lambda f: lie.count_laws(f).N)

    def _architectures(self, ctx):
        rng = np.random.default_rng(ctx.seed)
        k = ctx.pick(6, 15)
        archs = [("linear", dict(n=1, m=1, r=1)), ("linear", dict(n=2, m=2, r=2)),
                 ("relu", dict(d_in=2, r=2, d_out=1, bias=False))]
        for _ in range(k):
            if rng.random() < 0.5:
                n, m = rng.integers(1, 4, 2)
                archs.append(("linear", dict(n=int(n), m=int(m), r=int(rng.integers(1, min(n, m) + 1)))))
            else:
                archs.append(("relu", dict(d_in=int(rng.integers(1, 4)), r=int(rng.integers(1, 4)),
                                           d_out=int(rng.integers(1, 3)), bias=bool(rng.random() < 0.5))))
        return archs

    @staticmethod
    def _factorisation(kind, arch):
        return lie.linear_net(**arch) if kind == "linear" else lie.relu_path_lifting(**arch)

    def predict(self, ctx):
        rows = []
        for kind, arch in self._architectures(ctx):
            f = self._factorisation(kind, arch)
            full = lie.count_laws(f)
            rows.append(dict(kind=kind, arch=arch, N=self.count(f), gap=full.gap,
                             rule=lie.expected_count(kind, **arch), rule_gap=lie.expected_gap(kind, **arch)))
        return {"rows": rows}

    def observe(self, ctx):
        return {"found": [lie.quadratic_laws(self._factorisation(kind, arch))
                          for kind, arch in self._architectures(ctx)]}

    def judge(self, predicted, observed):
        rows = predicted["rows"]
        bad = [dict(r, found=f) for r, f in zip(rows, observed["found"])
               if r["N"] != f or r["N"] != r["rule"] or r["gap"] != r["rule_gap"]]
        status = PASS if not bad else FAIL
        return self.verdict(status, "N = #laws found = rule", f"{len(rows) - len(bad)}/{len(rows)} agree",
                            "exact", mismatches=bad, architectures=[dict(r, found=f) for r, f in
                                                                    zip(rows, observed["found"])])


@register
class SignFreezing(Check):
    name = "conservation.sign_freezing"
    paper = "ABIDE"
    prediction_id = "BF-P3"
    claim = ("Under balanced or dominated init (Delta_j(0) = a_j^2 - |w_j|^2 >= 0) sign(a_j) never changes along "
             "GD training; neurons with Delta_j(0) < 0 are not constrained")
    provenance = "[R]"
    tolerance_rationale = ("Exact invariant up to the O(eta^2) per-step defect; with eta = 0.05 and balanced init "
                           "the defect cannot drive |a_j| through 0, so any flip of a predicted-frozen neuron FAILs.")

    def __init__(self, frozen_rule=None):
        # F3.1 corollary: Δ_j(0) ≥ 0 ⇒ |a_j(t)| ≥ ‖w_j(t)‖ ⇒ a_j never crosses 0 (Δ = 0 up to round-off: balanced)
        self.frozen_rule = frozen_rule or (lambda delta0, scale: delta0 >= -1e-12 * scale)

    def predict(self, ctx):
        return {"rule": self.frozen_rule}

    def observe(self, ctx):
        ds = data.stewart(n=40, seed=ctx.seed)
        X, y = torch.tensor(ds.inputs), torch.tensor(ds.y)
        runs = []
        for scheme in ("balanced", "dominated", "gaussian"):
            W, a = numerics.init_params(200, X.shape[1], scale=0.1, scheme=scheme, seed=ctx.seed)
            tr = numerics.train(X, y, W, a, lr=0.05, horizon=ctx.pick(40.0, 200.0), record_patterns=False)
            flipped = (np.sign(tr.a) != np.sign(tr.a[0])).any(axis=0)
            runs.append(dict(scheme=scheme, delta0=tr.conserved[0], scale=tr.a_norm[0] ** 2 + tr.w_norm[0] ** 2,
                             flipped=flipped))
        return {"runs": runs}

    def judge(self, predicted, observed):
        rule = predicted["rule"]
        table, violations = [], 0
        for r in observed["runs"]:
            frozen = rule(r["delta0"], r["scale"])
            v = int(np.sum(frozen & r["flipped"]))
            violations += v
            table.append(dict(scheme=r["scheme"], predicted_frozen=int(frozen.sum()), flipped=int(r["flipped"].sum()),
                              violations=v))
        return self.verdict(PASS if violations == 0 else FAIL, "0 flips where Δ_j(0) ≥ 0",
                            f"{violations} flips", "0", runs=table)
