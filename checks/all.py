"""Run every registered check: `python -m checks.all [--quick | --tier T] [--only PATTERN] [--out DIR]`.

Prints one verdict table, writes one JSON record per check, summary.json and PNG figures under --out,
and exits 1 if any check FAILs or ERRORs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from .core import ERROR, FAIL, TIERS, Context  # noqa: E402
from .discover import discover  # noqa: E402
from .io import write_json  # noqa: E402
from .report import write_report  # noqa: E402
from .table import format_table  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m checks.all", description=__doc__.splitlines()[0])
    tier = p.add_mutually_exclusive_group()
    tier.add_argument("--quick", action="store_const", const="quick", dest="tier", help="quick tier (≤ 2 min)")
    tier.add_argument("--tier", choices=TIERS, dest="tier", help="tier to run (default: standard, ≤ 10 min)")
    p.add_argument("--only", metavar="PATTERN", help="run only checks whose name matches (glob or substring)")
    p.add_argument("--out", default="results", type=Path, help="output folder (default: results/)")
    p.add_argument("--device", default="cpu",
                   help="cpu (default) or cuda: on a GPU the threshold sweep runs its seeds batched; the small runs "
                        "of the other checks stay on the CPU")
    p.add_argument("--seed", default=0, type=int, help="base seed (default 0)")
    p.add_argument("--list", action="store_true", help="list the checks of the tier and exit")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON instead of a table")
    args = p.parse_args(argv)
    args.tier = args.tier or "standard"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        print(f"error: --device {args.device!r} is not supported; use cpu or cuda", file=sys.stderr)
        return 2
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(f"error: --device {args.device}: torch sees no CUDA device (torch.cuda.is_available() is False, "
                  f"torch {torch.__version__}); run on a GPU machine with a CUDA build of torch, or use --device cpu",
                  file=sys.stderr)
            return 2
    try:
        checks = discover(args.tier, args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for c in checks:
            print(f"{c.name:40s} {c.prediction_id:8s} {c.provenance:6s} tiers={','.join(c.tiers)}")
        return 0
    ctx = Context(tier=args.tier, out=args.out, device=args.device, seed=args.seed)
    ctx.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NUMERICS_PROGRESS", "1" if sys.stderr.isatty() else "0")
    verdicts, start = [], time.perf_counter()
    for i, check in enumerate(checks, 1):
        if not args.json:
            print(f"[{i}/{len(checks)}] {check.name} ...", file=sys.stderr, flush=True)
        v = check.run(ctx)
        write_json(ctx.out / "records" / f"{check.name}.json", v.to_dict())
        verdicts.append(v)
    summary = dict(tier=args.tier, seed=args.seed, seconds=round(time.perf_counter() - start, 1),
                   verdicts=[v.to_dict() for v in verdicts])
    write_json(ctx.out / "summary.json", summary)
    md, page = write_report(verdicts, ctx.out, args.tier, summary["seconds"])
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_table(verdicts, colour=sys.stdout.isatty()))
        print(f"\n{len(verdicts)} checks in {summary['seconds']} s; report: {page} ({md.name}); records and figures "
              f"in {ctx.out}/")
    return 1 if any(v.status in (FAIL, ERROR) for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
