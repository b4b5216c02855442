"""Hypothesis strategies of racing instance families (public: users write their own property tests with them).

    fixed_gatings()   any small data set, width, init scale and training time: a random fixed gating region
                      (racing.fixed_gating, PIN-2/PIN-5)
    cone_problems()   any cone problem: positive data and weights, tiny init (racing.angle_norm_laws, PIN-3/PIN-4)

Each draws a dict of design changes (settings of the check's design, possibly `dataset=`), so

    from hypothesis import given
    from checks.strategies import cone_problems

    @given(cone_problems())
    def test_my_claim(changes): ...
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["cone_problems", "fixed_gatings"]


@st.composite
def _small_data(draw, max_n: int, max_d: int):
    from numerics import Dataset

    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    elems = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)
    X = draw(hnp.arrays(np.float64, (n, d), elements=elems))
    y = draw(hnp.arrays(np.float64, (n,), elements=elems))
    return Dataset(f"drawn {n}x{d}", X, y, bias=draw(st.booleans()))


def fixed_gatings(max_n: int = 12, max_d: int = 4, max_m: int = 6, max_steps: int = 200):
    """Design changes for `racing.fixed_gating`: a small data set and a state with a random gating pattern.

    Draws a data set X ∈ [−3, 3]^{n×d} (2 ≤ n ≤ max_n, 1 ≤ d ≤ max_d), scalar targets y ∈ [−3, 3]^n, with or
    without the constant input (bias), and a balanced init of width 1 ≤ m ≤ max_m at scale λ ∈ [1e-3, 1] from a
    drawn seed, trained by GD (η ∈ [0.01, 0.1], 1 ≤ steps ≤ max_steps). The state judged (half-way to the first
    loss drop, and t = 0) fixes one gating pattern g_jk = 1[w_j·x_k > 0], so the draws cover random gating regions
    of parameter space, dead and fully active neurons included. Hypotheses satisfied: PIN-2 holds for any data,
    state and gating (only the pattern of the state is frozen); PIN-5's premise (balance) holds exactly at t = 0
    for the balanced init at any λ. Targets are scalar, as PIN-5 states.

    Returns:
        a strategy of dicts {dataset, m, lam, lr, steps, seed}.
    """
    return st.fixed_dictionaries(dict(
        dataset=_small_data(max_n, max_d), m=st.integers(1, max_m),
        lam=st.sampled_from([1e-3, 1e-2, 0.1, 1.0]), lr=st.sampled_from([0.01, 0.05, 0.1]),
        steps=st.integers(1, max_steps), seed=st.integers(0, 10 ** 6)))


def cone_problems(max_n: int = 60, max_d: int = 8, max_m: int = 30):
    """Design changes for `racing.angle_norm_laws`: the parameters of `cone_problem`.

    Draws 2 ≤ d ≤ max_d, d ≤ n ≤ max_n samples, width 1 ≤ m ≤ max_m, init scale λ log-uniform in [1e-10, 1e-6]
    and a seed. `cone_problem` then makes positive inputs x_k = |g_k|, targets y_k ∈ [1, 1.5] and positive balanced
    weights, so every w_j·x_k stays > 0 along the flow (gating fixed) and, with λ ≤ 1e-6 and the horizon s·T = 3,
    p_j stays ≤ 1e-9: the residual stays y to ~1e-8 relative. These are the hypotheses of F1.4–F1.5 (PIN-3/PIN-4);
    d ≥ 2 so that the angles are not all 0.

    Returns:
        a strategy of dicts {n, d, m, lam, seed}.
    """
    return st.integers(2, max_d).flatmap(lambda d: st.fixed_dictionaries(dict(
        d=st.just(d), n=st.integers(d, max_n), m=st.integers(1, max_m),
        lam=st.floats(-10.0, -6.0).map(lambda e: float(10.0 ** e)), seed=st.integers(0, 10 ** 6))))
