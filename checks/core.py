"""The check frame: claim + provenance, predict() from theory, observe() from a real run, a verdict.

A check never hard-codes its prediction: `predict` evaluates formulas of `theory`, and the formulas a
check uses are constructor arguments, so a test can hand it a deliberately wrong one and see FAIL.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, INCONCLUSIVE, ERROR = "PASS", "FAIL", "INCONCLUSIVE", "ERROR"
TIERS = ("quick", "standard", "full")
PAPERS = {
    "Pinson": "Pinson 2026, It's not a Lottery, it's a Race (arXiv 2602.04832)",
    "BF-EA": "Boursier & Flammarion, Early alignment ... two-edged sword (arXiv 2401.10791)",
    "BF-ST": "Boursier & Flammarion, Simplicity bias and optimization threshold (arXiv 2410.02348)",
    "ABIDE": "Marcotte, Gribonval, Peyré, Abide by the law and follow the flow (arXiv 2307.00144)",
    "INTR": "Marcotte, Peyré, Gribonval, Intrinsic training dynamics (arXiv 2508.07370)",
    "GF": "digest §1: full-batch GD is the gradient-flow proxy, validated by halving the step; F2.1 flow through the kinks",
}


@dataclass
class Verdict:
    """The record a check returns and writes as JSON."""

    check: str
    paper: str
    prediction_id: str
    claim: str
    provenance: str
    predicted: str
    observed: str
    tolerance: str
    rationale: str
    status: str
    numbers: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Context:
    """Where and how hard to run: tier, output folder, device, base seed."""

    tier: str = "quick"
    out: Path = Path("results")
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self):
        if self.tier not in TIERS:
            raise ValueError(f"tier={self.tier!r} is not supported; use one of {TIERS}")
        self.out = Path(self.out)

    def figure_path(self, name: str) -> Path:
        path = self.out / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def pick(self, quick, standard, full=None):
        """A tier-dependent setting."""
        return {"quick": quick, "standard": standard, "full": standard if full is None else full}[self.tier]


class Check:
    """Subclasses set the class attributes and implement predict, observe and judge (figure optional)."""

    name: str = ""
    paper: str = ""
    prediction_id: str = ""
    claim: str = ""
    provenance: str = ""
    tolerance_rationale: str = ""
    tiers: tuple = TIERS

    def predict(self, ctx: Context) -> dict:
        raise NotImplementedError

    def observe(self, ctx: Context) -> dict:
        raise NotImplementedError

    def judge(self, predicted: dict, observed: dict) -> Verdict:
        raise NotImplementedError

    def figure(self, predicted: dict, observed: dict, ctx: Context, verdict: Verdict) -> list[Path]:
        """PNG figures of the run; `verdict` carries the numbers judge() derived (JSON-plain: str dict keys)."""
        return []

    def verdict(self, status: str, predicted: str, observed: str, tolerance: str, **numbers: Any) -> Verdict:
        return Verdict(self.name, self.paper, self.prediction_id, self.claim, self.provenance, predicted,
                       observed, tolerance, self.tolerance_rationale, status, _plain(numbers))

    def run(self, ctx: Context) -> Verdict:
        """predict → observe → judge → figure; any exception becomes an ERROR verdict with its reason."""
        start = time.perf_counter()
        try:
            predicted = self.predict(ctx)
            observed = self.observe(ctx)
            v = self.judge(predicted, observed)
            try:
                v.figures = [str(p) for p in self.figure(predicted, observed, ctx, v)]
            except Exception as exc:  # a broken figure must not hide the verdict
                v.message = f"figure failed: {exc}"
        except Exception as exc:
            v = self.verdict(ERROR, "-", "-", "-")
            v.message = f"{type(exc).__name__}: {exc}"
            v.numbers = {"traceback": traceback.format_exc(limit=4)}
        v.seconds = round(time.perf_counter() - start, 3)
        return v


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check discoverable by `python -m checks.all`."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"check name {cls.name!r} is empty or already registered")
    REGISTRY[cls.name] = cls
    return cls


def _plain(obj):
    """JSON-safe copy: numpy scalars/arrays → Python numbers/lists."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)
    return obj


def relative_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    import numpy as np

    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])
