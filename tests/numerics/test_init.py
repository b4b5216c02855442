"""numerics.init: the "uniform-default" scheme (PyTorch's nn.Linear default, the reconstructed BF-ST App. A.1 init)."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import numerics
from numerics.init import SCHEMES


@given(st.integers(1, 40), st.integers(1, 7), st.sampled_from([None, 3]), st.integers(0, 10_000),
       st.sampled_from([1.0, 0.01, 2.5]))
def test_uniform_default_bounds_shape_seed_and_scale(m, d, k, seed, scale):
    W, a = numerics.init_params(m, d, scale=scale, scheme="uniform-default", k=k, seed=seed)
    assert W.shape == (m, d) and a.shape == ((m,) if k is None else (m, k)) and W.dtype == torch.float64
    assert bool((W.abs() <= scale / math.sqrt(d)).all()) and bool((a.abs() <= scale / math.sqrt(m)).all())
    W2, a2 = numerics.init_params(m, d, scale=scale, scheme="uniform-default", k=k, seed=seed)
    assert torch.equal(W, W2) and torch.equal(a, a2)
    W1, a1 = numerics.init_params(m, d, scale=1.0, scheme="uniform-default", k=k, seed=seed)
    torch.testing.assert_close(W, scale * W1, rtol=1e-14, atol=0)  # λ scales the λ = 1 (PyTorch) draw
    torch.testing.assert_close(a, scale * a1, rtol=1e-14, atol=0)


def test_uniform_default_is_the_pytorch_linear_law_and_batches_over_seeds():
    """Per-weight variance b²/3 with b = 1/√fan_in (nn.Linear: kaiming_uniform_(a=√5)); seed axis = loop of seeds."""
    m, d = 4000, 5
    W, a = numerics.init_params(m, d, scale=1.0, scheme="uniform-default", seed=3)
    torch.manual_seed(0)
    ref = torch.nn.Linear(d, m, bias=False).weight.detach().double()  # the reference layer: same shape, same law
    assert ref.abs().max().item() <= 1 / math.sqrt(d) and ref.var().item() == pytest.approx(1 / (3 * d), rel=0.03)
    assert (W.var().item() == pytest.approx(1 / (3 * d), rel=0.03)
            and a.var().item() == pytest.approx(1 / (3 * m), rel=0.1))
    assert abs(W.mean().item()) < 0.01 and W.abs().max().item() > 0.99 / math.sqrt(d)  # fills (−b, b)
    Ws, As = numerics.init_params(6, 2, scale=0.5, scheme="uniform-default", seed=7, n_seeds=3)
    for i in range(3):
        Wi, ai = numerics.init_params(6, 2, scale=0.5, scheme="uniform-default", seed=7 + i)
        assert torch.equal(Ws[i], Wi) and torch.equal(As[i], ai)
    assert "uniform-default" in SCHEMES
    with pytest.raises(numerics.InputError, match="scheme"):
        numerics.init_params(3, 2, scale=1.0, scheme="pytorch")
    with pytest.raises(numerics.InputError, match="scale"):
        numerics.init_params(3, 2, scale=0.0, scheme="uniform-default")
