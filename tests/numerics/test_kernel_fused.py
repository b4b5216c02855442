"""The fused one-sweep kernel step (numerics.kernel_fused_jit, kernel_tiles_jit): the torch step and the two-pass
kernels on the same runs, with the same tests (divergence, convergence) at the same steps."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import kernel, model
from numerics.validate import InputError

pytestmark = pytest.mark.skipif(not kernel.available(), reason="numba does not import")


def _problem(n, m, d, loss, seeds, per_seed, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    lead = (seeds,) if seeds else ()
    X = rng.standard_normal(((seeds,) if per_seed else ()) + (n, d))
    y = rng.standard_normal(X.shape[:-1])
    if loss == "logistic":
        y = np.where(y >= 0, 1.0, -1.0)
    W = rng.standard_normal(lead + (m, d)) * scale
    a = rng.standard_normal(lead + (m,)) * scale / np.sqrt(m)
    return X, y, W, a


def _torch_steps(X, y, W, a, loss, lr, batches):
    """The torch engine's steps on the given sample batches (None: the full batch), per seed."""
    out_W, out_a = W.copy(), a.copy()
    for s in range(W.shape[0] if W.ndim == 3 else 1):
        Ws, as_ = (out_W[s], out_a[s]) if W.ndim == 3 else (out_W, out_a)
        Xs, ys = (X[s], y[s]) if X.ndim == 3 else (X, y)
        Wt, at = torch.tensor(Ws), torch.tensor(as_)
        for idx in batches:
            i = slice(None) if idx is None else torch.tensor(idx)
            lg = model.loss_and_grad(Wt, at, torch.tensor(Xs)[i], torch.tensor(ys)[i], loss)
            Wt.add_(lg.grad_W, alpha=-lr)
            at.add_(lg.grad_a, alpha=-lr)
        Ws[...], as_[...] = Wt.numpy(), at.numpy()
    return out_W, out_a


def _close(got, ref):
    return np.max(np.abs(got - ref)) <= 1e-12 * (1.0 + np.max(np.abs(ref)))


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 4), st.integers(1, 700), st.sampled_from([2, 3, 5]), st.sampled_from(["square", "logistic"]),
       st.sampled_from([(0, False), (3, False), (2, True)]), st.integers(1, 40), st.integers(0, 10_000))
def test_fused_gd_steps_equal_torch_steps(n, m, d, loss, seeding, K, seed):
    seeds, per_seed = seeding
    X, y, W, a = _problem(n, m, d, loss, seeds, per_seed, seed)
    Wk, ak = W.copy(), a.copy()
    assert kernel.advance(X, y, Wk, ak, lr=0.05, start=0, stop=K, loss=loss, fused=True) == (kernel.REACHED, K)
    Wt, at = _torch_steps(X, y, W, a, loss, 0.05, [None] * K)
    assert _close(Wk, Wt) and _close(ak, at)


@pytest.mark.parametrize("case", ["stop", "diverge", "odd start"])
def test_fused_gd_tests_stop_and_diverge_at_the_two_pass_kernel_steps(case):
    X, y, W, a = _problem(3, 1500, 2, "square", 3, False, 1, scale=3.0 if case == "diverge" else 0.5)
    lr, tol, start = {"stop": (0.01, 1e-7, 0), "diverge": (40.0, 0.0, 0), "odd start": (0.01, 3e-8, 5)}[case]
    if case == "diverge":
        X = X * 10
    runs = []
    for fused in (False, True):
        Wk, ak = W.copy(), a.copy()
        runs.append((kernel.advance(X, y, Wk, ak, lr=lr, start=start, stop=3000, stop_tol=tol, check_every=16,
                                    fused=fused), Wk, ak))
    (st0, W0, a0), (st1, W1, a1) = runs
    assert st0 == st1 and st0[0] == {"stop": kernel.STOPPED, "diverge": kernel.DIVERGED,
                                     "odd start": kernel.STOPPED}[case]
    assert 16 <= st0[1] < 3000  # stopped (or diverged) at a later test step, not at the first
    if case != "diverge":
        assert _close(W1, W0) and _close(a1, a0)


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 16), st.integers(1, 600), st.sampled_from([2, 5]), st.sampled_from(["square", "logistic"]),
       st.sampled_from([0, 2]), st.integers(1, 10), st.integers(0, 10_000))
def test_fused_sgd_steps_equal_torch_and_the_two_pass_kernel(b, m, d, loss, seeds, K, seed):
    X, y, W, a = _problem(b + 5, m, d, loss, seeds, False, seed)
    rng = np.random.default_rng(seed + 1)
    idx = np.stack([rng.permutation(b + 5)[:b] for _ in range(K)])
    got = {}
    for fused in (True, False):
        Wk, ak = W.copy(), a.copy()
        kernel.advance_sgd(X, y, Wk, ak, lr=0.02, indices=idx, loss=loss, fused=fused)
        got[fused] = Wk, ak
    Wt, at = _torch_steps(X, y, W, a, loss, 0.02, list(idx))
    for Wk, ak in got.values():
        assert _close(Wk, Wt) and _close(ak, at)


def test_fused_rejects_what_it_does_not_do_and_measures_a_copy():
    X, y, W, a = _problem(5, 10, 2, "square", 0, False, 0)
    with pytest.raises(InputError, match="n ≤ 4"):
        kernel.advance(X, y, W, a, lr=0.1, start=0, stop=2, fused=True)
    with pytest.raises(InputError, match="batches of ≤ 16"):
        kernel.advance_sgd(np.ones((20, 2)), np.ones(20), W, a, lr=0.1, indices=np.arange(17)[None], fused=True)
    with pytest.raises(InputError, match="scalar output"):
        kernel.advance_sgd(X, np.ones((5, 2)), W, np.ones((10, 2)), lr=0.1, indices=np.array([[0]]), fused=True)
    assert kernel.copy_bandwidth(1 << 14, repeats=1) > 0
