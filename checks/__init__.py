"""checks: predicted (theory) vs observed (numerics) verdicts. `python -m checks.all` runs them all."""
from .core import ERROR, FAIL, INCONCLUSIVE, PASS, REGISTRY, Check, Context, Verdict, register
from .discover import discover

__all__ = ["ERROR", "FAIL", "INCONCLUSIVE", "PASS", "REGISTRY", "Check", "Context", "Verdict", "discover",
           "register"]
