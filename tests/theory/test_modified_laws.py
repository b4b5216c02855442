"""Symbolic proofs of the weight-decay, momentum, intrinsic-dimension and law-search theory (MPG-P5, P12–P14)."""
import numpy as np
import pytest
import sympy as sp

from theory import decay, intrinsic_dim, law_search, lie, momentum


@pytest.mark.parametrize("module", [decay, momentum, intrinsic_dim, law_search])
def test_verify(module):
    results = module.verify()
    assert results and all(results.values()), {k: v for k, v in results.items() if not v}


def test_decayed_law_is_derived_exponential():
    f = decay.decayed_law()
    t, nu, h0 = f.args
    assert sp.simplify(f.rhs - h0 * sp.exp(-2 * nu * t)) == 0
    assert f(1.0, 0.5, 2.0) == pytest.approx(2.0 * np.exp(-1.0))


def test_momentum_law_differs_from_plain_law():
    net = momentum.HeavyBallLinear(2, 2, 2)
    K = net.explicit(momentum.momentum_law())
    assert sp.expand(K + K.T) == sp.zeros(2, 2)  # antisymmetric
    assert not (net.time_derivative(net.explicit(momentum.plain_law())) == sp.zeros(2, 2))


@pytest.mark.parametrize("arch", [dict(d_in=3, hidden=2, d_out=1, bias=False, n_=3, m_=2, r_=2),
                                  dict(d_in=2, hidden=3, d_out=2, bias=True, n_=4, m_=3, r_=1)])
def test_predicted_ranks_match_lie_rank(arch):
    p = intrinsic_dim.predicted_ranks(intrinsic_dim.relu_rank(), intrinsic_dim.linear_rank(), **arch)
    relu = lie.count_laws(lie.relu_path_lifting(arch["d_in"], arch["hidden"], arch["d_out"], arch["bias"]))
    lin = lie.count_laws(lie.linear_net(arch["n_"], arch["m_"], arch["r_"]))
    assert (p["relu"], p["linear"]) == (relu.rank_dphi, lin.rank_dphi)


def test_law_search_product_and_mod_p():
    x, fx = law_search.product_field()
    assert len(law_search.polynomial_laws(fx, x, 2)) == 2
    assert law_search.law_count_mod_p(fx, x, 2) == 2  # mod p agrees with the exact count here
    theta, chi = law_search.generic_field(3, 2, seed=1)
    assert law_search.law_count_mod_p(chi, theta, 3) == 0


@pytest.mark.parametrize("kind,f", [("linear", lie.linear_net(2, 3, 2)),
                                    ("relu", lie.relu_path_lifting(2, 2, 2, True))])
def test_known_laws_count_matches_quadratic_search(kind, f):
    laws = law_search.known_quadratic_laws(f, kind)
    assert len(laws) == lie.quadratic_laws(f)
