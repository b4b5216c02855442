"""The paper and prediction registry: the source papers and their citations, the 45 numbered predictions of the
specification, the IDs checks declare, the theory digest's page of each ID, and the expected findings.

**Papers.** `REFERENCES` (key → authors, year, title, arXiv id, venue); `cite(key)`, `PAPERS` (key → citation).

**Predictions.** `PREDICTIONS`: the 45 numbered predictions of the specification (the theory digest, docs/theory/).

The coverage table of the report lists every ID, whether a check judges it, and how it fared. A check of a claim
outside the specification declares its own ID in its file (`new_predictions = {"MY-1": "title"}`) and, for a paper
not in `checks.frame.predictions.REFERENCES`, its citation (`reference = (authors, year, title, arXiv id, venue)`);
`declare(cls)`, called by `checks.frame.core.register`, files them in `DECLARED` / `REFERENCES` and rejects an ID or
paper key declared nowhere with one error naming where to declare it.

**Digest links.** `theory_link(pid)`: the docs/theory page and anchor of an ID; `in_digest(pid)`.

**Expected findings.** The verdicts known not to PASS, with the reason (like pytest's xfail).

`checks/expected-status.toml` lists them:

    [[expected]]
    check = "racing.race"
    id = "PIN-7"
    status = "PASS"                    # the claim's status: PASS (default), FAIL or INCONCLUSIVE
    refinement = "FAIL"                # optional: the status of our refinements ([R]/[C], judged apart)
    level = "our reconstruction"       # which level failed: one of LEVELS
    tiers = ["paper"]                  # optional: the tiers it applies to (default: all)
    reason = "in d = 2 the F1.7 ratio residual is 0.156 > 0.06: the gating changes while the neurons turn"

A (check, id) may have several entries when their `tiers` are disjoint (e.g. FAIL at quick and standard, INCONCLUSIVE
at the paper tier, each with its own reason); the entry that applies at a tier is the one listing it.

`level` says what a finding is about: `paper claim` (the paper's claim did not hold on a faithful run),
`our reconstruction` (a reconstructed law or refinement of ours did not hold), `calibration` (a calibrated
expectation of ours), `regime` (the run cannot reach the theorem's regime within the tier's budget), `protocol` (a
known shortfall of our own protocol at this tier, named with its fix; to be fixed, not kept). `python -m checks.all`
exits non-zero only on ERROR, or on a FAIL (of the claim or of a refinement) that the file does not list; every other
difference from the file is a note.
"""
from __future__ import annotations

import re
from pathlib import Path

from checks.frame.errors import CheckError

DIGEST_DIR = Path(__file__).resolve().parents[2] / "docs" / "theory"

PINSON, EARLY, THRESHOLD, MPG = ("pinson-racing.md", "bf-early-alignment.md", "bf-threshold.md",
                                 "mpg-conservation.md")

# The one table of the source papers (verified against the project's theory reference and the seeds):
# key → (authors, year, title, arXiv id, venue). `PAPERS` derives the full citation of each key from it.
REFERENCES = {
    "Pinson": ("Hannah Pinson", 2026, "It's not a Lottery, it's a Race: Understanding How Gradient Descent Adapts "
               "the Network's Capacity to the Task", "2602.04832", "arXiv preprint"),
    "BF-EA": ("Etienne Boursier, Nicolas Flammarion", 2024, "Early alignment in two-layer networks training is a "
              "two-edged sword", "2401.10791", "JMLR 26 (2025)"),
    "BF-ST": ("Etienne Boursier, Nicolas Flammarion", 2025, "Simplicity bias and optimization threshold in two-layer "
              "ReLU networks", "2410.02348", "ICML 2025"),
    "ABIDE": ("Sibylle Marcotte, Rémi Gribonval, Gabriel Peyré", 2023, "Abide by the law and follow the flow: "
              "conservation laws for gradient flows", "2307.00144", "NeurIPS 2023"),
    "INTR": ("Sibylle Marcotte, Gabriel Peyré, Rémi Gribonval", 2025, "Intrinsic training dynamics of deep neural "
             "networks", "2508.07370", "ICLR 2026"),
}


def cite(key: str) -> str:
    """The full citation of a paper key ("Authors (year). Title. Venue. arXiv:id"); an unknown key is returned as is.

    Arguments:
        key: a key of REFERENCES (a check's `paper`), or "GF" (the toolkit's own gradient-flow proxy).
    """
    if key == "GF":
        return "Gradient flow as the limit of full-batch GD (the toolkit's own proxy, validated by step halving)"
    if key not in REFERENCES:
        return str(key)
    authors, year, title, arxiv, venue = REFERENCES[key]
    return f"{authors} ({year}). {title}. {venue}. arXiv:{arxiv}"


