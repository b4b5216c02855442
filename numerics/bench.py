"""`python -m numerics.bench`: the engine's full-batch GD step against a naive PyTorch autograd loop, in one process.

For each size (n, m, d) it times, per GD step,
  (a) `numerics.train` (the engine as the checks use it: fused `loss_and_grad`, update, its divergence and
      convergence tests), and the bare step (`loss_and_grad` + in-place update);
  (b) the loop a paper's code would write (nn.Parameter, forward, loss.backward(), optimizer.step()),
and prints the ratio baseline/engine. Two hardware yardsticks are measured in the same run:
  copy bandwidth  B (bytes/s of `dst.copy_(src)`, read + write), giving "of copy BW" = bytes/(t·B) with
                  bytes = 8·(2nd + 4md + 3nm) (X twice, W and ∂W, the n×m pre-activation three times);
  GEMM rate       F (flop/s of a 512³ matrix product, the best the BLAS does on this core); a step needs two
                  products of 2nmd flop each (Z and ∂W), so "of roofline" = max(4nmd/F, bytes/B) / t, the share
                  of the attainable speed.
Times are the best of several repeats (the machines are shared); ratios, not absolute times, are the result.
"""
from __future__ import annotations

import argparse
import time

import torch

from . import model
from .train import train

SIZES = ((100, 100, 5), (200, 500, 10), (1000, 1000, 20), (2000, 5000, 50), (2000, 5000, 5))  # n·m = 1e4 … 1e7


def best_time(fn, reps: int, repeats: int = 5) -> float:
    """Seconds per call: the best mean over `repeats` runs of `reps` calls, after one warm-up call.

    Arguments:
        fn: zero-argument callable.  reps: calls per repeat.  repeats: repeats.

    Returns:
        seconds per call.
    """
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def engine_step(W, a, X, y, lr):
    """One bare engine GD step in place (`loss_and_grad` + update); returns None."""
    lg = model.loss_and_grad(W, a, X, y)
    W.add_(lg.grad_W, alpha=-lr)
    a.add_(lg.grad_a, alpha=-lr)


def baseline_step_factory(W, a, X, y, lr):
    """A naive autograd GD step on copies of (W, a).

    Arguments:
        W, a, X, y: the problem.  lr: step size.

    Returns:
        a zero-argument function doing one step.
    """
    Wp, ap = torch.nn.Parameter(W.clone()), torch.nn.Parameter(a.clone())
    opt = torch.optim.SGD([Wp, ap], lr=lr)

    def step():
        opt.zero_grad()
        loss = 0.5 * ((torch.relu(X @ Wp.T) @ ap - y) ** 2).mean()
        loss.backward()
        opt.step()

    return step


def copy_bandwidth(nbytes: int, dtype) -> float:
    """Bytes/s of `dst.copy_(src)` (read + write) for a buffer of `nbytes`.

    Arguments:
        nbytes: buffer size.  dtype: element type.

    Returns:
        bytes per second.
    """
    src = torch.ones(max(1, nbytes // torch.tensor([], dtype=dtype).element_size()), dtype=dtype)
    dst = torch.empty_like(src)
    sec = best_time(lambda: dst.copy_(src), 10)
    return 2 * src.numel() * src.element_size() / sec


def gemm_rate(dtype, size: int = 512) -> float:
    """Flop/s of a size³ matrix product.

    Arguments:
        dtype: element type.  size: matrix side.

    Returns:
        flop per second.
    """
    A = torch.randn(size, size, dtype=dtype)
    C = torch.empty_like(A)
    return 2 * size ** 3 / best_time(lambda: torch.mm(A, A, out=C), 3)


def run(sizes=SIZES, steps: int = 20, dtype=torch.float64, threads: int = 1) -> list[dict]:
    """Time the engine against the autograd baseline at each size (see the module docstring).

    Arguments:
        sizes: (n, m, d) triples.  steps: timed steps per repeat at n·m ≤ 1e5.  dtype: float64 or float32.
        threads: torch threads.

    Returns:
        one dict per size: n, m, d, nm, train_ms, step_ms, baseline_ms, ratio, step_ratio, bandwidth_fraction,
        roofline_fraction.
    """
    torch.set_num_threads(threads)
    rows = []
    for n, m, d in sizes:
        g = torch.Generator().manual_seed(0)
        X = torch.randn(n, d, generator=g, dtype=dtype)
        y = torch.randn(n, generator=g, dtype=dtype)
        W = torch.randn(m, d, generator=g, dtype=dtype) * 1e-2
        a = torch.randn(m, generator=g, dtype=dtype) * 1e-2
        reps = max(2, steps * 10 ** 5 // max(n * m, 10 ** 5))
        t_step = best_time(lambda: engine_step(W, a, X, y, 1e-3), reps)
        train_steps = 10 * reps
        t_train = best_time(lambda: train(X, y, W, a, lr=1e-3, steps=train_steps, n_checkpoints=0, stop_tol=0.0,
                                          record_patterns=False, progress=False), 1, 3) / train_steps
        t_base = best_time(baseline_step_factory(W, a, X, y, 1e-3), reps)
        size = X.element_size()
        touched = size * (2 * n * d + 4 * m * d + 3 * n * m)
        bw = copy_bandwidth(size * n * m, dtype)
        flops = gemm_rate(dtype)
        rows.append(dict(n=n, m=m, d=d, nm=n * m, train_ms=1e3 * t_train, step_ms=1e3 * t_step,
                         baseline_ms=1e3 * t_base, ratio=t_base / t_train, step_ratio=t_base / t_step,
                         bandwidth_fraction=touched / t_step / bw,
                         roofline_fraction=max(4 * n * m * d / flops, touched / bw) / t_step))
    return rows


def format_rows(rows: list[dict]) -> str:
    """The rows of `run` as a text table (one header line, one line per size)."""
    head = (f"{'n':>6} {'m':>6} {'d':>4} {'n·m':>7} {'train() ms':>10} {'step ms':>8} {'autograd ms':>11} "
            f"{'ratio':>6} {'step ratio':>10} {'of copy BW':>10} {'of roofline':>11}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['n']:>6} {r['m']:>6} {r['d']:>4} {r['nm']:>7.0e} {r['train_ms']:>10.3f} {r['step_ms']:>8.3f} "
                     f"{r['baseline_ms']:>11.3f} {r['ratio']:>6.2f} {r['step_ratio']:>10.2f} "
                     f"{r['bandwidth_fraction']:>10.0%} {r['roofline_fraction']:>11.0%}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m numerics.bench", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="timed steps per repeat at n·m ≤ 1e5 (fewer above)")
    p.add_argument("--float32", action="store_true", help="time float32 instead of float64")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--size", action="append", metavar="N,M,D", help="time this size instead of the default grid "
                   "(repeatable), e.g. --size 5000,2000,20")
    args = p.parse_args(argv)
    if args.steps < 1 or args.threads < 1:
        p.error("--steps and --threads must be ≥ 1")
    sizes = SIZES
    if args.size:
        try:
            sizes = tuple(tuple(int(v) for v in s.split(",")) for s in args.size)
        except ValueError:
            p.error(f"--size takes three integers N,M,D, got {args.size}")
        if any(len(s) != 3 or min(s) < 1 for s in sizes):
            p.error(f"--size takes three integers N,M,D ≥ 1, got {args.size}")
    rows = run(sizes=sizes, steps=args.steps, dtype=torch.float32 if args.float32 else torch.float64,
               threads=args.threads)
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
