"""F2.2–F2.10: G_n, extremal vectors (enumeration vs search), pattern bound, population limit, OLS references."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import data
from theory import extremal as ex
from theory import references as ref


def test_symbolic_statements():
    assert all(ex.verify().values())


@given(st.integers(3, 30), st.integers(1, 3), st.integers(0, 10_000))
def test_enumeration_extremals_are_fixed_points_with_sign_rule(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    for e in ex.enumerate_extremal(X, y):
        assert ex.residual(e.u, X, y) < 1e-12
        assert (e.G < 0) if e.kind == "min" else (e.G > 0)
        assert e.rate == pytest.approx(abs(e.G))


@given(st.integers(3, 25), st.integers(2, 3), st.integers(0, 10_000))
def test_search_finds_only_true_extremals_and_enumeration_is_complete(n, d, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    enum = {(e.kind, e.pattern) for e in ex.enumerate_extremal(X, y)}
    found = {(e.kind, e.pattern) for e in ex.search_extremal(X, y, n_starts=100, seed=seed)}
    assert found <= enum
    assert len(enum) <= ex.pattern_bound(n, d)


@given(st.integers(2, 40), st.integers(1, 3), st.integers(0, 10_000))
def test_pattern_count_equals_bound_in_general_position(n, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    assert len(ex.activation_patterns(X)) == ex.pattern_bound(n, d)


@given(st.floats(0.01, 0.16), st.integers(0, 10_000))
def test_assumption3_instances_have_one_positive_extremal_active_everywhere(eta, seed):
    """F2.7: on any Assumption-3 instance the positive extremal vector sees all three points."""
    ds = data.assumption3_sample(eta, seed)
    mins = [e for e in ex.enumerate_extremal(ds.X, ds.y) if e.kind == "min"]
    assert mins and mins[0].pattern == (1, 1, 1)


def test_paper_regression_cases():
    e2 = data.one_d_three_points()
    mins = [e for e in ex.enumerate_extremal(e2.inputs, e2.y) if e.kind == "min"]
    assert len(mins) == 1
    g = (e2.y @ e2.inputs) / 3
    np.testing.assert_allclose(mins[0].u, g / np.linalg.norm(g))  # D* ∝ (−0.2583, 0.6667)
    np.testing.assert_allclose(g, [-0.2583333, 0.6666667], atol=1e-6)


def test_empirical_extremal_converges_to_population():
    beta = data.linear_teacher(1, d=3).meta["beta"]
    u_pop, rate = ex.population_extremal(np.eye(3) / 5, beta)
    np.testing.assert_allclose(u_pop, beta)
    assert rate == pytest.approx(0.1)
    cos = []
    for n in (50, 300):
        ds = data.linear_teacher(n, d=3, seed=3)
        best = max((e for e in ex.enumerate_extremal(ds.X, ds.y) if e.kind == "min"), key=lambda e: e.rate)
        cos.append(best.u @ u_pop)
    assert cos[1] > cos[0] and cos[1] > 0.95


def test_alignment_horizon_errors():
    assert ex.alignment_horizon(np.exp(-2), 0.5) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="lam_eff"):
        ex.alignment_horizon(0.0, 1.0)


def test_ols_references():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 4)), rng.standard_normal(50)
    b = ref.ols(X, y)
    np.testing.assert_allclose(X.T @ (X @ b - y), 0, atol=1e-10)  # normal equations
    hs = ref.two_half_space_ols(X, y, b)
    assert hs.train_loss <= ref.train_loss(b, X, y) + 1e-12
    e1 = data.assumption3_default()
    assert ref.ols_loss(e1.X, e1.y) > 1e-3  # the spurious value is strictly positive
    assert ref.test_mse(b, b, np.eye(4), 0.5) == pytest.approx(0.25)
    f = ref.expected_mse()["F2.10-ols-train"]
    assert f(0.5, 5, 100) == pytest.approx(0.25 * 0.95)


def test_mutated_sign_rule_is_rejected():
    """Labelling −ĝ_S as a minimum (wrong sign) breaks the fixed-point/sign test: the test has teeth."""
    e2 = data.one_d_three_points()
    u = [e for e in ex.enumerate_extremal(e2.inputs, e2.y) if e.kind == "min"][0].u
    assert ex.G_n(u, e2.inputs, e2.y) < 0 and ex.residual(u, e2.inputs, e2.y) < 1e-12
    assert not (ex.G_n(-u, e2.inputs, e2.y) < 0)  # the negated direction is not a minimum
    assert ex.residual(u + np.array([0.1, 0.0]), e2.inputs, e2.y) > 1e-3  # a perturbed direction is not fixed


def test_mutated_expected_mse_differs():
    f = ref.expected_mse()
    assert f["F2.10-ols-train"](0.5, 5, 100) != pytest.approx(f["F2.10-2hs-train"](0.5, 5, 100))


@given(st.floats(0.01, 0.16), st.integers(0, 10_000))
def test_descent_neuron_exists_at_the_spurious_point(eta, seed):
    """F2.7: on any Assumption-3 instance the OLS point admits a first-order descent by one new neuron."""
    ds = data.assumption3_sample(eta, seed)
    r = ds.X @ ref.ols(ds.X, ds.y) - ds.y
    s, v, dL = ex.descent_neuron(ds.X, r)
    assert dL < 0 and np.linalg.norm(v) == pytest.approx(1.0)
    eps = 1e-4  # the first-order prediction matches a direct evaluation
    h_new = ds.X @ ref.ols(ds.X, ds.y) + s * eps * eps * np.maximum(ds.X @ v, 0)
    dL_obs = (0.5 * np.mean((h_new - ds.y) ** 2) - ref.ols_loss(ds.X, ds.y)) / eps ** 2
    assert dL_obs == pytest.approx(dL, rel=1e-4)


@settings(max_examples=5)
@given(st.integers(4, 7), st.integers(0, 1000))
def test_extremal_vectors_in_any_dimension_are_unit_with_consistent_kind(d, seed):
    """d > 3 uses projected ascent: unit vectors, kind 'min' ⇔ G_n(u) < 0, rate = |G_n(u)|; d ≤ 3 is the enumeration."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((12, d)), rng.standard_normal(12)
    ext = ex.extremal_vectors(X, y)
    assert any(e.kind == "min" for e in ext) and any(e.kind == "max" for e in ext)
    for e in ext:
        assert abs(np.linalg.norm(e.u) - 1) < 1e-12
        assert (e.G < 0) == (e.kind == "min") and abs(abs(e.G) - e.rate) < 1e-12
    X3 = X[:, :3]
    assert len(ex.extremal_vectors(X3, y)) == len(ex.enumerate_extremal(X3, y))


