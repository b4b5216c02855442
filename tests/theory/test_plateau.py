"""theory.references.plateau_time: the threshold runs' plateau record time 2 T_λ (F2.5 with F2.8) on E5 data."""
import math

import numpy as np
import pytest

from theory.errors import TheoryError
from theory.references import alignment_time, evaluate, plateau_time


@pytest.mark.parametrize("lam, m, d", [(1e-3, 200, 5), (1e-6, 214, 5), (1e-6, 50, 12), (1e-12, 10, 2)])
def test_plateau_time_is_twice_the_alignment_time(lam, m, d):
    """2 T_λ with T_λ = 2(d + 2) ln(√(m/d)/λ)/‖β*‖: the closed form and the F2.5-E5 formula agree."""
    beta = np.zeros(d)
    beta[0] = 2.0  # ‖β*‖ = 2: the rate ½‖Σβ*‖ = ‖β*‖/(2(d + 2)) scales with it
    want = 2 * 2 * (d + 2) / 2.0 * math.log(math.sqrt(m / d) / lam)
    assert plateau_time(lam, m, d, beta) == pytest.approx(want, rel=1e-12)
    assert plateau_time(lam, m, d, beta) == pytest.approx(
        2 * evaluate(alignment_time(), d=d, m=m, beta_norm=2.0, **{"lambda": lam}), rel=1e-12)


def test_uniform_default_init_and_bad_input():
    beta = np.ones(5) / math.sqrt(5)
    assert plateau_time(1.0, 10_000, 5, beta, "uniform-default") == pytest.approx(2 * 14 * math.log(math.sqrt(3)))
    assert plateau_time(10.0, 10_000, 5, beta, "uniform-default") == 1.0  # λ_eff > 1: at least one unit
    assert plateau_time(1e-3, 200, 5, beta, "uniform-default") == pytest.approx(2 * 14 * math.log(math.sqrt(3) / 1e-3))
    with pytest.raises(TheoryError, match="init"):
        plateau_time(1e-3, 200, 5, beta, "gaussian")
    with pytest.raises(TheoryError, match="beta"):
        plateau_time(1e-3, 200, 4, beta)
    with pytest.raises(TheoryError, match="lam"):
        plateau_time(0.0, 200, 5, beta)
