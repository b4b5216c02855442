"""BF-P4 on the Stewart data (E3) is a rate question, not a counterexample.

Stewart's labels are ≥ 0 but vanish linearly at x = ±1. A negative neuron's active set shrinks to the extreme
sample(s), whose labels are ≈ 0.013, so the push that would kill it (∝ Σ_active y_k x̃_k, F2.3) almost vanishes
just before death: the λ-free death flow (theory.death) kills 95 % of them only by flow time ≈ 61 (all by ≈ 65–70
at n = 40). At λ ≥ 1e-16, ε·T_λ ≤ 25, so the check's regime test on BF-P4 is not reached and the verdict is
INCONCLUSIVE, naming the λ that reaches it (≈ 1e-43–1e-49) and the `--set lam_factors=…` fix; the flow's predicted
still-active fraction (≈ 0.75, nothing dies yet) matches GD at every λ. Labels bounded away from 0 (y + 0.3, or y
clipped below at 0.2) PASS on the same inputs, and the raw data PASS once ε·T_λ passes the death times (λ = 1e-60,
or the λ the message names). See docs/theory/bf-early-alignment.md#bf-p4.
"""
from __future__ import annotations

import numpy as np
import pytest

import checks
from checks.frame.criteria import INCONCLUSIVE, PASS
from checks.suites.early_alignment.training import early_run
from numerics import data

M = 200  # width: the fractions below hold from m = 200 to 2000 (scratch runs, seed 0)
GRID = (1.0, 1e-6, 1e-14)  # λ = 1e-2, 1e-8, 1e-16 (the standard grid without 1e-4)


def _run(y, lam_factors=GRID):
    """BF-P4's verdict and the per-λ rows of early_alignment.alignment on the Stewart inputs (x, 1) with labels y."""
    vs = {v.prediction_id: v for v in checks.run("early_alignment.alignment", data.stewart().inputs, y,
                                                  tier="quick", out=None, m=M, instances=0, lam_factors=lam_factors)}
    return vs["BF-P4"], vs["BF-P1"].numbers["runs"]


def _death_regime(v):
    return next(c for c in v.criteria if "death time" in c["name"] and "regime reached" in c["name"])


def test_raw_stewart_is_inconclusive_naming_the_lambda_needed():
    v, rows = _run(data.stewart().y)
    assert v.status == INCONCLUSIVE
    base = [c for c in v.criteria if "regime reached: early phase" in c["name"] or "prediction complete" in c["name"]
            or "sign(a_j) flips" in c["name"]]
    assert len(base) == 3 and all(c["passed"] is True for c in base)  # not an early-phase / GD / extremal artefact
    r = _death_regime(v)
    assert r["passed"] is None and 50 < r["details"]["death_time_quantile"] < 75  # flow time, against ε·T_λ ≤ 25
    assert "--set lam_factors=1,1e-06,1e-14," in r["value"] and 1e-55 < r["details"]["lam_needed"] < 1e-38
    assert "λ ≈" in v.headline()  # the verdict's one-line reason carries the λ needed
    flow = [c for c in v.criteria if "death flow's F" in c["name"]]
    assert len(flow) == len(GRID) and all(c["passed"] is True for c in flow)  # the flow predicts the slow death
    neg = [r["neg_active"] for r in rows]
    assert min(neg) > 0.5 and neg[-1] >= 0.95 * neg[0]  # ~nothing dies: the fraction does not even fall (seeds 0–3)
    assert not [a for a in v.alternatives if a["status"] == PASS]  # "death at the rate g*" (F ≈ 0) is rejected


def test_raw_stewart_passes_at_the_lambda_the_message_names():
    v, _ = _run(data.stewart().y)
    fac = _death_regime(v)["details"]["lam_factor_needed"]
    v, rows = _run(data.stewart().y, lam_factors=(*GRID, fac))
    assert v.status == PASS and rows[-1]["neg_active"] <= 0.05


@pytest.mark.parametrize("shift", [lambda y: y + 0.3, lambda y: np.maximum(y, 0.2)], ids=["y+0.3", "clip-0.2"])
def test_labels_bounded_away_from_zero_pass_bf_p4(shift):
    v, rows = _run(shift(data.stewart().y))
    assert v.status == PASS
    assert rows[-1]["neg_active"] <= 0.02 < rows[0]["neg_active"]


def test_survivors_see_only_the_extreme_samples_with_tiny_labels():
    ds = data.stewart()
    tr, T, _ = early_run(ds, M, 1e-16, 0, (0.3,), 0.3, 0.05)
    i = tr.at_time(0.3 * T)
    P = tr.patterns[i][:, tr.a[0] < 0].astype(bool)  # (n, negative neurons)
    P = P[:, P.any(axis=0)]
    x, y = ds.X[:, 0], ds.y
    far = np.array([np.all(np.abs(x[s]) > 0.9) and y[s].max() <= 0.2 for s in P.T])
    assert P.shape[1] > 0.5 * (tr.a[0] < 0).sum() and far.mean() >= 0.95
    assert np.mean(P.sum(axis=0) == 1) > 0.8  # most see exactly one point: x = −0.995 or 0.994, y = 0.013


def test_raw_stewart_passes_once_the_horizon_outlasts_the_slow_death():
    v, rows = _run(data.stewart().y, lam_factors=(1e-28, 1e-58))  # λ = 1e-30, 1e-60: ε·T_λ ≈ 44, 86
    assert rows[0]["neg_active"] > 0.5 and rows[-1]["neg_active"] <= 0.01
    assert v.status == PASS
