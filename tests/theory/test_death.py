"""theory.death: the λ-free death flow of negative neurons (F2.3), its Euler order and its limits."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics import data
from theory import TheoryError, death

ONE = np.array([[1.0, 0.0]])  # one sample x = e₁, y = 1: u = (cos θ, sin θ) turns as dθ/dt = sin θ until θ = π/2


def _exact_one_sample(theta0):
    """dθ/dt = sin θ from θ₀ to π/2 (where u·e₁ = 0): t = ln tan(π/4) − ln tan(θ₀/2) = −ln tan(θ₀/2)."""
    return -np.log(np.tan(theta0 / 2))


def test_one_sample_matches_the_closed_form_to_order_dt():
    theta = np.linspace(0.2, 1.4, 13)
    U = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    for dt in (0.04, 0.02, 0.01):
        err = np.abs(death.death_times(U, ONE, [1.0], dt=dt) - _exact_one_sample(theta))
        assert err.max() <= 2 * dt  # Euler O(dt) plus the grid's ≤ dt


@pytest.mark.parametrize("name", ["one_d_three_points", "stewart"])
def test_halving_dt_changes_death_times_by_order_dt(name):
    ds = getattr(data, name)()
    U = np.random.default_rng(0).standard_normal((150, ds.inputs.shape[1]))
    t = {dt: death.death_times(U, ds.inputs, ds.y, dt=dt) for dt in (0.08, 0.04, 0.02)}
    alive = t[0.02] > 0
    d1, d2 = (np.abs(t[a] - t[b])[alive].mean() for a, b in ((0.08, 0.04), (0.04, 0.02)))
    assert 1.5 <= d1 / d2 <= 2.6  # first order: the change halves with dt (E2: 0.031 → 0.016; Stewart: 0.23 → 0.12)
    assert d2 <= 10 * 0.02 and np.abs(t[0.04] - t[0.02]).max() <= 20 * 0.04


def test_labels_vanishing_at_the_edge_make_death_slow():
    """Stewart's labels → 0 at x = ±1: deaths at flow time ≈ 50–70; bounded away from 0 (y + 0.3): ≈ 10."""
    ds = data.stewart()
    U = np.random.default_rng(1).standard_normal((200, 2))
    raw, shifted = (death.death_times(U, ds.inputs, y) for y in (ds.y, ds.y + 0.3))
    q = lambda t: np.quantile(t[t > 0], [0.5, 0.95])  # noqa: E731
    assert 40 < q(raw)[0] < 65 and 50 < q(raw)[1] < 75
    assert q(shifted)[1] < 18


def test_dead_at_init_fixed_points_and_the_never_marker():
    U = np.array([[-1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])  # dead; the fixed point u = ĝ (tangent 0); alive
    t = death.death_times(U, ONE, [1.0])
    assert t[0] == 0.0 and t[1] == math.inf and 0 < t[2] < 2
    assert death.death_times(U, ONE, [1.0], never=-1.0)[1] == -1.0
    assert death.death_times(U[2:], ONE, [1.0], t_max=0.1)[0] == math.inf  # alive at t_max


def test_negative_labels_keep_negative_neurons_alive():
    """Sign convention of F2.3 (g_n of theory.extremal): with y < 0 the ascent of G_n turns the neuron *onto* the
    sample, so it never dies; the mirror image with y > 0 dies."""
    U = np.array([[np.cos(1.0), np.sin(1.0)]])
    assert death.death_times(U, ONE, [-1.0], t_max=50)[0] == math.inf
    assert death.death_times(U, ONE, [1.0], t_max=50)[0] < 5


def test_still_active_fraction():
    t = np.array([0.0, 1.0, 2.0, np.inf])
    assert death.still_active_fraction(t, 0.0) == 0.75 and death.still_active_fraction(t, 1.5) == 0.5
    assert death.still_active_fraction(t, 1e9) == 0.25
    np.testing.assert_array_equal(death.still_active_fraction(t, [0.5, 3.0]), [0.75, 0.25])


@given(st.floats(0.05, 1.5), st.floats(0.01, 0.1))
def test_fraction_is_the_survival_of_the_closed_form(theta_max, dt):
    theta = np.linspace(0.05, theta_max, 20)
    U = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    td = death.death_times(U, ONE, [1.0], dt=dt)
    t = float(np.median(_exact_one_sample(theta)))
    exact = np.mean(_exact_one_sample(theta) > t)
    assert abs(death.still_active_fraction(td, t) - exact) <= np.mean(np.abs(_exact_one_sample(theta) - t) <= 2 * dt)


@pytest.mark.parametrize("kw, match", [
    (dict(U=np.zeros((2, 2))), "zero row"), (dict(U=np.ones((2, 3))), "columns"), (dict(dt=0.7), "dt"),
    (dict(dt=-1.0), "dt"), (dict(t_max=1e6, dt=0.01), "exceeds"), (dict(never=float("nan")), "never"),
    (dict(never="x"), "never"), (dict(t_max=float("inf")), "t_max")])
def test_bad_input_raises_theory_error(kw, match):
    args = dict(U=np.ones((2, 2)), X=ONE, y=[1.0]) | kw
    with pytest.raises(TheoryError, match=match):
        death.death_times(args.pop("U"), args.pop("X"), args.pop("y"), **args)


@pytest.mark.parametrize("times, t", [([], 1.0), ([[1.0]], 1.0), ([np.nan], 1.0), ([-1.0], 1.0), ([1.0], -1.0),
                                      ([1.0], float("nan")), ("ab", 1.0)])
def test_still_active_fraction_refuses_bad_input(times, t):
    with pytest.raises(TheoryError):
        death.still_active_fraction(times, t)
