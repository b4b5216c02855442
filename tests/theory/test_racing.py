"""F1.2–F1.8: symbolic verification, mutated formulas rejected, and a high-accuracy ODE solve agrees."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from theory import racing
from theory.network import is_zero


def test_racing_derivations_verify():
    res = racing.verify()
    assert all(res.values()), {k: v for k, v in res.items() if not v}


def test_mutated_angle_law_fails():
    wrong = racing.angle_law().rhs.subs(racing.t, 2 * racing.t)  # wrong exponent: e^{-2st}
    assert not is_zero(sp.simplify(sp.diff(wrong, racing.t) + racing.s * sp.sin(wrong)).rewrite(sp.exp))


def test_mutated_head_start_fails():
    p_t = racing.norm_law().rhs
    lim = sp.limit(sp.simplify(p_t * sp.exp(-2 * racing.s * racing.t) / racing.p0).rewrite(sp.exp), racing.t, sp.oo)
    assert not is_zero(racing._trig((lim - sp.cos(racing.delta0 / 2) ** 2).rewrite(sp.cos)))  # cos² head start


def test_racing_laws_have_no_mutation_knobs():
    """Wrong formulas are the checks' mutants (transformed Formula objects), not parameters of theory."""
    import inspect

    for f in (racing.angle_law, racing.growth_rate, racing.escape_time):
        assert not inspect.signature(f).parameters, f
    assert list(inspect.signature(racing.norm_law).parameters) == ["angle"]


@given(st.integers(1, 5), st.floats(0.05, 3.0), st.integers(0, 10_000), st.floats(0.2, 2.5))
def test_angle_and_norm_laws_match_ode(d, s_norm, seed, t_end):
    """Balanced neuron, fixed m: ẇ = a m, ȧ = w·m solved by DOP853 at rtol 1e-12."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal(d + 1)
    m *= s_norm / np.linalg.norm(m)
    w0 = 1e-3 * rng.standard_normal(d + 1)
    a0 = np.linalg.norm(w0) * rng.choice([-1.0, 1.0])
    sol = solve_ivp(lambda t, th: np.append(th[-1] * m, th[:-1] @ m), (0, t_end), np.append(w0, a0),
                    method="DOP853", rtol=1e-12, atol=1e-20)
    w, a = sol.y[:-1, -1], sol.y[-1, -1]
    target, s = racing.target_direction(m, a0)
    d0 = racing.angle_to(w0, target)
    assume_ok = 1e-3 < d0 < np.pi - 1e-3
    if not assume_ok:
        return
    delta_pred = racing.angle_law().numeric()(d0, s, t_end)
    assert racing.angle_to(w, target) == pytest.approx(delta_pred, rel=1e-7, abs=1e-9)
    p_pred = racing.norm_law().numeric()(abs(a0) * np.linalg.norm(w0), d0, s, t_end)
    assert abs(a) * np.linalg.norm(w) == pytest.approx(p_pred, rel=1e-7)
    assert np.sign(a) == np.sign(a0)  # sign frozen (F3.1 corollary)


@given(st.integers(1, 4), st.integers(2, 3), st.integers(0, 1000))
def test_leading_mode_is_top_eigenvector_of_K(d, k, seed):
    M = np.random.default_rng(seed).standard_normal((k, d + 1))
    sigma, v, u = racing.leading_mode(M)
    K = racing.fixed_gating_system(M)
    vec = np.concatenate([v, u]) / np.sqrt(2)
    np.testing.assert_allclose(K @ vec, sigma * vec, atol=1e-12)
    assert sigma == pytest.approx(np.linalg.eigvalsh(K).max())


def test_gated_correlation_matches_definition():
    rng = np.random.default_rng(0)
    X, e, g = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.integers(0, 2, (6, 4))
    M = racing.gated_correlation(X, e, g)
    np.testing.assert_allclose(M[2], sum(g[k, 2] * e[k] * X[k] for k in range(6)) / 6)


def test_race_ratio_and_predictor_exports():
    assert racing.race_ratio()(2.0, 1.0, 0.0, 0.0) == pytest.approx(2.0)
    assert racing.final_norm_predictor()(1.0, np.pi / 2) == pytest.approx(0.25)


@given(st.integers(0, 10_000), st.sampled_from([None, 2]), st.booleans())
def test_engine_gradient_is_the_fixed_gating_linear_system(seed, k, bias):
    """PIN-2 / F1.2: −∇_(w_j, a_j) L = K_j (w_j; a_j) with M_j from the current gating and residual."""
    import torch

    from numerics.model import forward, loss_and_grad

    rng = np.random.default_rng(seed)
    n, d, m = 12, 3, 5
    X = rng.standard_normal((n, d))
    if bias:
        X = np.hstack([X, np.ones((n, 1))])
    y = rng.standard_normal((n, k) if k else n)
    W, a = rng.standard_normal((m, X.shape[1])), rng.standard_normal((m, k) if k else m)
    lg = loss_and_grad(*(torch.tensor(v) for v in (W, a, X, y)))
    e = y - forward(torch.tensor(W), torch.tensor(a), torch.tensor(X)).numpy()
    gates = (X @ W.T > 0)
    for j in range(m):
        M = racing.gated_correlation(X, e, gates[:, j])
        K = racing.fixed_gating_system(M)
        flow = K @ np.concatenate([W[j], np.atleast_1d(a[j])])
        minus_grad = -np.concatenate([lg.grad_W[j].numpy(), np.atleast_1d(lg.grad_a[j].numpy())])
        np.testing.assert_allclose(flow, minus_grad, rtol=1e-12, atol=1e-14)
