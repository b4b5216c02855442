"""The verdict record: one frozen, self-describing result per (check, prediction ID).

It carries the status derived from the criteria, the criteria themselves, the alternatives' scores, the structured
predicted/observed numbers, the provenance tag, the tier, the design (every setting), the seed, the package versions,
the git commit, relative figure paths, and the family's instance count and shrunk counterexample.
`checks/verdict.schema.json` is its JSON Schema; `rows()` gives one flat row per criterion for `results.csv`.
"""
from __future__ import annotations

import functools
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from checks.frame.criteria import describe, plain
from checks.frame.predictions import PAPERS, REFERENCES, cite  # noqa: F401  (re-exported)

SCHEMA_VERSION = 3
@dataclass(frozen=True)
class Verdict:
    """One prediction ID of one check, judged on one run. Build it with the frame, read it anywhere."""

    check: str
    prediction_id: str
    paper: str
    claim: str
    provenance: str
    status: str
    refinement_status: str = ""
    criteria: tuple = ()
    alternatives: tuple = ()
    predicted: dict = field(default_factory=dict)
    observed: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    tier: str = "standard"
    seed: int = 0
    design: dict = field(default_factory=dict)
    family: dict | None = None
    figures: tuple = ()
    seconds: float = 0.0
    message: str = ""
    protocol: tuple = ()
    versions: dict = field(default_factory=dict)
    commit: str = ""
    schema: int = SCHEMA_VERSION

    @property
    def citation(self) -> str:
        return PAPERS.get(self.paper, self.paper)

    @property
    def failed(self) -> list[str]:
        """Names of the criteria that failed."""
        return [c["name"] for c in self.criteria if c["passed"] is False]

    @property
    def undecided(self) -> list[str]:
        return [c["name"] for c in self.criteria if c["passed"] is None and c.get("level", "claim") != "measure"]

    def _of(self, *levels) -> list[dict]:
        return [c for c in self.criteria if c.get("level", "claim") in levels]

    @property
    def refinements_failed(self) -> list[str]:
        """Names of our refinements ([R]/[C], judged apart from the claim) that failed."""
        return [c["name"] for c in self._of("refinement") if c["passed"] is False]

    def deciding(self) -> list[dict]:
        """The criteria that decide the claim's status: the failed ones for FAIL, the undecided regime or claim
        ones for INCONCLUSIVE, else the claim's own (those with a prediction first; the first claim criterion)."""
        judged = self._of("regime", "claim")
        if self.status == "FAIL":
            return [c for c in judged if c["passed"] is False]
        if self.status == "INCONCLUSIVE":
            return [c for c in judged if c["passed"] is None]
        claim = self._of("claim") or judged or list(self.criteria)
        return [c for c in claim if c.get("predicted") is not None][:1] or claim[:1]

    def headline(self) -> str:
        """One line: the deciding criteria (`deciding`), each as `checks.frame.criteria.describe` writes it from its
        result (held / FAILED / undecided with the value, the rule and, if undecided, the fix), then any refinement
        of ours that did not hold and any alternative that fits."""
        parts = [describe(c) for c in self.deciding()[:2]]
        if self.refinement_status == "FAIL":
            parts.append("our reconstruction did not hold: " + ", ".join(self.refinements_failed[:2]))
        fitting = [a["name"] for a in self.alternatives if a["status"] == "PASS" and a.get("level") != "refinement"]
        rivals = [a["name"] for a in self.alternatives if a["status"] == "PASS" and a.get("level") == "refinement"]
        if fitting:
            parts.append("alternative also fits: " + ", ".join(fitting))
        if rivals:
            parts.append("a rival fits our refinement as well: " + ", ".join(rivals))
        if self.status == "ERROR":
            parts = [self.message]
        return "; ".join(parts)

    def to_dict(self) -> dict:
        d = plain(asdict(self))
        d["citation"] = self.citation
        return d

    def rows(self) -> list[dict]:
        """One flat row per criterion (for results.csv / pandas)."""
        base = dict(check=self.check, prediction_id=self.prediction_id, provenance=self.provenance,
                    status=self.status, refinement_status=self.refinement_status, tier=self.tier, seed=self.seed,
                    commit=self.commit)
        return [dict(base, criterion=c["name"], level=c.get("level", "claim"), tag=c.get("tag", ""),
                     value=c["value"], predicted=c.get("predicted"), tolerance=c["tolerance"], passed=c["passed"])
                for c in self.criteria] or [
            dict(base, criterion="", level="", tag="", value="", predicted="", tolerance="", passed="")]


@functools.lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of Python and of the packages a verdict depends on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("relu-dynamics-checks", "numpy", "scipy", "sympy", "torch", "hypothesis", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


@functools.lru_cache(maxsize=1)
def commit() -> str:
    """The git commit of the checkout the toolkit runs from ('+dirty' if it has uncommitted changes), or ''."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return ""
