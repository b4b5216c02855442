"""The check frame: what a check is and what it returns.

`core` (Check, Variant, register: a claim about a design, its alternatives and mutants), `criteria` (named
criteria and their levels: regime, claim, refinement, measure), `design` (declared designs with tier presets),
`protocol` (the paper's protocol beside the run's), `family` (Hypothesis instance families), `verdict` (the frozen
record), `predictions` (the paper and prediction registry: citations, IDs, digest links, expected findings) and
`errors` (CheckError).
"""
from checks.frame.core import REGISTRY, Check, Variant, register
from checks.frame.criteria import ERROR, FAIL, INCONCLUSIVE, PASS, Criterion
from checks.frame.design import TIERS, Design
from checks.frame.errors import CheckError
from checks.frame.verdict import Verdict

__all__ = ["ERROR", "FAIL", "INCONCLUSIVE", "PASS", "REGISTRY", "TIERS", "Check", "CheckError", "Criterion",
           "Design", "Variant", "Verdict", "register"]
