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
    """E1 default instance (η_A = 0.1): x = (−0.95,1), (0,1), (0.95,1); y = (1, 0.05, 1).

    Returns:
        the Dataset (n = 3, d = 2), meta {"eta_A": 0.1}.
    """
    X = np.array([[-0.95, 1.0], [0.0, 1.0], [0.95, 1.0]])
    return Dataset("assumption3", X, np.array([1.0, 0.05, 1.0]), meta=dict(eta_A=0.1))


def assumption3_sample(eta_A: float, seed: int = 0) -> Dataset:
    """A random instance of Assumption 3 (BF-EA) with tolerance η_A ∈ (0, 1/6).

    Arguments:
        eta_A: the tolerance η_A, 0 < η_A < 1/6.
        seed: numpy generator seed.

    Returns:
        the Dataset (n = 3, d = 2), meta {"eta_A", "seed"}.
    """
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
    """E2 (BF-EA §5): x = (−0.75, −0.5, 0.125), y = (1.1, 0.1, 0.8), with hidden bias.

    Returns:
        the Dataset (n = 3, d = 1, bias=True).
    """
    return Dataset("1d-three-points", np.array([[-0.75], [-0.5], [0.125]]), np.array([1.1, 0.1, 0.8]), bias=True)


def stewart(n: int = 40, seed: int = 0) -> Dataset:
    """E3: x ~ U[−1, 1] labelled by linear interpolation through Stewart et al.'s knots; hidden bias.

    Arguments:
        n: number of samples.  seed: numpy generator seed.

    Returns:
        the Dataset (d = 1, bias=True), inputs sorted.
    """
    rng = np.random.default_rng(seed)
    xs = [-1, -0.7, -0.55, -0.4, 0, 0.5, 0.6, 0.7, 1]
    ys = [0, 0.7, 0.5, 1, 0, 1, 0.6, 0.7, 0]
    x = np.sort(rng.uniform(-1, 1, n))
    return Dataset("stewart", x[:, None], np.interp(x, xs, ys), bias=True, meta=dict(seed=seed))


def unit_ball(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """x = U^{1/d} g/‖g‖: uniform in the unit ball B(0, 1) ⊂ ℝ^d.

    Arguments:
        n, d: number of points and dimension.  rng: the numpy generator drawn from.

    Returns:
        (n, d) array.
    """
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True) * rng.uniform(0, 1, (n, 1)) ** (1.0 / d)


def linear_teacher(n: int, d: int = 5, sigma: float = 0.5, seed: int = 0, beta=None,
                   teacher_seed: int = 12345) -> Dataset:
    """E5: x ~ U(B(0,1)), y = β*·x + ξ, ξ ~ N(0, σ²), ‖β*‖ = 1 (β* drawn from `teacher_seed` unless given).

    Arguments:
        n, d: samples and dimension.  sigma: noise level σ.  seed: seed of inputs and noise.
        beta: the teacher β* (default: a unit vector from `teacher_seed`).

    Returns:
        the Dataset, meta {"beta", "sigma", "seed"}.
    """
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
    """E6: centres r₁e₁, −r₂e₁ (label +1) and r₃e₂, −r₄e₂ (label −1), Gaussian spread `noise`.

    Arguments:
        norms: (r₁, r₂, r₃, r₄).  n_per: points per cluster.  d: dimension ≥ 2.  noise: per-coordinate std.
        seed: numpy generator seed.

    Returns:
        the Dataset (n = 4·n_per, labels ±1), meta {"norms", "cluster" (index 0–3 per point), "seed"}.
    """
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
    """E8: Gaussian inputs and targets (conservation-law setups).

    Arguments:
        n, d: samples and dimension.  k: output dimension (None: scalar targets).  seed: numpy generator seed.

    Returns:
        the Dataset, X (n, d) and y (n,) or (n, k), all standard normal.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n if k is None else (n, k))
    return Dataset("gaussian", X, y, meta=dict(seed=seed))


def _standardise(X: np.ndarray) -> np.ndarray:
    """Per-feature standardisation with the subset's own statistics; constant features → 0."""
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)