PAPERS = {key: cite(key) for key in (*REFERENCES, "GF")}

PREDICTIONS = {
    'PIN-1': 'Balancedness',
    'PIN-2': 'Fixed-gating linearity',
    'PIN-3': 'Angle law',
    'PIN-4': 'Norm law',
    'PIN-5': 'Growth rate vs angle',
    'PIN-6': 'Merge invariance',
    'PIN-7': 'Racing',
    'PIN-8': 'Mutual alignment and merging',
    'PIN-9': 'Pruning',
    'PIN-10': 'Staggered escapes: unlocking and the race between groups',
    'PIN-11': 'Target direction at escape',
    'PIN-12': 'Gradient ratios at init',
    'BF-P1': 'Alignment at a fixed fraction of the horizon',
    'BF-P2': 'Small output during the phase',
    'BF-P3': 'Sign conservation',
    'BF-P4': 'Negative neurons die on all-positive-label data',
    'BF-P5': 'Quantisation and width independence',
    'BF-P6': 'Extremal vectors as fixed points',
    'BF-P7': 'The 1-D data (E2)',
    'BF-P8': 'The Assumption-3 instance (E1)',
    'BF-P9': 'Stationary but not a minimum',
    'BF-P10': 'Init dependence',
    'BF-P11': 'Large λ removes the failure',
    'BF-P12': 'Population extremal vectors',
    'BF-P13': 'Number of empirical extremal vectors',
    'BF-P14': 'No interpolation above the threshold',
    'BF-P15': 'Above the threshold the estimator is almost linear',
    'BF-P16': 'Interpolation below the threshold',
    'BF-P17': 'Threshold location',
    'BF-P18': 'The test loss drops across the threshold',
    'BF-P19': 'Robustness',
    'MPG-P1': 'Exact per-step GD defect, ReLU',
    'MPG-P2': 'Exact per-step GD defect, linear',
    'MPG-P3': 'Drift over a fixed horizon is O(η)',
    'MPG-P4': 'An ODE solver conserves to its tolerance',
    'MPG-P5': 'Weight decay',
    'MPG-P6': 'Counts',
    'MPG-P7': 'Frobenius gap',
    'MPG-P8': 'Intrinsic recoverability',
    'MPG-P9': 'Kernel inclusion separates relaxed-balanced from generic inits',
    'MPG-P10': 'Intrinsic dynamics of two-layer linear nets',
    'MPG-P11': 'Depth-3 scalar ReLU chain',
    'MPG-P12': 'Momentum',
    'MPG-P13': 'Dimension of the intrinsic variable',
    'MPG-P14': 'Symbolic sanity checks',
}

DECLARED: dict[str, str] = {}   # ID → title of the predictions checks declare outside the specification


def title(pid: str) -> str | None:
    """The title of a specification or declared prediction ID, else None."""
    return PREDICTIONS.get(pid) or DECLARED.get(pid)


def declare(cls) -> None:
    """File the IDs and paper a check declares (`new_predictions`, `reference`); reject undeclared ones.

    Arguments:
        cls: a Check subclass being registered.
    Raises:
        CheckError naming the check, the unknown ID or paper key, and where to declare it.
    """
    new = dict(getattr(cls, "new_predictions", {}) or {})
    for pid, text in new.items():
        if pid in PREDICTIONS or (pid in DECLARED and DECLARED[pid] != text):
            raise CheckError(f"check {cls.name!r}: new_predictions declares {pid!r}, which is already "
                             f"{'an ID of the specification' if pid in PREDICTIONS else 'declared by another check'}"
                             "; use it as prediction_id without declaring it, or pick a new ID")
    for pid in cls.ids():
        if pid not in PREDICTIONS and pid not in DECLARED and pid not in new:
            raise CheckError(f"check {cls.name!r}: prediction ID {pid!r} is not one of the specification's IDs "
                             f"(checks/frame/predictions.py); for a new claim declare it in the check's file: "
                             f"new_predictions = {{{pid!r}: 'a short title'}}")
    ref = getattr(cls, "reference", None)
    if ref is not None:
        if len(ref) != 5:
            raise CheckError(f"check {cls.name!r}: reference must be (authors, year, title, arXiv id, venue), "
                             f"got {ref!r}")
        if cls.paper in REFERENCES and tuple(REFERENCES[cls.paper]) != tuple(ref):
            raise CheckError(f"check {cls.name!r}: paper key {cls.paper!r} is already in checks/frame/predictions.py "
                             "REFERENCES with another citation; drop `reference` or pick a new key")
    elif cls.paper not in PAPERS:
        raise CheckError(f"check {cls.name!r}: paper {cls.paper!r} is not a key of checks/frame/predictions.py "
                         f"REFERENCES ({', '.join(PAPERS)}); for a new paper declare it in the check's file: "
                         "reference = (authors, year, title, arXiv id, venue)")
    DECLARED.update(new)
    if ref is not None:
        REFERENCES[cls.paper] = tuple(ref)
        PAPERS[cls.paper] = cite(cls.paper)


