"""A compiled multi-step full-batch GD kernel for small shapes (numba; a second implementation of F1.1).

At small n·m the engine's step spends ~40 µs in Python and torch dispatch while the arithmetic needs < 1 µs. This
kernel runs K GD steps per call, between two checkpoints of `numerics.train`, in one compiled loop:

    Z = X Wᵀ,  H = relu(Z),  h = H a,
    square:   L = (1/2n) Σ_k ‖h_k − y_k‖²,        r_k = (h_k − y_k)/n
    logistic: L = (1/n) Σ_k softplus(−y_k h_k),  r_k = −y_k sigmoid(−y_k h_k)/n
    ∂L/∂a_j = Σ_k H_kj r_k,   ∂L/∂w_j = Σ_k 1[z_kj > 0] (a_j·r_k) x_k      (relu'(0) = 0, as the engine)

with the same semantics as the torch loop of `numerics.train`: the loss is tested for finiteness and the relative
update ‖lr·∇θ‖ ≤ stop_tol·‖θ‖ (θ after the update) every `check_every` steps (i % check_every == 0). Scalar
output (a (m,), y (n,)) and vector output (a (m, k), y (n, k), square loss) are one code path with a (m, k), y (n, k);
a hidden bias is the appended input column of `model.with_bias`, so it needs nothing here. A seed axis
(W (S, m, d) on shared data X (n, d) or per-seed data X (S, n, d)) runs the S networks in lock-step, with the
divergence and convergence tests across seeds as in the torch loop. float64, one thread,
`fastmath=False` (IEEE semantics: NaN and inf propagate as in torch).

For a scalar output with n ≤ 4 samples (GD) or batches ≤ 16 (SGD) the step is the fused one-sweep step of
`kernel_fused_jit` (W and a read and written once per step; see BENCHMARKS.md), which compiles per input dimension
on first use (10–20 s, then cached); elsewhere the two-pass kernels of `kernel_jit` and `kernel_sgd_jit`.

numba is optional: `available()` says whether it imports; `numerics.train(backend="auto")` then falls back to
torch. The compiled function is cached on disk (`cache=True`); the first call in a fresh environment compiles it
(about 2 s, see BENCHMARKS.md), later processes load it from the cache.
"""
from __future__ import annotations

import functools

import numpy as np

from . import validate
from .validate import InputError

__all__ = ["available", "require", "advance", "advance_sgd", "loss_and_grad", "copy_bandwidth", "REACHED", "STOPPED",
           "DIVERGED", "LOSS_CODES"]

REACHED, STOPPED, DIVERGED = 0, 1, 2  # status of `advance`
LOSS_CODES = {"square": 0, "logistic": 1}
# the fused one-sweep step (`kernel_fused_jit`): scalar output, GD on n ≤ FUSED_MAX_N samples with S·m ≥
# FUSED_MIN_WIDTH neurons (below it the two kernels run at the same rate, BENCHMARKS.md), SGD batches ≤ FUSED_MAX_BATCH
FUSED_MAX_N, FUSED_MIN_WIDTH, FUSED_MAX_BATCH = 4, 1000, 16
FUSED_BLOCK_DOUBLES = 65536  # a block's share of the cache: its Wᵀ, aᵀ and work rows (512 KB, L2)


@functools.lru_cache(maxsize=1)
def _compiled():
    """(grad, advance, empty_loop) of `kernel_jit`, sgd_advance of `kernel_sgd_jit`, (fused_advance,
    fused_sgd_advance) of `kernel_fused_jit` and copy_loop of `kernel_jit`, compiled or loaded from the cache; None
    without numba."""
    try:
        from . import kernel_fused_jit, kernel_jit, kernel_sgd_jit
    except ImportError:  # optional dependency: the torch engine does everything without it
        return None
    return (kernel_jit.grad, kernel_jit.advance, kernel_jit.empty_loop, kernel_sgd_jit.sgd_advance,
            kernel_fused_jit.fused_advance, kernel_fused_jit.fused_sgd_advance, kernel_jit.copy_loop)


def available() -> bool:
    """True when numba imports (the kernel can run); False otherwise (use the torch engine)."""
    return _compiled() is not None


def require():
    """The compiled functions; InputError naming the fix (pip install numba) when numba does not import."""
    fns = _compiled()
    if fns is None:
        raise InputError("backend='kernel' needs numba, which does not import here; install it with "
                         "`pip install numba` or use backend='torch' (or 'auto', which falls back to torch)")
    return fns


