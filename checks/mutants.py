"""The mutant × check table: `python -m checks.mutants [--tier T] [--only SEL]`.

Each check is observed once; its prediction, every declared mutant (a wrong formula a bug could introduce) and
every alternative (a referee's near miss) are judged on that same observation. A mutant that does not FAIL a
criterion the theory passes is a survivor: the check could not tell that wrong theory from the right one (a
criterion that fails for the theory too — a known finding — kills nothing). Exits 1 on a survivor.

With `--generated`, the mutants are instead every single-node edit `theory.mutate` generates of each formula a check
reads, scored per formula (generated, equivalent, killed, survived; see `checks.runner.generated_mutants`).
"""
from __future__ import annotations

import sys

from checks.runner.cli import Parser
from checks.runner import api
from checks.frame.criteria import status_of
from checks.frame.errors import CheckError


def table(tier: str = "quick", only: str | None = None, progress: bool = True) -> list[dict]:
    """One row per (check, variant): kind (prediction / mutant / alternative), name, status, failed criteria."""
    rows = []
    for cls in api.discover(tier, only):
        check = cls()
        d = cls.design.build(tier, **({"instances": 0} if "instances" in cls.design.keys() else {}))
        if progress:
            print(f"  observing {cls.name} …", file=sys.stderr, flush=True)
        out = check.outcome(d)
        rows.append(dict(check=cls.name, kind="prediction", name="theory", status=status_of(out.criteria),
                         failed=[c.name for c in out.criteria if c.passed is False]))
        th = out.theory
        truth_failed = [c.name for c in out.criteria if c.passed is False]
        for kind, variants in (("mutant", check.all_mutants(th)), ("alternative", cls.alternatives)):
            for v in variants:
                s = check.score_variant(v, d, th, out.observed, every_level=kind == "mutant")
                killed = s["status"] == "FAIL" and bool(set(s["failed"]) - set(truth_failed))
                rows.append(dict(check=cls.name, kind=kind, name=v.name, status=s["status"], failed=s["failed"],
                                 killed=killed))
    return rows


def main(argv=None) -> int:
    p = Parser(prog="python -m checks.mutants", description=__doc__.splitlines()[0])
    p.add_argument("--tier", default="quick", help="tier (default quick)")
    p.add_argument("--only", help="selection, as for checks.all")
    p.add_argument("--generated", action="store_true",
                   help="judge the generated single-node edits of every formula a check reads "
                        "(checks.runner.generated_mutants)")
    args = p.parse_args(argv)
    if args.generated:
        from checks.runner.generated_mutants import report

        try:
            return report(args.tier, args.only)
        except CheckError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        rows = table(args.tier, args.only)
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    w = max(len(r["check"]) for r in rows)
    survivors = [r for r in rows if r["kind"] == "mutant" and not r["killed"]]
    for r in rows:
        mark = "SURVIVES" if r in survivors else ""
        print(f"{r['check']:{w}}  {r['kind']:11s}  {r['status']:12s}  {r['name']}  {mark}".rstrip())
    n_mut = sum(r["kind"] == "mutant" for r in rows)
    print(f"\n{n_mut} mutants, {n_mut - len(survivors)} killed, {len(survivors)} survivors "
          f"(mutation score {100 * (n_mut - len(survivors)) / max(1, n_mut):.0f}%)")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
