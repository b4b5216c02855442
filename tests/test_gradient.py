"""The engine's one gradient vs torch autograd and a small numpy oracle (float64, relu'(0) = 0)."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from numerics import model
from numerics.model import loss_and_grad


def numpy_oracle(W, a, X, y, loss):
    """Loops over samples and neurons; relu'(0) = 0 written out."""
    n, m = X.shape[0], W.shape[0]
    vector = a.ndim == 2
    gW, ga, L = np.zeros_like(W), np.zeros_like(a), 0.0
    for k in range(n):
        z = W @ X[k]
        act = np.where(z > 0, z, 0.0)
        dact = np.where(z > 0, 1.0, 0.0)  # relu'(0) := 0
        h = act @ a
        if loss == "square":
            r = h - y[k]
            L += 0.5 * float(np.sum(r * r)) / n
            e = -r
        else:
            L += np.log1p(np.exp(-y[k] * h)) / n
            e = y[k] / (1 + np.exp(y[k] * h))
        for j in range(m):
            ga[j] -= e * act[j] / n
            gW[j] -= (np.dot(a[j], e) if vector else a[j] * e) * dact[j] * X[k] / n
    return L, gW, ga


def autograd(W, a, X, y, loss, activation):
    W, a = W.clone().requires_grad_(True), a.clone().requires_grad_(True)
    h = model.forward(W, a, X, activation)
    L = model.error_signal(h, y, loss)[0]
    L.sum().backward()
    return L.detach(), W.grad, a.grad


@st.composite
def problems(draw, allow_vector=True, allow_seeds=True):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 6))
    m = draw(st.integers(1, 8))
    k = draw(st.sampled_from([None, 2, 3])) if allow_vector else None
    loss = "square" if k else draw(st.sampled_from(["square", "logistic"]))
    seeds = draw(st.sampled_from([None, 3])) if allow_seeds else None
    bias = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    X = rng.standard_normal((n, d))
    if bias:
        X = np.hstack([X, np.ones((n, 1))])
    y = rng.standard_normal((n, k) if k else n)
    if loss == "logistic":
        y = np.sign(y) + (y == 0)
    lead = (seeds,) if seeds else ()
    W = rng.standard_normal((*lead, m, X.shape[1]))
    a = rng.standard_normal((*lead, m, k) if k else (*lead, m))
    return [torch.tensor(v) for v in (W, a, X, y)] + [loss]


def _close(x, y, rtol=1e-10):
    scale = max(1.0, float(torch.as_tensor(y).abs().max()))
    assert float((torch.as_tensor(x) - torch.as_tensor(y)).abs().max()) <= rtol * scale


@given(problems(), st.sampled_from(["relu", "gelu"]))
def test_gradient_matches_autograd(prob, activation):
    W, a, X, y, loss = prob
    lg = loss_and_grad(W, a, X, y, loss, activation)
    L, gW, ga = autograd(W, a, X, y, loss, activation)
    _close(lg.loss, L)
    _close(lg.grad_W, gW)
    _close(lg.grad_a, ga)


@given(problems(allow_seeds=False))
def test_gradient_matches_numpy_oracle(prob):
    W, a, X, y, loss = prob
    lg = loss_and_grad(W, a, X, y, loss)
    L, gW, ga = numpy_oracle(W.numpy(), a.numpy(), X.numpy(), y.numpy(), loss)
    _close(lg.loss, L)
    _close(lg.grad_W, torch.tensor(gW))
    _close(lg.grad_a, torch.tensor(ga))


def test_relu_derivative_at_zero_is_zero():
    """A neuron with w·x_k = 0 exactly gets no gradient through x_k (F2.1, ζ = 0)."""
    X = torch.tensor([[1.0, -1.0], [2.0, 1.0]])
    W = torch.tensor([[1.0, 1.0]])  # w·x_1 = 0, w·x_2 = 3
    a = torch.tensor([0.5])
    y = torch.tensor([1.0, 0.0])
    lg = loss_and_grad(W, a, X, y)
    e2 = -(0.5 * 3.0 - 0.0)
    assert torch.allclose(lg.grad_W, torch.tensor([[-(0.5 * e2 * 2.0) / 2, -(0.5 * e2 * 1.0) / 2]]), atol=0)
    _, gW, _ = numpy_oracle(W.numpy(), a.numpy(), X.numpy(), y.numpy(), "square")
    assert np.array_equal(gW, lg.grad_W.numpy())


def test_seed_axis_equals_loop():
    rng = np.random.default_rng(0)
    W = torch.tensor(rng.standard_normal((4, 5, 3)))
    a = torch.tensor(rng.standard_normal((4, 5)))
    X, y = torch.tensor(rng.standard_normal((7, 3))), torch.tensor(rng.standard_normal(7))
    batched = loss_and_grad(W, a, X, y)
    for s in range(4):
        single = loss_and_grad(W[s], a[s], X, y)
        assert torch.equal(batched.loss[s], single.loss) or torch.allclose(batched.loss[s], single.loss, rtol=1e-14)
        assert torch.allclose(batched.grad_W[s], single.grad_W, rtol=1e-13, atol=1e-15)


def test_bad_options_raise_clear_errors():
    W, a, X, y = torch.ones(2, 3), torch.ones(2), torch.ones(4, 3), torch.ones(4)
    with pytest.raises(ValueError, match="activation="):
        loss_and_grad(W, a, X, y, activation="tanh")
    with pytest.raises(ValueError, match="loss="):
        loss_and_grad(W, a, X, y, loss="hinge")
