"""Named criteria: what a check returns instead of a status.

A `Criterion` compares one observed number with the theory's prediction (or a bound derived from it) under a
stated tolerance and rationale. `passed` is True, False, or None when the setup cannot decide (INCONCLUSIVE).
The frame derives the verdict's status from the criteria:

    FAIL          if any criterion failed,
    INCONCLUSIVE  else if any criterion could not decide, or a declared alternative also fits,
    PASS          otherwise.

Constructors: `within` (|obs − pred| ≤ tol), `at_most`, `at_least`, `holds` (a boolean fact), `undecided`,
`regime` (whether the run reached the regime its claim is about) and `gated` (a regime criterion first; when it
does not hold, the criteria it guards are reported but judge nothing, so the verdict is INCONCLUSIVE with why),
`measured` (a number reported beside the verdict that judges nothing).

**Claim levels.** Every criterion has a `level` (`LEVELS`):

    regime      a hypothesis of the theorem, measured on the run (the regime gate): INCONCLUSIVE when it fails
    claim       the prediction ID's claim as the specification states it (the paper's own claim where it is [V])
    refinement  a refinement of ours ([R] reconstructed law or [C] calibrated expectation) beyond that claim
    measure     a measurement reported with the verdict, judged by nothing

The verdict of a prediction ID is `claim_status` (regime + claim criteria); `refinement_status` (regime +
refinement criteria) is judged and reported apart, so a refinement that fails reads "our reconstruction did not
hold", never "the paper's claim failed". Each criterion may also carry the provenance `tag` of its statement
("V", "R" or "C").
SymPy expressions are shown one way, as `theory.formula.to_text` writes them (η²⋅(g_a² − ‖g_w‖²)), never `str()`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from theory.formula import to_text

PASS, FAIL, INCONCLUSIVE, ERROR = "PASS", "FAIL", "INCONCLUSIVE", "ERROR"
STATUSES = (PASS, FAIL, INCONCLUSIVE, ERROR)
REGIME, CLAIM, REFINEMENT, MEASURE = "regime", "claim", "refinement", "measure"
LEVELS = (REGIME, CLAIM, REFINEMENT, MEASURE)
TAGS = ("", "V", "R", "C")


@dataclass(frozen=True)
class Criterion:
    """One named test of a prediction against an observation.

    Arguments:
        name: what is tested, in words ("max rel. error of ΔΔ_j", "Spearman of the predictor").
        value: the observed number (or short text).
        tolerance: the acceptance rule in words/numbers ("≤ 1e-12", "≥ 0.95", "|·| ≤ 0.1").
        passed: True, False, or None (the setup cannot decide).
        rationale: why this tolerance, relative to what effect size.
        predicted: the predicted number the value is compared with, where there is one.
        prediction_id: the ID this criterion judges ("" = the check's first ID).
        details: extra JSON-plain numbers for the record.
        level: `regime`, `claim` (default), `refinement` or `measure` (see the module docstring).
        tag: provenance of the criterion's own statement: "V" (paper), "R" (reconstructed), "C" (calibrated), "".
    """

    name: str
    value: Any
    tolerance: str
    passed: bool | None
    rationale: str = ""
    predicted: Any = None
    prediction_id: str = ""
    details: dict = field(default_factory=dict)
    level: str = CLAIM
    tag: str = ""

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"criterion {self.name!r}: level={self.level!r}; use one of {', '.join(LEVELS)}")
        if self.tag not in TAGS:
            raise ValueError(f"criterion {self.name!r}: tag={self.tag!r}; use one of V, R, C or ''")

    def to_dict(self) -> dict:
        return plain(asdict(self))

    def text(self) -> str:
        """`held: name: value (pred …, rule)` (or FAILED / undecided with the fix), from the result: see `describe`."""
        return describe(self.to_dict())


OUTCOMES = {True: "held", False: "FAILED", None: "undecided"}


def outcome(c: dict) -> str:
    """held / FAILED / undecided from the result, or "reported" for a measurement (level `measure`)."""
    return "reported" if c.get("level") == MEASURE else OUTCOMES[c["passed"]]


def label(c: dict) -> str:
    """The criterion's name as its result reads: a regime criterion's "(regime reached…)" becomes "(regime not
    reached…)" when it did not hold, so a name never states what the run did not do."""
    name = str(c["name"])
    return name if c["passed"] is True else name.replace("(regime reached", "(regime not reached")


