"""Hypothesis strategies of conservation instance families (public: users write their own property tests with them).

    from hypothesis import given
    from checks.strategies import small_architectures, linear_shapes

    @given(small_architectures())
    def test_count(arch): ...            # arch = {"kind": "linear", "n": 2, "m": 3, "r": 2} or a ReLU one

`intrinsic_dim_architectures()` draws the intrinsic-dimension family (MPG-P13): arch = {"d_in", "hidden", "d_out",
"bias", "n", "m", "r"}.
"""
from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["intrinsic_dim_architectures", "linear_shapes", "small_architectures"]


@st.composite
def _linear_architecture(draw, max_width: int):
    n, m = draw(st.integers(1, max_width)), draw(st.integers(1, max_width))
    return {"kind": "linear", "n": n, "m": m, "r": draw(st.integers(1, n + m))}


def small_architectures(max_width: int = 3, max_out: int = 2):
    """Small two-layer architectures inside the hypotheses of the law-count rules (F3.6, F3.8).

    Draws, as dicts of `conservation.law_count` design settings, either a linear net z = UVᵀ
    ({"kind": "linear", "n", "m", "r"}: output n, input m ∈ [1, max_width], hidden r ∈ [1, n + m], so that (U;V)
    has full rank generically and the count rule r(r+1)/2 applies; the gap rule r(r−1)/2 applies where
    r ≤ min(n, m)), or a ReLU path-lifting ({"kind": "relu", "d_in", "r", "d_out", "bias"}: d_in, r ∈ [1, max_width],
    d_out ∈ [1, max_out], with or without bias; every such one satisfies the one-law-per-neuron rule and gap 0).
    Each draws at most D = 2·max_width² parameters, small enough for `theory.lie.count_laws` in well under a second.
    Shrinks towards the linear net n = m = r = 1.
    """
    relu = st.fixed_dictionaries({"kind": st.just("relu"), "d_in": st.integers(1, max_width),
                                  "r": st.integers(1, max_width), "d_out": st.integers(1, max_out),
                                  "bias": st.booleans()})
    return st.one_of(_linear_architecture(max_width), relu)


def linear_shapes(max_size: int = 4):
    """Shapes of a linear net z = UVᵀ: {"n_out", "m_in", "r"} each in [1, max_size].

    Any shape satisfies the exact GD-step identity F3.2 (linear): no rank or width condition is needed, so r may
    exceed n_out or m_in. Shrinks towards n_out = m_in = r = 1.
    """
    return st.fixed_dictionaries({"n_out": st.integers(1, max_size), "m_in": st.integers(1, max_size),
                                  "r": st.integers(1, max_size)})


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
