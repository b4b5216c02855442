"""Training runs: GD (gradient-flow proxy, t = lr · steps), SGD and Adam, with a trajectory record."""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import torch

from . import model, optim, progress as _progress, threads as _threads, validate
from .record import RECORDABLE, Trajectory, from_states, protected


BACKENDS = ("auto", "torch", "kernel")


class DivergenceError(RuntimeError):
    """The loss became non-finite: the step size is too large for this problem."""


class SignFlipError(RuntimeError):
    """A neuron with a_j² ≥ ‖w_j‖² at init changed sign(a_j): GD is not tracking gradient flow (BF-P3)."""


def checkpoint_steps(steps: int, n_log: int = 60, linear_every: int | None = None, extra=()) -> np.ndarray:
    """0, log-spaced steps up to `steps`, optional linear ones every `linear_every` steps, and `extra`.

    Arguments:
        steps: the last step.  n_log: log-spaced points.  linear_every: optional linear spacing.
        extra: further steps (outside [0, steps] ignored).

    Returns:
        sorted unique int64 steps, 0 and `steps` included.
    """
    pts = {0, int(steps)}
    if steps > 0 and n_log > 0:
        pts.update(int(round(s)) for s in np.geomspace(1, steps, n_log))
    if linear_every:
        pts.update(range(0, steps + 1, int(linear_every)))
    pts.update(int(s) for s in extra if 0 <= int(s) <= steps)
    return np.array(sorted(pts), dtype=np.int64)


def _default_progress() -> bool:
    return "PYTEST_CURRENT_TEST" not in os.environ and os.environ.get("NUMERICS_PROGRESS", "1") != "0"


