"""Threshold checks (BF-P12…P19): helpers, the GPU path, figures and the public teacher strategy.

The teeth (every mutant FAILs) are tested for every check by tests/checks/suites/test_teeth.py."""
import numpy as np
import pytest
from hypothesis import given

from checks.strategies import teachers
from checks.suites import threshold as suite
from theory import extremal
from theory.references import elasticity, mse
from figure_overlap import drawn


def test_sweep_figure_and_threshold_locator(tmp_path):
    """Quick tier, seed 0: BF-P16 is judged (PASS, the OLS estimator rejected); BF-P14/P17/P18 are INCONCLUSIVE,
    gated: the n = 320 run of seed 0 is still moving at the horizon and its clusters split (the regime is named)."""
    from quick_outcomes import quick_outcome

    check, d, out = quick_outcome("threshold.sweep")
    v = {x.prediction_id: x for x in check.verdicts(out, "quick")}
    assert v["BF-P16"].status == "PASS" and [a["status"] for a in v["BF-P16"].alternatives] == ["FAIL"]
    for pid in ("BF-P14", "BF-P17", "BF-P18"):
        assert v[pid].status == "INCONCLUSIVE", (pid, v[pid].headline())
        assert any(c["passed"] is None and "stationary" in c["name"] for c in v[pid].criteria)
    # OLS and the capacity-limited net have no n* on the grid, but the claim is gated: the run rejects neither
    assert all(a["status"] == "INCONCLUSIVE" for a in v["BF-P17"].alternatives)
    assert out.numbers["parameters"] >= 4 * d.ns[-1] and out.numbers["n_star"] == 80
    figs = check.figures(d, out.predicted, out.observed, v["BF-P14"])
    figs[""].savefig(tmp_path / "sweep.png")
    assert drawn(tmp_path / "sweep.png")
    assert suite.locate_threshold([10, 20, 40, 80], [0.0, 0.2, 0.0, 0.2], 0.25, 0.5) == (80, 40)
    assert suite.locate_threshold([10, 20], [0.0, 0.0], 0.25, 0.5) == (None, 20)


@pytest.fixture(scope="module")
def in_regime():
    """The quick designs at seed 1 (seeds 1, 2): every regime gate is reached there (stationary, one cluster per sign
    at n = 320, n* = 80 at H/4 and H), so BF-P14's references and BF-P15's directions are judged."""
    from checks.runner import api
    from checks.frame.core import REGISTRY

    api.discover()
    out = {}
    for name in ("threshold.sweep", "threshold.two_directions"):
        check = REGISTRY[name]()
        d = check.design.build("quick", seed=1)
        out[name] = (check, d, check.outcome(d))
    return out


def test_in_regime_the_threshold_claims_pass_and_the_estimator_alternatives_fail(in_regime):
    check, d, out = in_regime["threshold.sweep"]
    v = {x.prediction_id: x for x in check.verdicts(out, "quick")}
    assert {pid: x.status for pid, x in v.items()} == dict.fromkeys(("BF-P14", "BF-P16", "BF-P17", "BF-P18"), "PASS")
    ols = [a for a in v["BF-P14"].alternatives if a["name"].startswith("the OLS estimator")]
    assert ols and ols[0]["status"] == "FAIL"  # BF-P14 in σ²d/n units tells the network from global OLS
    assert abs(out.numbers["test_over_hs_units"]) < 0.5 < abs(out.numbers["test_over_ols_units"])


@pytest.mark.parametrize("name", ["threshold.sweep", "threshold.two_directions"])
def test_regime_mutants_fail_inside_the_regime(in_regime, name):
    """The mutants the quick tier's seed 0 cannot show (their criteria are gated or fail there) FAIL in the regime."""
    check, d, out = in_regime[name]
    th = out.theory
    truth_failed = [c.name for c in out.criteria if c.passed is False]
    assert not truth_failed
    survivors = [m.name for m in check.regime_mutants if not check.kills(m, d, th, out.observed, truth_failed)]
    assert check.regime_mutants and not survivors, survivors


