"""Everything a run writes under its output folder, atomically and with relative paths only.

    records/<check>.<ID>.json   one frozen Verdict per (check, prediction ID) (schema: checks/verdict.schema.json)
    results.csv                 one row per criterion (pandas: pd.read_csv(out / "results.csv"))
    summary.json                tier, seconds, versions, commit, every verdict
    report.md, report.html      coverage by prediction ID, then one section per verdict (HTML embeds its figures)
    figures/<check><suffix>.png

Records and figures that an earlier run left in the folder are removed, so the folder describes one run.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .errors import CheckError
from .io import write_json, write_text
from .verdict import Verdict, commit, versions


def prepare(out) -> Path:
    """Create the output folder (an existing file there is an error, raised before any training)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CheckError(f"out={str(out)!r} is a file; pass a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckError(f"out={str(out)!r} cannot be created: {exc.strerror}; pass a writable folder") from None
    return out


def record_name(v: Verdict) -> str:
    return f"{v.check}.{v.prediction_id}.json"


def results_csv(verdicts) -> str:
    rows = [r for v in verdicts for r in v.rows()]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["check"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_all(verdicts: list[Verdict], out: Path, tier: str, seconds: float) -> dict:
    """Write records, results.csv, summary.json and the report; remove stale records and figures."""
    from .report import write_report

    out = Path(out)
    keep = set()
    for v in verdicts:
        keep.add(write_json(out / "records" / record_name(v), v.to_dict()).name)
    for old in (out / "records").glob("*.json"):
        if old.name not in keep:
            old.unlink()
    figs = {Path(f).name for v in verdicts for f in v.figures}
    for old in (out / "figures").glob("*.png"):
        if old.name not in figs:
            old.unlink()
    write_text(out / "results.csv", results_csv(verdicts))
    summary = dict(tier=tier, seconds=seconds, versions=versions(), commit=commit(),
                   counts={s: sum(v.status == s for v in verdicts) for s in ("PASS", "FAIL", "INCONCLUSIVE", "ERROR")},
                   verdicts=[v.to_dict() for v in verdicts])
    write_json(out / "summary.json", summary)
    write_report(verdicts, out, tier, seconds)
    return summary
