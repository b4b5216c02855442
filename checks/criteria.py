"""Named criteria: what a check returns instead of a status.

A `Criterion` compares one observed number with the theory's prediction (or a bound derived from it) under a
stated tolerance and rationale. `passed` is True, False, or None when the setup cannot decide (INCONCLUSIVE).
The frame derives the verdict's status from the criteria:

    FAIL          if any criterion failed,
    INCONCLUSIVE  else if any criterion could not decide, or a declared alternative also fits,
    PASS          otherwise.

Constructors: `within` (|obs − pred| ≤ tol), `at_most`, `at_least`, `holds` (a boolean fact), `undecided`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

PASS, FAIL, INCONCLUSIVE, ERROR = "PASS", "FAIL", "INCONCLUSIVE", "ERROR"
STATUSES = (PASS, FAIL, INCONCLUSIVE, ERROR)


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
    """

    name: str
    value: Any
    tolerance: str
    passed: bool | None
    rationale: str = ""
    predicted: Any = None
    prediction_id: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return plain(asdict(self))

    def text(self) -> str:
        """`name: value (predicted …, tol …)` for tables."""
        pred = "" if self.predicted is None else f"pred {fmt(self.predicted)}, "
        return f"{self.name}: {fmt(self.value)} ({pred}{self.tolerance})"


def status_of(criteria) -> str:
    """FAIL if any failed, INCONCLUSIVE if any undecided, PASS if all passed (an empty list is INCONCLUSIVE)."""
    criteria = list(criteria)
    if not criteria:
        return INCONCLUSIVE
    if any(c.passed is False for c in criteria):
        return FAIL
    if any(c.passed is None for c in criteria):
        return INCONCLUSIVE
    return PASS


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


def fmt(x) -> str:
    """Short human form of a number, bool, list or text."""
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
    """JSON-safe copy: numpy scalars/arrays → Python numbers/lists, non-finite floats → strings."""
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
