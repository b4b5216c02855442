"""theory.local_maximum: the active-set walk ends on certified strict local maxima of −sign·G_n (F2.2, F2.4)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from theory import extremal as ex
from theory import local_maximum as lm
from theory.errors import TheoryError


def _problem(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)


def _F(U, X, y, sign):
    return sign * (np.maximum(U @ X.T, 0.0) @ y) / len(y)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 30), st.integers(2, 5), st.sampled_from([1.0, -1.0]), st.integers(0, 10_000))
def test_walk_ends_on_a_certified_local_maximum_above_its_start(n, d, sign, seed):
    """From a start with F > 0 (an ascent endpoint's case) the walk never lowers F and ends certified, and a
    certified end is a local maximum: no point in a neighbourhood smaller than its distance to the other hyperplanes
    is higher, and a walk from it stays there."""
    X, y, u0 = _problem(n, d, seed)
    u0 /= np.linalg.norm(u0)
    assume(_F(u0, X, y, sign) > 1e-9)
    u, K, ok = lm.walk(u0, X, y, sign)
    assert np.linalg.norm(u) == pytest.approx(1.0)
    assert _F(u, X, y, sign) >= _F(u0, X, y, sign) - 1e-12
    assert ok
    assert all(sign * y[k] < 0 for k in K)  # only ridges hold a maximum
    z = X @ u / np.linalg.norm(X, axis=1)
    assert np.all(np.abs(z[list(K)]) < 1e-12)
    off = np.delete(np.abs(z), list(K))
    eps = 0.1 * off.min()
    T = np.random.default_rng(seed + 1).standard_normal((2000, d))
    V = u + eps * T / np.linalg.norm(T, axis=1, keepdims=True)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    assert np.all(_F(V, X, y, sign) <= _F(u, X, y, sign) + 1e-13)
    again, K2, ok2 = lm.walk(u, X, y, sign)
    assert ok2 and K2 == K and np.allclose(again, u, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 20), st.integers(2, 3), st.sampled_from([1.0, -1.0]), st.integers(0, 10_000))
def test_certified_ends_are_extremal_vectors_of_the_exact_enumeration(n, d, sign, seed):
    """Every certified end (minima of G_n for sign +1, maxima for −1) is one of the enumeration's extremal vectors
    of that kind, inside a cell (K = ∅: the fixed point sign·ĝ_S of F2.4) or on a kink."""
    X, y, _ = _problem(n, d, seed)
    kind = "min" if sign > 0 else "max"
    exact = np.array([e.u for e in ex.enumerate_extremal(X, y) if e.kind == kind]).reshape(-1, d)
    starts = np.random.default_rng(seed + 2).standard_normal((8, d))
    U, ok = lm.polish(starts / np.linalg.norm(starts, axis=1, keepdims=True), X, y, sign)
    for u in U[ok]:
        assert len(exact) and np.max(exact @ u) > 1 - 1e-9


def test_polish_merges_an_unconverged_ascent_onto_exact_maxima():
    """Ascent endpoints scattered along a flat ridge are walked onto the same exact maximum (to rounding)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X @ np.ones(5) + 0.5 * rng.standard_normal(200)
    found = ex.ascent_extremal(X, y, 1.0, n_starts=16, steps=300, cos_merge=1.0)
    U, ok = lm.polish(np.array([u for u, _ in found]), X, y, 1.0)
    assert ok.all()
    assert np.all(_F(U, X, y, 1.0) >= np.array([v for _, v in found]) - 1e-12)
    assert len(np.unique(np.round(U, 9), axis=0)) < len(U)


def test_certify_rejects_a_non_maximum_and_bad_input():
    X, y, u = _problem(10, 3, 1)
    assert not lm.certify(u, X, y, 1.0, K=[0])  # u is on no hyperplane
    for bad in (dict(K=[10]), dict(K=[0, 0]), dict(K="x"), dict(K=5), dict(sign=0.5)):
        kw = {"K": (), "sign": 1.0, **bad}
        with pytest.raises(TheoryError):
            lm.certify(u, X, y, kw["sign"], kw["K"])
    with pytest.raises(TheoryError, match="U has 2 columns"):
        lm.polish(np.ones((2, 2)), X, y, 1.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 20), st.integers(2, 3), st.sampled_from([1.0, -1.0]), st.integers(0, 10_000))
def test_certify_on_one_kink_agrees_with_the_exact_enumeration(n, d, sign, seed):
    """On each sample's hyperplane, the face's own fixed point u = P_k v_S/‖P_k v_S‖ (pattern iterated until it
    repeats) is certified exactly when the enumeration (`theory._kinks`, independent code) lists it as extremal."""
    X, y, u0 = _problem(n, d, seed)
    kind = "min" if sign > 0 else "max"
    exact = np.array([e.u for e in ex.enumerate_extremal(X, y) if e.kind == kind]).reshape(-1, d)
    for k in range(n):
        q = X[k] / np.linalg.norm(X[k])
        S = X @ u0 > 0
        for _ in range(50):
            S[k] = False
            v = sign * (S * y) @ X / n
            p = v - (v @ q) * q
            if not np.linalg.norm(p) > 0:
                break
            u = p / np.linalg.norm(p)
            z = X @ u
            z[k] = 0.0
            if np.array_equal(z > 0, S):
                if u @ v > 0 and np.all(np.delete(np.abs(z), k) > 1e-9):
                    listed = bool(len(exact)) and np.max(exact @ u) > 1 - 1e-9
                    assert lm.certify(u, X, y, sign, [k]) == listed
                break
            S = z > 0
