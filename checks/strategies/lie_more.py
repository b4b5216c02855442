"""Hypothesis strategies of the intrinsic-dimension family (public: users write their own property tests with them).

    from hypothesis import given
    from checks.strategies.lie_more import intrinsic_dim_architectures

    @given(intrinsic_dim_architectures())
    def test_rank(arch): ...   # arch = {"d_in", "hidden", "d_out", "bias", "n", "m", "r"}
"""
from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["intrinsic_dim_architectures"]


@st.composite
def intrinsic_dim_architectures(draw, max_width: int = 4, max_out: int = 3):
    """One ReLU path-lifting and one linear factorisation inside the hypotheses of the rank formulas (MPG-P13).

    Draws a dict of `conservation.intrinsic_dimension` design settings:
      ReLU: d_in ∈ [1, max_width], hidden H ∈ [1, max_width], d_out ∈ [1, max_out], bias ∈ {False, True} — every
        path-lifting satisfies rank ∂φ = D − H at generic θ (F3.8, gap 0);
      linear: n, m ∈ [1, max_width] and 1 ≤ r ≤ min(n, m), the hypothesis of rank ∂φ = r(n + m − r).
    At most D = max_width·(max_width + max_out + 1) parameters, so an autograd Jacobian costs milliseconds.
    Shrinks towards d_in = H = d_out = 1 without bias and n = m = r = 1.
    """
    n, m = draw(st.integers(1, max_width)), draw(st.integers(1, max_width))
    return {"d_in": draw(st.integers(1, max_width)), "hidden": draw(st.integers(1, max_width)),
            "d_out": draw(st.integers(1, max_out)), "bias": draw(st.booleans()),
            "n": n, "m": m, "r": draw(st.integers(1, min(n, m)))}
