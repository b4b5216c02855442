"""Hypothesis strategies of intrinsic instance families (public: users write their own property tests with them).

    from hypothesis import given
    from checks.strategies import relaxed_balanced_inits
    from theory import intrinsic

    @given(relaxed_balanced_inits())
    def test_metric_is_intrinsic(c):
        U, V = intrinsic.relaxed_balanced(c["n"], c["r"], c["m"], c["kappa"], seed=c["seed"])
        ...
"""
from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["linear_factorisations", "relaxed_balanced_inits"]


def _admissible(n: int, r: int, m: int, kappa: float) -> bool:
    """F3.11's hypotheses for the closed form A(z), B(z) of a relaxed-balanced init UᵀU − VᵀV = κI_r.

    κ > 0 needs r ≤ n (UᵀU = VᵀV + κI ≻ 0 has rank r) and P_U a function of z (r = n, or rank z = r, i.e. r ≤ m);
    κ < 0 likewise with (m, n) exchanged.
    """
    if kappa > 0:
        return r <= n and (r == n or r <= m)
    return r <= m and (r == m or r <= n)


@st.composite
def relaxed_balanced_inits(draw, max_dim: int = 3, max_kappa: float = 2.0, min_kappa: float = 0.1):
    """Draws a relaxed-balanced init inside the hypotheses of the intrinsic-metric theorem (F3.11, MPG-P10).

    Returns a dict ``{"n", "r", "m", "kappa", "seed"}``: output dimension n, inner width r, input dimension m
    (1 … `max_dim` each), a balance constant κ with min_kappa ≤ |κ| ≤ max_kappa of either sign, and a seed for
    `theory.intrinsic.relaxed_balanced(n, r, m, kappa, seed=seed)`. Every draw satisfies the closed form's
    hypotheses: κ > 0 ⇒ r ≤ n and (r = n or r ≤ m); κ < 0 ⇒ r ≤ m and (r = m or r ≤ n). Shrinks towards small
    shapes, κ = +min_kappa and seed 0.
    """
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_dim))
    r = draw(st.integers(1, max_dim))
    sign = draw(st.sampled_from((1.0, -1.0)))
    size = draw(st.floats(min_kappa, max_kappa, allow_nan=False, allow_infinity=False))
    kappa = round(sign * size, 6)
    if not _admissible(n, r, m, kappa):  # map an inadmissible shape into the hypotheses instead of filtering
        r = min(r, n if kappa > 0 else m)
        if not _admissible(n, r, m, kappa):
            r = min(n, m)
    seed = draw(st.integers(0, 2 ** 16))
    return {"n": n, "r": r, "m": m, "kappa": kappa, "seed": seed}


@st.composite
def linear_factorisations(draw, max_dim: int = 4, kappa: float = 0.8):
    """Draws a small two-layer linear architecture z = UVᵀ inside the hypotheses of F3.11's necessity (MPG-P8/P9).

    Returns a dict ``{"n", "r", "m", "kappa", "seed"}`` with 1 ≤ r ≤ min(n, m) ≤ max(n, m) ≤ `max_dim`, so that a
    Gaussian (U, V) (the generic draw) and `theory.intrinsic.relaxed_balanced(n, r, m, kappa, seed=seed)` (the
    relaxed-balanced draw, UᵀU − VᵀV = κI, κ > 0) both have full column rank almost surely. Shrinks towards
    n = r = m = 1 and seed 0.
    """
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_dim))
    r = draw(st.integers(1, min(n, m)))
    seed = draw(st.integers(0, 2 ** 16))
    return {"n": n, "r": r, "m": m, "kappa": kappa, "seed": seed}
