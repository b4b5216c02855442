"""Extremal vectors on kinks (cell boundaries) in the exact enumeration (theory._kinks): the 3-cluster case, an
independent 1-D brute force and the projected ascent for d = 2, local extremality and the ascent for d = 3."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import data
from theory import TheoryError
from theory import extremal as ex


def blobs(n_per=40, seed=0):
    """The own-data 3-cluster set of tests/checks/runner/test_own_data.py (labels +1, −1, +1)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 1.0], [0.0, 2.0], [2.0, 1.0]])
    X = np.concatenate([c + 0.15 * rng.standard_normal((n_per, 2)) for c in centres])
    return X, np.repeat([1.0, -1.0, 1.0], n_per)


def test_three_clusters_list_the_kink_direction_with_its_rate():
    X, y = blobs()
    E = ex.enumerate_extremal(X, y)
    assert [e.kind for e in E] == ["min"] * 3
    top = E[0]  # was (0.295, 0.955) at rate 0.0079 when only cells were enumerated
    assert top.kink == (56,) and abs(X[56] @ top.u) < 1e-12 * np.linalg.norm(X[56]) and top.u[0] > 0.9999
    assert top.rate == pytest.approx(0.64225147, abs=1e-8) and top.G == pytest.approx(ex.G_n(top.u, X, y))
    assert E[1].kink == (56,) and E[1].u[0] < -0.9999 and E[1].rate == pytest.approx(0.63988893, abs=1e-8)
    assert E[2].kink == () and E[2].rate == pytest.approx(0.00786721, abs=1e-8)
    u, rate = ex.ascent_extremal(X, y, 1.0, steps=30_000, lr=2.0)[0]
    assert u @ top.u > 1 - 1e-9 and rate == pytest.approx(top.rate, rel=1e-6)
    assert np.all(ex.residual(np.array([e.u for e in E]), X, y) < 1e-12)  # the set-valued residual (F2.1)
    assert ex.residual(top.u + [0.0, 1e-3], X, y) > 1e-3


def _brute_force_d2(X, y):
    """The local minima (G_n < 0) and maxima (G_n > 0) of θ ↦ G_n(cos θ, sin θ), found independently: each arc
    between consecutive critical angles has a constant g (evaluated at its midpoint); an arc holds ±ĝ if ĝ's angle
    falls inside it, and a critical angle is a minimum where dG/dθ = −e(θ)·g changes from ≤ 0 to ≥ 0 (a maximum:
    from ≥ 0 to ≤ 0)."""
    ang = np.sort(np.concatenate([np.arctan2(X[:, 1], X[:, 0]) + s * np.pi / 2 for s in (1, -1)]) % (2 * np.pi))
    nxt = np.append(ang[1:], ang[0] + 2 * np.pi)
    mid = (ang + nxt) / 2
    g = ex.g_n(np.stack([np.cos(mid), np.sin(mid)], 1), X, y)
    out = []
    for i, (lo, hi) in enumerate(zip(ang, nxt)):
        for sign, kind in ((1.0, "min"), (-1.0, "max")):
            phi = np.arctan2(sign * g[i, 1], sign * g[i, 0])
            if lo < phi % (2 * np.pi) + 2 * np.pi * (phi % (2 * np.pi) < lo) < hi and np.linalg.norm(g[i]) > 1e-12:
                out.append((kind, np.array([np.cos(phi), np.sin(phi)])))
        t, gl, gr = nxt[i], g[i], g[(i + 1) % len(g)]
        u, e = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
        dl, dr, r = -e @ gl, -e @ gr, u @ gr
        if r > 1e-12 and dl <= 0 <= dr:
            out.append(("min", u))
        elif r < -1e-12 and dl >= 0 >= dr:
            out.append(("max", u))
    return out


def _matches(E, found, cos=1 - 1e-9):
    """Every (kind, u) in found has an entry of E of the same kind within cos."""
    return all(any(e.kind == k and e.u @ u > cos for e in E) for k, u in found)


