"""The compiled GD kernel (numerics.kernel): the same gradient and the same run semantics as the torch engine."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from kernel_cases import assert_same_records, problem
from numerics import data, kernel, model, threads
from numerics.train import DivergenceError, stable_lr
from numerics.validate import InputError

pytestmark = pytest.mark.skipif(not kernel.available(), reason="numba does not import")


def _oracle(W, a, X, y, loss):
    """numpy oracle of F1.1 (loss, ∂L/∂W, ∂L/∂a), written from the formulas, relu'(0) = 0."""
    Z = X @ W.T
    H = np.maximum(Z, 0.0)
    h = H @ a
    n = len(X)
    if loss == "square":
        L = 0.5 * np.sum((h - y) ** 2) / n
        r = (h - y) / n
    else:
        u = -y * h
        L = np.sum(np.where(u > 20.0, u, np.log1p(np.exp(np.minimum(u, 20.0))))) / n
        r = -y / (1.0 + np.exp(-u)) / n
    G = (Z > 0).astype(float)
    if a.ndim == 1:
        return L, a[:, None] * ((G * r[:, None]).T @ X), H.T @ r
    return L, (G * (r @ a.T)).T @ X, H.T @ r


def _problem(n, m, d, k, loss, bias, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if bias:
        X = model.with_bias(torch.tensor(X)).numpy()
    y = rng.standard_normal((n, k) if k else n)
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    W = rng.standard_normal((m, X.shape[1])) * 0.5
    a = rng.standard_normal((m, k) if k else m) * 0.5
    return X, y, W, a


shapes = st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(1, 7))
variants = st.sampled_from([(None, "square"), (None, "logistic"), (2, "square"), (1, "square")])


@settings(max_examples=25)
@given(shapes, variants, st.booleans(), st.integers(0, 10_000))
def test_kernel_gradient_equals_engine_and_oracle(shape, variant, bias, seed):
    n, m, d = shape
    k, loss = variant
    X, y, W, a = _problem(n, m, d, k, loss, bias, seed)
    L, gW, ga = kernel.loss_and_grad(W, a, X, y, loss)
    lg = model.loss_and_grad(torch.tensor(W), torch.tensor(a), torch.tensor(X), torch.tensor(y), loss)
    Lo, gWo, gao = _oracle(W, a, X, y, loss)
    for got, eng, ora in ((L, lg.loss.item(), Lo), (gW, lg.grad_W.numpy(), gWo), (ga, lg.grad_a.numpy(), gao)):
        scale = 1.0 + np.max(np.abs(ora))
        assert np.max(np.abs(got - eng)) <= 1e-12 * scale and np.max(np.abs(got - ora)) <= 1e-12 * scale


def _assert_k_steps_match_torch(X, y, W, a, loss, K, lr=0.05):
    """K kernel steps from (W, a) equal K torch steps of `model.loss_and_grad` to ≤ 1e-12 (relative to the scale)."""
    Wk, ak = W.copy(), a.copy()
    assert kernel.advance(X, y, Wk, ak, lr=lr, start=0, stop=K, loss=loss) == (kernel.REACHED, K)
    Wt, at, Xt, yt = (torch.tensor(v) for v in (W, a, X, y))
    for _ in range(K):
        lg = model.loss_and_grad(Wt, at, Xt, yt, loss)
        Wt.add_(lg.grad_W, alpha=-lr)
        at.add_(lg.grad_a, alpha=-lr)
    scale = 1.0 + np.max(np.abs(W)) + np.max(np.abs(a))
    assert np.max(np.abs(Wk - Wt.numpy())) <= 1e-12 * scale and np.max(np.abs(ak - at.numpy())) <= 1e-12 * scale


@settings(max_examples=15)
@given(shapes, variants, st.booleans(), st.integers(1, 40), st.integers(0, 10_000))
def test_kernel_k_steps_equal_k_torch_steps(shape, variant, bias, K, seed):
    n, m, d = shape
    k, loss = variant
    X, y, W, a = _problem(n, m, d, k, loss, bias, seed)
    _assert_k_steps_match_torch(X, y, W, a, loss, K)


