"""One quick-tier outcome per check, computed once per test session and shared by the tests that need one
(the teeth test judges it, the figure test draws it)."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def quick_outcome(name: str):
    """(check instance, design, Outcome) of check `name` at the quick tier, with no family instances."""
    from checks.runner import api
    from checks.frame.core import REGISTRY

    api.discover()
    cls = REGISTRY[name]
    check = cls()
    d = cls.design.build("quick", **({"instances": 0} if "instances" in cls.design.keys() else {}))
    return check, d, check.outcome(d)