def _no_faster_ascent(E, X, y, seed, steps):
    """Every value −sign·G_n(u) the projected ascent reaches is ≤ the largest listed rate of that kind: the global
    extremum is a local one of its sign, so a complete list holds it (the check's completeness test, RATE_SLACK)."""
    for sign, kind in ((1.0, "min"), (-1.0, "max")):
        best = max((e.rate for e in E if e.kind == kind), default=0.0)
        for _, value in ex.ascent_extremal(X, y, sign, n_starts=16, steps=steps, lr=2.0, seed=seed % 1000):
            assert value <= best * (1 + 1e-12) + 1e-15, (kind, value, best)


@settings(max_examples=25)
@given(st.integers(2, 8), st.integers(0, 2 ** 32 - 1))
def test_d2_enumeration_equals_brute_force_and_holds_every_grid_extremum(n, seed):
    """Also a fine grid (2·10⁵ angles): a grid point below (above) both neighbours with G_n < 0 (> 0) brackets a
    local minimum (maximum) of that sign within one step, so one listed vector of that kind lies within two steps."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, 2)), rng.standard_normal(n)
    E = ex.enumerate_extremal(X, y)
    bf = _brute_force_d2(X, y)
    assert len(E) == len(bf) and _matches(E, bf)
    th = np.linspace(0, 2 * np.pi, 200_001)[:-1]
    U = np.stack([np.cos(th), np.sin(th)], 1)
    G = ex.G_n(U, X, y)
    lo, hi = (G < np.roll(G, 1)) & (G < np.roll(G, -1)), (G > np.roll(G, 1)) & (G > np.roll(G, -1))
    grid = [("min", u) for u in U[lo & (G < -1e-6)]] + [("max", u) for u in U[hi & (G > 1e-6)]]
    assert _matches(E, grid, cos=np.cos(2.5 * th[1]))
    _no_faster_ascent(E, X, y, seed, 3000)


@settings(max_examples=15)
@given(st.integers(3, 9), st.integers(0, 2 ** 32 - 1))
def test_d3_kink_vectors_are_strict_local_extrema_and_no_ascent_is_faster(n, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, 3)), rng.standard_normal(n)
    E = ex.enumerate_extremal(X, y)
    for e in E:
        assert abs(e.G - ex.G_n(e.u, X, y)) < 1e-12 and e.rate == pytest.approx(abs(e.G))
        assert (e.G < 0) == (e.kind == "min") and all(abs(X[k] @ e.u) < 1e-12 * np.linalg.norm(X[k]) for k in e.kink)
        if not e.kink:
            continue
        T = rng.standard_normal((500, 3))
        T -= np.outer(T @ e.u, e.u)
        T /= np.linalg.norm(T, axis=1, keepdims=True)
        dG = ex.G_n(np.cos(1e-6) * e.u + np.sin(1e-6) * T, X, y) - e.G
        assert np.all(dG > -1e-15) if e.kind == "min" else np.all(dG < 1e-15)
    _no_faster_ascent(E, X, y, seed, 3000)


def test_positive_labels_have_no_kink_extremal_vector():
    """With y ≥ 0, G_n is concave along every great circle at a kink (a corner −y_k relu), so no kink is a local
    minimum and no direction has G_n > 0: the E1/E2 predictions (one positive extremal vector) are unchanged."""
    for ds in (data.one_d_three_points(), data.assumption3_default(), data.stewart(40, seed=0)):
        assert not any(e.kink for e in ex.enumerate_extremal(ds.inputs, ds.y))
    X = np.random.default_rng(3).standard_normal((30, 3))
    assert not any(e.kink for e in ex.enumerate_extremal(X, np.abs(X[:, 0])))


def test_kink_field_is_checked():
    with pytest.raises(TheoryError, match="kink"):
        ex.Extremal(np.array([1.0, 0.0]), "min", -1.0, 1.0, (1,), kink=[0])
