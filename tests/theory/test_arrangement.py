"""theory.arrangement: the incremental arc sweeps against a brute-force enumeration (patterns and extremal vectors),
chunk independence, the stated cost and the budget refusal, and a fuzz of the public functions."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import TheoryError
from theory import arrangement as ar
from theory import extremal as ex


# --------------------------------------------------------------------------- the brute-force reference
def _brute_force_patterns(X, tol=1e-12) -> set:
    """The pre-sweep enumeration: probe every cell around every vertex ±x_i×x_j (d = 3, every cell touches one),
    the arc midpoints between the critical angles (d = 2), ±1 (d = 1); keep probes off every hyperplane."""
    X = np.asarray(X, float)
    n, d = X.shape
    if d == 1:
        pts = np.array([[1.0], [-1.0]])
    elif d == 2:
        ang = np.sort(np.concatenate([np.arctan2(X[:, 1], X[:, 0]) + s * np.pi / 2 for s in (1, -1)]) % (2 * np.pi))
        mids = ang + np.diff(np.append(ang, ang[0] + 2 * np.pi)) / 2
        pts = np.stack([np.cos(mids), np.sin(mids)], axis=1)
    else:
        I, J = np.triu_indices(n, 1)
        V = np.cross(X[I], X[J]) if n > 1 else np.zeros((0, 3))
        nv = np.linalg.norm(V, axis=1)
        keep = nv > tol
        if not keep.any():
            pts = np.vstack([np.eye(3), -np.eye(3)])
        else:
            I, J, V = I[keep], J[keep], V[keep] / nv[keep, None]
            dual = np.linalg.pinv(np.stack([X[I], X[J]], axis=1))
            eps = 1e-10 * np.minimum(1.0, 1.0 / np.linalg.norm(dual, axis=1).max(axis=1))
            pts = np.concatenate([sv * V + eps[:, None] * (si * dual[:, :, 0] + sj * dual[:, :, 1])
                                  for sv in (1, -1) for si in (1, -1) for sj in (1, -1)])
    Z = pts @ X.T
    ok = ~(np.abs(Z) <= tol * np.linalg.norm(X, axis=1)).any(axis=1)
    return {tuple(int(v) for v in row) for row in (Z[ok] > 0)}


def _brute_force_kink_candidates(X, y, P) -> np.ndarray:
    """Every direction that can hold an extremal vector on a kink: the vertices ±x_k^⊥ (d = 2), ±x_i × x_j
    (d = 3), and (d = 3) on each hyperplane x_h^⊥ the in-plane part ±(I − x̂_hx̂_hᵀ)g_S of every cell's g_S with the
    members of h left out (the stationary point of the edge between that cell and its neighbour across h)."""
    n, d = X.shape
    V, Xl = y[:, None] * X / n, X[np.linalg.norm(X, axis=1) > 0]
    if d == 1:
        return np.zeros((0, 1))
    if d == 2:
        C = [Xl[:, ::-1] * [-1.0, 1.0]]
    else:
        I, J = np.triu_indices(len(Xl), 1)
        C = [np.cross(Xl[I], Xl[J])]
        for x in Xl:
            nk = x / np.linalg.norm(x)
            on = np.linalg.norm(np.cross(X, nk), axis=1) <= 1e-10 * np.linalg.norm(X, axis=1)
            gs = (P & ~on) @ V
            C.append(gs - np.outer(gs @ nk, nk))
    C = np.concatenate(C)
    C = np.concatenate([C, -C])
    nc = np.linalg.norm(C, axis=1)
    return C[nc > 1e-14] / nc[nc > 1e-14, None]


def _brute_force_extremals(X, y, tol=1e-12) -> set:
    """Inside cells: ±ĝ_S of every brute-force pattern; on kinks: every brute-force candidate, decided by the same
    local-extremum test as the sweep (theory._kinks.decide), so this compares the sweep's candidate screens (the
    test itself is checked independently in tests/theory/test_kinks.py)."""
    from theory import _kinks
    P = np.array(sorted(_brute_force_patterns(X, tol)), bool).reshape(-1, len(y))
    kinks = {(k[1], k[4]) for k in _kinks.decide(_brute_force_kink_candidates(X, y, P), X, y, tol)}
    return {(e.kind, e.pattern) for e in ex._candidates_from_patterns(P, X, y, tol)} | kinks


@st.composite
def instances(draw, d=None, n_max=12):
    """Small inputs, in general position or degenerate (lattice points: triple points, parallel and antiparallel
    rows, scaled copies), no zero rows; labels real or in {−1, 0, 1}."""
    d = draw(st.integers(1, 3)) if d is None else d
    n = draw(st.integers(1, n_max))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kind = draw(st.sampled_from(["gauss", "lattice", "copies"]))
    X = rng.integers(-2, 3, (n, d)).astype(float) if kind == "lattice" else rng.standard_normal((n, d))
    if kind == "copies":
        X = np.vstack([X, -X[:1], 3.0 * X[-1:], X[:1] * (1 + 1e-16)])
    X = X[np.linalg.norm(X, axis=1) > 0]
    if len(X) == 0:
        X = np.ones((1, d))
    y = rng.integers(-1, 2, len(X)).astype(float) if draw(st.booleans()) else rng.standard_normal(len(X))
    return X, y


@given(instances())
def test_sweep_and_brute_force_find_the_same_patterns(inst):
    X, _ = inst
    patterns = ar.activation_patterns(X)
    assert patterns == _brute_force_patterns(X)
    assert ar.count_patterns(X) == len(patterns) <= ex.pattern_bound(len(X), X.shape[1])


@given(instances())
def test_sweep_and_brute_force_find_the_same_extremal_vectors(inst):
    X, y = inst
    fast = ex.enumerate_extremal(X, y)
    assert {(e.kind, e.pattern) for e in fast} == _brute_force_extremals(X, y)
    for e in fast:
        assert ex.residual(e.u, X, y) < 1e-12 and abs(np.linalg.norm(e.u) - 1) < 1e-12


@settings(max_examples=8)
@given(instances(d=3, n_max=40), st.sampled_from([1, 7, 300]))
def test_results_do_not_depend_on_the_chunk(inst, chunk):
    X, y = inst
    key = lambda E: sorted((e.kind, e.pattern) for e in E)  # noqa: E731
    assert key(ex.enumerate_extremal(X, y, chunk=chunk)) == key(ex.enumerate_extremal(X, y))
    assert ar.count_patterns(X, chunk=chunk) == ar.count_patterns(X)


@given(st.integers(2, 60), st.integers(1, 3), st.integers(0, 10_000))
def test_count_and_cost_equal_the_bound_in_general_position(n, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    cost = ar.enumeration_cost(X)
    assert cost.patterns == ar.count_patterns(X) == ex.pattern_bound(n, d)
    assert cost.visits == {1: 2, 2: 2 * n, 3: 4 * n * (n - 1)}[d] and cost.seconds > 0 and cost.memory_bytes > 0


def test_zero_rows_lie_on_no_hyperplane_and_are_never_active():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((9, 3)), rng.standard_normal(9)
    Xz, yz = np.vstack([X, np.zeros(3)]), np.append(y, 5.0)
    assert {p + (0,) for p in ar.activation_patterns(X)} == ar.activation_patterns(Xz)
    assert [e.pattern + (0,) for e in ex.enumerate_extremal(X, y)] == [e.pattern for e in ex.enumerate_extremal(Xz, yz)]
    assert ar.count_patterns(np.zeros((4, 3))) == 1 and ex.enumerate_extremal(np.zeros((4, 3)), np.ones(4)) == []


def test_d2_is_one_sweep_and_rank_deficient_d3_works():
    rng = np.random.default_rng(1)
    X2, y = rng.standard_normal((200, 2)), rng.standard_normal(200)
    E2 = ex.enumerate_extremal(X2, y)
    assert {(e.kind, e.pattern) for e in E2} == _brute_force_extremals(X2, y)
    X3 = np.column_stack([X2[:20], np.zeros(20)])  # rank 2: every great circle passes through ±e_3, where the
    assert ar.activation_patterns(X3) == _brute_force_patterns(X2[:20])  # vertex probes of the old code miss cells
    assert len(ar.activation_patterns(np.outer([1.0, -2.0, 3.0], [1.0, 2.0, 2.0]))) == 2  # one hyperplane


def test_large_enumeration_is_refused_with_the_estimate_and_the_alternative():
    X = np.random.default_rng(0).standard_normal((20_000, 3))
    y = X[:, 0]
    with pytest.raises(TheoryError) as info:
        ex.extremal_vectors(X, y)
    msg = str(info.value)
    assert "patterns" in msg and "budget_s" in msg and "ascent_extremal" in msg and "no completeness" in msg
    assert "4e+08" in msg  # N(20000, 3) ≈ 4·10⁸, stated before starting
    with pytest.raises(TheoryError, match="budget_s"):
        ar.count_patterns(X[:50], budget_s=1e-9)


def test_refusal_after_the_first_chunk_uses_the_measured_rate(monkeypatch):
    monkeypatch.setitem(ar.SECONDS_PER_VISIT, 3, 1e-15)  # the a priori estimate passes …
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.raises(TheoryError, match="measured on the first chunks"):  # … the measured one does not
        list(ar.fixed_point_cells(X, X, budget_s=1e-7, chunk=200))


def test_pattern_matrix_refuses_a_result_over_max_bytes():
    X = np.random.default_rng(0).standard_normal((30, 3))
    assert ar.pattern_matrix(X).shape == (ex.pattern_bound(30, 3), 30)
    with pytest.raises(TheoryError, match="max_bytes"):
        ar.pattern_matrix(X, max_bytes=1000)


# --------------------------------------------------------------------------- fuzz of the public functions
_BAD = st.sampled_from([np.nan, np.inf, -np.inf])


@st.composite
def maybe_bad_inputs(draw):
    """X of a random shape (sometimes not 2-D, d up to 4, empty), possibly with a NaN/inf entry."""
    n, d = draw(st.integers(0, 8)), draw(st.integers(0, 4))
    X = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n * d, max_size=n * d)), float).reshape(n, d)
    if n * d and draw(st.booleans()):
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = draw(_BAD)
    return X if draw(st.integers(0, 5)) else X.ravel()


_CALLS = [
    lambda X, kw: ar.count_patterns(X, **kw),
    lambda X, kw: ar.pattern_matrix(X, **kw),
    lambda X, kw: ar.activation_patterns(X, **kw),
    lambda X, kw: ar.enumeration_cost(X, **({"chunk": kw["chunk"]} if "chunk" in kw else {})),
    lambda X, kw: list(ar.fixed_point_cells(X, X, **kw)),
]


@given(maybe_bad_inputs(), st.integers(0, len(_CALLS) - 1),
       st.dictionaries(st.sampled_from(["tol", "budget_s", "chunk"]),
                       st.one_of(st.floats(allow_nan=True), st.integers(-3, 50)), max_size=2))
def test_fuzz_public_functions_return_a_finite_result_or_theory_error(X, which, kw):
    try:
        out = _CALLS[which](X, kw)
    except TheoryError:
        return
    X = np.asarray(X)
    assert X.ndim == 2 and 1 <= X.shape[1] <= 3 and X.size and np.isfinite(X).all()
    if isinstance(out, ar.EnumerationCost):
        assert out.patterns >= 1 and np.isfinite(out.seconds)
    elif isinstance(out, list):
        assert all(P.dtype == bool and P.shape[1] == len(X) for P in out)
    elif isinstance(out, np.ndarray):
        assert out.dtype == bool and out.shape[1] == len(X) and len(out) >= 1
    else:
        assert (out if isinstance(out, int) else len(out)) >= 1
