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


@given(problems(), st.integers(1, 12))
def test_row_blocks_do_not_change_the_gradient(prob, block_rows):
    """The fused step sums per-block contributions; any block size gives the one-block result (to rounding)."""
    W, a, X, y, loss = prob
    whole = loss_and_grad(W, a, X, y, loss)
    blocked = loss_and_grad(W, a, X, y, loss, block_rows=block_rows)
    _close(blocked.loss, whole.loss, rtol=1e-12)
    _close(blocked.grad_W, whole.grad_W, rtol=1e-12)
    _close(blocked.grad_a, whole.grad_a, rtol=1e-12)


@given(problems(allow_vector=False), st.integers(0, 2**31 - 1))
def test_fixed_gating_is_the_gradient_of_the_gated_loss(prob, seed):
    """gates=D: σ(z) = D·z, σ'(z) = D for any fixed 0/1 pattern D, checked against autograd of that loss."""
    W, a, X, y, loss = prob
    D = torch.tensor(np.random.default_rng(seed).integers(0, 2, (X.shape[0], W.shape[-2])), dtype=W.dtype)
    lg = loss_and_grad(W, a, X, y, loss, gates=D, block_rows=max(1, X.shape[0] // 2))
    Wg, ag = W.clone().requires_grad_(True), a.clone().requires_grad_(True)
    h = ((X @ Wg.mT) * D @ ag.unsqueeze(-1)).squeeze(-1)
    L = model.error_signal(h, y, loss)[0]
    L.sum().backward()
    _close(lg.loss, L.detach())
    _close(lg.grad_W, Wg.grad)
    _close(lg.grad_a, ag.grad)
    current = (X @ W.mT > 0).to(W.dtype)  # the pattern of θ itself gives the ordinary gradient
    _close(loss_and_grad(W, a, X, y, loss, gates=current).grad_W, loss_and_grad(W, a, X, y, loss).grad_W)


def test_common_case_fast_path_equals_general_path():
    """One network, scalar output, square loss, ReLU takes a shorter path; a seed axis of 1 takes the general one."""
    rng = np.random.default_rng(3)
    W, a = torch.tensor(rng.standard_normal((40, 6))), torch.tensor(rng.standard_normal(40))
    X, y = torch.tensor(rng.standard_normal((30, 6))), torch.tensor(rng.standard_normal(30))
    fast, general = loss_and_grad(W, a, X, y), loss_and_grad(W[None], a[None], X, y)
    _close(fast.loss, general.loss[0], rtol=1e-14)
    _close(fast.grad_W, general.grad_W[0], rtol=1e-14)
    _close(fast.grad_a, general.grad_a[0], rtol=1e-14)


@given(problems(allow_vector=False), st.integers(1, 4))
def test_seed_batched_path_equals_the_general_path(prob, seeds):
    """S networks on one data set take the wide-layer path; the fixed-gating form of the same pattern takes the
    general one: the two agree for any problem and seed count."""
    W, a, X, y, loss = prob
    W = W if W.dim() == 3 else W.expand(seeds, *W.shape).clone()
    a = a if a.dim() == 2 else a.expand(seeds, *a.shape).clone()
    fast = loss_and_grad(W, a, X, y, loss)
    general = loss_and_grad(W, a, X, y, loss, gates=(X @ W.mT > 0))
    _close(fast.loss, general.loss, rtol=1e-13)
    _close(fast.grad_W, general.grad_W, rtol=1e-13)
    _close(fast.grad_a, general.grad_a, rtol=1e-13)


def test_float32_runs_in_float32_and_tracks_float64():
    rng = np.random.default_rng(4)
    W, a, X, y = (torch.tensor(rng.standard_normal(s)) for s in ((20, 5), (20,), (50, 5), (50,)))
    lg64 = loss_and_grad(W, a, X, y)
    lg32 = loss_and_grad(W.float(), a.float(), X.float(), y.float())
    assert lg32.grad_W.dtype == torch.float32 and lg32.loss.dtype == torch.float32
    _close(lg32.grad_W.double(), lg64.grad_W, rtol=1e-5)


def test_bad_block_rows_and_gates_raise():
    W, a, X, y = torch.ones(2, 3), torch.ones(2), torch.ones(4, 3), torch.ones(4)
    with pytest.raises(ValueError, match="block_rows"):
        loss_and_grad(W, a, X, y, block_rows=-1)
    with pytest.raises(ValueError, match="gates="):
        loss_and_grad(W, a, X, y, activation="gelu", gates=torch.ones(4, 2))


@pytest.mark.parametrize("shared, loss, k", [(True, "square", None), (False, "square", None),
                                             (True, "logistic", None), (False, "square", 2)])
def test_seed_loop_equals_the_batched_blocks(monkeypatch, shared, loss, k):
    """Above SEED_LOOP_ELEMENTS a CPU seed axis steps the networks one by one; both routes are the same formula."""
    from numerics import init_params, model

    S, n, m, d = 3, 60, 40, 4
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, d, generator=g, dtype=torch.float64) if shared else torch.randn(S, n, d, generator=g,
                                                                                          dtype=torch.float64)
    shape = X.shape[:-1] + ((k,) if k else ())
    y = torch.randn(shape, generator=g, dtype=torch.float64)
    y = torch.sign(y) if loss == "logistic" else y
    W, a = init_params(m, d, scale=0.5, k=k, seed=0, n_seeds=S)
    monkeypatch.setattr(model, "SEED_LOOP_ELEMENTS", 0)
    looped = model.loss_and_grad(W, a, X, y, loss)
    monkeypatch.setattr(model, "SEED_LOOP_ELEMENTS", 1 << 40)
    batched = model.loss_and_grad(W, a, X, y, loss)
    for key in ("loss", "grad_W", "grad_a"):
        u, v = getattr(looped, key), getattr(batched, key)
        assert u.shape == v.shape
        assert torch.allclose(u, v, rtol=1e-12, atol=1e-15)
