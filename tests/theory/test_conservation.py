"""F3.2–F3.8: linear-net laws, law counting with Lie algebras on random architectures, Frobenius gap."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import lie
from theory.conservation import LinearNetwork, linear_gd_defect, linear_S_rate
from theory.formula import lambdify
from theory.network import is_zero


def test_linear_laws_verify():
    assert all(LinearNetwork(3, 4, 2).verify().values())


def test_linear_defect_mutation_fails():
    net = LinearNetwork(2, 2, 2)
    assert not is_zero(net.gd_step_change() - net.gd_defect_claim().subs(net.eta ** 2, net.eta))  # η, not η²
    wrong_rate = net.explicit(linear_S_rate().rhs).subs(net.nu, 1)  # weight decay where there is none
    assert not is_zero(wrong_rate)


@settings(max_examples=8)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1000))
def test_matrix_symbol_formulas_evaluate_at_any_shape(n, m, r, seed):
    """linear_gd_defect / linear_S_rate (matrix symbols) = the explicit-entry forms LinearNetwork verifies."""
    rng = np.random.default_rng(seed)
    U, V, G = rng.standard_normal((n, r)), rng.standard_normal((m, r)), rng.standard_normal((n, m))
    f = linear_gd_defect()
    shape = {f.args[1].shape[0]: n, f.args[1].shape[1]: r, f.args[2].shape[0]: m}
    got = np.asarray(lambdify(f.args, f.rhs.subs(shape))(0.1, U, V, G), float)
    np.testing.assert_allclose(got, 0.01 * (V.T @ G.T @ G @ V - U.T @ G @ G.T @ U), atol=1e-13)
    rate = linear_S_rate()
    got = np.asarray(lambdify(rate.args, rate.rhs.subs(shape))(U, V, G, 0.3), float)
    np.testing.assert_allclose(got, -0.6 * (U.T @ U - V.T @ V), atol=1e-12)  # F3.3 at ν = 0.3


def test_generators_are_the_hessians():
    for f in (lie.linear_net(2, 3, 2), lie.relu_path_lifting(2, 2, 2, bias=True)):
        H = [np.array(sp.hessian(p, f.theta).tolist(), float) for p in f.phi]
        assert all(np.array_equal(a, b) for a, b in zip(H, f.generators()))


def test_rule_domains():
    assert lie.count_rule_applies("linear", n=1, m=1, r=2) and not lie.count_rule_applies("linear", n=1, m=1, r=3)
    assert lie.gap_rule_applies("linear", n=2, m=3, r=2) and not lie.gap_rule_applies("linear", n=1, m=3, r=2)
    assert lie.count_rule_applies("relu", d_in=1, r=3) and lie.gap_rule_applies("relu", d_in=1, r=3)
    # inside the count domain beyond min(n, m): the count rule holds, the gap rule does not
    c = lie.count_laws(lie.linear_net(1, 3, 2))
    assert c.N == lie.expected_count("linear", r=2) and c.gap != lie.expected_gap("linear", r=2)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1000))
def test_linear_defect_numeric(n, m, r, seed):
    """S(θ − η∇L) − S(θ) = η²(VᵀGᵀGV − UᵀGGᵀU) for f = ½‖UVᵀ − Z‖² in float64."""
    rng = np.random.default_rng(seed)
    U, V, Z = rng.standard_normal((n, r)), rng.standard_normal((m, r)), rng.standard_normal((n, m))
    eta = 0.05
    G = U @ V.T - Z
    U1, V1 = U - eta * G @ V, V - eta * G.T @ U
    change = (U1.T @ U1 - V1.T @ V1) - (U.T @ U - V.T @ V)
    pred = eta ** 2 * (V.T @ G.T @ G @ V - U.T @ G @ G.T @ U)
    np.testing.assert_allclose(change, pred, atol=1e-13)


@settings(max_examples=12)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_linear_count_rule_on_random_architectures(n, m, r):
    if r > n + m:
        return
    c = lie.count_laws(lie.linear_net(n, m, r))
    if r <= min(n, m):  # (U;V) full rank generically and the gap formula applies
        assert c.N == lie.expected_count("linear", r=r)
        assert c.gap == lie.expected_gap("linear", r=r)
        assert c.rank_dphi == r * (n + m - r)  # MPG-P13
    assert c.stable


@settings(max_examples=12)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.booleans())
def test_relu_count_rule_on_random_architectures(d_in, r, d_out, bias):
    c = lie.count_laws(lie.relu_path_lifting(d_in, r, d_out, bias))
    assert c.N == lie.expected_count("relu", r=r) and c.gap == 0 and c.stable
    assert c.rank_dphi == c.D - r  # MPG-P13


@pytest.mark.parametrize("arch, N", [((1, 1, 1), 1), ((2, 2, 2), 3)])
def test_reference_rows_linear(arch, N):
    assert lie.count_laws(lie.linear_net(*arch)).N == N


def test_reference_rows_relu():
    assert lie.count_laws(lie.relu_path_lifting(5, 1)).N == 1
    assert lie.count_laws(lie.relu_path_lifting(2, 2, 1)).N == 2


def test_brackets_matter_mutation():
    """Dropping the bracket closure (counting D − rank ∂φ) overcounts linear laws: the count has teeth."""
    c = lie.count_laws(lie.linear_net(2, 2, 2))
    assert c.D - c.rank_dphi != lie.expected_count("linear", r=2)


def test_sanity_x1x2x3():
    x = sp.symbols("x1:4")
    c = lie.count_laws_fields(lie.gradient_fields([x[0] * x[1] * x[2]], x), x)
    assert (c.N, c.dim_lie) == (2, 1)
    for h in (x[2] ** 2 - x[0] ** 2, x[1] ** 2 - x[0] ** 2):  # the two known laws: ∇h ⊥ ∇φ
        grad_phi = [sp.diff(x[0] * x[1] * x[2], v) for v in x]
        assert sp.expand(sum(sp.diff(h, v) * g for v, g in zip(x, grad_phi))) == 0


def test_not_bilinear_is_refused():
    x = sp.symbols("x1:4")
    with pytest.raises(ValueError, match="not bilinear"):
        lie.count_laws(lie.Factorisation("cubic", (x[0] * x[1] * x[2],), x))
