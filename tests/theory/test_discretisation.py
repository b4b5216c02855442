"""Order of explicit Runge–Kutta tableaus, derived by Taylor expansion (theory.discretisation)."""
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from theory import discretisation as D


def test_known_orders():
    assert all(D.verify().values())
    assert D.local_error(D.EULER, 2)[0] == 0  # consistent: the h¹ terms agree


@given(st.fractions(min_value=-3, max_value=3).filter(lambda q: q != 0))
def test_every_two_stage_method_of_the_family_has_order_two(alpha):
    """Any α ≠ 0: A₂₁ = α, b = (1 − 1/(2α), 1/(2α)) satisfies b·1 = 1 and b·c = ½ but not the order-3 conditions."""
    alpha = sp.Rational(alpha.numerator, alpha.denominator)
    t = D.Tableau("2-stage", ((0, 0), (alpha, 0)), (1 - 1 / (2 * alpha), 1 / (2 * alpha)), (0, alpha))
    assert D.rk_order(t, max_order=4) == 2


@given(st.fractions(min_value=-1, max_value=1).filter(lambda q: q != 0))
def test_weights_not_summing_to_one_are_inconsistent(eps):
    """Perturbing b so that Σ b ≠ 1 breaks consistency: order 0."""
    t = D.Tableau("bad", D.RK4.A, (D.RK4.b[0] + sp.Rational(eps.numerator, eps.denominator),) + D.RK4.b[1:], D.RK4.c)
    assert D.rk_order(t) == 0


def test_implicit_or_malformed_tableaus_are_refused():
    with pytest.raises(ValueError, match="explicit"):
        D.Tableau("implicit", ((sp.Rational(1, 2),),), (1,), (sp.Rational(1, 2),))
    with pytest.raises(ValueError, match="2×2"):
        D.Tableau("short", ((0, 0),), (1, 0), (0, 0))
