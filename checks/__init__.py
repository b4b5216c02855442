"""checks: predicted (theory) vs observed (numerics) verdicts. `python -m checks.all` runs them all."""
from .core import ERROR, FAIL, INCONCLUSIVE, PASS, REGISTRY, Check, Context, Verdict, register
from .discover import discover

__all__ = ["ERROR", "FAIL", "INCONCLUSIVE", "PASS", "REGISTRY", "Check", "Context", "Verdict", "discover",
           "register", "run"]


def __getattr__(name):
    """`checks.run(name, X, y, **config)`: the own-data runner, loaded on first use (a callable module)."""
    if name == "run":
        import importlib

        return importlib.import_module(".run", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
