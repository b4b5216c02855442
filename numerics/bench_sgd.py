"""SGD rows of `python -m numerics.bench`: one mini-batch step at BF-ST Fig. 1's width, kernel vs torch vs autograd.

For each batch size b (m = 10⁴, d = 5, n = 10·b as the threshold sweep's batch n // 10), in steps per second:
  kernel     `numerics.train(optimizer="sgd", backend="kernel")`: the compiled mini-batch step on the torch loop's
             own batches (one `torch.randperm` per step, drawn in Python), the fused one-sweep step up to batch 16;
  2-pass     the same with the kernel's two-pass step (`kernel.advance_sgd(fused=False)`): the rate before it;
  torch      `numerics.train(optimizer="sgd", backend="torch")`: the torch engine's SGD loop;
  auto       `numerics.train(optimizer="sgd")`, the default backend choice;
  autograd   the loop a paper's code would write (nn.Parameter, randperm batch, loss.backward(), optimizer.step()).
The five are timed interleaved, `repeats` times each, best kept. With `cpu_time` the clock is the process's CPU time
(`time.process_time`): on a shared machine the wall clock counts the other jobs' time slices, the CPU time does not
(cache effects of the neighbours remain). Target (issue #27): kernel ≥ 5× torch at batch ≤ 16.
"""
from __future__ import annotations

import time

import torch

from . import kernel
from .train import _use_kernel, train

BATCHES = (1, 4, 16, 128)
TARGET = {"max_batch": 16, "vs_torch": 5.0}


def _autograd_loop(W, a, X, y, lr, batch, steps, seed=0):
    """`steps` naive autograd SGD steps on copies of (W, a), batches drawn as the engine draws them."""
    Wp, ap = torch.nn.Parameter(W.clone()), torch.nn.Parameter(a.clone())
    opt = torch.optim.SGD([Wp, ap], lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randperm(len(X), generator=gen)[:batch]
        opt.zero_grad()
        loss = 0.5 * ((torch.relu(X[idx] @ Wp.T) @ ap - y[idx]) ** 2).mean()
        loss.backward()
        opt.step()


def sgd_rows(batches=BATCHES, m: int = 10_000, d: int = 5, repeats: int = 5, cpu_time: bool = False,
             budget: float = 0.2) -> list[dict]:
    """Steps/s of kernel, torch, auto and autograd SGD at each batch size; see the module docstring.

    Arguments:
        batches: batch sizes b (n = 10·b samples).  m, d: width and input dimension.  repeats: interleaved repeats.
        cpu_time: time with the process's CPU time instead of the wall clock.  budget: seconds per timing (about).

    Returns:
        one dict per batch: b, n, m, d, kernel_sps, torch_sps, auto_sps, autograd_sps, auto_backend,
        kernel_vs_torch, kernel_vs_autograd, clock.
    """
    clock = time.process_time if cpu_time else time.perf_counter
    torch.set_num_threads(1)
    rows = []
    for b in batches:
        n = 10 * b
        g = torch.Generator().manual_seed(0)
        X = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, generator=g, dtype=torch.float64)
        W = torch.randn(m, d, generator=g, dtype=torch.float64) * 1e-2
        a = torch.randn(m, generator=g, dtype=torch.float64) * 1e-2

        def fit(backend, steps):
            train(X, y, W, a, lr=1e-3, steps=steps, n_checkpoints=0, optimizer="sgd", batch_size=b,
                  record_patterns=False, progress=False, backend=backend, threads=None)

        def two_pass(steps):
            keep = kernel.FUSED_MAX_BATCH
            kernel.FUSED_MAX_BATCH = 0  # advance_sgd's default then takes the two-pass step
            try:
                fit("kernel", steps)
            finally:
                kernel.FUSED_MAX_BATCH = keep

        jobs = {"kernel": lambda s: fit("kernel", s), "2-pass": two_pass, "torch": lambda s: fit("torch", s),
                "auto": lambda s: fit("auto", s), "autograd": lambda s: _autograd_loop(W, a, X, y, 1e-3, b, s)}
        steps = {}
        for name, job in jobs.items():  # warm-up (the kernel's first call loads it) and the step count per timing
            job(2)
            t0 = clock()
            job(5)
            steps[name] = max(5, min(20_000, int(budget / max((clock() - t0) / 5, 1e-7))))
        best = dict.fromkeys(jobs, float("inf"))
        for _ in range(repeats):  # interleaved: a change of the machine's load hits all four alike
            for name, job in jobs.items():
                t0 = clock()
                job(steps[name])
                best[name] = min(best[name], (clock() - t0) / steps[name])
        auto = "kernel" if _use_kernel("auto", W, a, X, "square", "relu", "sgd", b) else "torch"
        rows.append({"b": b, "n": n, "m": m, "d": d, "auto_backend": auto, "clock": "cpu" if cpu_time else "wall",
                     **{f"{k}_sps": 1 / v for k, v in best.items()}, "two_pass_sps": 1 / best["2-pass"],
                     "kernel_vs_torch": best["torch"] / best["kernel"],
                     "two_pass_vs_torch": best["torch"] / best["2-pass"],
                     "kernel_vs_autograd": best["autograd"] / best["kernel"]})
    return rows


def format_sgd_rows(rows: list[dict], markdown: bool = False) -> str:
    """The rows of `sgd_rows` as a table and the target line of issue #27."""
    from .bench_table import rate as _sps, table, times as _x

    cols = ["batch", "n", "m", "d", "kernel", "2-pass", "torch", "auto", "autograd", "kern/torch", "2-pass/torch",
            "kern/autograd", "clock"]
    cells = [[str(r["b"]), str(r["n"]), str(r["m"]), str(r["d"]), _sps(r["kernel_sps"]), _sps(r["two_pass_sps"]),
              _sps(r["torch_sps"]), _sps(r["auto_sps"]) + f" ({r['auto_backend']})", _sps(r["autograd_sps"]),
              _x(r["kernel_vs_torch"]), _x(r["two_pass_vs_torch"]), _x(r["kernel_vs_autograd"]), r["clock"]]
             for r in rows]
    small = [r for r in rows if r["b"] <= TARGET["max_batch"]]
    out = table(cols, cells, markdown)
    if small:
        worst = min(r["kernel_vs_torch"] for r in small)
        each = ", ".join(f"batch {r['b']} {r['kernel_vs_torch']:.1f}×" for r in small)
        out.append(f"target SGD kernel ≥ {TARGET['vs_torch']:g}× torch at batch ≤ {TARGET['max_batch']}: {each}; "
                   f"worst {worst:.1f}× ({'met' if worst >= TARGET['vs_torch'] else 'missed'})")
    return "\n".join(out)
