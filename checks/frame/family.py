"""Property-based instance families inside checks.

A check whose claim covers a family declares `family(design) -> strategy`, a Hypothesis strategy of *design
changes* (a dict of settings, possibly a drawn `dataset`). The frame draws `design.instances` of them, reproducibly
from `design.seed`, judges each by the check's own predict/observe/criteria, and when one fails lets Hypothesis
shrink it to a minimal counterexample. Every instance is a real run, so shrinking has a budget of extra runs
(`shrink_budget`); results are memoised, so Hypothesis's final replay of the minimal example costs nothing.

The draw depends on the seed alone: Hypothesis (6.13x+) also mixes in constants it collects from the local modules
loaded so far, so the same seed drew other instances after another check, a `--resume` or a user's script had
imported other modules; `_own_constants` switches that off while a family runs.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable

from hypothesis import HealthCheck, Phase, given, seed, settings

from checks.frame.criteria import FAIL, INCONCLUSIVE, PASS, Criterion, plain

__all__ = ["FamilyResult", "run_family"]


@dataclass
class FamilyResult:
    """How the family fared: instances judged, how many passed, the shrunk counterexample (if any)."""

    instances: int = 0
    passed: int = 0
    undecided: int = 0
    counterexample: dict | None = None
    failed_criteria: list = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.counterexample is not None:
            return FAIL
        return INCONCLUSIVE if self.undecided or not self.instances else PASS

    def criterion(self, prediction_id: str = "") -> Criterion:
        passed = {PASS: True, FAIL: False, INCONCLUSIVE: None}[self.status]
        value = f"{self.passed}/{self.instances} instances pass"
        if self.counterexample is not None:
            value += f"; shrunk counterexample {self.counterexample}"
        return Criterion("family: every drawn instance passes", value, "all pass", passed,
                         "The claim covers the whole family: one failing instance (shrunk by Hypothesis to a minimal "
                         "one) refutes it; undecided instances make it INCONCLUSIVE.", prediction_id=prediction_id,
                         details=self.to_dict())

    def to_dict(self) -> dict:
        return plain(dict(instances=self.instances, passed=self.passed, undecided=self.undecided,
                          counterexample=self.counterexample, failed_criteria=self.failed_criteria))


class _Refuted(AssertionError):
    pass


@contextlib.contextmanager
def _own_constants():
    """Hypothesis draws only its own constants, not those of whichever local modules happen to be loaded (a no-op
    on a Hypothesis without that feature)."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - an older or newer Hypothesis
        yield
        return
    real = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if real is None or cache is None:  # pragma: no cover
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.cache.clear()                      # per-type pools filtered from the local constants
    try:
        yield
    finally:
        providers._get_local_constants = real
        cache.cache.clear()


def run_family(strategy, judge: Callable[[dict], tuple[str, list[str]]], n: int, base_seed: int,
               describe: Callable[[dict], dict], shrink_budget: int | None = None) -> FamilyResult:
    """Draw `n` instances from `strategy`, judge each; on a FAIL shrink to a minimal counterexample.

    Arguments:
        strategy: Hypothesis strategy of instances (design changes).
        judge: instance → (status, names of failed criteria); runs the real experiment.
        n: instances to draw (`max_examples`).
        base_seed: the Hypothesis seed, so the draw is reproducible.
        describe: instance → JSON-plain description for the record.
        shrink_budget: extra runs allowed for shrinking (default max(4, n)).
    """
    result = FamilyResult()
    if n <= 0:
        return result
    budget = n + (max(4, n) if shrink_budget is None else shrink_budget)
    memo: dict[str, tuple[str, list]] = {}
    seen: dict[str, str] = {}

    def key(inst) -> str:
        return repr(sorted(describe(inst).items()))

    @seed(base_seed)
    @settings(max_examples=n, deadline=None, database=None, derandomize=False, print_blob=False,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(strategy)
    def prop(inst):
        k = key(inst)
        if k not in memo:
            if len(memo) >= budget:
                return  # out of runs: treat as not failing (the best counterexample so far stands)
            memo[k] = judge(inst)
            seen[k] = memo[k][0]
        status, failed = memo[k]
        if status == FAIL:
            result.counterexample = describe(inst)
            result.failed_criteria = list(failed)
            raise _Refuted(k)

    try:
        with _own_constants():
            prop()
    except _Refuted:
        pass
    result.instances = len(seen)
    result.passed = sum(s == PASS for s in seen.values())
    result.undecided = sum(s == INCONCLUSIVE for s in seen.values())
    return result
