"""`python -m numerics.bench`: the engine's full-batch GD step against a naive PyTorch autograd loop, in one process.

For each size (n, m, d) it times `steps` GD steps of (a) `numerics.model.loss_and_grad` + in-place update (the engine)
and (b) the loop a paper's code would write (nn.Parameter, forward, loss.backward(), optimizer.step()), and prints
the ratio baseline/engine, plus the engine's achieved bandwidth (bytes of X, W and the n×m preactivation touched per
step) against a plain array copy measured in the same run. Ratios, not absolute times, are the result.
"""
from __future__ import annotations

import argparse
import time

import torch

from . import model

SIZES = ((100, 100, 5), (200, 500, 10), (1000, 1000, 20), (2000, 5000, 50))  # n·m = 1e4 … 1e7


def _time(fn, steps: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def engine_step(W, a, X, y, lr):
    lg = model.loss_and_grad(W, a, X, y)
    W.sub_(lr * lg.grad_W)
    a.sub_(lr * lg.grad_a)


def baseline_step_factory(W, a, X, y, lr):
    Wp, ap = torch.nn.Parameter(W.clone()), torch.nn.Parameter(a.clone())
    opt = torch.optim.SGD([Wp, ap], lr=lr)

    def step():
        opt.zero_grad()
        loss = 0.5 * ((torch.relu(X @ Wp.T) @ ap - y) ** 2).mean()
        loss.backward()
        opt.step()

    return step


def copy_bandwidth(nbytes: int, dtype) -> float:
    """Bytes/s of `dst.copy_(src)` (read + write) for a buffer of `nbytes`."""
    src = torch.ones(max(1, nbytes // torch.tensor([], dtype=dtype).element_size()), dtype=dtype)
    dst = torch.empty_like(src)
    sec = _time(lambda: dst.copy_(src), 20)
    return 2 * src.numel() * src.element_size() / sec


def run(sizes=SIZES, steps: int = 20, dtype=torch.float64, threads: int = 1) -> list[dict]:
    torch.set_num_threads(threads)
    rows = []
    for n, m, d in sizes:
        g = torch.Generator().manual_seed(0)
        X = torch.randn(n, d, generator=g, dtype=dtype)
        y = torch.randn(n, generator=g, dtype=dtype)
        W = torch.randn(m, d, generator=g, dtype=dtype) * 1e-2
        a = torch.randn(m, generator=g, dtype=dtype) * 1e-2
        reps = max(3, steps * 10 ** 5 // max(n * m, 10 ** 5))
        t_eng = _time(lambda: engine_step(W, a, X, y, 1e-3), reps)
        t_base = _time(baseline_step_factory(W, a, X, y, 1e-3), reps)
        size = X.element_size()
        touched = size * (2 * n * d + 4 * m * d + 3 * n * m)  # X twice, W and grad_W, the n×m preactivation 3×
        bw = copy_bandwidth(size * n * m, dtype)
        rows.append(dict(n=n, m=m, d=d, nm=n * m, engine_ms=1e3 * t_eng, baseline_ms=1e3 * t_base,
                         ratio=t_base / t_eng, bandwidth_fraction=touched / t_eng / bw))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m numerics.bench", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--float32", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    rows = run(steps=args.steps, dtype=torch.float32 if args.float32 else torch.float64, threads=args.threads)
    print(f"{'n':>6} {'m':>6} {'d':>4} {'n·m':>9} {'engine ms':>10} {'autograd ms':>12} {'ratio':>6} {'of copy BW':>10}")
    for r in rows:
        print(f"{r['n']:>6} {r['m']:>6} {r['d']:>4} {r['nm']:>9.0e} {r['engine_ms']:>10.3f} {r['baseline_ms']:>12.3f} "
              f"{r['ratio']:>6.2f} {r['bandwidth_fraction']:>10.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