# ---------------------------------------------------------------- digest links
def theory_link(pid: str, base: str = "theory/") -> str:
    """The docs/theory page and anchor of a prediction or formula ID ("PIN-7" → "theory/pinson-racing.md#pin-7").

    Arguments:
        pid: a prediction ID (PIN-…, BF-P…, MPG-P…) or a formula ID (F1.…, F2.…, F3.…).
        base: the path prefix from the linking document to docs/ (e.g. "theory/" from docs/checks.md).
    """
    if not isinstance(pid, str) or not pid:
        raise ValueError(f"pid must be an ID such as 'PIN-7' or 'F3.2', got {pid!r}")
    anchor = re.sub(r"[^a-z0-9-]", "", pid.lower().replace(".", "-"))
    num = re.match(r"(?:F2\.|BF-P|E)(\d+)", pid)
    if pid.startswith(("PIN-", "F1.")) or pid in ("E6", "E7"):
        page = PINSON
    elif pid.startswith(("MPG-", "F3.")) or pid == "E8":
        page = MPG
    elif pid.startswith("F2.") and num:
        page = EARLY if int(num.group(1)) <= 7 else THRESHOLD
    elif pid.startswith("BF-P") and num:
        page = EARLY if int(num.group(1)) <= 11 else THRESHOLD
    elif pid in ("E1", "E2", "E3", "E4"):
        page = EARLY
    elif pid == "E5":
        page = THRESHOLD
    else:
        page = "index.md"
    return f"{base}{page}#{anchor}"


def in_digest(pid: str) -> bool:
    """Whether the theory digest (docs/theory) has an anchor for `pid` (every ID of the specification does; an ID a
    check declares for its own claim may not)."""
    if pid in PREDICTIONS:
        return True
    page, anchor = theory_link(pid, "").split("#")
    path = DIGEST_DIR / page
    return path.is_file() and f'<a id="{anchor}"></a>' in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- expected findings
PATH = Path(__file__).resolve().parent.parent / "expected-status.toml"
LEVELS = ("paper claim", "our reconstruction", "calibration", "regime", "protocol")
_STATUSES = ("PASS", "FAIL", "INCONCLUSIVE")


def load(path: Path = PATH) -> dict:
    """(check, id) → entry dict (status, reason, tiers); further entries of the same (check, id), for other tiers,
    under the first one's "others" (see `at_tier`)."""
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
        key = (e["check"], e["id"])
        if key not in out:
            out[key] = e
            continue
        group = entries(out[key])
        if not e.get("tiers") or any(not g.get("tiers") or set(g["tiers"]) & set(e["tiers"]) for g in group):
            raise CheckError(f"{path}: {key[0]} {key[1]} has two entries for one tier; give each entry its own "
                             "`tiers` (disjoint lists)")
        out[key].setdefault("others", []).append(e)
    return out


def entries(entry: dict | None) -> list[dict]:
    """Every entry of one (check, id): `entry` and the ones for other tiers."""
    return [] if entry is None else [entry, *entry.get("others", [])]


def at_tier(entry: dict | None, tier: str) -> dict | None:
    """The entry of one (check, id) that applies at `tier` (one without `tiers` applies at every tier), or None."""
    return next((e for e in entries(entry) if not e.get("tiers") or tier in e["tiers"]), None)


def applies(entry: dict | None, tier: str) -> bool:
    """Whether `entry` (or None) lists a finding at `tier`."""
    return at_tier(entry, tier) is not None


def expected_status(entry: dict | None, tier: str) -> str:
    """The claim status the file expects at `tier` (PASS when it lists nothing)."""
    e = at_tier(entry, tier)
    return e["status"] if e else "PASS"


def expected_refinement(entry: dict | None, tier: str) -> str:
    """The refinement status the file expects at `tier` (PASS when it lists nothing)."""
    e = at_tier(entry, tier)
    return e["refinement"] if e else "PASS"


def finding(v, table: dict | None = None) -> dict | None:
    """The listed finding of verdict `v` at its tier (reason, level), or None."""
    table = load() if table is None else table
    return at_tier(table.get((v.check, v.prediction_id)), v.tier)


def compare(verdicts, tier: str, table: dict | None = None) -> tuple[list[str], list[str]]:
    """(problems that fail the run, notes): ERRORs and unlisted FAILs; every other change against the file."""
    table = load() if table is None else table
    problems, notes = [], []
    for v in verdicts:
        entry = at_tier(table.get((v.check, v.prediction_id)), tier)
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
