"""F1.1, F1.2, F3.1, F3.2: symbolic derivation verified, mutated claims rejected, numerics agree with the engine."""
import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.model import loss_and_grad
from theory.formula import lambdify
from theory.network import TwoLayerNetwork, drift_order, gd_defect_formula, is_zero, sign_frozen


@settings(max_examples=4)
@given(st.integers(1, 2), st.integers(1, 3), st.sampled_from([1, 2]), st.booleans())
def test_derivations_hold_for_small_architectures(d, n, k, bias):
    assert all(TwoLayerNetwork(d=d, n=n, k=k, bias=bias).verify().values())


def test_logistic_derivation():
    assert all(TwoLayerNetwork(d=2, n=2, loss="logistic").verify().values())


def test_mutated_claims_are_rejected():
    net = TwoLayerNetwork(d=2, n=2)
    M = net.correlation()
    assert not is_zero(net.grad_w - (-M.T))  # missing factor a
    assert not is_zero(net.grad_a + net.claimed_grad_a(M))  # wrong sign
    assert not is_zero(net.gd_step_change() - net.gd_defect_claim().subs(net.eta ** 2, net.eta))  # wrong exponent
    assert not is_zero(net.conserved_rate() + 1)


def test_drift_order_from_defect():
    f = gd_defect_formula()
    eta = f.args[0]
    assert drift_order(f) == 1
    assert drift_order(dataclasses.replace(f, rhs=f.rhs.subs(eta ** 2, eta ** 3))) == 2  # an η³ defect


def test_sign_frozen_rule():
    delta0, scale = np.array([0.5, 0.0, -1e-14, -0.1]), np.ones(4)
    assert sign_frozen(delta0, scale).tolist() == [True, True, True, False]  # balanced up to round-off counts


@settings(max_examples=5)
@given(st.integers(0, 10_000), st.booleans())
def test_symbolic_gradient_equals_engine(seed, bias):
    """Lambdify the derived ∂L/∂θ of one neuron (others enter via c_k) and compare with the engine."""
    net = TwoLayerNetwork(d=2, n=3, bias=bias)
    rng = np.random.default_rng(seed)
    m = 3
    X = rng.standard_normal((3, 2))
    Xt = np.hstack([X, np.ones((3, 1))]) if bias else X
    W, a, y = rng.standard_normal((m, Xt.shape[1])), rng.standard_normal(m), rng.standard_normal(3)
    lg = loss_and_grad(*(torch.tensor(v) for v in (W, a, Xt, y)))
    args = [*net.w, *net.a, *sp.Matrix(net.X[:, : net.d]), *net.y, *net.c]
    f = lambdify(args, net.grad_w.col_join(net.grad_a), "numpy")
    for j in range(m):
        others = np.maximum(Xt @ W.T, 0) @ a - np.maximum(Xt @ W[j], 0) * a[j]
        vals = [*W[j], a[j], *X.reshape(-1), *y, *others]
        got = np.asarray(f(*vals), float).reshape(-1)
        want = np.concatenate([lg.grad_W[j].numpy(), [lg.grad_a[j].item()]])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_torch_and_numpy_exports_agree():
    net = TwoLayerNetwork(d=2, n=2)
    args = [*net.w, *net.a, *sp.Matrix(net.X), *net.y, *net.c]
    vals = np.random.default_rng(1).standard_normal((len(args), 7))
    vals[0, :3] = 0.0  # hit the kink: relu'(0) = 0 in both
    f_np = lambdify(args, net.loss, "numpy")
    f_t = lambdify(args, net.loss, "torch")
    np.testing.assert_allclose(f_np(*vals), f_t(*torch.tensor(vals)).numpy(), rtol=1e-14)
    g_np = lambdify(args, net.grad_w, "numpy")(*vals)
    g_t = lambdify(args, net.grad_w, "torch")(*torch.tensor(vals)).numpy()
    np.testing.assert_allclose(g_np, g_t, rtol=1e-14)


def test_formula_exports():
    f = gd_defect_formula()
    assert "eta" in f.latex() and f(0.1, 2.0, 1.0) == pytest.approx(0.01)
    assert float(f.numeric("torch")(torch.tensor(0.1), torch.tensor(2.0), torch.tensor(1.0))) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="backend"):
        f.numeric("jax")