# --------------------------------------------------------------------------- bad input: TheoryError, never silence
def test_nan_and_mismatched_labels_raise_theory_error_naming_the_argument():
    from theory import TheoryError
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    X[3, 1] = np.nan
    for f in (ex.extremal_vectors, ex.enumerate_extremal, ex.search_extremal, ex.ascent_extremal):
        with pytest.raises(TheoryError, match="X contains NaN"):
            f(X, y)
    X[3, 1] = 0.5
    with pytest.raises(TheoryError, match="X has n=20 rows but y has 19"):
        ex.extremal_vectors(X, y[:-1])
    with pytest.raises(TheoryError, match="w has last dimension 2"):
        ex.G_n(np.ones(2), X, y)
    with pytest.raises(TheoryError, match="Sigma @ beta is the zero vector"):
        ex.population_extremal(np.eye(3), np.zeros(3))
    with pytest.raises(TheoryError, match="sign"):
        ex.ascent_extremal(X, y, sign=0.5)


_FLOATS = st.floats(-1e3, 1e3)
_ODD = st.sampled_from([np.nan, np.inf, 0.0, -1.0, 1e-300])


@st.composite
def _xy(draw):
    """(X, y) of random, sometimes mismatched, shapes, sometimes with one NaN/inf/odd entry."""
    n, d = draw(st.integers(0, 7)), draw(st.integers(0, 5))
    m = n if draw(st.integers(0, 4)) else draw(st.integers(0, 7))
    X = np.array(draw(st.lists(_FLOATS, min_size=n * d, max_size=n * d)), float).reshape(n, d)
    y = np.array(draw(st.lists(_FLOATS, min_size=m, max_size=m)), float)
    if n * d and draw(st.booleans()):
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = draw(_ODD)
    return X, y


