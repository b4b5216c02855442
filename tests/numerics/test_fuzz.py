"""Fuzz the engine boundary: bad input to numerics.train raises numerics.InputError only."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from numerics.validate import InputError


@settings(max_examples=30)
@given(n=st.integers(1, 6), d=st.integers(1, 4), m=st.integers(1, 4),
       mutation=st.sampled_from(["y_len", "nan_X", "W_shape", "a_len", "lr", "scale", "horizon"]))
def test_fuzz_engine_boundary_raises_only_our_error(n, d, m, mutation):
    import torch

    X, y = np.ones((n, d)), np.ones(n)
    W, a = numerics.init_params(m, d, scale=1e-2)
    kw = dict(lr=0.1, steps=2)
    if mutation == "y_len":
        y = np.ones(n + 1)
    elif mutation == "nan_X":
        X[0, 0] = np.nan
    elif mutation == "W_shape":
        W = torch.ones(m, d + 1, dtype=torch.float64)
    elif mutation == "a_len":
        a = torch.ones(m + 1, dtype=torch.float64)
    elif mutation == "lr":
        kw["lr"] = -0.1
    elif mutation == "horizon":
        kw = dict(lr=0.1, horizon=-1.0)
    else:
        with pytest.raises(InputError, match="scale"):
            numerics.init_params(m, d, scale=0.0)
        return
    with pytest.raises(InputError):
        numerics.train(X, y, W, a, progress=False, **kw)
