"""Threshold checks (BF-P12…P19): helpers, the GPU path, figures and the public teacher strategy.

The teeth (every mutant FAILs) are tested for every check by tests/test_teeth.py."""
import numpy as np
import pytest
from hypothesis import given

from checks.strategies import teachers
from checks.suites import threshold as suite
from theory import extremal
from theory.references import elasticity, mse


def test_sweep_figure_and_threshold_locator(tmp_path):
    C = suite.ThresholdSweep
    (v, *rest) = C().run(C.design.build("quick", cache=str(tmp_path / "cache")), "quick", out=tmp_path)
    # BF-P14 is a finding: at the end of the run the excess-risk ratio (≈ 7) exceeds the two-half-space bound (≈ 2.7)
    assert v.status == "FAIL" and [c["name"] for c in v.criteria if c["passed"] is False] == [
        c["name"] for c in v.criteria if c["name"].startswith("excess-risk ratio")], v.criteria
    assert all(r.status == "PASS" for r in rest), [(r.prediction_id, r.status) for r in rest]
    assert v.figures and (tmp_path / v.figures[0]).stat().st_size > 1000
    assert v.numbers["excess_risk_ratio"] > v.numbers["two_half_space_ratio"] + 1
    assert v.numbers["sign_flips_after"] == [0, 0, 0] and sum(v.numbers["sign_flips_before"]) > 0
    assert suite.locate_threshold([10, 20, 40, 80], [0.0, 0.2, 0.0, 0.2], 0.25, 0.5) == (80, 40)
    assert suite.locate_threshold([10, 20], [0.0, 0.0], 0.25, 0.5) == (None, 20)


def test_gpu_path_batches_seeds_into_the_cpu_points():
    """threshold_seeds (the device=cuda path, run here on the CPU) gives each seed the point threshold_point gives."""
    kw = dict(d=3, m=20, lam=1e-2, horizon=60.0, plateau=30.0)
    batched = suite.threshold_seeds(12, [0, 1, 2], device="cpu", **kw)["rows"]
    for s, row in zip((0, 1, 2), batched):
        single = suite.threshold_point(12, s, **kw)
        assert row["seed"] == s and row["time"] == single["time"]
        np.testing.assert_allclose(row["train_mse"], single["train_mse"], rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(row["end"]["W"], single["end"]["W"], rtol=1e-9, atol=1e-14)
        assert row["end"]["test_mse"] == pytest.approx(single["end"]["test_mse"], rel=1e-9)


def test_device_cuda_without_a_gpu_is_a_clear_error(capsys):
    import torch

    from checks import all as runner

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert runner.main(["--only", "threshold.sweep", "--device", "cuda"]) == 2
    assert "torch sees no CUDA device" in capsys.readouterr().err


def test_population_extremal_theory():
    """Two population extremal vectors ±Σβ*/‖Σβ*‖ at rate ½‖Σβ*‖ (1/14 for E5), angle slope −1/2, MSE = 2L."""
    beta = suite.e5_teacher(5)
    ext = extremal.population_extremal_vectors(suite.sigma_ball(5), beta)
    assert [e.kind for e in ext] == ["min", "max"] and np.allclose(ext[0].u, -ext[1].u)
    assert ext[0].rate == pytest.approx(1 / 14) and np.allclose(ext[0].u, beta)
    f = extremal.angle_concentration()
    assert float(elasticity(f, "n")) == -0.5
    assert mse(0.125) == 0.25 and np.allclose(mse([0.5, 1.0]), [1.0, 2.0])


@given(teachers())
def test_teacher_strategy_draws_inside_f28(t):
    beta = np.asarray(t["teacher"])
    assert 2 <= t["d"] <= 5 and beta.shape == (t["d"],) and 1.0 - 1e-9 <= np.linalg.norm(beta) <= 2.0 + 1e-9
    suite.ExtremalDesign.build("quick", **t)  # a valid design change


def test_extremal_design_rejects_bad_settings():
    from checks import CheckError

    with pytest.raises(CheckError, match="teacher"):
        suite.ExtremalDesign.build("quick", teacher=(1.0, 0.0))
    with pytest.raises(CheckError, match="cos_n"):
        suite.ExtremalDesign.build("quick", cos_n=7)


def test_flips_left_at_a_deciding_point_make_n_star_undecided():
    """The sign-flip guard: a protected flip left after refinement at n* or its bracket → BF-P17/P18 INCONCLUSIVE."""
    C = suite.ThresholdSweep
    c, d = C(), C.design.build("quick")
    out = c.outcome(d)
    rows = [dict(r, sign_flips=(5 if r["n"] == 80 else r["sign_flips"])) for r in out.observed["rows"]]
    crit = c.criteria(d, out.predicted, dict(out.observed, rows=rows))
    guard = [x for x in crit if x.name.startswith("no protected sign flips")]
    assert {x.prediction_id for x in guard} == {"BF-P17", "BF-P18"} and all(x.passed is None for x in guard)


def test_alignment_time_matches_the_plateau_unit():
    """theory.references.alignment_time (F2.5 with F2.8) equals plateau_time / 2, and grows ≈ (d + 2)."""
    from checks.suites.threshold.dependence import scaled_horizon, time_unit
    from theory.references import alignment_time

    f = alignment_time()
    for dim, m, lam in ((5, 200, 1e-3), (10, 200, 1e-3), (5, 50, 1e-6)):
        assert time_unit(f, dim, m, lam) == pytest.approx(suite.plateau_time(lam, m, dim) / 2, rel=1e-12)
    d = suite.DependenceDesign.build("standard")
    assert scaled_horizon(d, dict(d=10, m=d.m, lam=d.lam)) == pytest.approx(d.horizon * 201.7349 / 122.5307, rel=1e-5)


def test_population_count_merges_endpoints_at_any_angle():
    """BF-P13's count at several de-duplication angles: greedy merging of the ascent endpoints, best first."""
    from checks.suites.threshold.population import merged_count, search_spread

    e = np.eye(3)
    near = np.array([1.0, 0.01, 0.0]) / np.linalg.norm([1.0, 0.01, 0.0])  # 0.57° from e₀
    found = [(e[0], 1.0), (near, 0.9), (-e[0], 0.8), (e[1], 0.5)]
    assert [merged_count(found, np.radians(a)) for a in (0.1, 1.0, 100.0)] == [4, 3, 2]
    assert abs(search_spread(found, np.radians(1.0)) - np.radians(0.573)) < 1e-4
