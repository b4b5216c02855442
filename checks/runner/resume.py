"""`--resume`: reuse the records an interrupted run left in its folder, when they describe the same experiment.

A check's records are reused when every prediction ID of the check has one, each parses, none is an ERROR, and
each matches the run being resumed in tier, seed, design (every setting, the data set by its SHA-256), record
schema and git commit; its figures must still be there. Anything else is run again. Note that a checkout with
uncommitted changes records `<commit>+dirty` whatever the changes, so resume after editing code with care.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from checks.frame.criteria import plain
from checks.frame.verdict import SCHEMA_VERSION, Verdict, commit

__all__ = ["reusable", "verdict_of"]

_TUPLES = ("criteria", "alternatives", "figures", "protocol")


def verdict_of(record: dict) -> Verdict:
    """A Verdict from its JSON record (the inverse of `Verdict.to_dict`).

    Arguments:
        record: a parsed `records/<check>.<ID>.json`.
    """
    names = {f.name for f in dataclasses.fields(Verdict)}
    kwargs = {k: v for k, v in record.items() if k in names}
    for k in _TUPLES:
        if k in kwargs:
            kwargs[k] = tuple(kwargs[k])
    return Verdict(**kwargs)


def _same(record: dict, tier: str, design, want: dict, out: Path) -> bool:
    return (record.get("schema") == SCHEMA_VERSION and record.get("tier") == tier and record.get("seed") == design.seed
            and record.get("design") == want and record.get("commit") == commit()
            and record.get("status") in ("PASS", "FAIL", "INCONCLUSIVE")
            and all((out / f).is_file() for f in record.get("figures", ())))


def reusable(cls, design, tier: str, out) -> list[Verdict] | None:
    """The check's verdicts from `out/records` if they can be reused for (`design`, `tier`), else None.

    Arguments:
        cls: the check class.  design: its design for this run.  tier: this run's tier.  out: the run folder.
    """
    out = Path(out)
    want = json.loads(json.dumps(plain(design.to_dict())))
    found = []
    for pid in cls.ids():
        try:
            record = json.loads((out / "records" / f"{cls.name}.{pid}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not _same(record, tier, design, want, out):
            return None
        found.append(record)
    try:
        return [verdict_of(r) for r in found]
    except TypeError:
        return None