def train(
    X,
    y,
    W0: torch.Tensor,
    a0: torch.Tensor,
    *,
    lr: float,
    horizon: float | None = None,
    steps: int | None = None,
    loss: str = "square",
    activation: str = "relu",
    optimizer: str = "gd",
    batch_size: int | None = None,
    seed_batch: int = 0,
    n_checkpoints: int = 60,
    linear_every: int | None = None,
    record_at_times=(),
    record_patterns: bool = True,
    stop_tol: float = 1e-14,
    progress: bool | None = None,
    desc: str = "train",
    strict_signs: bool = False,
    record=(),
    backend: str = "auto",
    threads="auto",
) -> Trajectory:
    """Train h = Σ a_j σ(w_j·x) from (W0, a0) and return the checkpointed trajectory.

    Arguments:
        X, y: data, X (n, d) with y (n,) or (n, k); or X (S, n, d) with y (S, n[, k]) and W0 (S, m, d) to train
            S seeds on their own data sets in one batched run (the GPU path).
        W0, a0: initial parameters, W0 (..., m, d) and a0 (..., m) or (..., m, k); "..." an optional seed axis.
        lr: step size η (flow time t = lr · step).
        horizon, steps: exactly one fixes the length: steps, or flow time with steps = ceil(horizon / lr).
        loss: "square" or "logistic".  activation: "relu", "gelu" or "linear".
        optimizer: "gd", "sgd" (mini-batches of `batch_size`, default n // 10, drawn with `seed_batch`) or "adam".
        n_checkpoints, linear_every, record_at_times: checkpoints: log-spaced, every `linear_every` steps, and the
            steps nearest to the given flow times (0 and the last step always).
        record_patterns: store the gating pattern 1[w_j·x_k > 0] at each checkpoint.
        record: extra per-checkpoint records, any of "grads" (the full-batch ∂L/∂W, ∂L/∂a at the checkpoint's
            parameters, from the engine's one gradient `model.loss_and_grad`) and "outputs" (h(x_k)); default none.
        stop_tol: stop early (tested every 16 steps on CPU, GD only) once the relative update ‖Δθ‖/‖θ‖ of every seed
            falls below it; 0 disables.
        progress, desc: progress bar (default: on outside pytest unless NUMERICS_PROGRESS=0) and its label; every
            checkpoint also calls `numerics.progress.notify(desc, step, steps)` for listeners.
        strict_signs: raise SignFlipError at the first checkpoint where a protected sign(a_j) (a_j² ≥ ‖w_j‖² at
            init) has flipped; otherwise such flips only produce a warning at the end of a GD run.
        backend: "auto" (the compiled kernel `numerics.kernel` for GD on CPU in float64 with ReLU, with or without
            a seed axis, below the measured crossover of n·(S·m)·d in `numerics/crossover.json`; else torch; the
            environment variable NUMERICS_BACKEND replaces "auto"), "torch", or "kernel" (InputError if numba is
            missing or the run is not one the kernel does). Both give the same trajectory up to round-off
            (≤ 1e-12 per step).
        threads: "auto" (the policy `numerics.threads.threads_for` for this shape, restored afterwards), an int,
            or None (keep the caller's torch thread count).

    Returns:
        a `Trajectory` (numpy, checkpoints first), with `grad_W`, `grad_a`, `outputs` filled as `record` asks.

    Raises:
        InputError on bad arguments, or before allocating when the record would exceed the memory limit
        (`numerics.memory`: 80% of available memory, or NUMERICS_MEMORY_LIMIT); DivergenceError naming the step
        size if the loss becomes non-finite;
        SignFlipError (with `strict_signs`).
    """
    lr = validate.positive("lr", lr)
    record = _record_names(record)
    validate.choice("loss", loss, model.LOSSES)
    validate.choice("activation", activation, model.ACTIVATIONS)
    validate.choice("optimizer", optimizer, optim.OPTIMIZERS)
    W = validate.as_tensor("W0", W0, dtype=W0.dtype if isinstance(W0, torch.Tensor) else torch.float64,
                           device=W0.device if isinstance(W0, torch.Tensor) else "cpu").clone()
    a = validate.as_tensor("a0", a0, dtype=W.dtype, device=W.device).clone()
    X, y = validate.data(X, y, dtype=W.dtype, device=W.device, seed_axis=True)
    validate.params(W, a, X.shape[-1], y, data_seeds=X.shape[0] if X.dim() == 3 else 0)
    if (horizon is None) == (steps is None):
        raise validate.InputError("give exactly one of horizon (flow time) or steps")
    if steps is None:
        steps = int(math.ceil(validate.positive("horizon", horizon) / lr - 1e-9))
    steps = int(steps)
    if steps < 0:
        raise validate.InputError(f"steps must be ≥ 0, got {steps}")
    n = X.shape[-2]
    if optimizer == "sgd" and X.dim() == 3:
        raise validate.InputError("optimizer='sgd' takes one data set X (n, d); per-seed data runs with 'gd' or 'adam'")
    if optimizer == "sgd":
        batch_size = int(batch_size or max(1, n // 10))
        if not 1 <= batch_size <= n:
            raise validate.InputError(f"batch_size must be in [1, n={n}], got {batch_size}")
    extra = [int(round(t / lr)) for t in record_at_times]
    ckpts = checkpoint_steps(steps, n_checkpoints, linear_every, extra)
    ckpt_set = set(ckpts.tolist())
    opt = optim.make(optimizer, lr)
    gen = torch.Generator().manual_seed(int(seed_batch))
    progress = _default_progress() if progress is None else progress
    validate.choice("backend", backend, BACKENDS)
    if backend == "auto" and os.environ.get("NUMERICS_BACKEND", "").strip():
        backend = validate.choice("NUMERICS_BACKEND", os.environ["NUMERICS_BACKEND"].strip(), BACKENDS)
    _memory_guard(W, a, X, len(ckpts), record, record_patterns)

    check_every = 16 if W.device.type == "cpu" else 64  # finiteness and convergence tests: cheap, but not free
    use_kernel = _use_kernel(backend, W, a, X, loss, activation, optimizer, batch_size)
    if use_kernel:  # the kernel updates (W, a) in place through their numpy views
        W, a = W.contiguous(), a.contiguous()
    recorder = _Recorder(W, a, X, y, loss, activation, lr, record, record_patterns, strict_signs, desc, steps,
                         optimizer)
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc=desc, delay=2.0, disable=not progress, leave=False, mininterval=0.5)
    width = W.shape[-2] * (W.shape[0] if W.dim() == 3 else 1)
    try:
        with _threads.apply(n, width, X.shape[-1], threads=threads):
            if use_kernel and optimizer == "sgd":
                stopped_early = _kernel_sgd_loop(recorder, W, a, X, y, lr, loss, ckpts, bar, n, batch_size, gen)
            elif use_kernel:
                stopped_early = _kernel_loop(recorder, W, a, X, y, lr, loss, ckpts, stop_tol, check_every, bar)
            else:
                stopped_early = _torch_loop(recorder, W, a, X, y, lr, loss, activation, optimizer, opt, ckpt_set,
                                            steps, stop_tol, check_every, bar, n, batch_size, gen)
    finally:
        bar.close()
    rec = recorder.rec
    steps_arr = np.asarray(rec["step"], dtype=np.int64)
    stacked = {k: np.stack(rec[k]) if rec[k] else None for k in ("patterns", "grad_W", "grad_a", "outputs")}
    traj = from_states(
        steps_arr * lr, steps_arr, np.stack(rec["loss"]), np.stack(rec["W"]), np.stack(rec["a"]),
        **stacked,
        config=dict(lr=lr, steps=steps, loss=loss, activation=activation, optimizer=optimizer,
                    batch_size=batch_size, seed_batch=seed_batch),
        stopped_early=stopped_early,
    )
    violations = traj.frozen_sign_violations() if optimizer == "gd" else 0  # cheap invariant of every GD run
    if violations:
        warnings.warn(f"{violations} neuron(s) with a_j^2 >= |w_j|^2 at init changed the sign of a_j: gradient flow "
                      f"forbids this, so the GD step lr={lr:g} is too large to act as its proxy here",
                      RuntimeWarning, stacklevel=2)
    return traj


def _memory_guard(W, a, X, checkpoints: int, record, record_patterns: bool) -> None:
    """InputError before allocating when the record and the step's working set would exceed the memory limit."""
    from . import memory

    seeds = W.shape[0] if W.dim() == 3 else 1
    k = a.shape[-1] if model.is_vector_output(W, a) else 1
    est = memory.train_bytes(checkpoints=checkpoints, seeds=seeds, n=X.shape[-2], m=W.shape[-2], d=W.shape[-1], k=k,
                             patterns=record_patterns, grads="grads" in record, outputs="outputs" in record,
                             data_seeds=X.shape[0] if X.dim() == 3 else 1)
    memory.check(est, f"numerics.train with {checkpoints} checkpoints × {seeds} seed(s) at (n, m, d) = "
                      f"({X.shape[-2]}, {W.shape[-2]}, {W.shape[-1]})",
                 "record fewer checkpoints (n_checkpoints, linear_every), pass record_patterns=False or drop "
                 "record=('grads', 'outputs'), or train fewer seeds per call")


def _record_names(record) -> tuple[str, ...]:
    """`record=` as a tuple of known names (a single name may be given as a string)."""
    names = (record,) if isinstance(record, str) else record
    try:
        names = tuple(names)
    except TypeError:
        raise validate.InputError(f"record must be a tuple of names from {RECORDABLE}, got {record!r}") from None
    bad = [r for r in names if r not in RECORDABLE]
    if bad:
        raise validate.InputError(f"record={record!r}: unknown name(s) {bad}; valid values are {RECORDABLE}")
    return names


def _converged(W, a, lg, lr, tol) -> bool:
    """Relative update ‖lr·∇θ‖ ≤ tol·‖θ‖ for every seed (reduction over the last axes)."""
    vec = a.dim() == W.dim()
    upd = lg.grad_W.pow(2).sum((-1, -2)) + (lg.grad_a.pow(2).sum((-1, -2)) if vec else lg.grad_a.pow(2).sum(-1))
    size = W.pow(2).sum((-1, -2)) + (a.pow(2).sum((-1, -2)) if vec else a.pow(2).sum(-1))
    return bool((lr * lr * upd <= tol * tol * size).all())


def _protected_flip(Ws: list, As: list) -> bool:
    """Any neuron with a_j(0)² ≥ ‖w_j(0)‖² whose sign(a_j) differs now from its initial sign."""
    return bool(np.any(protected(Ws[0], As[0]) & (np.sign(As[-1]) != np.sign(As[0]))))


class _Recorder:
    """The checkpoint record shared by both backends: state, loss, patterns, grads, outputs, sign and finiteness
    tests, progress notification."""

    def __init__(self, W, a, X, y, loss, activation, lr, record, record_patterns, strict_signs, desc, steps,
                 optimizer):
        self.X, self.y, self.loss, self.activation, self.lr = X, y, loss, activation, lr
        self.record, self.record_patterns, self.strict_signs = record, record_patterns, strict_signs
        self.desc, self.steps, self.optimizer = desc, steps, optimizer
        self.init = (W.detach().clone(), a.detach().clone())
        self.rec: dict[str, list] = {k: [] for k in ("step", "loss", "W", "a", "patterns", "grad_W", "grad_a",
                                                     "outputs")}

    def check_finite(self, L: torch.Tensor | float, step: int) -> None:
        """DivergenceError naming the step, the step size and a stable one (`stable_lr`) if L is non-finite."""
        finite = math.isfinite(L) if isinstance(L, float) else bool(torch.isfinite(L).all())
        if not finite:
            raise DivergenceError(divergence_message(step, self.lr, *self.init, self.X, self.y, self.loss,
                                                     self.activation, self.optimizer))

    def __call__(self, W, a, i: int, full) -> None:
        X, rec = self.X, self.rec
        self.check_finite(full.loss, i)
        rec["step"].append(i)
        rec["loss"].append(full.loss.detach().cpu().numpy().copy())
        rec["W"].append(W.detach().cpu().numpy().copy())
        rec["a"].append(a.detach().cpu().numpy().copy())
        if self.record_patterns:
            rec["patterns"].append((model.preactivation(W, X) > 0).cpu().numpy())
        if "grads" in self.record:
            rec["grad_W"].append(full.grad_W.detach().cpu().numpy().copy())
            rec["grad_a"].append(full.grad_a.detach().cpu().numpy().copy())
        if "outputs" in self.record:
            rec["outputs"].append(model.forward(W, a, X, self.activation).detach().cpu().numpy().copy())
        if self.strict_signs and not model.is_vector_output(W, a) and _protected_flip(rec["W"], rec["a"]):
            raise SignFlipError(f"a protected sign(a_j) flipped by step {i} with lr={self.lr:g}: GD is not "
                                f"tracking gradient flow; retry with a smaller step, e.g. lr={self.lr / 2.5:g}")
        _progress.notify(self.desc, i, self.steps)


def _torch_loop(recorder, W, a, X, y, lr, loss, activation, optimizer, opt, ckpt_set, steps, stop_tol, check_every,
                bar, n, batch_size, gen) -> bool:
    """The torch engine's loop (one `model.loss_and_grad` per step); returns whether it stopped early."""
    stopped_early = False
    for i in range(steps + 1):
        lg = model.loss_and_grad(W, a, X, y, loss, activation) if optimizer != "sgd" else None
        if i in ckpt_set or i == steps or stopped_early:
            recorder(W, a, i, lg if lg is not None else model.loss_and_grad(W, a, X, y, loss, activation))
        if i == steps or stopped_early:
            break
        if optimizer == "sgd":
            idx = torch.randperm(n, generator=gen)[:batch_size].to(X.device)
            lg = model.loss_and_grad(W, a, X[idx], y[idx], loss, activation)
        elif i % check_every == 0:
            recorder.check_finite(lg.loss, i)
        opt.update([W, a], [lg.grad_W, lg.grad_a])
        if stop_tol > 0 and optimizer == "gd" and i % check_every == 0 and _converged(W, a, lg, lr, stop_tol):
            stopped_early = True
        if i % 256 == 0:
            bar.update(min(256, steps - bar.n))
    return stopped_early


def _kernel_loop(recorder, W, a, X, y, lr, loss, ckpts, stop_tol, check_every, bar) -> bool:
    """GD by the compiled kernel between checkpoints, the torch record at each; returns whether it stopped early."""
    from . import kernel

    i, stopped_early = 0, False
    for nxt in ckpts.tolist()[1:] + [None]:
        recorder(W, a, i, model.loss_and_grad(W, a, X, y, loss, "relu"))
        if nxt is None or stopped_early:
            break
        status, reached = kernel.advance(X, y, W, a, lr=lr, start=i, stop=nxt, loss=loss, stop_tol=stop_tol,
                                         check_every=check_every)
        if status == kernel.DIVERGED:
            recorder.check_finite(float("nan"), reached)
        bar.update(reached - i)
        i, stopped_early = reached, status == kernel.STOPPED
    return stopped_early


def _kernel_sgd_loop(recorder, W, a, X, y, lr, loss, ckpts, bar, n, batch_size, gen, chunk: int = 2048) -> bool:
    """SGD by the compiled kernel between checkpoints: the batches are the torch loop's own draws
    (`torch.randperm(n, generator=gen)[:batch_size]`, one per step, in order), so the run is the same."""
    from . import kernel

    i = 0
    for nxt in ckpts.tolist()[1:] + [None]:
        recorder(W, a, i, model.loss_and_grad(W, a, X, y, loss, "relu"))
        if nxt is None:
            break
        while i < nxt:
            k = min(chunk, nxt - i, max(1, 2 ** 20 // n))
            # the same draws, one torch call per step (slicing and converting each draw cost more than the step)
            idx = torch.stack([torch.randperm(n, generator=gen) for _ in range(k)])[:, :batch_size].numpy()
            kernel.advance_sgd(X, y, W, a, lr=lr, indices=idx, loss=loss)
            bar.update(k)
            i += k
    return False


def _kernel_fit(W, a, loss, activation, optimizer) -> str:
    """'' if the compiled kernel does this run, else the reason it does not."""
    if optimizer not in ("gd", "sgd"):
        return f"optimizer={optimizer!r} (the kernel does 'gd' and 'sgd')"
    if activation != "relu":
        return f"activation={activation!r} (the kernel does 'relu')"
    if W.device.type != "cpu" or W.dtype != torch.float64:
        return f"{W.dtype} on {W.device.type} (the kernel computes float64 on the CPU)"
    if loss == "logistic" and model.is_vector_output(W, a):
        return "logistic loss with vector outputs"
    return ""


def _use_kernel(backend, W, a, X, loss, activation, optimizer, batch_size=None) -> bool:
    """The backend choice of `train`: see its `backend` argument."""
    if backend == "torch":
        return False
    from . import kernel

    why = _kernel_fit(W, a, loss, activation, optimizer)
    if backend == "kernel":
        if why:
            raise validate.InputError(f"backend='kernel' cannot run {why}; use backend='torch' or 'auto'")
        kernel.require()  # InputError naming the fix (pip install numba) when numba does not import
        return True
    if why:
        return False
    lim = _threads.crossover()
    n, d = X.shape[-2:]
    m = W.shape[-2] * (W.shape[0] if W.dim() == 3 else 1)  # the seed axis counts as width (S networks of m)
    if optimizer == "sgd":  # a step costs its batch's shape
        n = batch_size
        if d <= lim["kernel_small_d"] and n <= lim["sgd_kernel_max_batch"]:
            return kernel.available()
    small = n * m * d <= lim["kernel_max_nmd"] or (d <= lim["kernel_small_d"] and n * m <= lim["kernel_small_d_max_nm"])
    return small and kernel.available()


def stable_lr(W, a, X, y, loss: str = "square", activation: str = "relu", iterations: int = 20) -> float:
    """The largest stable GD step 2/λ estimated from the loss curvature at (W, a); inf if no curvature is found.

    λ is the largest |eigenvalue| of the Hessian of L (summed over seeds), found by power iteration on
    Hessian-vector products by central differences of the engine's gradient, Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε.
    GD on a quadratic with curvature λ is stable iff lr < 2/λ; the curvature usually grows along a run, so take
    about half of it.

    Arguments:
        W, a, X, y: parameters and data as in `train` (tensors).  loss, activation: as in `train`.
        iterations: power-iteration steps.

    Returns:
        2/λ (inf if λ = 0 or not finite).
    """
    theta = [W.detach().clone(), a.detach().clone()]
    size = math.sqrt(sum(float(t.pow(2).sum()) for t in theta))
    gen = torch.Generator().manual_seed(0)
    v = [torch.randn(t.shape, generator=gen, dtype=t.dtype).to(t.device) for t in theta]
    lam = 0.0
    for _ in range(int(iterations)):
        norm = math.sqrt(sum(float(u.pow(2).sum()) for u in v))
        if not math.isfinite(norm) or norm == 0.0:
            break
        v = [u / norm for u in v]
        eps = 1e-5 * max(size, 1e-3)
        plus = model.loss_and_grad(theta[0] + eps * v[0], theta[1] + eps * v[1], X, y, loss, activation)
        minus = model.loss_and_grad(theta[0] - eps * v[0], theta[1] - eps * v[1], X, y, loss, activation)
        hv = [(plus.grad_W - minus.grad_W) / (2 * eps), (plus.grad_a - minus.grad_a) / (2 * eps)]
        lam = abs(sum(float((h * u).sum()) for h, u in zip(hv, v)))
        v = hv
    return 2.0 / lam if lam > 0 and math.isfinite(lam) else math.inf


def divergence_message(step: int, lr: float, W0, a0, X, y, loss: str, activation: str, optimizer: str) -> str:
    """The DivergenceError text: the step, the step size, and a retry step from the curvature at init.

    Arguments:
        step: the step whose loss was non-finite.  lr: the failing step size.  W0, a0: the initial parameters.
        X, y, loss, activation, optimizer: the run's problem.

    Returns:
        the message (it suggests 0.5 · 2/λ at init when that is below lr, else lr/10).
    """
    head = f"training diverged: the loss was non-finite by step {step} with step size lr={lr:g}; "
    try:
        bound = stable_lr(W0, a0, X, y, loss, activation) if optimizer != "adam" else math.inf
    except (RuntimeError, ValueError):  # the hint must never hide the divergence itself
        bound = math.inf
    if bound / 2 < lr:
        return (head + f"the loss curvature at init bounds a stable GD step by 2/λ_max ≈ {bound:.3g}; retry with a "
                f"smaller step, e.g. lr={float(f'{bound / 2:.2g}'):g}")
    return (head + f"the curvature at init allows this step (2/λ_max ≈ {bound:.3g}), so the instability came later "
            f"in the run; retry with a smaller step, e.g. lr={lr / 10:g}")