def _finite(out):
    if isinstance(out, ex.Extremal):
        return np.isfinite(out.u).all() and np.isfinite([out.G, out.rate]).all()
    if isinstance(out, (list, tuple)):
        return all(_finite(o) for o in out)
    if isinstance(out, dict):
        return all(_finite(o) for o in out.values())
    if isinstance(out, (np.ndarray, float, int, np.floating)):
        return bool(np.isfinite(np.asarray(out, float)).all())
    return True


_EXTREMAL_CALLS = {
    "G_n": lambda X, y, a: ex.G_n(np.full(X.shape[-1:] if X.ndim else 1, a), X, y),
    "g_n": lambda X, y, a: ex.g_n(np.full((2, X.shape[-1] if X.ndim else 1), a), X, y),
    "enumerate_extremal": lambda X, y, a: ex.enumerate_extremal(X, y, tol=abs(a) or 1e-12),
    "search_extremal": lambda X, y, a: ex.search_extremal(X, y, n_starts=4, max_iter=20,
                                                          seed=a if a == a and abs(a) < 50 else 3),
    "ascent_extremal": lambda X, y, a: ex.ascent_extremal(X, y, -1.0 if a < 0 else 1.0, n_starts=3, steps=20),
    "extremal_vectors": lambda X, y, a: ex.extremal_vectors(X, y),
    "pattern_matrix": lambda X, y, a: ex.pattern_matrix(X),
    "activation_patterns": lambda X, y, a: ex.activation_patterns(X),
    "enumeration_cost": lambda X, y, a: ex.enumeration_cost(X).seconds,
    "pattern_bound": lambda X, y, a: ex.pattern_bound(len(y), a if a == a and abs(a) < 50 else 3),
    "population_extremal": lambda X, y, a: ex.population_extremal(X, y),
    "population_extremal_vectors": lambda X, y, a: ex.population_extremal_vectors(X, y),
    "alignment_horizon": lambda X, y, a: ex.alignment_horizon(a, float(X.size)),
    "unit_ball_second_moment": lambda X, y, a: float(ex.unit_ball_second_moment(a if a == a and abs(a) < 50 else 3)),
    "descent_neuron": lambda X, y, a: ex.descent_neuron(X, y),
    "output_order": lambda X, y, a: ex.output_order(ex.early_output_bound(), a),
}


@given(_xy(), st.sampled_from(sorted(_EXTREMAL_CALLS)), st.one_of(_FLOATS, _ODD))
def test_fuzz_public_functions_give_a_finite_result_or_theory_error(xy, name, a):
    from theory import TheoryError
    X, y = xy
    try:
        out = _EXTREMAL_CALLS[name](X, y, a)
    except TheoryError:
        return
    assert _finite(out), (name, out)


def test_every_public_name_is_fuzzed_or_symbolic():
    symbolic = {"Extremal", "EnumerationCost", "DEFAULT_BUDGET_S", "angle_concentration", "formulas", "verify",
                "early_output_bound", "residual"}  # residual: inf is its documented sentinel for g_n(u) = 0
    assert set(ex.__all__) == set(_EXTREMAL_CALLS) | symbolic
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal(10)
    u = rng.standard_normal((4, 3))
    assert np.isfinite(ex.residual(u, X, y)).all() and ex.residual(np.ones(3), X, np.zeros(10)) == np.inf
    from theory import TheoryError
    with pytest.raises(TheoryError, match="zero row"):
        ex.residual(np.zeros(3), X, y)
    with pytest.raises(TheoryError, match="n must be ≤ 12"):
        ex.verify(n=100)
