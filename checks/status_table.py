"""The README's status table, generated from the summary.json of a quick and a standard run (one source).

    python -m checks.status_table results/<quick run> results/<standard run>

rewrites the block between the README's status markers: one row per (prediction ID, check) of the registry, in the
specification's order, with the check's provenance and, per tier, the claim's status and — where our refinements
did not PASS — their status after a slash ("PASS / refinement FAIL"). A check not run at a tier shows "—".
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from checks.runner.cli import Parser
from checks.docs import replace_block
from checks.frame.errors import CheckError

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- status:start (python -m checks.status_table QUICK STANDARD) -->", "<!-- status:end -->"
HEAD = ["| ID | prediction | check | provenance | quick | standard |", "|---|---|---|---|---|---|"]


def _statuses(folder) -> dict:
    """(check, ID) → "STATUS" or "STATUS / refinement R" from a run folder's summary.json."""
    path = Path(folder) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckError(f"{path}: not a readable summary.json of a run folder ({exc}); give the folder "
                         "`python -m checks.all --out DIR` wrote") from None
    out = {}
    for v in summary.get("verdicts", []):
        ref = v.get("refinement_status") or ""
        out[(v["check"], v["prediction_id"])] = v["status"] + (f" / refinement {ref}" if ref not in ("", "PASS")
                                                              else "")
    return out


def rows(quick: dict, standard: dict) -> list[str]:
    """The table's Markdown lines for the registered checks, given the two tiers' statuses (see `_statuses`)."""
    from checks.runner.api import discover
    from checks.frame.predictions import PREDICTIONS

    classes = [c for c in discover() if c.__module__.startswith("checks.suites")]
    pairs = [(pid, cls) for cls in classes for pid in cls.ids()]
    order = {pid: i for i, pid in enumerate(PREDICTIONS)}
    pairs.sort(key=lambda pc: (order.get(pc[0], len(order)), pc[1].name))
    out = list(HEAD)
    for pid, cls in pairs:
        fam = " (family)" if cls.family is not None and pid == cls.prediction_id else ""
        prov = cls.provenances.get(pid, cls.provenance)
        key = (cls.name, pid)
        out.append(f"| {pid} | {PREDICTIONS.get(pid, '(toolkit own)')} | `{cls.name}`{fam} | {prov} "
                   f"| {quick.get(key, '—')} | {standard.get(key, '—')} |")
    return out


def main(argv=None) -> int:
    p = Parser(prog="python -m checks.status_table", description=__doc__.splitlines()[0])
    p.add_argument("quick", help="run folder of a quick-tier run (holds summary.json)")
    p.add_argument("standard", help="run folder of a standard-tier run (holds summary.json)")
    args = p.parse_args(argv)
    try:
        table = rows(_statuses(args.quick), _statuses(args.standard))
        text = replace_block(README.read_text(encoding="utf-8"), START, END, "\n".join(table) + "\n")
        README.write_text(text, encoding="utf-8")
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"updated the status table in {README} ({len(table) - 2} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