def _as_3d(X, y, W, a):
    """Contiguous float64 numpy views with a seed axis: X (SX, n, d), Y (SX, n, k), W (S, m, d), A (S, m, k), SX = S
    (per-seed data) or 1 (shared data); A and W share memory with a and W."""
    arrs = [np.ascontiguousarray(v.detach().numpy() if hasattr(v, "detach") else v) for v in (X, y, W, a)]
    if any(v.dtype != np.float64 for v in arrs):
        raise InputError("the kernel computes in float64; convert X, y, W, a with .double() or use backend='torch'")
    Xn, yn, Wn, an = arrs
    S = Wn.shape[0] if Wn.ndim == 3 else 1
    SX = Xn.shape[0] if Xn.ndim == 3 else 1
    vector = an.ndim == Wn.ndim
    ok = (Xn.ndim in (2, 3) and Wn.ndim in (2, 3) and an.ndim - Wn.ndim in (-1, 0)
          and yn.ndim - Xn.ndim == (0 if vector else -1) and SX in (1, S) and (Xn.ndim == 2 or Wn.ndim == 3))
    if not ok:
        raise InputError(f"the kernel takes X (n, d) or (S, n, d), W (m, d) or (S, m, d), a (..., m) with y (..., n) "
                         f"or a (..., m, k) with y (..., n, k), one data set per seed or one shared; got X {Xn.shape}, "
                         f"y {yn.shape}, W {Wn.shape}, a {an.shape}")
    n, d = Xn.shape[-2:]
    m = Wn.shape[-2]
    return (Xn.reshape(SX, n, d), yn.reshape(SX, n, -1), Wn.reshape(S, m, Wn.shape[-1]), an.reshape(S, m, -1))


def _check_in_place(W, a, Wn, An, loss: str) -> None:
    """InputError unless the 3-D views Wn, An share memory with W and a (updated in place) and the loss fits a."""
    if loss == "logistic" and An.shape[2] != 1:
        raise InputError("loss='logistic' needs a scalar output (a of shape (m,)) and labels y in {±1}")
    for name, arr, src in (("W", Wn, W), ("a", An, a)):
        base = src.detach().numpy() if hasattr(src, "detach") else src
        if not np.shares_memory(arr, base):
            raise InputError(f"{name} must be a C-contiguous float64 array (it is updated in place); pass "
                             f"{name}.contiguous()")


def advance(X, y, W, a, *, lr: float, start: int, stop: int, loss: str = "square", stop_tol: float = 0.0,
            check_every: int = 16, fused: bool | None = None) -> tuple[int, int]:
    """Run GD steps start … stop − 1 in place on (W, a), with train's finiteness and convergence tests.

    With a seed axis the S networks step in lock-step, as in the torch loop of `numerics.train`: the run diverges
    when any seed's loss is non-finite at a test step and stops once every seed has converged.

    Arguments:
        X, y: data, X (n, d) with y (n,) or (n, k), shared by all seeds, or X (S, n, d) with y (S, n) or (S, n, k),
            one data set per seed; numpy arrays or CPU tensors, float64.
        W, a: parameters W ([S,] m, d), a ([S,] m) or ([S,] m, k), C-contiguous float64; updated in place (tensors
            through their shared numpy view).
        lr: step size.  start, stop: the step indices (the loop runs i = start … stop − 1).
        loss: "square" or "logistic" (scalar output only).  stop_tol: relative-update tolerance (0 disables).
        check_every: the finiteness and convergence tests run when i % check_every == 0.
        fused: take the fused one-sweep step (`kernel_fused_jit`: scalar output, n ≤ FUSED_MAX_N) or not; None: when
            it fits and S·m ≥ FUSED_MIN_WIDTH. Both give the same steps to round-off.

    Returns:
        (status, step): REACHED with step = stop; STOPPED with the step after the converged update; DIVERGED with
        the step whose loss was non-finite (the parameters are then those of that step).
    """
    fns = require()
    validate.choice("loss", loss, LOSS_CODES)
    Xn, Yn, Wn, An = _as_3d(X, y, W, a)
    _check_in_place(W, a, Wn, An, loss)
    if int(check_every) < 1 or int(stop) < int(start):
        raise InputError(f"need check_every ≥ 1 and stop ≥ start, got check_every={check_every}, "
                         f"start={start}, stop={stop}")
    S, m, d = Wn.shape
    fits = An.shape[2] == 1 and Xn.shape[1] <= FUSED_MAX_N
    if fused and not fits:
        raise InputError(f"fused=True needs a scalar output and n ≤ {FUSED_MAX_N} samples, got a {An.shape[1:]} "
                         f"and n = {Xn.shape[1]}; use fused=None")
    if fused or (fused is None and fits and S * m >= FUSED_MIN_WIDTH):
        status, step = fns[4](Xn, Yn, Wn, An, float(lr), int(start), int(stop), LOSS_CODES[loss] == 1,
                              float(stop_tol), int(check_every), (0,) * d, FUSED_BLOCK_DOUBLES)
    else:
        status, step = fns[1](Xn, Yn, Wn, An, float(lr), int(start), int(stop), LOSS_CODES[loss] == 1,
                              float(stop_tol), int(check_every))
    return int(status), int(step)


