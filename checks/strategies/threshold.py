"""Hypothesis strategies of threshold instance families (public: users write their own property tests with them)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

__all__: list[str] = ["teachers"]


def teachers(min_d: int = 2, max_d: int = 5, min_norm: float = 1.0, max_norm: float = 2.0):
    """Linear teachers β* of E5 data (x ~ U(B(0,1)) ⊂ ℝ^d, y = β*·x + ξ): dicts {"d": d, "teacher": β*}.

    Draws the dimension d ∈ [min_d, max_d], a direction (a standard Gaussian vector made unit, rejecting near-zero
    draws) and a norm ‖β*‖ ∈ [min_norm, max_norm]; β* is a tuple of d floats. Every draw satisfies the hypotheses of
    F2.8: symmetric inputs with ‖x‖ ≤ 1, a linear teacher with Σβ* ≠ 0 (Σ = I/(d + 2)), centred independent noise,
    so the population extremal vectors are ±Σβ*/‖Σβ*‖ at rate ½‖Σβ*‖. The default norm range keeps the signal
    ‖Σβ*‖ ≥ 1/7 (the E5 teacher's, d = 5), so a fixed n resolves the direction as well as for E5.
    """
    if not (1 <= min_d <= max_d) or not (0 < min_norm <= max_norm):
        raise ValueError(f"need 1 ≤ min_d ≤ max_d and 0 < min_norm ≤ max_norm, got {min_d, max_d, min_norm, max_norm}")

    @st.composite
    def teacher(draw):
        d = draw(st.integers(min_d, max_d), label="d")
        g = np.array(draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=d, max_size=d)
                          .filter(lambda v: np.linalg.norm(v) > 0.1), label="direction"))
        norm = draw(st.floats(min_norm, max_norm), label="norm")
        return {"d": d, "teacher": tuple(float(v) for v in norm * g / np.linalg.norm(g))}

    return teacher()
