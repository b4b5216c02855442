"""One generic teeth test for every check: observe once at the quick tier, then judge the prediction and every
declared mutant on that same observation. The prediction gets its expected status (PASS unless
checks/expected-status.toml lists a finding); every mutant — a wrong formula a bug could introduce — FAILs a
criterion that the prediction itself passes."""
import pytest
from quick_outcomes import quick_outcome

from checks.runner import api
from checks.frame import predictions as expected
from checks.frame.criteria import status_of

CHECKS = api.discover()  # every check, also those of the standard tier only: each has a cheap quick preset
EXPECTED = expected.load()


def test_every_check_declares_mutants():
    bare = [c.name for c in CHECKS if not c().all_mutants()]
    assert not bare, f"checks without mutants (nothing shows they can fail): {bare}"


def test_every_theory_mutant_is_read_by_some_check():
    """A mutant of a formula no check uses would survive every run (the old head-start problem)."""
    from theory.formula import Formula
    from theory.mutants import catalog

    used = {obj.id for c in CHECKS for obj in vars(c().theory()).values() if isinstance(obj, Formula)}
    unread = sorted(set(catalog()) - used)
    assert not unread, f"formulas with mutants that no check reads: {unread}"
    assert sum(len(v) for v in catalog().values()) >= 20


@pytest.mark.parametrize("cls", CHECKS, ids=[c.name for c in CHECKS])
def test_prediction_holds_and_every_mutant_fails(cls):
    check, d, out = quick_outcome(cls.name)  # shared with the figure test (computed once per session)
    for v in check.verdicts(out, "quick"):
        want = expected.expected_status(EXPECTED.get((v.check, v.prediction_id)), "quick")
        assert v.status == want or (want == "FAIL" and v.status == "INCONCLUSIVE"), (
            v.prediction_id, v.status, v.headline())
    th = out.theory
    truth_failed = [c.name for c in out.criteria if c.passed is False]  # known findings (expected-status.toml)
    survivors = [m.name for m in check.all_mutants(th) if not check.kills(m, d, th, out.observed, truth_failed)]
    assert not survivors, f"mutants that do not make {cls.name} FAIL: {survivors}"
    assert status_of(out.criteria) in ("PASS", "FAIL", "INCONCLUSIVE")
