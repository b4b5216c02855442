"""Data sets of experiments.md §1, generated from seeds (no downloads). Arrays are float64 numpy."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .validate import InputError, positive


@dataclass(frozen=True)
class Dataset:
    """Inputs X (n, d), targets y (n,) or (n, k); `bias` asks for the appended constant input x̃ = (x, 1)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    bias: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def inputs(self) -> np.ndarray:
        """X̃: X with a constant column appended when `bias` is set (every formula then uses x̃)."""
        return np.hstack([self.X, np.ones((len(self.X), 1))]) if self.bias else self.X

    @property
    def n(self) -> int:
        return len(self.X)


def assumption3_default() -> Dataset:
    """E1 default instance (η_A = 0.1): x = (−0.95,1), (0,1), (0.95,1); y = (1, 0.05, 1)."""
    X = np.array([[-0.95, 1.0], [0.0, 1.0], [0.95, 1.0]])
    return Dataset("assumption3", X, np.array([1.0, 0.05, 1.0]), meta=dict(eta_A=0.1))


def assumption3_sample(eta_A: float, seed: int = 0) -> Dataset:
    """A random instance of Assumption 3 (BF-EA) with tolerance η_A ∈ (0, 1/6)."""
    eta = positive("eta_A", eta_A)
    if eta >= 1 / 6:
        raise InputError(f"eta_A must be < 1/6 for Assumption 3, got {eta_A}")
    rng = np.random.default_rng(seed)
    u = lambda lo, hi: rng.uniform(lo, hi)  # noqa: E731
    X = np.array([
        [u(-1 + 1e-12, -1 + eta), u(1, 1 + eta)],
        [u(-eta, eta), u(1 - eta, 1 + eta)],
        [u(1 - eta, 1 - 1e-12), u(1, 1 + eta)],
    ])
    y = np.array([u(1, 1 + eta), u(1e-12, eta), u(1, 1 + eta)])
    return Dataset("assumption3", X, y, meta=dict(eta_A=eta, seed=seed))


def one_d_three_points() -> Dataset:
    """E2 (BF-EA §5): x = (−0.75, −0.5, 0.125), y = (1.1, 0.1, 0.8), with hidden bias."""
    return Dataset("1d-three-points", np.array([[-0.75], [-0.5], [0.125]]), np.array([1.1, 0.1, 0.8]), bias=True)


def stewart(n: int = 40, seed: int = 0) -> Dataset:
    """E3: x ~ U[−1, 1] labelled by linear interpolation through Stewart et al.'s knots; hidden bias."""
    rng = np.random.default_rng(seed)
    xs = [-1, -0.7, -0.55, -0.4, 0, 0.5, 0.6, 0.7, 1]
    ys = [0, 0.7, 0.5, 1, 0, 1, 0.6, 0.7, 0]
    x = np.sort(rng.uniform(-1, 1, n))
    return Dataset("stewart", x[:, None], np.interp(x, xs, ys), bias=True, meta=dict(seed=seed))


def unit_ball(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """x = U^{1/d} g/‖g‖: uniform in the unit ball B(0, 1) ⊂ ℝ^d."""
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True) * rng.uniform(0, 1, (n, 1)) ** (1.0 / d)


def linear_teacher(n: int, d: int = 5, sigma: float = 0.5, seed: int = 0, beta=None,
                   teacher_seed: int = 12345) -> Dataset:
    """E5: x ~ U(B(0,1)), y = β*·x + ξ, ξ ~ N(0, σ²), ‖β*‖ = 1 (β* drawn from `teacher_seed` unless given)."""
    if int(n) < 1 or int(d) < 1:
        raise InputError(f"n and d must be ≥ 1, got n={n}, d={d}")
    beta = np.asarray(beta, dtype=float) if beta is not None else _unit_vector(d, teacher_seed)
    rng = np.random.default_rng(seed)
    X = unit_ball(n, d, rng)
    y = X @ beta + sigma * rng.standard_normal(n)
    return Dataset("linear-teacher", X, y, meta=dict(beta=beta, sigma=sigma, seed=seed))


def _unit_vector(d: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(d)
    return v / np.linalg.norm(v)


def xor_clusters(norms=(1.0, 1.4, 1.8, 2.2), n_per: int = 50, d: int = 10, noise: float = 0.05,
                 seed: int = 0) -> Dataset:
    """E6: centres r₁e₁, −r₂e₁ (label +1) and r₃e₂, −r₄e₂ (label −1), Gaussian spread `noise`."""
    if len(norms) != 4 or d < 2:
        raise InputError("norms must have 4 entries and d must be ≥ 2")
    rng = np.random.default_rng(seed)
    e = np.eye(d)
    centres = [norms[0] * e[0], -norms[1] * e[0], norms[2] * e[1], -norms[3] * e[1]]
    labels = [1.0, 1.0, -1.0, -1.0]
    X = np.vstack([c + noise * rng.standard_normal((n_per, d)) for c in centres])
    y = np.repeat(labels, n_per)
    cluster = np.repeat(np.arange(4), n_per)
    return Dataset("xor-clusters", X, y, meta=dict(norms=tuple(norms), cluster=cluster, seed=seed))


def gaussian_regression(n: int = 20, d: int = 5, k: int | None = None, seed: int = 0) -> Dataset:
    """E8: Gaussian inputs and targets (conservation-law setups)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n if k is None else (n, k))
    return Dataset("gaussian", X, y, meta=dict(seed=seed))
