"""Run the checks: `python -m checks.all [--quick | --tier T] [--only SEL] [--set K=V …] [--config F] [--out DIR]`.

Prints one verdict table and a tally; writes records, results.csv, summary.json, report.md/html and figures into
a fresh run folder `results/<YYYYmmdd-HHMMSS>-<tier>/` (`results/latest` points at it), or exactly into --out DIR.
Each check's records are written when it ends; after Ctrl-C or a kill, `--resume` (same arguments) reuses them
and runs the rest. Exit status, shared with `python -m checks.run` (`checks.runner.cli.finish`): 0 when every verdict is
PASS, INCONCLUSIVE or a known finding listed with its reason in `checks/expected-status.toml`; 1 on an ERROR or on a
FAIL that file does not list; 2 on bad arguments; 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")

from checks.runner import api  # noqa: E402
from checks.runner.cli import EXIT_RULE, Parser, add_common, add_out, fail, finish, out_of, overrides_of  # noqa: E402
from checks.frame.errors import CheckError  # noqa: E402
from checks.runner.listing import list_checks, list_settings, wrap  # noqa: E402
from checks.runner.live import recorded_seconds  # noqa: E402
from checks.outputs.table import coverage_text, format_table  # noqa: E402


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m checks.all` (its errors: one line on stderr, exit 2)."""
    p = Parser(prog="python -m checks.all", description=__doc__.splitlines()[0], epilog=EXIT_RULE)
    add_common(p)
    p.add_argument("--only", metavar="SEL", help="check names, globs (racing.*), suite prefixes (racing) or "
                   "prediction IDs (PIN-7), comma-separated")
    add_out(p, "results")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in its folder (--out DIR, "
                   "else results/latest): reuse the records whose tier, seed, design and commit match, run the rest")
    p.add_argument("--list", action="store_true", help="list the selected checks of the tier and exit")
    p.add_argument("--list-settings", action="store_true", help="list each selected check's settings (this "
                   "run's value, every tier's, the description) and exit")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON instead of a table")
    p.add_argument("--claims", action="store_true", help="print each claim under its row")
    p.add_argument("--coverage", action="store_true", help="also print the table by prediction ID (the 45 IDs of "
                   "the specification: check, status, the prediction's score, the best alternative's)")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    return parser().parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = None
    try:
        classes = api.discover(args.tier, args.only)
        if args.list:
            print("\n".join(list_checks(classes, args.tier)))
            return 0
        overrides = overrides_of(args)
        config = api.load_config(args.config) if args.config else None
        designs = api.designs_for(classes, args.tier, overrides, config)  # bad keys fail before any training
        if args.list_settings:
            print("\n".join(list_settings(classes, designs, args.tier)))
            return 0
        recorded = recorded_seconds(api.timing_sources(out_of(args, "results"), args.tier), args.tier)
        out = api.resolve_out(out_of(args, "results"), args.tier, args.resume)
        verdicts = api.execute(classes, designs, args.tier, out, "plain" if args.json else None, args.resume,
                               recorded)
    except CheckError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        if out is None:
            print("\ninterrupted before any check ran", file=sys.stderr)
            return 130
        done = len(list(out.glob("records/*.json")))
        print(f"\ninterrupted: {done} records of finished checks are in {out}/; continue with the same arguments "
              f"and --resume" + ("" if args.out is not None else f" (or --out {out} --resume)"), file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps([v.to_dict() for v in verdicts], indent=2))
    else:
        print(format_table(verdicts, colour=sys.stdout.isatty(), claims=args.claims))
        first, *rest = coverage_text(verdicts, full=args.coverage).splitlines()
        print("\n".join([*wrap(first, indent="  ", first=""), *rest]))
        summary = json.loads((out / "summary.json").read_text())
        reused = f" ({len(summary['resumed'])} reused by --resume)" if summary.get("resumed") else ""
        print(f"{len(classes)} check{'s' if len(classes) != 1 else ''}{reused} in {summary['seconds']} s")
        print("\n".join(wrap(f"report: {out / 'report.html'}", indent="  ", first="")))
        print("\n".join(wrap(f"records, results.csv and figures: {out}/", indent="  ", first="")))
    return finish(verdicts, args.tier, quiet=args.json)


if __name__ == "__main__":
    from checks.runner.cli import entry

    sys.exit(entry(main))
