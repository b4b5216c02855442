"""The 45 numbered predictions of the specification (the prediction list of the theory digest, docs/theory/).

The coverage table of the report lists every ID, whether a check judges it, and how it fared. A check of a claim
outside the specification declares its own ID in its file (`new_predictions = {"MY-1": "title"}`) and, for a paper
not in `checks.verdict.REFERENCES`, its citation (`reference = (authors, year, title, arXiv id, venue)`);
`declare(cls)`, called by `checks.core.register`, files them in `DECLARED` / `REFERENCES` and rejects an ID or
paper key declared nowhere with one error naming where to declare it.
"""
from __future__ import annotations

from .errors import CheckError

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
    from .verdict import PAPERS, REFERENCES, cite

    new = dict(getattr(cls, "new_predictions", {}) or {})
    for pid, text in new.items():
        if pid in PREDICTIONS or (pid in DECLARED and DECLARED[pid] != text):
            raise CheckError(f"check {cls.name!r}: new_predictions declares {pid!r}, which is already "
                             f"{'an ID of the specification' if pid in PREDICTIONS else 'declared by another check'}"
                             "; use it as prediction_id without declaring it, or pick a new ID")
    for pid in cls.ids():
        if pid not in PREDICTIONS and pid not in DECLARED and pid not in new:
            raise CheckError(f"check {cls.name!r}: prediction ID {pid!r} is not one of the specification's IDs "
                             f"(checks/spec.py); for a new claim declare it in the check's file: "
                             f"new_predictions = {{{pid!r}: 'a short title'}}")
    ref = getattr(cls, "reference", None)
    if ref is not None:
        if len(ref) != 5:
            raise CheckError(f"check {cls.name!r}: reference must be (authors, year, title, arXiv id, venue), "
                             f"got {ref!r}")
        if cls.paper in REFERENCES and tuple(REFERENCES[cls.paper]) != tuple(ref):
            raise CheckError(f"check {cls.name!r}: paper key {cls.paper!r} is already in checks/verdict.py "
                             "REFERENCES with another citation; drop `reference` or pick a new key")
    elif cls.paper not in PAPERS:
        raise CheckError(f"check {cls.name!r}: paper {cls.paper!r} is not a key of checks/verdict.py REFERENCES "
                         f"({', '.join(PAPERS)}); for a new paper declare it in the check's file: "
                         "reference = (authors, year, title, arXiv id, venue)")
    DECLARED.update(new)
    if ref is not None:
        REFERENCES[cls.paper] = tuple(ref)
        PAPERS[cls.paper] = cite(cls.paper)