def fix(c: dict) -> str:
    """What an undecided criterion lacks and how to fix it (its regime's `why`, a gated criterion's note, or its
    rationale's first sentence); "" for a decided one."""
    if c["passed"] is not None:
        return ""
    details = c.get("details") or {}
    text = details.get("why") or str(c.get("rationale", ""))
    if "would_pass" in details or not details.get("why"):
        text = text.split(". ")[0]
    return "" if text == c.get("value") else text.strip().rstrip(".")


def describe(c: dict) -> str:
    """One criterion, computed from its result: "held: name: value (pred p, rule)", "FAILED: …", or "undecided:
    name: value (rule); fix" — the one text of the terminal table and the report.

    Arguments:
        c: a criterion as a record holds it (`Criterion.to_dict()`).
    """
    pred = "" if c.get("predicted") is None else f"pred {fmt(c['predicted'])}, "
    if c.get("level") == MEASURE:  # judges nothing: reported with its value, no rule and no fix
        return f"reported: {c['name']}: {fmt(c['value'])}" + (f" ({pred.rstrip(', ')})" if pred else "")
    rule = f"{pred}{c['tolerance']}" if c["tolerance"] != "cannot decide" else pred.rstrip(", ")
    value = c["value"]   # a failed number is shown to 6 digits, so it never reads like its bound ("0.99 (≥ 0.99)")
    shown = f"{value:.6g}" if c["passed"] is False and isinstance(value, float) else fmt(value)
    text = f"{outcome(c)}: {label(c)}: {shown}" + (f" ({rule})" if rule else "")
    why = fix(c)
    return text + (f"; {why}" if why else "")


def _level(c) -> str:
    return c.get("level", CLAIM) if isinstance(c, dict) else c.level


def _passed(c):
    return c["passed"] if isinstance(c, dict) else c.passed


def status_of(criteria) -> str:
    """FAIL if any judged criterion failed, INCONCLUSIVE if any is undecided, PASS if all passed (no judged
    criterion: INCONCLUSIVE). `measure` criteria judge nothing. Accepts Criterion objects or their dicts."""
    passed = [_passed(c) for c in criteria if _level(c) != MEASURE]
    if not passed:
        return INCONCLUSIVE
    if any(p is False for p in passed):
        return FAIL
    if any(p is None for p in passed):
        return INCONCLUSIVE
    return PASS


def claim_status(criteria) -> str:
    """The status of the prediction ID's claim: regime gates and claim-level criteria only."""
    return status_of([c for c in criteria if _level(c) in (REGIME, CLAIM)])


def refinement_status(criteria) -> str:
    """The status of our refinements (regime gates and refinement-level criteria), or "" when there are none."""
    crit = list(criteria)
    if not any(_level(c) == REFINEMENT for c in crit):
        return ""
    return status_of([c for c in crit if _level(c) in (REGIME, REFINEMENT)])


def _finite(x) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(x, float))))
    except (TypeError, ValueError):
        return False


def within(name, value, predicted, tol, rationale="", *, relative=False, **kw) -> Criterion:
    """|value − predicted| ≤ tol (or ≤ tol·max(1, |predicted|) when `relative`); non-finite values fail."""
    value_f, pred_f = float(value), float(predicted)
    scale = max(1.0, abs(pred_f)) if relative else 1.0
    ok = _finite(value_f) and _finite(pred_f) and abs(value_f - pred_f) <= tol * scale
    rule = f"|obs − pred| ≤ {tol:g}" + ("·max(1,|pred|)" if relative else "")
    return Criterion(name, value_f, rule, bool(ok), rationale, pred_f, **kw)


def at_most(name, value, bound, rationale="", **kw) -> Criterion:
    """value ≤ bound (non-finite values fail)."""
    value_f = float(value)
    return Criterion(name, value_f, f"≤ {fmt(bound)}", bool(_finite(value_f) and value_f <= bound), rationale, **kw)


