"""racing.fixed_gating (PIN-2/PIN-5), racing.angle_norm_laws (PIN-3/PIN-4), racing.unlocking (PIN-10): the identity
for any state, the cone problem's premise, own data, the strategies, design validation and figures.

Teeth (every mutant FAILs) are tested for every check by tests/checks/suites/test_teeth.py.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from checks.frame.errors import CheckError
from checks.strategies import cone_problems, fixed_gatings
from checks.suites.racing.angle_norm_laws import AngleNormLaws, cone_problem
from checks.suites.racing.fixed_gating import FixedGatingLinearity
from checks.suites.racing.unlocking import Unlocking
from theory import racing
from figure_overlap import drawn


@given(n=st.integers(3, 12), d=st.integers(1, 4), m=st.integers(1, 6), seed=st.integers(0, 10 ** 6),
       scale=st.sampled_from([1e-3, 1.0]))
def test_fixed_gating_identity_for_any_state(n, d, m, seed, scale):
    """PIN-2 for any data, width and state: −∇ of neuron j = K(M_j)(w_j; a_j) with its own gating and residual."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    W, a = rng.standard_normal((m, d)) * scale, rng.standard_normal(m) * scale
    lg = numerics.loss_and_grad(torch.tensor(W), torch.tensor(a), torch.tensor(X), torch.tensor(y))
    e = y - numerics.forward(torch.tensor(W), torch.tensor(a), torch.tensor(X)).numpy()
    M = racing.gated_correlation(X, e, (X @ W.T > 0).astype(float))
    for j in range(m):
        lin = racing.fixed_gating_system(M[j]) @ np.append(W[j], a[j])
        eng = -np.append(lg.grad_W.numpy()[j], lg.grad_a.numpy()[j])
        np.testing.assert_allclose(lin, eng, atol=1e-12 * max(1.0, np.abs(eng).max()))


@settings(max_examples=10)
@given(cone_problems(max_n=20, max_d=4, max_m=8))
def test_cone_problem_keeps_gating_fixed(changes):
    """The PIN-3/4 setup: every preactivation stays positive along a GD run (so the laws' premise holds)."""
    X, y, W, a = cone_problem(changes["seed"], changes["n"], changes["d"], changes["m"], changes["lam"])
    tr = numerics.train(X, y, W, a, lr=0.02, horizon=1.0, n_checkpoints=5, progress=False)
    assert tr.patterns.all()
    AngleNormLaws.design.build("quick").replace(**changes)  # every draw is a valid design


@settings(max_examples=10)
@given(fixed_gatings())
def test_fixed_gatings_draw_valid_designs(changes):
    d = FixedGatingLinearity.design.build("quick").replace(**changes)
    assert d.dataset.X.shape[0] >= 2 and d.dataset.y.ndim == 1


def test_fixed_gating_on_own_data(tmp_path):
    rng = np.random.default_rng(3)
    ds = numerics.Dataset("mine", rng.standard_normal((30, 4)), rng.standard_normal(30))
    C = FixedGatingLinearity
    vs = C().run(C.design.build("quick", dataset=ds, m=20, steps=200, instances=0), "quick", out=tmp_path)
    assert [v.prediction_id for v in vs] == ["PIN-2", "PIN-5"]
    assert all(v.status == "PASS" for v in vs), [(v.status, v.message, v.criteria) for v in vs]
    assert all(c["name"].startswith("mine:") for v in vs for c in v.criteria)
    assert vs[0].design["dataset"]["name"] == "mine"


def test_designs_reject_bad_settings():
    with pytest.raises(CheckError, match="d ≥ 2"):
        AngleNormLaws.design.build("quick", d=1)
    with pytest.raises(CheckError, match="datasets"):
        FixedGatingLinearity.design.build("quick", datasets="mnist")
    with pytest.raises(CheckError, match="scalar"):
        FixedGatingLinearity.design.build("quick", dataset=numerics.Dataset("v", np.ones((4, 2)), np.ones((4, 2))))
    with pytest.raises(CheckError, match="two init scales"):
        Unlocking.design.build("quick", lams="1e-4")
    assert Unlocking.design.build("quick").lams == (1e-6, 1e-4, 1e-2)
    assert len(Unlocking.design.build("standard").lams) == 4


@pytest.mark.parametrize("C", [AngleNormLaws, Unlocking])
def test_racing_figures_written(tmp_path, C):
    vs = C().run(C.design.build("quick", **({"instances": 0} if C is AngleNormLaws else {})), "quick", out=tmp_path)
    assert all(v.figures for v in vs), [v.message for v in vs]
    assert all(drawn(tmp_path / f) for v in vs for f in v.figures)