@pytest.mark.parametrize("kw", [dict(), dict(record=("grads", "outputs"), record_at_times=(0.33,)),
                                dict(loss="logistic"), dict(bias=True), dict(k=2), dict(stop_tol=1e-6)])
def test_train_backends_give_the_same_trajectory(kw):
    X, y, W, a, kw = problem(kw, 12)
    kw.setdefault("stop_tol", 0.0)
    runs = [numerics.train(X, y, W, a, lr=0.05, steps=300, n_checkpoints=12, progress=False, backend=b, **kw)
            for b in ("torch", "kernel")]
    t, k = runs
    assert np.array_equal(t.step, k.step) and t.stopped_early == k.stopped_early
    np.testing.assert_allclose(k.W, t.W, rtol=0, atol=1e-11)
    assert_same_records(k, t)


def test_kernel_stops_early_and_diverges_at_the_torch_step():
    X, y = torch.randn(20, 5, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    W, a = torch.zeros(3, 5), torch.zeros(3)  # a saddle: zero gradient, stops after the first test
    tr = numerics.train(X, y, W, a, lr=0.1, steps=10_000, backend="kernel", progress=False)
    assert tr.stopped_early and tr.step[-1] == 1
    ds = data.gaussian_regression(n=20, d=5, seed=0)
    W, a = numerics.init_params(6, 5, scale=3.0, scheme="gaussian", seed=1)
    msgs = []
    for backend in ("torch", "kernel"):
        with pytest.raises(DivergenceError, match=r"lr=50.*smaller") as err:
            numerics.train(torch.tensor(ds.X) * 10, torch.tensor(ds.y), W, a, lr=50.0, steps=200, backend=backend)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_kernel_sign_flip_semantics_match():
    ds = data.stewart(n=40, seed=0)
    W, a = numerics.init_params(200, 2, scale=1.0, scheme="dominated", seed=0)
    with pytest.raises(numerics.SignFlipError, match=r"by step \d+ with lr=0.05"):
        numerics.train(ds.inputs, ds.y, W, a, lr=0.05, horizon=40.0, strict_signs=True, backend="kernel")
    with pytest.warns(RuntimeWarning, match="lr=0.05"):
        numerics.train(ds.inputs, ds.y, W, a, lr=0.05, horizon=40.0, backend="kernel", record_patterns=False)


def test_backend_choice_and_errors(monkeypatch):
    X, y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, dtype=torch.float64)
    W, a = numerics.init_params(4, 3, scale=0.5, seed=0)
    with pytest.raises(InputError, match="backend="):
        numerics.train(X, y, W, a, lr=0.1, steps=2, backend="jax")
    with pytest.raises(InputError, match="optimizer='adam'"):
        numerics.train(X, y, W, a, lr=0.1, steps=2, backend="kernel", optimizer="adam")
    with pytest.raises(InputError, match="float32"):
        numerics.train(X.float(), y.float(), W.float(), a.float(), lr=0.1, steps=2, backend="kernel")
    monkeypatch.setattr(kernel, "_compiled", lambda: None)  # numba missing
    assert numerics.train(X, y, W, a, lr=0.1, steps=3, progress=False).step[-1] == 3  # auto: silently torch
    with pytest.raises(InputError, match="pip install numba"):
        numerics.train(X, y, W, a, lr=0.1, steps=2, backend="kernel")