def at_least(name, value, bound, rationale="", **kw) -> Criterion:
    """value ≥ bound (non-finite values fail)."""
    value_f = float(value)
    return Criterion(name, value_f, f"≥ {fmt(bound)}", bool(_finite(value_f) and value_f >= bound), rationale, **kw)


def holds(name, fact, rationale="", *, value=None, tolerance="holds", **kw) -> Criterion:
    """A boolean fact of the run (value defaults to the fact itself)."""
    return Criterion(name, bool(fact) if value is None else value, tolerance, bool(fact), rationale, **kw)


def undecided(name, why, value=None, **kw) -> Criterion:
    """The setup cannot decide this criterion (e.g. nothing was pruned): INCONCLUSIVE, never PASS."""
    return Criterion(name, why if value is None else value, "cannot decide", None, why, **kw)


def regime(name, reached, why_not, rationale="", *, value=None, tolerance="holds", **kw) -> Criterion:
    """Whether the run reached the regime its claim is about (e.g. "the loss dropped by ≥ 10 %").

    Arguments:
        name: the regime condition, in words, ending with "(regime reached)" by convention.
        reached: True when the run is in the claim's regime.
        why_not: what happened instead and the fix (e.g. "the loss never dropped below 0.9 L(0); raise steps"),
            the undecided criterion's value when the regime is not reached.
        rationale: why the claim needs this regime.
        value: the observed number (default: `reached` when reached, `why_not` otherwise).
        tolerance: the rule in words.
        **kw: prediction_id=, details= of `Criterion`.
    """
    details = kw.pop("details", {})
    kw.setdefault("level", REGIME)
    if reached:   # `why_not` describes a miss: a reached regime's record does not carry it (no template holes)
        return Criterion(name, True if value is None else value, tolerance, True, rationale, details=details, **kw)
    details = {"why": why_not, **details}
    return Criterion(name, why_not if value is None else value, tolerance, None, f"{why_not}. {rationale}".strip(),
                     details=details, **kw)


def measured(name, value, rationale="", **kw) -> Criterion:
    """A measurement reported with the verdict that judges nothing (level `measure`): e.g. a quantity the paper
    does not state, shown so a reader can see it.

    Arguments:
        name: what is measured.  value: the number.  rationale: why it is reported and not judged.
        **kw: predicted=, prediction_id=, details=, tag= of `Criterion`.
    """
    return Criterion(name, value, "reported, not judged", None, rationale, level=MEASURE, **kw)


def gated(regimes, criteria) -> list[Criterion]:
    """`[*regimes, *criteria]`; when a regime is not reached, the criteria judge nothing (passed = None, their
    numbers kept, the rationale saying why), so the verdict is INCONCLUSIVE rather than PASS or FAIL.

    Arguments:
        regimes: one `regime(...)` criterion or a list of them (passed True means reached).
        criteria: the criteria that only mean something in that regime.
    """
    regimes = [regimes] if isinstance(regimes, Criterion) else list(regimes)
    criteria = list(criteria)
    missed = [r for r in regimes if r.passed is not True]
    if not missed:
        return [*regimes, *criteria]
    note = "not judged: " + "; ".join(f"'{r.name}' does not hold ({fmt(r.value)})" for r in missed) + ". "
    return [*regimes, *(replace(c, passed=None, rationale=note + c.rationale, details={**c.details,
                                                                                      "would_pass": c.passed})
                        for c in criteria)]


def fmt(x) -> str:
    """Short human form of a number, bool, list, SymPy expression (`theory.formula.to_text`) or text."""
    if isinstance(x, sp.Basic):
        return to_text(x)
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            return str(x)
        return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"
    if isinstance(x, (list, tuple)) and len(x) <= 6:
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    return str(x)


def plain(obj):
    """JSON-safe copy: numpy scalars/arrays → Python numbers/lists, non-finite floats → strings, SymPy expressions
    → their `theory.formula.to_text` Unicode line."""
    if isinstance(obj, sp.Basic):
        return to_text(obj)
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        return plain(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)