def test_stationarity_and_width_helpers():
    from checks.suites.threshold import convergence as cv

    t = [0.0, 1.0, 10.0, 100.0, 1000.0, 2000.0, 4000.0]
    flat = dict(n=80, seed=0, time=t, train_mse=[0.4, 0.3, 0.25, 0.21, 0.2, 0.2, 0.2], end=dict(train_mse=0.2,
                                                                                            test_mse=0.3))
    moving = dict(flat, train_mse=[0.4, 0.3, 0.25, 0.21, 0.2, 0.19, 0.15], end=dict(train_mse=0.15, test_mse=0.3))
    r_flat, r_moving = (cv.network_reading(r, {}, 1000) for r in (flat, moving))
    assert r_flat["change"] == 0 and r_flat["flow"] == 0 and cv.is_stationary(r_flat, 0.25, 0.1)
    assert r_moving["change"] == pytest.approx(0.04 / 0.15) and not cv.is_stationary(r_moving, 0.25, 0.1)
    assert r_moving["train_early"] == 0.2  # the checkpoint nearest H/4 = 1000
    assert cv.is_stationary(dict(r_moving, train=0.01), 0.25, 0.1)  # interpolating: further descent keeps it there
    assert cv.capacity_width(320, 5) == 214 and cv.parameters(214, 5) >= 4 * 320
    for tier in ("quick", "standard", "full", "paper"):  # every tier's width can interpolate 4× its largest n
        d = suite.SweepDesign.build(tier)
        assert cv.parameters(d.m, d.d) >= cv.CAPACITY * max(d.ns), tier
    from checks import CheckError

    with pytest.raises(CheckError, match="lambdas"):
        suite.SweepDesign(lambdas=(1e-3, 0.0))
    ref = dict(ols_train=0.24, ols_test=0.26, sigma2=0.25)
    assert cv.ols_reading(flat, ref, 1000)["train"] == 0.24 and cv.capacity_reading(flat, ref, 1000)["train"] == 0.0
    assert cv.capacity_reading(dict(flat, n=2000), ref, 1000)["train"] == pytest.approx(0.125)


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
    from theory.references import alignment_time, plateau_time

    f = alignment_time()
    for dim, m, lam in ((5, 200, 1e-3), (10, 200, 1e-3), (5, 50, 1e-6)):
        half_plateau = plateau_time(lam, m, dim, suite.e5_teacher(dim)) / 2
        assert time_unit(f, dim, m, lam) == pytest.approx(half_plateau, rel=1e-12)
    d = suite.DependenceDesign.build("standard")
    assert scaled_horizon(d, dict(d=10, m=d.m, lam=d.lam)) == pytest.approx(d.horizon * 201.7349 / 122.5307, rel=1e-5)


def test_population_count_merges_endpoints_at_any_angle():
    """BF-P13's count at several de-duplication angles: greedy merging of the ascent endpoints, best first."""
    from checks.suites.threshold.population_extremal import merged_count, search_spread

    e = np.eye(3)
    near = np.array([1.0, 0.01, 0.0]) / np.linalg.norm([1.0, 0.01, 0.0])  # 0.57° from e₀
    found = [(e[0], 1.0), (near, 0.9), (-e[0], 0.8), (e[1], 0.5)]
    assert [merged_count(found, np.radians(a)) for a in (0.1, 1.0, 100.0)] == [4, 3, 2]
    assert abs(search_spread(found, np.radians(1.0)) - np.radians(0.573)) < 1e-4


def test_dependence_judges_the_direction_with_its_gates():
    """threshold.dependence (quick): n* increases with d at every d's width to interpolate, over 3 seeds, with a
    horizon-stable bracket; the flat and capacity-limited alternatives fail; a moved bracket, a moving deciding point
    or a narrow width make it INCONCLUSIVE with both readings shown; the exponent is reported, not scored."""
    from quick_outcomes import quick_outcome

    check, d, out = quick_outcome("threshold.dependence")
    for dim in d.d_values:
        ns, m = d.d_grid(dim)
        assert m * (dim + 1) >= 4 * ns[-1] and ns[0] == 2 * dim
    for tier in ("standard", "full", "paper"):
        b = suite.DependenceDesign.build(tier)
        assert len(b.d_values) >= 3 and b.seeds >= 3
    (v,) = check.verdicts(out, "quick")
    assert v.status == "PASS" and {a["status"] for a in v.alternatives} == {"FAIL"}
    levels = {c.name: c.level for c in out.criteria}
    assert levels[next(n for n in levels if n.startswith("fitted exponent ∂ln"))] == "measure"
    assert levels[next(n for n in levels if n.startswith("fitted exponent ≤"))] == "refinement"
    per = out.numbers["per_variable"]["d"]["per_d"]
    assert [r["n_star"] for r in per] == sorted(r["n_star"] for r in per)
    from checks.frame.criteria import status_of

    def status(obs):
        return status_of(check.criteria(d, out.predicted, obs))

    scan = out.observed["d_scan"]
    last = max(scan)  # the n = largest of the last d reads 0 at H/4 only: its bracket moves with the horizon
    early = {k: dict(v, rows=[dict(r, time=r["time"], train_mse=[0.0] * len(r["train_mse"])) if r["n"] != v["ns"][0]
                              else r for r in v["rows"]]) if k == last else v for k, v in scan.items()}
    for r in early[last]["rows"]:  # the end reading stays what it was
        if r["n"] != early[last]["ns"][0]:
            r["train_mse"][-1] = r["end"]["train_mse"]
    crit = check.criteria(d, out.predicted, dict(out.observed, d_scan=early))
    moved = next(c for c in crit if "horizon-stable" in c.name)
    assert moved.passed is None and status_of([c for c in crit if c.level in ("regime", "claim")]) == "INCONCLUSIVE"
    narrow = {k: dict(v, m=2) for k, v in scan.items()}
    assert status(dict(out.observed, d_scan=narrow)) == "INCONCLUSIVE"
