"""F2.7 "not a minimum": the best small neuron to add at a stationary point, by exhausting cells and faces."""
from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from . import validate
from .arrangement import pattern_matrix
from .errors import TheoryError

__all__ = ["descent_neuron", "MAX_DESCENT_WORK"]

MAX_DESCENT_WORK = 2_000_000  # cells × faces evaluated by descent_neuron before it refuses


def descent_neuron(X, r, tol: float = 1e-12) -> tuple[float, np.ndarray, float]:
    """Best small neuron to add at a stationary point with residuals r = h − y (F2.7 "not a minimum").

    Adding a = sϵ, w = ϵv changes L = (1/2n)Σ(h − y)² by ΔL = s ϵ² G_r(v) + O(ϵ⁴), with the piecewise-linear
    G_r(v) = (1/n) Σ_k r_k relu(v·x_k). On each closed activation cell S it is linear, ⟨c_S, v⟩, and its
    extremes on the unit sphere lie at ∓ĉ_S projected onto a face {v·x_k = 0, k ∈ A} of the cell (|A| < d).
    Exhaustive over cells and faces: meant for small n and d ≤ 3 (refused above MAX_DESCENT_WORK evaluations).

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3.  r: residuals (n,).  tol: zero threshold.

    Returns:
        (s, v, s·G_r(v)) minimising the first-order change; s·G_r(v) < 0 certifies a descent direction
        (v = 0 and 0.0 when no cell allows a decrease).
    """
    X, r = validate.data(X, r)
    tol = validate.positive("tol", tol)
    n, d = X.shape
    if d > 3:
        raise TheoryError(f"descent_neuron needs d ≤ 3 (got d={d}): it exhausts the cells of the arrangement")
    work = (2 * sum(comb(n - 1, i) for i in range(d))) * sum(comb(n, k) for k in range(d))
    if work > MAX_DESCENT_WORK:
        raise TheoryError(f"descent_neuron would evaluate ≈ {work:.3g} cell faces for n={n}, d={d} (> "
                          f"MAX_DESCENT_WORK={MAX_DESCENT_WORK}); it is meant for a few points — subsample X")
    best = (1.0, np.zeros(d), 0.0)
    for S in pattern_matrix(X, tol):
        c = (S * r) @ X / n
        for k in range(d):
            for A in combinations(range(n), k):
                Q = np.eye(d) - (np.linalg.pinv(X[list(A)]) @ X[list(A)] if A else 0.0)
                for s in (1.0, -1.0):
                    v = -s * Q @ c
                    if np.linalg.norm(v) <= tol:
                        continue
                    v = v / np.linalg.norm(v)
                    z = X @ v
                    if np.any(z[S] < -1e-12) or np.any(z[~S] > 1e-12):
                        continue  # v is not in the closed cell
                    val = s * float(np.maximum(z, 0.0) @ r) / n
                    if val < best[2]:
                        best = (s, v, val)
    return best
