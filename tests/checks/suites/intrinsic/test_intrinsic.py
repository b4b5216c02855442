"""Intrinsic-dynamics suite: theory identities, helpers, strategies, designs and figures (teeth:
tests/checks/suites/test_teeth.py)."""
import numpy as np
import pytest
from hypothesis import given

from checks.frame.errors import CheckError
from checks.strategies import linear_factorisations, relaxed_balanced_inits
from checks.strategies.intrinsic import _admissible
from checks.suites.intrinsic import IntrinsicMetric, KernelInclusion, TwoTrajectories, flow, torch_inclusion
from theory import intrinsic


def test_symbolic_and_autograd_jacobians_agree():
    rng = np.random.default_rng(3)
    for U, V in [(rng.standard_normal((3, 2)), rng.standard_normal((3, 2))), intrinsic.relaxed_balanced(3, 2, 3, 0.8)]:
        holds, dim, err = intrinsic.kernel_inclusion(U, V)
        dim_t, err_t = torch_inclusion(U, V)
        assert dim == dim_t == intrinsic.intersection_dim(3, 2, 3)
        assert (err <= 1e-8) == (err_t <= 1e-8) == holds == intrinsic.inclusion_predicted(U, V)


def test_theory_identities():
    assert all(intrinsic.verify().values())
    assert all(intrinsic.verify_chain().values())
    assert [intrinsic.intersection_dim(n, r, m)
            for n, r, m in ((2, 2, 2), (3, 3, 3), (1, 1, 1), (4, 3, 2), (2, 5, 2))] == [1, 3, 0, 4, None]


def test_chain_rate_formula_matches_chain_rate():
    f = intrinsic.chain_rate_formula().numeric("numpy")
    for z, fp, h1, h2 in ((1.0, 0.3, 1.2, -0.72), (-0.4, -2.0, 0.5, 0.1)):
        s = intrinsic.chain_s(z, h1, h2)
        assert abs(s * (s - h1) * (s - h1 - h2) - z * z) < 1e-10
        assert abs(float(f(s, h1, h2, fp)) - intrinsic.chain_rate(z, fp, h1, h2)) < 1e-12


def test_engine_flow_is_the_gradient_flow_of_half_squared_error():
    """The engine's loss is (1/2m)‖z − Z‖²; `flow` rescales it to f = ½‖z − Z‖² (U̇ = −(z − Z)V, V̇ = −(z − Z)ᵀU)."""
    rng = np.random.default_rng(0)
    U0, V0, Z = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal((3, 4))
    h = 1e-6
    t, traj = flow(U0, V0, Z, h, 1e-13, 2)
    G = U0 @ V0.T - Z
    U1, V1 = traj[-1]
    assert np.allclose((U1 - U0) / h, -G @ V0, atol=1e-3) and np.allclose((V1 - V0) / h, -G.T @ U0, atol=1e-3)
    S = lambda U, V: U.T @ U - V.T @ V  # noqa: E731
    _, traj = flow(U0, V0, Z, 1.0, 1e-12, 5)
    assert max(np.abs(S(*th) - S(U0, V0)).max() for th in traj) < 1e-9  # the laws are conserved


@given(relaxed_balanced_inits())
def test_relaxed_balanced_inits_satisfy_the_hypotheses(c):
    assert _admissible(c["n"], c["r"], c["m"], c["kappa"]) and 0.1 <= abs(c["kappa"]) <= 2.0
    U, V = intrinsic.relaxed_balanced(c["n"], c["r"], c["m"], c["kappa"], seed=c["seed"])
    assert U.shape == (c["n"], c["r"]) and V.shape == (c["m"], c["r"])
    assert np.abs(U.T @ U - V.T @ V - c["kappa"] * np.eye(c["r"])).max() < 1e-10


@given(linear_factorisations())
def test_linear_factorisations_are_inside_the_necessity_hypotheses(c):
    assert 1 <= c["r"] <= min(c["n"], c["m"]) and intrinsic.intersection_dim(c["n"], c["r"], c["m"]) is not None


def test_designs_reject_bad_settings():
    with pytest.raises(CheckError):
        IntrinsicMetric.design.build("quick", ns=(3, 2))  # lengths differ
    with pytest.raises(CheckError):
        IntrinsicMetric.design.build("quick", ns=(2,), rs=(3,), ms=(3,), kappas=(1.0,))  # κ > 0 needs r ≤ n
    with pytest.raises(CheckError):
        KernelInclusion.design.build("quick", rcond=0)
    d = KernelInclusion.design.build("quick", ns=(3,), rs=(2,), ms=(3,))
    assert d.to_dict()["ns"] == [3]


def test_two_trajectories_figure(tmp_path):
    vs = TwoTrajectories().run(TwoTrajectories.design.build("quick"), "quick", out=tmp_path)
    assert [v.status for v in vs] == ["PASS"] and vs[0].figures
    assert all((tmp_path / f).is_file() for f in vs[0].figures)
    assert {c["name"] for c in vs[0].criteria if c["passed"]} and not vs[0].failed
