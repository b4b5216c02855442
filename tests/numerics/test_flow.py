"""Event-located integration of the ReLU gradient flow, the η/2 fidelity helper and the fidelity check's own data."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from checks import INCONCLUSIVE, PASS
from checks.suites.engine import flow_fidelity as suite
from numerics import fidelity, flow


def _err(p, q):
    return float(np.max(np.abs(np.concatenate([p.W[-1].ravel(), p.a[-1]])
                               - np.concatenate([q.W[-1].ravel(), q.a[-1]]))))


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
    assert len(p.events) > 0 and all(0 < t <= 3.0 for t, *_ in p.events)
    assert p.loss[-1] < p.loss[0]


def test_event_flow_returns_the_engine_trajectory():
    """One record type: event_flow gives a numerics.Trajectory with norms, gating at each record time and events."""
    X, y, W, a = suite.kink_problem(0)
    p = flow.event_flow(X, y, W, a, horizon=1.0, step=0.1, record_at_times=[0.5])
    assert isinstance(p, numerics.Trajectory) and len(p) == 3
    assert p.W.shape == (3, 6, 3) and p.a.shape == (3, 6) and p.patterns.shape == (3, 10, 6)
    np.testing.assert_allclose(p.w_norm, np.linalg.norm(p.W, axis=-1))
    np.testing.assert_allclose(p.conserved, p.a ** 2 - (p.W ** 2).sum(-1))
    assert np.array_equal(p.patterns, X @ np.swapaxes(p.W, -1, -2) > 0)
    assert p.step[0] == 0 and np.all(np.diff(p.step) > 0) and p.config["tableau"] == flow.RK4["name"]
    assert p.grad_W is None and p.outputs is None
    for t, k, j, gate in p.events:  # each event is a flip of sample k at neuron j to the recorded new gate
        assert 0 < t <= 1.0 and 0 <= k < 10 and 0 <= j < 6 and gate in (0, 1)
    plain = flow.event_flow(X, y, W, a, horizon=1.0, step=0.1, locate_events=False)
    assert plain.events == [] and plain.config["locate_events"] is False


def test_heun_tableau_converges_at_second_order():
    X, y, W, a = suite.kink_problem(0)
    ref, coarse, fine = (flow.event_flow(X, y, W, a, horizon=1.0, step=h, tableau=flow.HEUN)
                         for h in (0.0025, 0.04, 0.02))
    assert 3.0 <= _err(coarse, ref) / _err(fine, ref) <= 5.0


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


def test_fidelity_check_is_inconclusive_on_a_sliding_flow(tmp_path):
    C = suite.FlowFidelity
    (v,) = C().run(C.design.build("quick", seed=6), "quick", out=tmp_path)
    assert v.status == INCONCLUSIVE and all(c["passed"] is None for c in v.criteria)
    assert "sliding" in v.criteria[0]["value"] and v.figures == ()


def test_fidelity_check_runs_another_integrator_and_draws_its_figure(tmp_path):
    """event_tableau=heun: the prediction follows the tableau the run used (order 2), and the figure is saved."""
    C = suite.FlowFidelity
    (v,) = C().run(C.design.build("quick", event_tableau="heun"), "quick", out=tmp_path)
    assert v.status == PASS, v.criteria
    assert v.numbers["predicted_event_order"] == 2
    assert [(tmp_path / f).is_file() for f in v.figures] == [True]


def test_fidelity_design_rejects_bad_settings():
    from checks.frame.errors import CheckError

    C = suite.FlowFidelity
    for bad in (dict(event_tableau="rk45"), dict(lrs=(0.01,)), dict(steps=(0.1, -0.05)), dict(steps=(5.0, 0.1))):
        with pytest.raises(CheckError):
            C.design.build("quick", **bad)
