"""Threshold checks (BF-P12…P18): PASS with theory's references, FAIL with a deliberately wrong one (teeth)."""
import numpy as np
import pytest

from checks import FAIL, PASS, Context
from checks.suites import threshold as suite
from theory import extremal


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(tier="quick", out=tmp_path_factory.mktemp("out"))


def _doubled_test_reference(n, seed):
    """Missing factor: the OLS test MSE with σ instead of σ² for the noise floor (0.5 vs 0.25)."""
    r = suite.references(n, seed)
    return dict(r, ols_test=r["ols_test"] - r["sigma2"] + suite.SIGMA)


@pytest.mark.parametrize("right, wrong", [
    (suite.PopulationExtremal(), suite.PopulationExtremal(population=lambda S, b: extremal.population_extremal(S, -b))),
    (suite.ThresholdSweep(), suite.ThresholdSweep(reference=_doubled_test_reference)),
    (suite.TwoDirections(), suite.TwoDirections(directions=lambda X, y: suite.empirical_extremals(X, y)[::-1])),
], ids=["BF-P12 mirrored", "BF-P14 sigma not squared", "BF-P15 swapped signs"])
def test_threshold_checks_have_teeth(ctx, right, wrong):
    v = right.run(ctx)
    assert v.status == PASS, (v.observed, v.message)
    w = wrong.run(ctx)
    assert w.status == FAIL, (w.observed, w.message)


def test_sweep_figure_and_threshold_locator(ctx):
    v = suite.ThresholdSweep().run(ctx)
    assert v.figures and len(open(v.figures[0], "rb").read()) > 1000
    assert suite.locate_threshold([10, 20, 40, 80], [0.0, 0.2, 0.0, 0.2], 0.25) == (80, 40)
    assert suite.locate_threshold([10, 20], [0.0, 0.0], 0.25) == (None, 20)


def test_gpu_path_batches_seeds_into_the_cpu_points():
    """threshold_seeds (the --device cuda path, run here on the CPU) gives each seed the point threshold_point gives."""
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


def _interpolation_persists(n, seed):
    """Wrong claim: no threshold, the network keeps interpolating (OLS train reference replaced by 0)."""
    return dict(suite.references(n, seed), ols_train=0.0)


def _sigma_not_squared_train(n, seed):
    """Missing factor: the OLS train MSE scaled by σ/σ² = 2 (σ = 0.5)."""
    r = suite.references(n, seed)
    return dict(r, ols_train=r["ols_train"] / suite.SIGMA)


def test_robustness_check_passes_and_has_teeth(tmp_path):
    """BF-P19 on real GeLU and Adam runs (about 30 s), then the same runs judged against wrong references."""
    from checks.suites import threshold_robustness as rob

    ctx = Context(tier="standard", out=tmp_path)
    observed = rob.ThresholdRobustness().observe(ctx)
    for check, status in ((rob.ThresholdRobustness(), PASS),
                          (rob.ThresholdRobustness(reference=_interpolation_persists), FAIL),
                          (rob.ThresholdRobustness(reference=_sigma_not_squared_train), FAIL)):
        assert check.judge(check.predict(ctx), observed).status == status


def test_dependence_check_passes_and_has_teeth(tmp_path):
    """BF-P17 on a coarse real sweep (quick protocol, d = 5 → 10), judged with theory's n_suff = c d³ and with wrong
    dependences: n* independent of d (exponent 0) and shrinking with d (wrong sign)."""
    import dataclasses

    import sympy as sp

    from checks.suites import threshold_dependence as dep
    from theory.references import sufficient_threshold

    ctx = Context(tier="quick", out=tmp_path)
    observed = dep.ThresholdDependence().observe(ctx)
    f = sufficient_threshold()
    d = f.args[0]
    for formula, status in ((f, PASS), (dataclasses.replace(f, rhs=f.rhs / d ** 3), FAIL),
                            (dataclasses.replace(f, rhs=f.rhs / d ** 4), FAIL)):
        check = dep.ThresholdDependence(threshold=formula)
        assert check.judge(check.predict(ctx), observed).status == status, sp.srepr(formula.rhs)
