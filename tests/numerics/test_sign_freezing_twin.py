"""The sign-freezing rule has one home, `theory.network.sign_frozen` (F3.1, BF-P3); the engine's `numerics.record.
protected` is its numeric twin (no sympy in numerics). Both must give the same mask on any parameters."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numerics.record import protected
from theory.network import sign_frozen

finite = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)


@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_protected_is_the_numeric_twin_of_sign_frozen(m, d, data):
    W = data.draw(arrays(float, (m, d), elements=finite))
    a = data.draw(arrays(float, (m,), elements=finite))
    if data.draw(st.booleans()):               # exactly balanced neurons (the boundary case) in half the draws
        a = np.linalg.norm(W, axis=1) * np.where(a < 0, -1.0, 1.0)
    a2, w2 = a ** 2, (W ** 2).sum(-1)
    assert protected(W, a).tolist() == sign_frozen(a2 - w2, a2 + w2).tolist()
