"""Shared command-line pieces of `python -m checks.all` and `python -m checks.run`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from checks.frame.design import SEED_MAX, TIERS, parse_assignments
from checks.frame.errors import CheckError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit 2), like every other bad input of the toolkit,
    instead of argparse's usage block followed by the error."""

    def error(self, message: str):
        self.exit(2, f"error: {' '.join(message.split())}; {self.prog} --help lists the options\n")


def add_common(p: argparse.ArgumentParser, default_tier: str = "standard") -> None:
    tier = p.add_mutually_exclusive_group()
    tier.add_argument("--quick", action="store_const", const="quick", dest="tier", help="quick tier (≤ 3 min, CI)")
    tier.add_argument("--tier", choices=TIERS, dest="tier", help=f"tier to run (default: {default_tier})")
    p.set_defaults(tier=default_tier)
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", dest="assignments",
                   help="override design settings, e.g. --set m=1000 lam=1e-4 (see --list-settings)")
    p.add_argument("--config", metavar="FILE.toml", help="settings from a TOML file: top-level keys for every "
                   "selected check, [check.name] tables for one")
    p.add_argument("--seed", type=int, help="base seed of every random draw (default 0)")
    p.add_argument("--device", help="cpu (default), cuda or cuda:N: where the heavy training runs")


def add_out(p: argparse.ArgumentParser, base: str) -> None:
    """--out DIR: written exactly there; without it, a fresh run folder `<base>/<stamp>-<tier>/` (+ `<base>/latest`)."""
    p.add_argument("--out", type=Path, metavar="DIR", help=f"output folder, written exactly there (default: a new "
                   f"{base}/<YYYYmmdd-HHMMSS>-<tier>/ run folder, with {base}/latest pointing at it)")


def out_of(args, base: str):
    """The `out` argument of `checks.runner.api` for --out (a path) or its absence (a `RunFolder` under `base`)."""
    from checks.outputs.run_folder import RunFolder

    return RunFolder(base) if args.out is None else args.out


def overrides_of(args) -> dict:
    """--set, --seed and --device as one overrides dict (validated later by each design)."""
    out = parse_assignments(args.assignments)
    if args.seed is not None:
        if not 0 <= args.seed <= SEED_MAX:
            raise CheckError(f"--seed {args.seed}: the seed must be an integer from 0 to 2**32 − 1, e.g. --seed 0")
        out["seed"] = args.seed
    if args.device is not None:
        if args.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise CheckError(f"--device {args.device}: torch sees no CUDA device (torch {torch.__version__}); "
                                 "run on a GPU machine with a CUDA build of torch, or use --device cpu")
        out["device"] = args.device
    return out


EXIT_RULE = ("Exit status (python -m checks.all and python -m checks.run alike): 0 when every verdict is PASS, "
             "INCONCLUSIVE (the fix is printed) or a known finding listed in checks/expected-status.toml; 1 on an "
             "ERROR or a FAIL that file does not list; 2 on bad arguments; 130 when interrupted.")


def finish(verdicts, tier: str, quiet: bool = False, notes: bool = True) -> int:
    """The one exit-status rule of both commands (see EXIT_RULE): print the notes and problems, return 0 or 1.

    Arguments:
        verdicts: the run's verdicts.  tier: its tier.  quiet: print nothing (--json output stays pure JSON).
        notes: print the differences from checks/expected-status.toml that do not fail the run (off for own data:
            the file's findings are about the toolkit's data sets, not yours).
    """
    from checks.frame import predictions as expected

    problems, diffs = expected.compare(verdicts, tier)
    if not quiet:
        from checks.runner.listing import wrap

        for n in diffs if notes else ():
            print("\n".join(wrap(f"note: {n}", indent="      ", first="")))
        for p in problems:
            print("\n".join(wrap(f"problem: {p}", indent="         ", first="")), file=sys.stderr)
    return 1 if problems else 0


def fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def entry(main, argv=None) -> int:
    """Run a command's `main`; when its reader goes away (`… | head`), end quietly with status 141 (as a process
    killed by SIGPIPE) instead of a BrokenPipeError traceback.

    Arguments:
        main: the command's main(argv) -> int.  argv: its arguments (None: sys.argv[1:]).
    """
    try:
        code = main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error when Python flushes
        return 141
