"""Cost estimates and refusals of the exact law counters (issue #17 item 3): small budgets, so these are fast."""
import time

import pytest

from theory import TheoryError, _budget, lie


def test_count_laws_refuses_above_a_small_budget_with_the_estimate():
    f = lie.linear_net(3, 3, 2)
    with pytest.raises(TheoryError, match=r"max_bytes.*smaller architecture"):
        lie.count_laws(f, max_bytes=1000)
    with pytest.raises(TheoryError, match="budget_s"):
        lie.count_laws(f, budget_s=1e-9)
    assert lie.count_laws(f).N == 3


def test_quadratic_laws_refuses_and_large_nets_refuse_fast():
    with pytest.raises(TheoryError, match=r"degree-2 law system.*max_bytes"):
        lie.quadratic_laws(lie.linear_net(3, 3, 2), max_bytes=1000)
    t = time.perf_counter()
    with pytest.raises(TheoryError, match="GiB"):  # the (7, 7, 6) system would need ≈ 5.5 GiB (it was OOM-killed)
        lie.quadratic_laws(lie.linear_net(7, 7, 6))
    assert time.perf_counter() - t < 30  # generous: a refusal, not a computation (measured < 1 s)


def test_block_decomposition_and_estimates():
    f = lie.relu_path_lifting(3, 3, 2, bias=True)
    assert [len(b) for b in _budget.components(f.generators())] == [6, 6, 6]
    assert lie.count_laws(f).N == 3 and lie.count_laws(f).gap == 0
    c = lie.quadratic_cost(24, [6] * 16)
    assert c["columns"] == 300 and c["rows"] == 16 * 144 and c["bytes"] > 0 and c["seconds"] > 0
    with pytest.raises(TheoryError, match="budget_s"):
        _budget.require("x", nbytes=1, seconds=10, budget_s=1, max_bytes=10, fix="wait")
    with pytest.raises(TheoryError, match="max_bytes"):
        _budget.limits(1, -1)


def test_quadratic_forms_are_conserved_and_functionally_dependent_at_n_m_1_r_2():
    import numpy as np

    f = lie.linear_net(1, 1, 2)  # z = u·v: S's 3 entries and u1 v2 − u2 v1 (= ±√(−det S)): 4 quadratics, N = 3
    forms = lie.quadratic_law_forms(f)
    assert len(forms) == 4 and lie.count_laws(f).N == 3
    th = np.random.default_rng(0).uniform(0.5, 1.5, f.D)
    assert lie.rank(np.array([Q @ th for Q in forms])) == 3
    assert all(abs(th @ Q @ (A @ th)) < 1e-12 for Q in forms for A in f.generators())


def test_law_search_refuses_above_a_small_budget():
    from theory import law_search

    x, fx = law_search.product_field()
    with pytest.raises(TheoryError, match=r"law search.*budget_s"):
        law_search.polynomial_laws(fx, x, 2, budget_s=1e-12)
    with pytest.raises(TheoryError, match=r"law search.*max_bytes"):
        law_search.law_count_mod_p(fx, x, 2, max_bytes=10)
    assert law_search.law_count_mod_p(fx, x, 2) == 2 and len(law_search.polynomial_laws(fx, x, 2)) == 2
