"""Racing checks (PIN-2…PIN-10): PASS with theory's formulas, FAIL with a deliberately wrong one (teeth)."""
import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

import numerics
from checks import FAIL, PASS, Context
from checks.suites import racing as suite
from theory import racing


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(tier="quick", out=tmp_path_factory.mktemp("out"))


def _predictor_without_p():
    """Missing factor: cos⁴(δ/2) alone (the head start without the current norm p)."""
    f = racing.final_norm_predictor()
    p, d = f.args
    return dataclasses.replace(f, rhs=sp.cos(d / 2) ** 4)


def _predictor_inverted():
    """Wrong exponent: p⁻¹ cos⁴(δ/2)."""
    f = racing.final_norm_predictor()
    return dataclasses.replace(f, rhs=f.rhs / f.args[0] ** 2)


@pytest.mark.parametrize("right, wrong", [
    (suite.FixedGatingLinearity(), suite.FixedGatingLinearity(system=lambda M: -racing.fixed_gating_system(M))),
    (suite.FixedGatingLinearity(), suite.FixedGatingLinearity(rate=racing.growth_rate(factor=1))),
    (suite.AngleNormLaws(), suite.AngleNormLaws(angle=racing.angle_law(rate_factor=2))),
    (suite.AngleNormLaws(), suite.AngleNormLaws(norm=racing.norm_law(power=1))),
    (suite.RaceXor(), suite.RaceXor(predictor=_predictor_without_p())),
    (suite.RaceDigits(), suite.RaceDigits(predictor=_predictor_inverted())),
    (suite.MergePruneXor(), suite.MergePruneXor(coefficient=lambda a, r: a)),  # missing factor ‖w_i‖
    (suite.Unlocking(), suite.Unlocking(slope=racing.escape_slope(racing.escape_time(growth_factor=1)))),
], ids=["PIN-2 sign", "PIN-5 factor", "PIN-3 exponent", "PIN-4 power", "PIN-7 missing p", "PIN-7 digits inverted",
        "PIN-6 plain coefficient", "PIN-10 exponent"])
def test_racing_checks_have_teeth(ctx, right, wrong):
    v = right.run(ctx)
    assert v.status == PASS, (v.observed, v.message)
    w = wrong.run(ctx)
    assert w.status == FAIL, (w.observed, w.message)


def test_racing_figures_written(ctx):
    for check in (suite.RaceXor(), suite.Unlocking(), suite.AngleNormLaws()):
        v = check.run(ctx)
        assert v.figures and all(len(open(f, "rb").read()) > 1000 for f in v.figures), v.message


@given(n=st.integers(3, 12), d=st.integers(1, 4), m=st.integers(1, 6), seed=st.integers(0, 10 ** 6),
       scale=st.sampled_from([1e-3, 1.0]))
def test_fixed_gating_identity_for_any_state(n, d, m, seed, scale):
    """PIN-2 for any data, width and state: −∇ of neuron j = K(M_j)(w_j; a_j) with its own gating and residual."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    W, a = rng.standard_normal((m, d)) * scale, rng.standard_normal(m) * scale
    lg = numerics.loss_and_grad(torch.tensor(W), torch.tensor(a), torch.tensor(X), torch.tensor(y))
    e = y - numerics.forward(torch.tensor(W), torch.tensor(a), torch.tensor(X)).numpy()
    M = racing.gated_correlation(X, e, (X @ W.T > 0).astype(float))
    for j in range(m):
        lin = racing.fixed_gating_system(M[j]) @ np.append(W[j], a[j])
        eng = -np.append(lg.grad_W.numpy()[j], lg.grad_a.numpy()[j])
        np.testing.assert_allclose(lin, eng, atol=1e-12 * max(1.0, np.abs(eng).max()))


@given(seed=st.integers(0, 10 ** 6))
def test_cone_problem_keeps_gating_fixed(seed):
    """The PIN-3/4 setup: every preactivation stays positive along a GD run (so the laws' premise holds)."""
    X, y, W, a = suite.cone_problem(seed)
    tr = numerics.train(X, y, W, a, lr=0.02, horizon=1.0, n_checkpoints=5, progress=False)
    assert tr.patterns.all()


def test_digits_and_cifar_loaders(tmp_path):
    import pickle

    from numerics import data
    from numerics.validate import InputError

    ds = data.digits_binary((3, 8), 40, seed=1)
    assert ds.X.shape == (40, 64) and set(np.unique(ds.y)) == {-1.0, 1.0} and np.isfinite(ds.X).all()
    rng = np.random.default_rng(0)
    for b in (1, 2):
        batch = {b"data": rng.integers(0, 256, (30, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 30))}
        with open(tmp_path / f"data_batch_{b}", "wb") as fh:
            pickle.dump(batch, fh)
    labels = np.concatenate([pickle.load(open(tmp_path / f"data_batch_{b}", "rb"))[b"labels"] for b in (1, 2)])
    c0, c1 = np.bincount(labels, minlength=10).argsort()[::-1][:2]
    ds = data.cifar10_binary(tmp_path, classes=(int(c0), int(c1)), n=8, seed=0)
    assert ds.X.shape == (8, 3072) and abs(ds.X.mean()) < 1e-12
    with pytest.raises(InputError, match="path"):
        data.cifar10_binary(tmp_path / "missing")
    with pytest.raises(InputError, match="fewer"):
        data.cifar10_binary(tmp_path, classes=(int(c0), int(c1)), n=10 ** 4)
