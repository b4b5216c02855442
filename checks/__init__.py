"""checks: predicted (theory) vs observed (numerics) verdicts. `python -m checks.all` runs them all.

    import checks
    verdicts = checks.run_all(tier="quick", only="conservation.*")      # list[Verdict]
    v = checks.run("racing.race", X, y, m=1000, lam=1e-4)               # own data + design overrides

A check is a claim about a declared design (`checks.frame.design.Design`), judged by named criteria
(`checks.frame.criteria`); `checks.strategies` holds the public Hypothesis strategies of instance families.
"""
from checks.frame.core import REGISTRY, Check, Variant, register
from checks.frame.criteria import ERROR, FAIL, INCONCLUSIVE, PASS, Criterion
from checks.frame.design import TIERS, Design
from checks.frame.errors import CheckError
from checks.frame.verdict import Verdict

__all__ = ["ERROR", "FAIL", "INCONCLUSIVE", "PASS", "REGISTRY", "TIERS", "Check", "CheckError", "Criterion",
           "Design", "Variant", "Verdict", "discover", "register", "run", "run_all"]


def __getattr__(name):
    """`checks.run`, `checks.run_all`, `checks.discover` (functions of `checks.runner.api`) and `checks.strategies`:
    loaded on first use (the suites import torch). `python -m checks.run` is the command of `checks.run`."""
    import importlib

    if name in ("run", "run_all", "discover"):
        return getattr(importlib.import_module("checks.runner.api"), name)
    if name == "strategies":
        return importlib.import_module("checks.strategies")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