def test_divergence_hint_comes_from_the_curvature():
    """#17 item 4: at lr = 1e6 the hint is ~½ · 2/λ_max at init (not lr/4); GD starts stably at that step (the
    curvature grows along a run, so it is an upper guide, not a guarantee)."""
    ds = data.gaussian_regression(n=30, d=4, seed=3)
    X, y = torch.tensor(ds.X), torch.tensor(ds.y)
    W, a = numerics.init_params(10, 4, scale=0.5, scheme="gaussian", seed=3)
    bound = stable_lr(W, a, X, y)
    with pytest.raises(DivergenceError, match=r"2/λ_max ≈ .*e\.g\. lr=(\S+)") as err:
        numerics.train(X, y, W, a, lr=1e6, steps=50, progress=False)
    suggested = float(str(err.value).rsplit("lr=", 1)[1])
    assert suggested == pytest.approx(bound / 2, rel=0.05) and suggested < 1e3
    numerics.train(X, y, W, a, lr=suggested, steps=10, progress=False)  # no DivergenceError
    lg = model.loss_and_grad(W, a, X, y)  # power iteration agrees with the exact Hessian's top |eigenvalue|
    theta = torch.cat([W.reshape(-1), a]).requires_grad_(True)
    hess = torch.autograd.functional.hessian(
        lambda th: model.loss_value(th[:40].reshape(10, 4), th[40:], X, y), theta.detach())
    assert lg.loss.item() > 0 and 2 / np.abs(np.linalg.eigvalsh(hess.numpy())).max() == pytest.approx(bound, rel=0.05)


def test_thread_policy_and_apply():
    cores = __import__("os").cpu_count()
    assert threads.threads_for(3, 100, 2) == 1
    assert 1 <= threads.threads_for(10_000, 10_000, 100) <= cores
    assert threads.threads_for(10_000, 10_000, 100, workers=cores) == 1
    before = torch.get_num_threads()
    with threads.apply(threads=3) as k:
        assert k == 3 and torch.get_num_threads() == 3
    assert torch.get_num_threads() == before
    with threads.apply(threads=None):
        assert torch.get_num_threads() == before
    for bad in (0, "many", 2.5):
        with pytest.raises(InputError, match="threads"), threads.apply(3, 3, 3, threads=bad):
            pass
    with pytest.raises(InputError, match="workers"):
        threads.threads_for(3, 3, 3, workers=0)
    assert set(threads.crossover()) >= {"kernel_max_nmd", "kernel_small_d", "kernel_small_d_max_nm", "threads_min_nmd"}


def test_train_notifies_progress_at_each_checkpoint():
    from numerics import progress

    X, y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, dtype=torch.float64)
    W, a = numerics.init_params(4, 3, scale=0.5, seed=0)
    for backend in ("torch", "kernel"):
        seen = []
        with progress.listen(lambda desc, done, total: seen.append((desc, done, total))):
            tr = numerics.train(X, y, W, a, lr=0.01, steps=50, n_checkpoints=5, stop_tol=0, desc="fit",
                                backend=backend)
        assert seen == [("fit", int(s), 50) for s in tr.step]


def _seeded_problem(S, n, m, d, k, loss, bias, shared, seed):
    """S networks on one shared data set (X (n, d)) or on S data sets (X (S, n, d))."""
    rng = np.random.default_rng(seed)
    lead = () if shared else (S,)
    X = rng.standard_normal(lead + (n, d))
    if bias:
        X = model.with_bias(torch.tensor(X)).numpy()
    y = rng.standard_normal(lead + ((n, k) if k else (n,)))
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    W = rng.standard_normal((S, m, X.shape[-1])) * 0.5
    a = rng.standard_normal((S, m, k) if k else (S, m)) * 0.5
    return X, y, W, a


seeded = st.tuples(st.integers(1, 5), st.integers(1, 12), st.integers(1, 12), st.integers(1, 4))


@settings(max_examples=12)
@given(seeded, variants, st.booleans(), st.booleans(), st.integers(1, 40), st.integers(0, 10_000))
def test_seeded_kernel_k_steps_equal_torch_steps(shape, variant, bias, shared, K, seed):
    """Per step: K lock-step kernel steps on S seeds equal K batched torch steps to ≤ 1e-12."""
    S, n, m, d = shape
    k, loss = variant
    X, y, W, a = _seeded_problem(S, n, m, d, k, loss, bias, shared, seed)
    _assert_k_steps_match_torch(X, y, W, a, loss, K)


