"""Expected findings: the verdicts known not to PASS, with the reason (like pytest's xfail).

`checks/expected-status.toml` lists them:

    [[expected]]
    check = "racing.race"
    id = "PIN-7"
    status = "FAIL"                    # or INCONCLUSIVE
    tiers = ["quick", "standard"]      # optional: the tiers it applies to (default: all)
    reason = "cos δ correlation is lower before the drop than at t = 0 (0.51 vs 0.55 on XOR)"

`python -m checks.all` exits non-zero only on ERROR, or on a FAIL that the file does not list; every other
difference from the file (a listed FAIL that now PASSes, an unlisted INCONCLUSIVE) is printed as a note.
"""
from __future__ import annotations

from pathlib import Path

from .errors import CheckError

PATH = Path(__file__).with_name("expected-status.toml")


def load(path: Path = PATH) -> dict:
    """(check, id) → entry dict (status, reason, tiers)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    if not path.is_file():
        return {}
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for e in raw.get("expected", []):
        missing = {"check", "id", "status", "reason"} - set(e)
        if missing or e["status"] not in ("FAIL", "INCONCLUSIVE"):
            raise CheckError(f"{path}: entry {e} needs check, id, status (FAIL or INCONCLUSIVE) and reason")
        out[(e["check"], e["id"])] = e
    return out


def expected_status(entry: dict | None, tier: str) -> str:
    if entry is None or (entry.get("tiers") and tier not in entry["tiers"]):
        return "PASS"
    return entry["status"]


def compare(verdicts, tier: str, table: dict | None = None) -> tuple[list[str], list[str]]:
    """(problems that fail the run, notes): ERRORs and unlisted FAILs; every other change against the file."""
    table = load() if table is None else table
    problems, notes = [], []
    for v in verdicts:
        entry = table.get((v.check, v.prediction_id))
        want = expected_status(entry, tier)
        if v.status == "ERROR":
            problems.append(f"{v.check} {v.prediction_id}: ERROR ({v.message})")
        elif v.status == "FAIL" and want != "FAIL":
            problems.append(f"{v.check} {v.prediction_id}: FAIL, expected {want} (failed: {', '.join(v.failed)})")
        elif v.status != want:
            notes.append(f"{v.check} {v.prediction_id}: {v.status}, expected-status.toml says {want}"
                         + (f" ({entry['reason']})" if entry else ""))
    return problems, notes
