"""Every conservation-family check passes with theory's prediction and FAILs with a wrong one (teeth)."""
from functools import partial

import numpy as np
import pytest

from checks import FAIL, PASS, Context
from checks.suites.conservation import LinearGDStepExact, ODEConservation
from checks.suites.intrinsic import IntrinsicMetric
from checks.suites.laws import LawCount, SignFreezing
from theory import intrinsic, lie
from theory.conservation import LinearNetwork


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(tier="quick", out=tmp_path_factory.mktemp("out"))


@pytest.mark.parametrize("right, wrong", [
    (LinearGDStepExact(), LinearGDStepExact(eta_power=1)),                       # wrong exponent
    (ODEConservation(), ODEConservation(rate_claim=LinearNetwork(3, 4, 2).S_rate(nu=1).subs("nu", 1))),
    (LawCount(), LawCount(count=lambda f: f.D - lie.count_laws(f).rank_dphi)),     # no Lie brackets
    (SignFreezing(), SignFreezing(frozen_rule=lambda d, s: np.ones_like(d, bool))),   # "every init freezes"
    (IntrinsicMetric(), IntrinsicMetric(metric_A=partial(intrinsic.metric_A, kappa_sign=-1.0))),  # wrong sign
], ids=["MPG-P2", "MPG-P4", "MPG-P6", "BF-P3", "MPG-P10"])
def test_check_passes_and_has_teeth(ctx, right, wrong):
    v = right.run(ctx)
    assert v.status == PASS, (v.observed, v.message, v.numbers)
    w = wrong.run(ctx)
    assert w.status == FAIL, (w.observed, w.message)


def test_kernel_inclusion_check_and_teeth(ctx):
    from checks.suites.intrinsic import KernelInclusion

    assert KernelInclusion().run(ctx).status == PASS
    assert KernelInclusion(predicate=lambda U, V: True).run(ctx).status == FAIL       # "always recoverable"
    assert KernelInclusion(predicate=lambda U, V: U.shape[1] <= min(U.shape[0], V.shape[0])).run(ctx).status == FAIL


def test_symbolic_and_autograd_jacobians_agree():
    from checks.suites.intrinsic import _torch_inclusion

    rng = np.random.default_rng(3)
    for U, V in [(rng.standard_normal((3, 2)), rng.standard_normal((3, 2))), intrinsic.relaxed_balanced(3, 2, 3, 0.8)]:
        holds, dim, err = intrinsic.kernel_inclusion(U, V)
        dim_t, err_t = _torch_inclusion(U, V)
        assert dim == dim_t and (err <= 1e-8) == (err_t <= 1e-8) == holds == intrinsic.inclusion_predicted(U, V)


def test_depth3_chain_check_and_teeth(ctx):
    from checks.suites.intrinsic import DepthThreeChain

    assert all(intrinsic.verify_chain().values())
    assert DepthThreeChain().run(ctx).status == PASS
    assert DepthThreeChain(elementary=lambda x, y, w: x + y + w).run(ctx).status == FAIL  # e1 instead of e2


def test_two_trajectories_check_and_teeth(ctx):
    from checks.suites.intrinsic import TwoTrajectories

    v = TwoTrajectories().run(ctx)
    assert v.status == PASS and v.figures
    assert TwoTrajectories(intrinsic_rule=lambda U, V: True).run(ctx).status == FAIL  # "every init is intrinsic"
