"""The small problems on which the kernel's GD and SGD steps are held to the torch loop (shared by test_kernel and
test_kernel_sgd), and the record comparison both make."""
from __future__ import annotations

import numpy as np
import torch

import numerics
from numerics import data


def problem(kw: dict, m: int):
    """(X, y, W, a, rest of kw) for one parametrised case: kw's `k` (outputs), `bias`, `seeds` (a seed axis) and a
    logistic `loss` shape the data and init (n = 25, d = 3, width m); the rest goes to `numerics.train`."""
    kw = dict(kw)
    ds = data.gaussian_regression(n=25, d=3, k=kw.pop("k", None), seed=1)
    X, y = torch.tensor(ds.X), torch.tensor(ds.y)
    if kw.pop("bias", False):
        X = numerics.with_bias(X)
    if kw.get("loss") == "logistic":
        y = torch.where(y >= 0, 1.0, -1.0)
    seeds = kw.pop("seeds", None)
    W, a = numerics.init_params(m, X.shape[1], scale=0.5, scheme="gaussian", seed=2, k=2 if y.dim() == 2 else None,
                                **({"n_seeds": seeds} if seeds else {}))
    return X, y, W, a, kw


def assert_same_records(k, t) -> None:
    """The kernel run `k` records what the torch run `t` does: loss (1e-11 relative), gating patterns, and any
    recorded gradients and outputs (1e-11)."""
    np.testing.assert_allclose(k.loss, t.loss, rtol=1e-11, atol=1e-15)
    assert np.array_equal(k.patterns, t.patterns)
    for name in ("grad_W", "grad_a", "outputs"):
        if getattr(t, name) is not None:
            np.testing.assert_allclose(getattr(k, name), getattr(t, name), rtol=0, atol=1e-11)
