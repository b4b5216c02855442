"""Event-located integration of the ReLU gradient flow, the η/2 fidelity helper and the fidelity check's teeth."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from checks import FAIL, INCONCLUSIVE, PASS, Context
from checks.suites import fidelity as suite
from numerics import fidelity, flow
from theory.discretisation import HEUN


def _err(p, q):
    return float(np.max(np.abs(np.concatenate([p.W[-1].ravel(), p.a[-1]]) - np.concatenate([q.W[-1].ravel(), q.a[-1]]))))


@settings(max_examples=4)
@given(st.integers(0, 10_000))
def test_event_located_rk4_converges_at_high_order_for_any_seed(seed):
    """Any seed of the kink problem: halving the step cuts the error by ≥ 2² (RK4 with located flips), or the
    integrator refuses a sliding mode; never a silent low-order result."""
    X, y, W, a = suite.kink_problem(seed)
    try:
        ref = flow.event_flow(X, y, W, a, horizon=1.0, step=0.1 / 8)
        coarse, fine = (flow.event_flow(X, y, W, a, horizon=1.0, step=h) for h in (0.1, 0.05))
    except flow.SlidingModeError:
        return
    e1, e2 = _err(coarse, ref), _err(fine, ref)
    assert e2 < 1e-12 or e1 / e2 >= 4.0


def test_records_land_on_the_requested_times_and_flips_are_logged():
    X, y, W, a = suite.kink_problem(0)
    p = flow.event_flow(X, y, W, a, horizon=3.0, step=0.1, record_at_times=[0.5, 1.0])
    assert np.allclose(p.time, [0.0, 0.5, 1.0, 3.0])
    assert len(p.flips) > 0 and all(0 < t <= 3.0 for t, *_ in p.flips)
    assert p.loss[-1] < p.loss[0]


def test_sliding_mode_is_refused_with_its_time():
    X, y, W, a = suite.kink_problem(6)  # a seed whose flow slides along a kink (found by a scan)
    with pytest.raises(flow.SlidingModeError, match=r"sliding mode at t=1\.5"):
        flow.event_flow(X, y, W, a, horizon=3.0, step=0.05)


def test_event_flow_rejects_bad_input():
    X, y, W, a = suite.kink_problem(0)
    with pytest.raises(numerics.InputError, match="horizon"):
        flow.event_flow(X, y, W, a, horizon=0.0, step=0.1)
    with pytest.raises(numerics.InputError, match="one network"):
        flow.event_flow(X, y, W[None], a[None], horizon=1.0, step=0.1)


def test_step_halving_estimates_the_gd_error():
    X, y, W, a = suite.kink_problem(1)
    ref = flow.event_flow(X, y, W, a, horizon=1.0, step=0.01)
    run = lambda lr: numerics.train(X, y, W, a, lr=lr, horizon=1.0, stop_tol=0.0, progress=False,  # noqa: E731
                                    n_checkpoints=0, record_patterns=False)
    out = fidelity.step_halving(run, {"a": lambda tr: tr.a[-1]}, lr=0.01)
    true = float(np.max(np.abs(out["a"]["value"] - ref.a[-1])))
    assert 0.7 <= out["a"]["error_estimate"] / true <= 1.4
    with pytest.raises(numerics.InputError, match="order"):
        fidelity.step_halving(run, {"a": lambda tr: tr.a[-1]}, lr=0.01, order=0)
    with pytest.raises(numerics.InputError, match="observables"):
        fidelity.step_halving(run, {}, lr=0.01)


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    ctx = Context(tier="quick", out=tmp_path_factory.mktemp("out"))
    return ctx, suite.FlowFidelity().observe(ctx)


@pytest.mark.parametrize("check, status", [
    (suite.FlowFidelity(), PASS),
    (suite.FlowFidelity(gd_tableau=HEUN), FAIL),  # wrong exponent: GD claimed second order
    (suite.FlowFidelity(event_tableau=suite.tableau_of(flow.EULER)), FAIL),  # events claimed to be only first order
])
def test_fidelity_check_has_teeth(observed, check, status):
    ctx, obs = observed
    assert check.judge(check.predict(ctx), obs).status == status


def test_fidelity_check_is_inconclusive_on_a_sliding_flow(tmp_path):
    v = suite.FlowFidelity().run(Context(tier="quick", out=tmp_path, seed=6))
    assert v.status == INCONCLUSIVE and "sliding" in v.observed
