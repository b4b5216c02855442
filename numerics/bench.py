"""`python -m numerics.bench`: the engine's full-batch GD step against a naive PyTorch autograd loop, in one process.

For each size (n, m, d) it measures, in steps per second of one full-batch GD step (float64, one thread),
  kernel    the compiled multi-step kernel `numerics.kernel` (K steps per call, no Python in the loop);
  train     `numerics.train(backend="torch")`: today's torch engine as the checks use it (fused `loss_and_grad`,
            update, divergence and convergence tests); auto: `numerics.train(backend="auto")`, the default, which
            takes the kernel below the crossover stored in numerics/crossover.json;
  step      the bare torch step (`loss_and_grad` + in-place update);
  autograd  the loop a paper's code would write (nn.Parameter, forward, loss.backward(), optimizer.step());
and three per-step floors measured in the same run:
  loop      an empty compiled loop iteration (the least any per-step kernel costs);
  flops     4nmd / F, F the flop/s of a 512³ GEMM (a step needs two products of 2nmd flop each, Z and ∂W);
  bytes     8·(2nd + 4md + 3nm) / B (X twice, W and ∂W, the n×m block 3×), B the `dst.copy_(src)` bandwidth of a
            copy whose two buffers together are the working set 8·(nd + 2md + nm): the cache level it fits in.
"of roofline" = max(flops, bytes) / the fastest of kernel, step, train and auto (each takes the same GD step; the
fastest one measured is what the engine can do at that shape). For the kernel alone (issue #27):
  2-pass    the kernel's two-pass step (`kernel.advance(fused=False)`), the rate before the fused step, same run;
  state     2·8·(nd + n + m(d + 1)) / B': the least a step moves (X, y read, W and a read and written once), B' the
            bandwidth of a compiled copy (`kernel.copy_bandwidth`, no per-copy dispatch) whose two buffers together
            are the state's size: the cache level the state fits in, measured in this run;
  of cache  max(flops, state) / the kernel's step: its share of the cache-level limit.
The copy bandwidths are those of the compiled copy (torch's `copy_` when numba is missing): a torch copy of a
few KB is mostly its ~1 µs dispatch, which made the small rows' bytes floor too high. Targets (issue #16): kernel
≥ 20× autograd and ≥ 5× train at n·m ≤ 1e4; auto never slower than train; ≥ 50% of roofline at n·m ≥ 1e6;
(issue #27) the kernel ≥ 50% of the cache-level limit at (3, 20000, 2) and (3, 2000, 2).
Times are the best of several repeats (the machines are shared); ratios, not absolute times, are the result.
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from . import kernel, model
from .bench_table import rate as _sps, table, times as _x
from .train import _use_kernel, train

SIZES = ((3, 100, 2), (3, 2000, 2), (3, 20000, 2), (20, 200, 5), (160, 200, 5), (1280, 200, 5), (200, 300, 64),
         (1000, 1000, 20), (2000, 5000, 50), (2000, 5000, 5))  # the table, BF-EA's width, n·m = 1e6 … 1e7
TARGETS = dict(small_nm=10 ** 4, vs_autograd=20.0, vs_train=5.0, large_nm=10 ** 6, roofline=0.5,
               cache_sizes=((3, 20000, 2), (3, 2000, 2)), cache=0.5)


def best_time(fn, reps: int, repeats: int = 5, warm: bool = True, min_seconds: float = 0.0) -> float:
    """Seconds per call: the best mean over `repeats` runs of `reps` calls, after one warm-up call (if `warm`).

    Arguments:
        fn: zero-argument callable.  reps: calls per repeat.  repeats: repeats.  warm: make the warm-up call.
        min_seconds: raise `reps` so that one repeat lasts about this long (timed on the warm-up call), so that a
            slow step gets as many samples per repeat as the yardsticks it is compared with.

    Returns:
        seconds per call.
    """
    if warm:
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        if min_seconds > 0 and first > 0:
            reps = max(reps, min(1000, math.ceil(min_seconds / first)))
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
    """Bytes/s (read + write) of a copy between two buffers of `nbytes` each: the compiled copy of
    `kernel.copy_bandwidth` in float64 when numba imports, else `dst.copy_(src)`.

    Arguments:
        nbytes: buffer size.  dtype: element type.

    Returns:
        bytes per second.
    """
    if dtype == torch.float64 and kernel.available():
        return kernel.copy_bandwidth(nbytes)
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


def _work(n: int, m: int, d: int, budget: float = 2e7) -> int:
    """Repetitions so that one repeat does about `budget` multiply-adds (at least 2)."""
    return max(2, int(budget // (n * m * d)))


def kernel_step_seconds(X, y, W, a, lr: float, reps: int, fused: bool | None = None) -> float:
    """Seconds per GD step of the compiled kernel running `reps` steps per call (best of 3; copies of W, a);
    `fused` as in `kernel.advance`."""
    Wk, ak = W.clone(), a.clone()
    return best_time(lambda: kernel.advance(X, y, Wk, ak, lr=lr, start=0, stop=reps, fused=fused), 1, 3) / reps


def run(sizes=SIZES, steps: int = 20, dtype=torch.float64, threads: int = 1) -> list[dict]:
    """Time kernel, train (torch and auto), the bare step and the autograd loop at each size; see the docstring.

    Arguments:
        sizes: (n, m, d) triples.  steps: scales the repetitions (20: the default budget).
        dtype: float64 or float32 (the kernel rows need float64).  threads: torch threads.

    Returns:
        one dict per size: n, m, d, nm, and steps/s kernel_sps (None without numba or in float32), train_sps,
        auto_sps, step_sps, autograd_sps; floors loop_us, flops_us, bytes_us; ratios kernel_vs_autograd,
        kernel_vs_train, auto_vs_train; roofline_fraction; and the yardsticks gflops, copy_gbs.
    """
    torch.set_num_threads(threads)
    use_kernel = kernel.available() and dtype == torch.float64
    loop_s = kernel.empty_loop_seconds() if use_kernel else float("nan")
    flops = gemm_rate(dtype)  # the best GEMM rate of the run: re-measured after each size (loaded machines)
    rows = []
    for n, m, d in sizes:
        g = torch.Generator().manual_seed(0)
        X = torch.randn(n, d, generator=g, dtype=dtype)
        y = torch.randn(n, generator=g, dtype=dtype)
        W = torch.randn(m, d, generator=g, dtype=dtype) * 1e-2
        a = torch.randn(m, generator=g, dtype=dtype) * 1e-2
        reps = max(2, min(_work(n, m, d), 100 * steps))
        t_step = best_time(lambda: engine_step(W, a, X, y, 1e-3), min(reps, 200), min_seconds=0.1)
        t_base = best_time(baseline_step_factory(W, a, X, y, 1e-3), min(reps, 200), min_seconds=0.1)
        # at least ~0.25 s of steps per timing: 10 steps of a 20 ms step vary by ±20% on a shared machine
        train_steps = max(min(5 * reps, 5000), min(1000, math.ceil(0.25 / t_step)))
        t_train = t_auto = float("inf")

        def fit(backend):
            train(X, y, W, a, lr=1e-3, steps=train_steps, n_checkpoints=0, stop_tol=0.0, record_patterns=False,
                  progress=False, backend=backend, threads=None)

        for rep in range(5):  # interleaved, so that a change of the machine's load hits both alike
            t_train = min(t_train, best_time(lambda: fit("torch"), 1, 1, rep == 0) / train_steps)
            t_auto = min(t_auto, best_time(lambda: fit("auto"), 1, 1, rep == 0) / train_steps)
        auto_backend = "kernel" if _use_kernel("auto", W, a, X, "square", "relu", "gd") else "torch"
        k_steps = max(2, min(20000, 10 ** 8 // (n * m * d)))
        t_kern = t_two = None
        for _ in range(3 if use_kernel else 0):  # interleaved: the step as auto runs it and the two-pass step
            t_kern = min(t_kern or 1.0, kernel_step_seconds(X, y, W, a, 1e-3, k_steps))
            t_two = min(t_two or 1.0, kernel_step_seconds(X, y, W, a, 1e-3, k_steps, fused=False))
        size = X.element_size()
        touched = size * (2 * n * d + 4 * m * d + 3 * n * m)
        # the bandwidth of the cache level the step's working set (X, W, ∂W, the n × m block) sits in: a copy whose
        # source and destination together are that size, measured now (L1/L2 for small shapes, DRAM for large)
        bw = copy_bandwidth(size * (n * d + 2 * m * d + n * m) // 2, dtype)
        flops = max(flops, gemm_rate(dtype))
        floor = max(4 * n * m * d / flops, touched / bw)
        state = size * (n * d + n + m * (d + 1))  # X, y, W, a: a step reads and writes W and a once at the least
        state_bw = copy_bandwidth(state // 2, dtype)
        cache_floor = max(4 * n * m * d / flops, 2 * state / state_bw)
        fastest = min(t_step, t_train, t_auto, t_kern or t_step)  # the engine's best way to take this GD step
        rows.append(dict(
            n=n, m=m, d=d, nm=n * m, kernel_sps=1 / t_kern if t_kern else None, train_sps=1 / t_train,
            two_pass_sps=1 / t_two if t_two else None, state_us=1e6 * 2 * state / state_bw,
            cache_fraction=cache_floor / t_kern if t_kern else None, state_gbs=state_bw / 1e9,
            auto_sps=1 / t_auto, auto_backend=auto_backend, step_sps=1 / t_step, autograd_sps=1 / t_base,
            loop_us=1e6 * loop_s,
            flops_us=1e6 * 4 * n * m * d / flops, bytes_us=1e6 * touched / bw,
            kernel_vs_autograd=t_base / t_kern if t_kern else None,
            kernel_vs_train=t_train / t_kern if t_kern else None,
            auto_vs_train=t_train / t_auto, roofline_fraction=floor / fastest, gflops=flops / 1e9, copy_gbs=bw / 1e9,
            # the older columns (ms per step, autograd / engine), kept for the earlier tables
            train_ms=1e3 * t_train, step_ms=1e3 * t_step, baseline_ms=1e3 * t_base, ratio=t_base / t_train,
            step_ratio=t_base / t_step, bandwidth_fraction=touched / t_step / bw))
    return rows


def format_rows(rows: list[dict], markdown: bool = False) -> str:
    """The rows of `run` as a table (one header line, one line per size; `markdown` adds the separator line).

    Arguments:
        rows: from `run`.  markdown: a Markdown table instead of aligned text.

    Returns:
        the table, then a line per target saying whether this run met it.
    """
    cols = ["n", "m", "d", "n·m", "kernel", "2-pass", "train()", "auto", "step", "autograd", "loop µs", "flops µs",
            "bytes µs", "state µs", "kern/autograd", "kern/train", "auto/train", "of roofline", "of cache"]
    cells = [[str(r["n"]), str(r["m"]), str(r["d"]), f"{r['nm']:.0e}", _sps(r["kernel_sps"]),
              _sps(r.get("two_pass_sps")), _sps(r["train_sps"]),
              _sps(r["auto_sps"]), _sps(r["step_sps"]), _sps(r["autograd_sps"]), f"{r['loop_us']:.4f}",
              f"{r['flops_us']:.2f}", f"{r['bytes_us']:.2f}", f"{r.get('state_us', float('nan')):.2f}",
              _x(r["kernel_vs_autograd"]), _x(r["kernel_vs_train"]),
              _x(r["auto_vs_train"]) + ("" if r["auto_backend"] == "kernel" else " (torch)"),
              f"{r['roofline_fraction']:.0%}",
              "—" if r.get("cache_fraction") is None else f"{r['cache_fraction']:.0%}"] for r in rows]
    return "\n".join(table(cols, cells, markdown) + verdicts(rows))


def verdicts(rows: list[dict]) -> list[str]:
    """One line per target of issue #16 with the worst ratio of this run and met / missed.

    Arguments:
        rows: from `run`.

    Returns:
        the lines (targets whose rows are absent from this run are left out).
    """
    t = TARGETS
    out = []
    small = [r for r in rows if r["nm"] <= t["small_nm"] and r["kernel_sps"]]
    if small:
        worst_a = min(r["kernel_vs_autograd"] for r in small)
        worst_t = min(r["kernel_vs_train"] for r in small)
        out.append(f"target kernel ≥ {t['vs_autograd']:g}× autograd at n·m ≤ 1e4: worst {worst_a:.1f}× "
                   f"({'met' if worst_a >= t['vs_autograd'] else 'missed'})")
        out.append(f"target kernel ≥ {t['vs_train']:g}× train() at n·m ≤ 1e4: worst {worst_t:.1f}× "
                   f"({'met' if worst_t >= t['vs_train'] else 'missed'})")
    picked = [r for r in rows if r["auto_backend"] == "kernel"]
    if picked:
        worst = min(r["auto_vs_train"] for r in picked)
        out.append(f"target auto never slower than train(): worst {worst:.2f}× where auto takes the kernel "
                   f"({'met' if worst >= 0.95 else 'missed'}, 5% timing noise allowed)")
    same = [r for r in rows if r["auto_backend"] == "torch"]
    if same:  # auto is the torch engine itself there: the ratio measures timing noise, not a choice
        lo, hi = min(r["auto_vs_train"] for r in same), max(r["auto_vs_train"] for r in same)
        out.append(f"  where auto is the torch engine itself ({len(same)} rows, the same code timed twice): "
                   f"{lo:.2f}×–{hi:.2f}×, the timing noise of this run")
    large = [r for r in rows if r["nm"] >= t["large_nm"]]
    if large:
        worst = min(r["roofline_fraction"] for r in large)
        out.append(f"target ≥ {t['roofline']:.0%} of roofline at n·m ≥ 1e6: worst {worst:.0%} "
                   f"({'met' if worst >= t['roofline'] else 'missed'})")
    cached = [r for r in rows if (r["n"], r["m"], r["d"]) in t["cache_sizes"] and r.get("cache_fraction")]
    if cached:
        worst = min(r["cache_fraction"] for r in cached)
        at = ", ".join(f"({r['n']}, {r['m']}, {r['d']}) {r['cache_fraction']:.0%} "
                       f"({r['kernel_sps'] / r['two_pass_sps']:.1f}× the 2-pass kernel)" for r in cached)
        out.append(f"target kernel ≥ {t['cache']:.0%} of the cache-level limit: {at} "
                   f"({'met' if worst >= t['cache'] else 'missed'})")
    return out


def thread_rows(sizes=SIZES, dtype=torch.float64, steps: int = 20) -> list[dict]:
    """Per-step time of the torch engine step with torch's default threads (one per core) and with the policy.

    Arguments:
        sizes: (n, m, d) triples.  dtype: element type.  steps: scales the repetitions.

    Returns:
        one dict per size: n, m, d, default_threads, default_ms, policy_threads, policy_ms.
    """
    import os

    from . import threads as policy

    rows = []
    for n, m, d in sizes:
        g = torch.Generator().manual_seed(0)
        X, y = torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, generator=g, dtype=dtype)
        W, a = torch.randn(m, d, generator=g, dtype=dtype) * 1e-2, torch.randn(m, generator=g, dtype=dtype) * 1e-2
        reps = max(2, min(10 * steps, _work(n, m, d)))
        row = dict(n=n, m=m, d=d)
        for key, k in (("default", os.cpu_count() or 1), ("policy", policy.threads_for(n, m, d))):
            torch.set_num_threads(k)
            row[f"{key}_threads"] = k
            row[f"{key}_ms"] = 1e3 * best_time(lambda: engine_step(W, a, X, y, 1e-3), reps, 3)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m numerics.bench", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="scales the repetitions (default 20; fewer is quicker)")
    p.add_argument("--float32", action="store_true", help="time float32 instead of float64")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--size", action="append", metavar="N,M,D", help="time this size instead of the default grid "
                   "(repeatable), e.g. --size 5000,2000,20")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (for BENCHMARKS.md)")
    p.add_argument("--sgd", action="store_true", help="only the SGD rows (m = 10⁴, d = 5, batch 1, 16, 128: "
                   "kernel vs torch vs autograd); the default run prints them after the GD table")
    p.add_argument("--cpu-time", action="store_true", help="time the SGD rows with the process's CPU time (a "
                   "shared machine's other jobs do not count)")
    p.add_argument("--thread-policy", action="store_true", help="instead: the torch step at torch's default "
                   "threads against the thread policy (run it beside a busy process to see oversubscription)")
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
    dtype = torch.float32 if args.float32 else torch.float64
    if args.thread_policy:
        print(f"{'n':>6} {'m':>6} {'d':>4} {'default threads':>15} {'ms':>9} {'policy threads':>14} {'ms':>9}")
        for r in thread_rows(sizes, dtype, args.steps):
            print(f"{r['n']:>6} {r['m']:>6} {r['d']:>4} {r['default_threads']:>15} {r['default_ms']:>9.3f} "
                  f"{r['policy_threads']:>14} {r['policy_ms']:>9.3f}")
        return 0
    from .bench_sgd import format_sgd_rows, sgd_rows

    if not args.sgd:
        rows = run(sizes=sizes, steps=args.steps, dtype=dtype, threads=args.threads)
        print(format_rows(rows, markdown=args.markdown))
    if not args.size and not args.float32:
        print(format_sgd_rows(sgd_rows(cpu_time=args.cpu_time), markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