@settings(max_examples=10)
@given(seeded, variants, st.booleans(), st.booleans(), st.sampled_from([0.0, 1e-3, 1e-5]), st.integers(0, 10_000))
def test_seeded_train_backends_give_the_same_run(shape, variant, bias, shared, stop_tol, seed):
    """Whole run: steps, stopped_early, W (≤ 1e-11), loss and patterns agree between the torch and kernel backends
    with a seed axis, shared or per-seed data, the convergence test across seeds included."""
    S, n, m, d = shape
    k, loss = variant
    X, y, W, a = _seeded_problem(S, n, m, d, k, loss, bias, shared, seed)
    runs = [numerics.train(X, y, torch.tensor(W), torch.tensor(a), lr=0.05, steps=400, loss=loss, n_checkpoints=8,
                           stop_tol=stop_tol, progress=False, backend=b, record=("grads",))
            for b in ("torch", "kernel")]
    t, kr = runs
    assert np.array_equal(t.step, kr.step) and t.stopped_early == kr.stopped_early
    np.testing.assert_allclose(kr.W, t.W, rtol=0, atol=1e-11)
    np.testing.assert_allclose(kr.a, t.a, rtol=0, atol=1e-11)
    np.testing.assert_allclose(kr.loss, t.loss, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(kr.grad_W, t.grad_W, rtol=0, atol=1e-11)
    assert np.array_equal(kr.patterns, t.patterns)


def test_seeded_convergence_and_divergence_are_across_seeds():
    """A seed at a saddle does not stop the run while another still moves; one diverging seed fails the run at the
    torch step with the torch message."""
    rng = np.random.default_rng(0)
    X, y = torch.tensor(rng.standard_normal((20, 3))), torch.tensor(rng.standard_normal(20))
    W, a = torch.tensor(rng.standard_normal((2, 4, 3))) * 0.5, torch.tensor(rng.standard_normal((2, 4))) * 0.5
    W[0], a[0] = 0.0, 0.0  # seed 0 converged from step 0
    runs = [numerics.train(X, y, W, a, lr=0.05, steps=3000, stop_tol=1e-3, progress=False, backend=b)
            for b in ("torch", "kernel")]
    assert runs[0].stopped_early and runs[1].stopped_early and runs[0].step[-1] == runs[1].step[-1] > 16
    Xs = torch.stack([X, X * 10])  # per-seed data: seed 1 diverges at lr = 50
    W, a = numerics.init_params(6, 3, scale=3.0, scheme="gaussian", seed=1, n_seeds=2)
    msgs = []
    for backend in ("torch", "kernel"):
        with pytest.raises(DivergenceError, match=r"lr=50") as err:
            numerics.train(Xs, torch.stack([y, y]), W, a, lr=50.0, steps=200, progress=False, backend=backend)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_auto_backend_takes_the_kernel_for_small_seeded_runs(monkeypatch):
    import importlib

    train_mod = importlib.import_module("numerics.train")

    W, a = numerics.init_params(100, 2, scale=0.01, scheme="balanced", seed=0, n_seeds=3)
    X = torch.randn(3, 2, dtype=torch.float64)
    assert train_mod._use_kernel("auto", W, a, X, "square", "relu", "gd")  # failure_rate's shape
    big_W, big_a = numerics.init_params(2000, 64, scale=0.1, seed=0, n_seeds=8)
    assert not train_mod._use_kernel("auto", big_W, big_a, torch.randn(200, 64, dtype=torch.float64), "square",
                                     "relu", "gd")  # n·(S·m)·d above the crossover
    y = torch.randn(3, dtype=torch.float64)
    calls = []
    real = kernel.advance
    monkeypatch.setattr(kernel, "advance", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    numerics.train(X, y, W, a, lr=0.05, steps=20, progress=False)
    assert calls
    calls.clear()
    monkeypatch.setenv("NUMERICS_BACKEND", "torch")  # the override of "auto"
    numerics.train(X, y, W, a, lr=0.05, steps=20, progress=False)
    assert not calls
    monkeypatch.setenv("NUMERICS_BACKEND", "jax")
    with pytest.raises(InputError, match="NUMERICS_BACKEND='jax'"):
        numerics.train(X, y, W, a, lr=0.05, steps=20, progress=False)
    with pytest.raises(InputError, match="one network on one data set"):
        kernel.loss_and_grad(W.numpy(), a.numpy(), X.numpy(), y.numpy())
