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
    (v, *_) = C().run(C.design.build("quick", cache=str(tmp_path / "cache")), "quick", out=tmp_path)
    assert v.status == "PASS", v.criteria
    assert v.figures and (tmp_path / v.figures[0]).stat().st_size > 1000
    assert v.numbers["excess_risk_ratio"] > 0
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
