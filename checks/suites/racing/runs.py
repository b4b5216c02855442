"""Shared racing runs (cached per process), the own-data mixin, and per-neuron targets."""
from __future__ import annotations

import functools

import numpy as np

import numerics
from numerics import data
from theory import racing


# --------------------------------------------------------------------------- shared runs (cached per process)
def train_race(ds, seed: int, lam: float, m: int = 300, lr: float = 0.05, steps: int = 1500):
    """Balanced init at scale λ, full-batch GD, checkpoints log-spaced and every 5 steps."""
    W, a = numerics.init_params(m, ds.inputs.shape[1], scale=lam, seed=seed)
    return ds, numerics.train(ds.inputs, ds.y, W, a, lr=lr, steps=steps, n_checkpoints=60, linear_every=5,
                              progress=False, desc=f"race {ds.name}")


@functools.lru_cache(maxsize=8)
def race_run(dataset: str, seed: int, lam: float = 1e-3, m: int = 300):
    """The race run: E6 norms (1, 1.4, 1.8, 2.2), η = 0.1, 600 steps; or digits 3 vs 8, η = 0.05, 1500 steps."""
    if dataset == "xor":
        return train_race(data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=seed), seed, lam, m, 0.1, 600)
    if dataset == "digits":
        return train_race(data.digits_binary((3, 8), 200, seed=seed), seed, lam, m, 0.05, 1500)
    raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")


class OwnData:
    """Mixin: `check.with_data(ds, lam=…, m=…, lr=…, steps=…)` runs the check on a user's Dataset instead."""

    user: dict | None = None
    dataset = "xor"

    def with_data(self, ds, lam: float = 1e-3, m: int = 300, lr: float = 0.05, steps: int = 1500):
        self.user = dict(ds=ds, lam=lam, m=m, lr=lr, steps=steps)
        return self

    def run_for(self, ctx, seed: int, lam: float | None = None):
        if self.user is None:
            return race_run(self.dataset, seed, 1e-3 if lam is None else lam)
        u = self.user
        return train_race(u["ds"], seed, u["lam"] if lam is None else lam, u["m"], u["lr"], u["steps"])


def drop_index(loss) -> int:
    """First checkpoint whose loss is below 0.9 L(0): the first loss drop."""
    loss = np.asarray(loss)
    below = loss < 0.9 * loss[0]
    return int(np.argmax(below)) if below.any() else len(loss) - 1


def neuron_targets(X, residual, W, a, gates):
    """Per-neuron target sign(a_j) m̂_j and rate s_j, m_j = (1/n) Σ_k g_jk e_k x_k (F1.3)."""
    M = racing.gated_correlation(X, residual, gates)
    return racing.target_direction(M, np.sign(a))
