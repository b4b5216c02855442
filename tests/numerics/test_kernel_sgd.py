"""The compiled mini-batch step (numerics.kernel.advance_sgd): the torch SGD step and a numpy oracle on the same batch
sequence, and `numerics.train(optimizer="sgd")` giving the same run on both backends."""
import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from kernel_cases import assert_same_records, problem
from numerics import data, kernel, model
from numerics.validate import InputError

pytestmark = pytest.mark.skipif(not kernel.available(), reason="numba does not import")
train_mod = importlib.import_module("numerics.train")


def _oracle_grad(W, a, X, y, loss):
    """numpy ∂L/∂W, ∂L/∂a of F1.1 on the batch (X, y), written from the formulas, relu'(0) = 0."""
    Z = X @ W.T
    H = np.maximum(Z, 0.0)
    h = H @ a
    r = (h - y) / len(X) if loss == "square" else -y / (1.0 + np.exp(y * h)) / len(X)
    G = (Z > 0).astype(float)
    if a.ndim == 1:
        return a[:, None] * ((G * r[:, None]).T @ X), H.T @ r
    return (G * (r @ a.T)).T @ X, H.T @ r


def _problem(n, m, d, k, loss, seeds, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal((n, k) if k else n)
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    lead = (seeds,) if seeds else ()
    W = rng.standard_normal(lead + (m, d)) / np.sqrt(d)
    a = rng.standard_normal(lead + ((m, k) if k else (m,))) / np.sqrt(m)
    return X, y, W, a


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 30), st.integers(1, 700), st.integers(1, 9),
       st.sampled_from([(None, "square"), (None, "logistic"), (2, "square"), (1, "square")]),
       st.sampled_from([0, 2]), st.integers(1, 12), st.integers(0, 10_000))
def test_sgd_steps_equal_torch_steps_and_oracle_on_the_same_batches(n, m, d, variant, seeds, K, seed):
    k, loss = variant
    X, y, W, a = _problem(n, m, d, k, loss, seeds, seed)
    rng = np.random.default_rng(seed + 1)
    b = int(rng.integers(1, n + 1))
    idx = np.stack([rng.permutation(n)[:b] for _ in range(K)])
    lr = 0.02
    Wk, ak = W.copy(), a.copy()
    kernel.advance_sgd(X, y, Wk, ak, lr=lr, indices=idx, loss=loss)
    Wt, at, Xt, yt = (torch.tensor(v) for v in (W, a, X, y))
    Wo, ao = W.copy(), a.copy()
    for q in range(K):
        i = torch.tensor(idx[q])
        lg = model.loss_and_grad(Wt, at, Xt[i], yt[i], loss)
        Wt.add_(lg.grad_W, alpha=-lr)
        at.add_(lg.grad_a, alpha=-lr)
        for s in range(seeds or 1):
            Ws, as_ = (Wo[s], ao[s]) if seeds else (Wo, ao)
            gW, ga = _oracle_grad(Ws, as_, X[idx[q]], y[idx[q]], loss)
            Ws -= lr * gW
            as_ -= lr * ga
    for got, ref in ((Wk, Wt.numpy()), (ak, at.numpy()), (Wk, Wo), (ak, ao)):
        assert np.max(np.abs(got - ref)) <= 1e-12 * (1.0 + np.max(np.abs(ref)))  # relative to the run's scale


@pytest.mark.parametrize("kw", [dict(), dict(loss="logistic"), dict(k=2), dict(bias=True), dict(seeds=3),
                                dict(batch_size=1), dict(batch_size=25), dict(record=("grads", "outputs"))])
def test_train_sgd_backends_give_the_same_run(kw):
    X, y, W, a, kw = problem(kw, 300)
    runs = [numerics.train(X, y, W, a, lr=0.05, steps=400, n_checkpoints=12, optimizer="sgd", seed_batch=7,
                           progress=False, backend=b, **kw) for b in ("torch", "kernel")]
    t, k = runs
    assert np.array_equal(t.step, k.step) and not k.stopped_early
    np.testing.assert_allclose(k.W, t.W, rtol=0, atol=1e-12 * (1 + np.abs(t.W).max()))
    np.testing.assert_allclose(k.a, t.a, rtol=0, atol=1e-12 * (1 + np.abs(t.a).max()))
    assert_same_records(k, t)


def test_sgd_divergence_is_reported_at_the_same_checkpoint():
    ds = data.gaussian_regression(n=20, d=5, seed=0)
    W, a = numerics.init_params(6, 5, scale=3.0, scheme="gaussian", seed=1)
    msgs = []
    for backend in ("torch", "kernel"):
        with pytest.raises(numerics.DivergenceError) as err:
            numerics.train(torch.tensor(ds.X) * 10, torch.tensor(ds.y), W, a, lr=50.0, steps=200, optimizer="sgd",
                           backend=backend, progress=False)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_auto_backend_routes_small_batches_to_the_kernel(monkeypatch):
    W, a = numerics.init_params(10_000, 6, scale=0.1, seed=0)  # BF-ST Fig. 1: m = 10⁴, d = 5 + bias
    X = torch.randn(1280, 6, dtype=torch.float64)
    assert train_mod._use_kernel("auto", W, a, X, "square", "relu", "sgd", 16)  # BF-ST Fig. 1's small batches
    assert not train_mod._use_kernel("auto", W, a, X, "square", "relu", "sgd", 128)  # torch's GEMMs as fast there
    W64, a64 = numerics.init_params(2000, 64, scale=0.1, seed=0)
    assert not train_mod._use_kernel("auto", W64, a64, torch.randn(200, 64, dtype=torch.float64), "square", "relu",
                                     "sgd", 20)
    assert not train_mod._use_kernel("auto", W, a, X, "square", "relu", "adam", None)
    calls = []
    real = kernel.advance_sgd
    monkeypatch.setattr(kernel, "advance_sgd", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    numerics.train(X[:40], X[:40, 0], W, a, lr=0.01, steps=30, optimizer="sgd", progress=False)
    assert calls


def test_advance_sgd_rejects_bad_indices_and_per_seed_data():
    X, y, W, a = _problem(10, 5, 2, None, "square", 0, 0)
    with pytest.raises(InputError, match="indices"):
        kernel.advance_sgd(X, y, W, a, lr=0.1, indices=np.array([[0, 10]]))
    with pytest.raises(InputError, match="indices"):
        kernel.advance_sgd(X, y, W, a, lr=0.1, indices=np.array([0, 1]))
    with pytest.raises(InputError, match="one data set"):
        kernel.advance_sgd(np.stack([X, X]), np.stack([y, y]), np.stack([W, W]), np.stack([a, a]), lr=0.1,
                           indices=np.array([[0]]))
