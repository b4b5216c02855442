"""Find registered checks: import every module of checks.suites, then select by tier and pattern."""
from __future__ import annotations

import fnmatch
import importlib
import pkgutil

from . import suites
from .core import REGISTRY, TIERS, Check


def discover(tier: str = "quick", only: str | None = None) -> list[Check]:
    """Instances of the registered checks that run in `tier`, filtered by a glob or substring `only`."""
    if tier not in TIERS:
        raise ValueError(f"tier={tier!r} is not supported; use one of {TIERS}")
    for mod in pkgutil.iter_modules(suites.__path__):
        importlib.import_module(f"{suites.__name__}.{mod.name}")
    names = sorted(REGISTRY)
    if only:
        names = [n for n in names if fnmatch.fnmatch(n, only) or only in n]
        if not names:
            raise ValueError(f"--only {only!r} matches no check; known checks: {', '.join(sorted(REGISTRY))}")
    return [REGISTRY[n]() for n in names if tier in REGISTRY[n].tiers]
