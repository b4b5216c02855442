"""checks: predicted (theory) vs observed (numerics) verdicts. `python -m checks.all` runs them all.

    import checks
    verdicts = checks.run_all(tier="quick", only="conservation.*")      # list[Verdict]
    v = checks.run("racing.race", X, y, m=1000, lam=1e-4)               # own data + design overrides

A check is a claim about a declared design (`checks.design.Design`), judged by named criteria
(`checks.criteria`); `checks.strategies` holds the public Hypothesis strategies of instance families.
"""
from .core import REGISTRY, Check, Variant, register
from .criteria import ERROR, FAIL, INCONCLUSIVE, PASS, Criterion
from .design import TIERS, Design
from .errors import CheckError
from .verdict import Verdict

__all__ = ["ERROR", "FAIL", "INCONCLUSIVE", "PASS", "REGISTRY", "TIERS", "Check", "CheckError", "Criterion",
           "Design", "Variant", "Verdict", "discover", "register", "run", "run_all"]


def __getattr__(name):
    """`checks.run`, `checks.run_all`, `checks.discover`: loaded on first use (the suites import torch)."""
    import importlib

    if name == "run":  # the module checks/run.py, which is callable: checks.run(name, X, y, **overrides)
        return importlib.import_module(".run", __name__)
    if name in ("run_all", "discover"):
        return getattr(importlib.import_module(".api", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
