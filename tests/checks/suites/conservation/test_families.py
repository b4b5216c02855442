"""Conservation-family checks: their strategies draw inside the theorems' hypotheses, their designs refuse the rest.

(Teeth, i.e. every mutant FAILs, are tested for every check by tests/checks/suites/test_teeth.py.)
"""
import pytest
from hypothesis import given, settings

from checks.frame.errors import CheckError
from checks.strategies import linear_shapes, small_architectures
from checks.suites.conservation.gd_step_exact import LinearGDStepExact
from checks.suites.conservation.law_count import LawCount
from theory import lie


@settings(max_examples=30)
@given(small_architectures())
def test_small_architectures_satisfy_the_count_rule_hypotheses(arch):
    d = LawCount.design.build("quick").replace(**arch)  # a valid design
    assert lie.count_rule_applies(d.kind, **d.arch())
    assert lie.factorisation(d.kind, **d.arch()).D <= 18


@settings(max_examples=20)
@given(linear_shapes())
def test_linear_shapes_are_designs(shape):
    d = LinearGDStepExact.design.build("quick").replace(**shape)
    assert (d.n_out, d.m_in, d.r) == (shape["n_out"], shape["m_in"], shape["r"])


def test_law_count_design_refuses_architectures_outside_the_rule():
    with pytest.raises(CheckError, match="outside the count rule"):
        LawCount.design.build("quick", kind="linear", n=1, m=1, r=3)
    with pytest.raises(CheckError, match="kind"):
        LawCount.design.build("quick", kind="tanh")


def test_law_count_on_a_relu_net_cannot_reject_the_linear_alternatives(tmp_path):
    """Every criterion holds on ReLU (3, 2), but the alternatives differ from theory on linear nets only: the
    verdict is INCONCLUSIVE, never PASS (the default design is the linear reference row, which separates them)."""
    vs = LawCount().run(LawCount.design.build("quick", kind="relu", d_in=3, r=2, instances=0), "quick", out=tmp_path)
    assert [v.prediction_id for v in vs] == ["MPG-P6", "MPG-P7"]
    assert all(c["passed"] for v in vs for c in v.criteria)
    assert all(v.status == "INCONCLUSIVE" and "alternative" in v.message for v in vs)


def test_symbolic_sanity_controls_share_the_count_but_have_polynomial_laws():
    """Issue #25: N = D − 1 is not what tells a generic field apart — a rotation and a constant field have it too,
    with polynomial laws of low degree, which the generic field lacks."""
    from checks.suites.conservation.symbolic_sanity import control_fields
    from theory import law_search, lie

    for name, (x, f) in control_fields(5).items():
        assert lie.count_laws_fields(f, x).N == 4, name
        assert law_search.law_count_mod_p(f, x, 2) >= 1, name
    theta, chi = law_search.generic_field(5, 2, 0)
    assert lie.count_laws_fields(chi, theta).N == 4 and law_search.law_count_mod_p(chi, theta, 2) == 0