def _binary_subsample(X, labels, classes, n: int, seed: int, name: str, **meta) -> Dataset:
    """A stratified subsample of n points of the two `classes`, labels +1 / −1, standardised (E7)."""
    if len(classes) != 2 or classes[0] == classes[1]:
        raise InputError(f"classes must be two different class labels, got {classes!r}")
    rng = np.random.default_rng(seed)
    picks = []
    for c, want in zip(classes, (n - n // 2, n // 2)):
        idx = np.flatnonzero(labels == c)
        if len(idx) < want:
            raise InputError(f"class {c} has {len(idx)} samples, fewer than the {want} requested; lower n")
        picks.append(rng.choice(idx, size=want, replace=False))
    idx = np.concatenate(picks)
    y = np.where(labels[idx] == classes[0], 1.0, -1.0)
    return Dataset(name, _standardise(np.asarray(X[idx], float)), y,
                   meta=dict(classes=tuple(classes), seed=seed, indices=idx, **meta))


def digits_binary(classes=(3, 8), n: int = 200, seed: int = 0) -> Dataset:
    """E7 stand-in: scikit-learn's bundled 8×8 digits (no download), two classes, n points, ±1 labels.

    Arguments:
        classes: the two digits (the first gets label +1).  n: points (stratified).  seed: subsample seed.

    Returns:
        the Dataset (d = 64, standardised), meta {"classes", "seed", "indices"}.
    """
    from sklearn.datasets import load_digits

    dig = load_digits()
    return _binary_subsample(dig.data, dig.target, classes, int(n), seed, "digits")


CIFAR_ENV = "CIFAR10_DIR"


def cifar10_binary(path=None, classes=(3, 5), n: int = 200, seed: int = 0) -> Dataset:
    """E7: a local CIFAR-10 copy in the `cifar-10-batches-py` layout (never downloads).

    `path` (or $CIFAR10_DIR) is the folder holding data_batch_1..5 (any present) with keys b'data'
    (uint8, N×3072, channel-major) and b'labels'. Pixels are scaled to [0, 1], then standardised.

    Arguments:
        path: the cifar-10-batches-py folder (default $CIFAR10_DIR).  classes: the two classes (first: +1).
        n: points (stratified).  seed: subsample seed.

    Returns:
        the Dataset (d = 3072), meta {"classes", "seed", "indices", "path"}.
    """
    import os
    import pickle
    from pathlib import Path

    root = path or os.environ.get(CIFAR_ENV)
    if root is None:
        raise InputError(f"path is missing: pass the cifar-10-batches-py folder or set ${CIFAR_ENV}; "
                         "this toolkit never downloads data")
    root = Path(root)
    files = sorted(root.glob("data_batch_*"))
    if not files:
        raise InputError(f"path={str(root)!r} holds no data_batch_* files; expected the cifar-10-batches-py layout")
    Xs, ls = [], []
    for f in files:
        with open(f, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        try:
            Xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3072))
            ls.append(np.asarray(batch[b"labels"]))
        except (KeyError, ValueError) as exc:
            raise InputError(f"{f} is not a CIFAR-10 batch (keys b'data' N×3072 and b'labels'): {exc}") from None
    X = np.concatenate(Xs).astype(float) / 255.0
    return _binary_subsample(X, np.concatenate(ls), classes, int(n), seed, "cifar10", path=str(root))


def cifar10_dir():
    """The folder named by $CIFAR10_DIR as a Path, or None when the variable is unset or empty (never downloads).

    Returns:
        pathlib.Path or None.
    """
    import os
    from pathlib import Path

    root = os.environ.get(CIFAR_ENV, "").strip()
    return Path(root) if root else None


def cifar10_from_env(classes=(3, 5), n: int = 200, seed: int = 0) -> Dataset | None:
    """E7 (Pinson Fig. 1: N = 200 CIFAR-10 samples) from the local copy at $CIFAR10_DIR, or None when it is unset.

    A set variable naming a folder without `data_batch_*` files raises `InputError` (it never falls back silently).

    Arguments:
        classes: the two CIFAR-10 classes (first: +1).  n: points (stratified).  seed: subsample seed.

    Returns:
        the Dataset (d = 3072) or None.
    """
    root = cifar10_dir()
    if root is None:
        return None
    if not root.is_dir():
        raise InputError(f"${CIFAR_ENV}={str(root)!r} is not a folder; point it at the cifar-10-batches-py folder "
                         "holding data_batch_1 … or unset it to use the digits stand-in")
    return cifar10_binary(root, classes, n, seed)
