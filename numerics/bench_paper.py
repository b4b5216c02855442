"""`python -m numerics.bench_paper`: what the paper tier's GPU presets cost, from steps/s measured at their shapes.

The largest paper presets (`python -m checks.all --tier paper --list`) train for up to hours; a lent GPU machine
gives a session minutes. This measures, on one device, `numerics.train` steps per second at each preset's training
shape (the seeds batched as the checks batch them, float64 as the checks run) for `probe` steps, and prices the
preset as

    estimated seconds = Σ over its runs of steps / (steps per second at that run's shape).

It also prints the m = 10⁴ threshold sweep's steps/s per n (issue #16 item 5). The shapes are written out below,
one line per preset with the design values they come from (numerics does not import checks); a test keeps them in
step with the designs. Run it on the GPU machine as

    python -m numerics.bench_paper --device cuda --markdown

and on the CPU with `--scale 0.01` (widths ÷ 100) to try it in seconds. Times are best-of-`repeats`; the
estimates ignore checkpoint recording and the checks' own analysis (seconds to minutes at these shapes).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import torch

from . import validate
from .bench import best_time, table
from .init import init_params
from .train import train


@dataclass(frozen=True)
class PaperRun:
    """One group of identical training runs of a paper preset.

    Arguments:
        check: the check whose preset it is.  n, m, d: samples, width, input dimension.
        seeds: networks trained together on the seed axis (one data set per seed when `per_seed_data`).
        steps: GD steps of each run.  runs: how many such batched runs the preset makes.
        per_seed_data: X has a seed axis (S, n, d) rather than one shared (n, d).
        optimizer, batch_size: "gd", or "sgd" on mini-batches of batch_size (each step costs a batch's shape).
        note: the design values the shape comes from.
    """

    check: str
    n: int
    m: int
    d: int
    seeds: int
    steps: int
    runs: int = 1
    per_seed_data: bool = False
    optimizer: str = "gd"
    batch_size: int | None = None
    note: str = ""


SWEEP_NS = (10, 20, 40, 80, 160, 320, 640, 1280)  # threshold SweepDesign.ns; the paper preset keeps them
#: the cuda paper presets as training runs (design values at `python -m checks.all --tier paper --list`)
PAPER_RUNS = (
    PaperRun("early_alignment.failure_rate", 3, 20000, 2, 3, 2_000_000, runs=7,
             note="E1's default instance (n = 3, d = 2, shared by the seeds), 7 λ × 3 seeds, m = 20000, horizon "
                  "4000 / step 2e-3"),
    PaperRun("early_alignment.spurious_stationary", 3, 20000, 2, 3, 2_000_000, runs=3,
             note="E2 3-point set, λ ∈ {1e-3, 1 (large), 1e-3 gaussian} × 3 seeds, m = 20000, 2·10⁶ steps"),
    PaperRun("early_alignment.not_a_minimum", 3, 20000, 2, 1, 2_000_000, runs=2,
             note="E1 (BF-P8's instance), m = 20000, λ = 1e-16: to the spurious point (flow time 4000) and as "
                  "long again after"),
    *(PaperRun("threshold.sweep", n, 10000, 5, 1, 200_000, runs=3, optimizer="sgd", batch_size=max(1, n // 10),
               note="BF-ST Fig. 1: d = 5, m = 10000, SGD on batches n // 10, default init, horizon 1000 / step "
                    "0.005, 3 seeds one after another (SGD takes one data set)")
      for n in SWEEP_NS),
    *(PaperRun("threshold.dependence", n, 10000, 10, 3, 20_000, per_seed_data=True,
               note="d = 10 arm at m = 10000, GD, horizon 4000 / step 0.2 (its λ and m arms and its d = 5 sweep "
                    "cost about as much again)")
      for n in (160, 320, 640, 1280)),
)


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def steps_per_second(n: int, m: int, d: int, seeds: int, per_seed_data: bool, *, device: str = "cpu",
                     probe: int = 200, repeats: int = 3, dtype=torch.float64, optimizer: str = "gd",
                     batch_size: int | None = None) -> float:
    """GD steps per second of `numerics.train` at one batched shape (best of `repeats` runs of `probe` steps).

    Arguments:
        n, m, d: samples, width, input dimension.  seeds: networks on the seed axis (1: a single network).
        per_seed_data: one data set per seed (X (S, n, d)).  device: "cpu" or "cuda[:k]".
        probe: steps per timed run (after one warm-up run).  repeats: timed runs.  dtype: float64 or float32.
        optimizer, batch_size: as in `numerics.train` ("sgd": one step is one mini-batch).

    Returns:
        steps per second.
    """
    for name, v in (("n", n), ("m", m), ("d", d), ("seeds", seeds), ("probe", probe), ("repeats", repeats)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise validate.InputError(f"{name} must be an integer ≥ 1, got {v!r}")
    g = torch.Generator().manual_seed(0)
    shape = (seeds, n, d) if per_seed_data and seeds > 1 else (n, d)
    X = torch.randn(*shape, generator=g, dtype=dtype).to(device)
    y = torch.randn(*shape[:-1], generator=g, dtype=dtype).to(device)
    W, a = init_params(m, d, scale=1e-3, seed=0, n_seeds=seeds if seeds > 1 else None, dtype=dtype, device=device)
    def run():
        train(X, y, W, a, lr=1e-3, steps=probe, n_checkpoints=0, stop_tol=0.0, record_patterns=False,
              progress=False, optimizer=optimizer, batch_size=batch_size)
        _sync(device)  # each timed call ends with the device idle, so the next one starts from idle too

    _sync(device)
    # bench.best_time: one warm-up call (allocations, cuBLAS handles, the kernel's compile), then the best repeat
    return probe / best_time(run, 1, repeats)


def measure(runs=PAPER_RUNS, *, device: str = "cpu", scale: float = 1.0, probe: int = 200,
            dtype=torch.float64) -> list[dict]:
    """Steps/s and the estimated cost of each paper run group (see the module docstring).

    Arguments:
        runs: PaperRun groups.  device: where to train.  scale: multiply every width by this (≤ 1: a quick try;
            the estimates then price the smaller widths).  probe: steps per timing.  dtype: element type.

    Returns:
        one dict per group: check, n, m, d, seeds, optimizer (with its batch), steps, runs, sps (steps/s),
        seconds (runs × steps / sps), note.
    """
    if not 0 < float(scale) <= 1:
        raise validate.InputError(f"scale must be in (0, 1] (a fraction of the paper widths), got {scale!r}")
    out = []
    for r in runs:
        m = max(1, int(round(r.m * scale)))
        sps = steps_per_second(r.n, m, r.d, r.seeds, r.per_seed_data, device=device, probe=probe, dtype=dtype,
                               optimizer=r.optimizer, batch_size=r.batch_size)
        opt = r.optimizer if r.optimizer == "gd" else f"{r.optimizer} (batch {r.batch_size or max(1, r.n // 10)})"
        out.append(dict(check=r.check, n=r.n, m=m, d=r.d, seeds=r.seeds, optimizer=opt, steps=r.steps, runs=r.runs,
                        sps=sps, seconds=r.runs * r.steps / sps, note=r.note))
    return out


def format_rows(rows: list[dict], device: str, markdown: bool = False) -> str:
    """The rows of `measure` as a table, then the per-check totals.

    Arguments:
        rows: from `measure`.  device: the device they were measured on (for the heading).  markdown: a Markdown table.

    Returns:
        the text.
    """
    head = ["check", "n", "m", "d", "seeds", "optimizer", "steps", "runs", "steps/s", "est. time"]
    cells = [[r["check"], str(r["n"]), str(r["m"]), str(r["d"]), str(r["seeds"]), r["optimizer"], f"{r['steps']:.0e}",
              str(r["runs"]), f"{r['sps']:.0f}", _hours(r["seconds"])] for r in rows]
    lines = [f"paper presets on {device} (float64, seeds batched):", *table(head, cells, markdown)]
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["check"]] = totals.get(r["check"], 0.0) + r["seconds"]
    lines += ["", "per check (training only): " + "; ".join(f"{k} {_hours(v)}" for k, v in totals.items()),
              f"all: {_hours(sum(totals.values()))}"]
    return "\n".join(lines)


def _hours(s: float) -> str:
    return f"{s / 3600:.2f} h" if s >= 3600 else f"{s / 60:.1f} min" if s >= 60 else f"{s:.1f} s"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m numerics.bench_paper", description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--scale", type=float, default=1.0, help="widths × this, in (0, 1] (0.01: a quick CPU try)")
    p.add_argument("--probe", type=int, default=200, help="steps per timing (default 200)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table (for BENCHMARKS.md)")
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}: torch {torch.__version__} sees no CUDA device; use --device cpu")
    if not 0 < args.scale <= 1 or args.probe < 1:
        p.error("--scale must be in (0, 1] and --probe ≥ 1")
    rows = measure(device=args.device, scale=args.scale, probe=args.probe)
    print(format_rows(rows, args.device, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