def advance_sgd(X, y, W, a, *, lr: float, indices, loss: str = "square", fused: bool | None = None) -> None:
    """Run len(indices) mini-batch steps in place on (W, a): step q takes the gradient of the mean loss over the
    samples indices[q] (the batch `numerics.train`'s SGD draws) at the parameters before the step.

    As the torch loop of `numerics.train` with optimizer="sgd", no test runs between checkpoints: a non-finite loss
    propagates into the parameters and the next checkpoint's record reports it.

    Arguments:
        X, y: one data set, X (n, d) with y (n,) or (n, k), shared by all seeds.
        W, a: parameters as in `advance` (updated in place).  lr: step size.
        indices: int array (K, b), each row b distinct sample indices in [0, n).  loss: "square" or "logistic".
        fused: take the fused one-sweep step (`kernel_fused_jit`: scalar output, b ≤ FUSED_MAX_BATCH) or the
            two-pass one (`kernel_sgd_jit`); None: the fused one where it fits. Both give the same steps to round-off.
    """
    fns = require()
    validate.choice("loss", loss, LOSS_CODES)
    Xn, Yn, Wn, An = _as_3d(X, y, W, a)
    if Xn.shape[0] != 1:
        raise InputError("advance_sgd takes one data set X (n, d) shared by the seeds; per-seed data runs with GD")
    _check_in_place(W, a, Wn, An, loss)
    idx = np.ascontiguousarray(np.asarray(indices, dtype=np.int64))
    n = Xn.shape[1]
    if idx.ndim != 2 or idx.shape[1] < 1 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
        raise InputError(f"indices must be an int array (steps, batch) with entries in [0, n={n}), got shape "
                         f"{idx.shape}")
    fits = An.shape[2] == 1 and idx.shape[1] <= FUSED_MAX_BATCH
    if fused and not fits:
        raise InputError(f"fused=True needs a scalar output and batches of ≤ {FUSED_MAX_BATCH} samples, got a "
                         f"{An.shape[1:]} and batch {idx.shape[1]}; use fused=None")
    if fits and fused is not False:
        fns[5](Xn[0], Yn[0], Wn, An, float(lr), idx, LOSS_CODES[loss] == 1, (0,) * Wn.shape[2], FUSED_BLOCK_DOUBLES)
    else:
        fns[3](Xn[0], Yn[0], Wn, An, float(lr), idx, LOSS_CODES[loss] == 1)


def loss_and_grad(W, a, X, y, loss: str = "square"):
    """(L, ∂L/∂W, ∂L/∂a) by the kernel's compiled gradient, for tests against the engine's `model.loss_and_grad`.

    Arguments:
        W, a, X, y: one network and one data set as in `advance` (not modified).  loss: "square" or "logistic".

    Returns:
        (loss float, grad_W (m, d), grad_a shaped like a) as numpy arrays.
    """
    fns = require()
    validate.choice("loss", loss, LOSS_CODES)
    Xn, Yn, Wn, An = _as_3d(X, y, W, a)
    if Wn.shape[0] != 1 or Xn.shape[0] != 1:
        raise InputError(f"kernel.loss_and_grad takes one network on one data set, got W {np.shape(Wn)} and "
                         f"X {np.shape(Xn)}; call it per seed")
    Xn, Yn, Wn, An = Xn[0], Yn[0], Wn[0], An[0]
    n, d = Xn.shape
    m, k = An.shape
    GWT, GAT = np.empty((d, m)), np.empty((k, m))
    L = fns[0](Xn, Yn, np.ascontiguousarray(Wn.T), np.ascontiguousarray(An.T), LOSS_CODES[loss] == 1,
               np.empty(m), np.empty(k), np.empty(m), GWT, GAT)
    shape_a = np.shape(a.detach().numpy() if hasattr(a, "detach") else a)
    return float(L), np.ascontiguousarray(GWT.T), np.ascontiguousarray(GAT.T).reshape(shape_a)


def empty_loop_seconds(steps: int = 1_000_000) -> float:
    """Seconds per iteration of an empty compiled loop (the per-step floor of any compiled kernel).

    Arguments:
        steps: iterations timed.

    Returns:
        seconds per iteration (best of 5).
    """
    import time

    fn = require()[2]
    fn(10)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        fn(int(steps))
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def copy_bandwidth(nbytes: int, repeats: int = 5) -> float:
    """Bytes/s (read + write) of a compiled copy between two float64 buffers of `nbytes` each, repeated in one call
    (no per-copy dispatch): the bandwidth of the cache level two such buffers fit in.

    Arguments:
        nbytes: size of each buffer.  repeats: timings (best kept).

    Returns:
        bytes per second.
    """
    import time

    fn = require()[6]
    n = max(8, nbytes // 8)
    src, dst = np.ones(n), np.empty(n)
    reps = max(4, int(2e8 // (16 * n)))  # about 0.2 GB moved per timing
    fn(src, dst, 2)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(src, dst, reps)
        best = min(best, time.perf_counter() - t0)
    return 16 * n * reps / best
