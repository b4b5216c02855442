"""Shared racing runs (cached per process), per-neuron targets and the first loss drop."""
from __future__ import annotations

import functools

import numpy as np

import numerics
from numerics import data
from theory import racing

#: the built-in race data sets and their GD settings (E6 race run; digits 3 vs 8)
RACE_DATA = {"xor": dict(lr=0.1, steps=600), "digits": dict(lr=0.05, steps=1500)}


# --------------------------------------------------------------------------- shared runs (cached per process)
def train_race(ds, seed: int, lam: float, m: int = 300, lr: float = 0.05, steps: int = 1500, device: str = "cpu"):
    """Balanced init at scale λ, full-batch GD, checkpoints log-spaced and every 5 steps; the record keeps the
    engine's gradient and the outputs at every checkpoint (the checks never call the engine again on a state)."""
    W, a = numerics.init_params(m, ds.inputs.shape[1], scale=lam, seed=seed, device=device)
    tr = numerics.train(ds.inputs, ds.y, W, a, lr=lr, steps=steps, n_checkpoints=60, linear_every=5,
                        progress=False, desc=f"race {ds.name}", record=("grads", "outputs"))
    return ds, tr


def race_dataset(dataset: str, seed: int):
    """E6 race data (norms 1, 1.4, 1.8, 2.2; 50 points per cluster, d = 10, noise 0.05) or digits 3 vs 8 (n = 200)."""
    if dataset == "xor":
        return data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=seed)
    if dataset == "digits":
        return data.digits_binary((3, 8), 200, seed=seed)
    raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")


@functools.lru_cache(maxsize=16)
def _cached_run(dataset: str, seed: int, lam: float, m: int, lr: float, steps: int, device: str):
    return train_race(race_dataset(dataset, seed), seed, lam, m, lr, steps, device)


def race_run(dataset: str, seed: int, lam: float = 1e-3, m: int = 300, lr: float | None = None,
             steps: int | None = None, device: str = "cpu"):
    """The race run (cached): E6 norms (1, 1.4, 1.8, 2.2), η = 0.1, 600 steps; or digits 3 vs 8, η = 0.05, 1500 steps."""
    if dataset not in RACE_DATA:
        raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")
    cfg = RACE_DATA[dataset]
    return _cached_run(dataset, int(seed), float(lam), int(m), float(cfg["lr"] if lr is None else lr),
                       int(cfg["steps"] if steps is None else steps), device)


def design_run(d, seed: int, lam: float | None = None):
    """The run a racing design asks for: its user data set when given, else the built-in `d.data` (cached)."""
    lam = d.lam if lam is None else lam
    if d.dataset is not None:
        return train_race(d.dataset, seed, lam, d.m, d.lr, d.steps, d.device)
    return race_run(d.data, seed, lam, d.m, d.lr, d.steps, d.device)


def drop_index(loss) -> int:
    """First checkpoint whose loss is below 0.9 L(0): the first loss drop."""
    loss = np.asarray(loss)
    below = loss < 0.9 * loss[0]
    return int(np.argmax(below)) if below.any() else len(loss) - 1


def neuron_targets(X, residual, W, a, gates):
    """Per-neuron target sign(a_j) m̂_j and rate s_j, m_j = (1/n) Σ_k g_jk e_k x_k (F1.3)."""
    M = racing.gated_correlation(X, residual, gates)
    return racing.target_direction(M, np.sign(a), on_zero="zero")
