"""The paper tier on the CPU (issue #27): the stated early exit gives the verdict of the full step count, and the
independent runs of a preset give the same records on two worker processes as one after another."""
import numpy as np

from checks.suites.early_alignment import training
from checks.suites.early_alignment.failure_rate import FailureRate
from numerics import threads


def _verdict(d):
    (v,) = FailureRate().run(d, "quick")
    return v


def test_early_exit_gives_the_verdict_of_the_full_count(monkeypatch):
    d = FailureRate.design.build("quick")
    early = FailureRate().observe(d)
    assert any(r["stopped_early"] and r["stopped_at"] < r["steps"] for r in early["rows"])  # the exit is taken
    assert all(r["steps"] == round(d.horizon / r["lr"]) for r in early["rows"])  # and the full count kept
    v_early = _verdict(d)
    monkeypatch.setattr(training, "STOP_TOL", 0.0)  # the paper's fixed count
    full = FailureRate().observe(d)
    assert all(not r["stopped_early"] and r["stopped_at"] == r["steps"] for r in full["rows"])
    v_full = _verdict(d)
    assert v_early.status == v_full.status
    assert [c["passed"] for c in v_early.criteria] == [c["passed"] for c in v_full.criteria]
    for a, b in zip(early["rows"], full["rows"]):  # the same cell outcome (stuck or not) seed by seed
        assert (a["m"], a["lam"], a["lr"]) == (b["m"], b["lam"], b["lr"])
        np.testing.assert_allclose(a["final"], b["final"], rtol=1e-6, atol=1e-12)


def test_independent_runs_on_two_workers_equal_the_serial_run():
    d = FailureRate.design.build("quick", horizon=200.0)
    serial = FailureRate().observe(d, workers=1)
    parallel = FailureRate().observe(d, workers=2)
    assert len(serial["rows"]) == len(parallel["rows"]) == 2
    for a, b in zip(serial["rows"], parallel["rows"]):
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(a[k], b[k]), k


def test_worker_policy_pays_for_a_process_only_on_long_runs():
    lim = threads.crossover()["parallel_min_work"]
    assert threads.run_workers(7, lim / 10) == 1 and threads.run_workers(1, lim * 10) == 1
    assert threads.run_workers(7, lim * 10) == min(7, threads._cores())
    paper = FailureRate.design.build("paper")
    assert paper.horizon / paper.lr * 3 * 20000 * 2 * paper.seeds >= lim  # the paper cells go to both cores


def test_stop_record_names_the_rule():
    assert "1e-14" in training.STOP_RULE and training.STOP_TOL == 1e-14
