"""Early-alignment checks: PASS with theory's prediction, FAIL with a wrong one (teeth)."""
import numpy as np
import pytest

from checks import FAIL, PASS, Context
from checks.suites.early_alignment import Alignment, ExtremalFixedPoints, SpuriousStationaryPoint
from theory import extremal
from theory import references as ref


def _mirrored(X, y):
    """Wrong prediction: the positive extremal vectors with the wrong sign."""
    return [extremal.Extremal(-e.u, e.kind, e.G, e.rate, e.pattern) for e in extremal.enumerate_extremal(X, y)]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(tier="quick", out=tmp_path_factory.mktemp("out"))


@pytest.mark.parametrize("right, wrong", [
    (Alignment(), Alignment(extremals=_mirrored)),
    (ExtremalFixedPoints(), ExtremalFixedPoints(labels_sign=-1.0)),           # G_n with a wrong sign
    (SpuriousStationaryPoint(), SpuriousStationaryPoint(reference=lambda X, y: ref.ols_loss(X[:, :1], y))),  # no bias
], ids=["BF-P1", "BF-P5/P6", "BF-P7"])
def test_early_alignment_checks_have_teeth(ctx, right, wrong):
    v = right.run(ctx)
    assert v.status == PASS, (v.observed, v.message)
    assert wrong.run(ctx).status == FAIL


def test_spurious_check_rejects_global_minimum_as_prediction(ctx):
    assert SpuriousStationaryPoint(reference=lambda X, y: 0.0).run(ctx).status == FAIL


def test_figures_written(ctx):
    v = Alignment().run(ctx)
    assert v.figures and all(np.array([len(open(f, "rb").read()) for f in v.figures]) > 1000)


def _flip(X, r):
    s, v, d = extremal.descent_neuron(X, r)
    return -s, v, -d  # wrong sign of the added neuron


def _missing_factor(X, r):
    s, v, d = extremal.descent_neuron(X, r)
    return s, v, d * len(r)  # forgot the 1/n


def test_not_a_minimum_has_teeth(ctx):
    from checks.suites.early_alignment import NotAMinimum

    assert NotAMinimum().run(ctx).status == PASS
    assert NotAMinimum(descent=_flip).run(ctx).status == FAIL
    assert NotAMinimum(descent=_missing_factor).run(ctx).status == FAIL


def test_failure_rate_has_teeth(ctx):
    from checks.suites.early_alignment import FailureRate

    assert FailureRate().run(ctx).status == PASS
    assert FailureRate(reference=lambda X, y: 0.0).run(ctx).status == FAIL  # "it always reaches the global min"


def _mirrored_any_d(X, y):
    """Wrong prediction on any d: every extremal vector of extremal_vectors with the wrong sign."""
    return [extremal.Extremal(-e.u, e.kind, e.G, e.rate, e.pattern) for e in extremal.extremal_vectors(X, y)]


def test_alignment_on_user_data_in_five_dimensions(ctx):
    """Own data (d = 5, labels of both signs): positives align to positive extremal vectors, negatives to negative
    ones; the mirrored prediction FAILs."""
    from numerics import data

    ds = data.linear_teacher(40, 5, 0.1, seed=0)
    v = Alignment().with_data(ds, m=200).run(ctx)
    assert v.status == PASS, (v.observed, v.message)
    assert "negatives align" in v.predicted and len(v.figures) == 1  # no polar view for d ≠ 2
    assert Alignment(extremals=_mirrored_any_d).with_data(ds, m=200).run(ctx).status == FAIL
