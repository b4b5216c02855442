"""Hypothesis strategies of early_alignment instance families (public: users write their own property tests with
them)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics.data import Dataset

__all__ = ["small_datasets", "assumption3_like"]


def assumption3_like(n: int, d: int, seed: int, max_angle: float = 40.0, min_label: float = 0.1,
                     min_gap: float = 2.0) -> Dataset:
    """A small Assumption-3-like data set: n points in ℝ^d within `max_angle` degrees of a random axis, norms in
    [0.5, 1.5], labels in [min_label, 1], no two directions closer than `min_gap` degrees (general position).

    Every pair of inputs is then positively correlated (angle ≤ 2·max_angle < 90°) and every label is positive, so
    G_n has exactly one positive extremal vector, ĝ = Σ y_k x_k/‖·‖ with every point active, strictly inside its cell
    (ĝ·x_k > 0 for all k: a margin), and −ĝ kills every point (negative neurons can die). Drawn from `seed`
    (numpy), recorded in `meta`.
    """
    rng = np.random.default_rng(seed)
    axis = rng.standard_normal(d)
    axis /= np.linalg.norm(axis)
    cos_max, cos_gap = np.cos(np.radians(max_angle)), np.cos(np.radians(min_gap))
    U: list[np.ndarray] = []
    while len(U) < n:  # rejection sampling inside the cone around `axis`
        v = axis + rng.uniform(-1, 1, d) * np.tan(np.radians(max_angle))
        v /= np.linalg.norm(v)
        if v @ axis >= cos_max and all(v @ u < cos_gap for u in U):
            U.append(v)
    X = np.array(U) * rng.uniform(0.5, 1.5, (n, 1))
    y = rng.uniform(min_label, 1.0, n)
    return Dataset(f"assumption3-like(n={n}, d={d}, seed={seed})", X, y,
                   meta=dict(seed=seed, n=n, d=d, max_angle=max_angle, min_label=min_label, min_gap=min_gap))


def small_datasets(n=st.integers(2, 8), d=st.sampled_from([2, 3]), seed=st.integers(0, 2 ** 16 - 1)):
    """Small Assumption-3-like data sets (`assumption3_like`): n ≤ 8 points in ℝ^2 or ℝ^3, pairwise positively
    correlated with a margin, labels in [0.1, 1], in general position; their extremal vectors are computed exactly
    and fast by `theory.extremal.enumerate_extremal` (d ≤ 3). These are the hypotheses of BF-P1/P2/P4 (early
    alignment onto the positive extremal vector, small output, negative neurons die). Shrinks towards fewer points,
    d = 2 and seed 0."""
    return st.builds(assumption3_like, n, d, seed)
