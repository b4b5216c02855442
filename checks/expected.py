"""Expected findings: the verdicts known not to PASS, with the reason (like pytest's xfail).

`checks/expected-status.toml` lists them:

    [[expected]]
    check = "racing.race"
    id = "PIN-7"
    status = "PASS"                    # the claim's status: PASS (default), FAIL or INCONCLUSIVE
    refinement = "FAIL"                # optional: the status of our refinements ([R]/[C], judged apart)
    level = "our reconstruction"       # which level failed: one of LEVELS
    tiers = ["paper"]                  # optional: the tiers it applies to (default: all)
    reason = "in d = 2 the F1.7 ratio residual is 0.156 > 0.06: the gating changes while the neurons turn"

`level` says what a finding is about: `paper claim` (the paper's claim did not hold on a faithful run),
`our reconstruction` (a reconstructed law or refinement of ours did not hold), `calibration` (a calibrated
expectation of ours), `regime` (the run cannot reach the theorem's regime within the tier's budget), `protocol` (a
known shortfall of our own protocol at this tier, named with its fix; to be fixed, not kept). `python -m checks.all` exits non-zero only on ERROR, or on a FAIL (of
the claim or of a refinement) that the file does not list; every other difference from the file is a note.
"""
from __future__ import annotations

from pathlib import Path

from .errors import CheckError

PATH = Path(__file__).with_name("expected-status.toml")
LEVELS = ("paper claim", "our reconstruction", "calibration", "regime", "protocol")
_STATUSES = ("PASS", "FAIL", "INCONCLUSIVE")


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
        e = {"status": "PASS", "refinement": "PASS", **e}
        missing = {"check", "id", "reason", "level"} - set(e)
        if (missing or e["status"] not in _STATUSES or e["refinement"] not in _STATUSES or e["level"] not in LEVELS
                or (e["status"], e["refinement"]) == ("PASS", "PASS")):
            raise CheckError(f"{path}: entry {e} needs check, id, reason, level (one of {', '.join(LEVELS)}) and a "
                             "status or refinement of FAIL or INCONCLUSIVE")
        out[(e["check"], e["id"])] = e
    return out


def applies(entry: dict | None, tier: str) -> bool:
    """Whether `entry` (or None) lists a finding at `tier`."""
    return entry is not None and (not entry.get("tiers") or tier in entry["tiers"])


def expected_status(entry: dict | None, tier: str) -> str:
    """The claim status the file expects at `tier` (PASS when it lists nothing)."""
    return entry["status"] if applies(entry, tier) else "PASS"


def expected_refinement(entry: dict | None, tier: str) -> str:
    """The refinement status the file expects at `tier` (PASS when it lists nothing)."""
    return entry["refinement"] if applies(entry, tier) else "PASS"


def finding(v, table: dict | None = None) -> dict | None:
    """The listed finding of verdict `v` at its tier (reason, level), or None."""
    table = load() if table is None else table
    entry = table.get((v.check, v.prediction_id))
    return entry if applies(entry, v.tier) else None


def compare(verdicts, tier: str, table: dict | None = None) -> tuple[list[str], list[str]]:
    """(problems that fail the run, notes): ERRORs and unlisted FAILs; every other change against the file."""
    table = load() if table is None else table
    problems, notes = [], []
    for v in verdicts:
        entry = table.get((v.check, v.prediction_id))
        want = expected_status(entry, tier)
        if v.status == "ERROR":
            problems.append(f"{v.check} {v.prediction_id}: ERROR ({v.message})")
            continue
        if v.status == "FAIL" and want != "FAIL":
            problems.append(f"{v.check} {v.prediction_id}: FAIL, expected {want} (failed: {', '.join(v.failed)})")
        elif v.status != want:
            notes.append(f"{v.check} {v.prediction_id}: {v.status}, expected-status.toml says {want}"
                         + (f" ({entry['reason']})" if entry else ""))
        got, want_r = v.refinement_status or "PASS", expected_refinement(entry, tier)
        if got == "FAIL" and want_r != "FAIL":
            problems.append(f"{v.check} {v.prediction_id}: our reconstruction FAILs, expected {want_r} (failed: "
                            f"{', '.join(v.refinements_failed)})")
        elif got != want_r and v.status != "ERROR":
            notes.append(f"{v.check} {v.prediction_id}: refinement {got}, expected-status.toml says {want_r}")
    return problems, notes
