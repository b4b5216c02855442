"""The threshold sweep's SGD and default-init options (the BF-ST Fig. 1 protocol of the paper preset)."""
import math

import numpy as np
import pytest

from checks.frame.errors import CheckError
from checks.suites import threshold as suite
from checks.suites.threshold.sweep_cache import point_options
from theory.references import plateau_time

TINY = dict(d=3, m=20, lam=1.0, horizon=2.0, plateau=1.0, lr=0.01, n_test=200)


def test_sgd_default_init_sweep_point_trains_to_finite_losses(tmp_path):
    """A SweepDesign with optimizer=sgd and the uniform-default init runs its point (through sweep_rows)."""
    d = suite.SweepDesign(ns=(10, 20), seeds=1, d=3, m=20, lam=1.0, lr=0.01, horizon=2.0, n_test=200,
                          optimizer="sgd", init="uniform-default", batch_size=2, cache=str(tmp_path))
    assert point_options(d) == dict(optimizer="sgd", batch_size=2, init="uniform-default")
    (row,) = suite.sweep_rows(d, [10], m=d.m, lam=d.lam, d=d.d)  # one point: runs in this process
    assert row["n"] == 10 and row["sign_flips"] == 0 and row["lr_used"] == 0.01
    for tag in ("plateau", "end"):
        assert math.isfinite(row[tag]["train_mse"]) and math.isfinite(row[tag]["test_mse"])
        assert row[tag]["test_mse"] >= d.sigma ** 2  # E(h − β*·x)² + σ²
    assert row["train_mse"][-1] < row["train_mse"][0]  # SGD made progress from the init
    again = suite.threshold_point(10, 0, **TINY, optimizer="sgd", init="uniform-default", batch_size=2)
    assert again["end"]["W"] == row["end"]["W"]  # deterministic: batches drawn with the point's seed
    other = suite.threshold_point(10, 0, **TINY, optimizer="sgd", init="uniform-default", batch_size=3)
    assert other["end"]["W"] != row["end"]["W"]


def test_sgd_gpu_path_runs_the_seeds_as_the_cpu_points():
    """threshold_seeds with SGD (device=cpu here) gives each seed the point threshold_point gives."""
    kw = dict(TINY, optimizer="sgd", init="uniform-default")
    rows = suite.threshold_seeds(12, [0, 1], device="cpu", **kw)["rows"]
    for s, row in zip((0, 1), rows):
        single = suite.threshold_point(12, s, **kw)
        assert row["seed"] == s and row["time"] == single["time"]
        np.testing.assert_allclose(row["end"]["W"], single["end"]["W"], rtol=1e-12, atol=1e-15)
        assert row["end"]["test_mse"] == pytest.approx(single["end"]["test_mse"], rel=1e-12)


def test_sweep_design_optimizer_options_and_paper_preset():
    assert point_options(suite.SweepDesign()) == {}  # default designs keep their configs (and cache keys)
    for bad, fix in ((dict(optimizer="adam"), "use one of gd, sgd"), (dict(init="pytorch"), "use one of"),
                     (dict(batch_size=4), "set optimizer=sgd"),
                     (dict(optimizer="sgd", batch_size=21), "smallest n = 20")):
        with pytest.raises(CheckError, match=fix):
            suite.SweepDesign(**bad)
    p = suite.SweepDesign.build("paper")
    assert (p.d, p.m, p.optimizer, p.init, p.lam) == (5, 10_000, "sgd", "uniform-default", 1.0)
    assert "[C]" in suite.SweepDesign.paper_source and "bf-threshold.md#e5" in suite.SweepDesign.paper_source
    assert p.not_run_reason("paper") == "" and suite.SweepDesign.paper_cpu.startswith("≈ ")  # runs on the CPU (#27)
    beta = suite.e5_teacher(5)
    assert plateau_time(1.0, 10_000, 5, beta, "uniform-default") >= 1.0
    assert plateau_time(1e-3, 200, 5, beta) == plateau_time(1e-3, 200, 5, beta, "balanced")
