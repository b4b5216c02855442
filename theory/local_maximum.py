"""Exact local maximisers of F(u) = −sign·G_n(u) = (sign/n) Σ_k y_k relu(u·x_k) on the unit sphere (F2.2, F2.4),
reached from a nearby point (a projected-ascent endpoint) by an active-set walk over the faces of the arrangement of
the hyperplanes u·x_k = 0.

F is piecewise linear: on the face where the samples K lie on their hyperplanes (u·x_k = 0) and S is the strict
pattern of the others, F(u) = u·v_S with v_S = (sign/n) Σ_{k∈S} y_k x_k, whose maximiser on the face's sphere has the
closed form

  u_K(S) = P_K v_S / ‖P_K v_S‖,   P_K the projector onto span{x_k : k ∈ K}^⊥

(K = ∅: u = sign·ĝ_S, the fixed point of F2.4). The kink of sample k is a ridge of F (concave) iff sign·y_k < 0, a
valley (convex) otherwise. At u on face (K, S), x_K linearly independent, write T v_S = Σ_{k∈K} μ_k x_k + r with
T = I − uuᵀ; the t·x_k (k ∈ K) of a tangent t can be set independently, and

  F′(u; t) = t·r + Σ_{k∈K} [μ_k (t·x_k) + (sign·y_k/n) relu(t·x_k)],

so u is a strict local maximum of F on the sphere iff F(u) > 0, r = 0 (u = u_K(S)) and 0 < μ_k < −sign·y_k/n for
every k ∈ K (so only ridges hold a maximum; F decreases to second order along the face). `certify` decides this (with
a relative slack of `SLACK` on the multipliers), and `walk` reaches such a point from a start: it moves along the
great circle towards u_K(S) until the first hyperplane it meets, passes a valley (F's slope only grows), stops on a
ridge (adds it to K), and at a face's maximiser leaves every hyperplane of K whose multiplier is out of range, to the
side the multiplier points to. Every move increases F, so the walk ends at a local maximum at least as high as its
start (or reports it did not, after `max_moves`).
"""
from __future__ import annotations

import numpy as np

from . import validate
from .errors import TheoryError

__all__ = ["certify", "walk", "polish"]

SLACK = 1e-10  # relative slack of the multiplier test, in units of max_k |y_k|·‖x_k‖/n
NEAR = 1e-6  # a start within this angle (rad) of a ridge's hyperplane starts on it


def _basis(XK: np.ndarray) -> np.ndarray | None:
    """Orthonormal columns spanning the rows of XK (None if they are linearly dependent)."""
    if not len(XK):
        return np.zeros((XK.shape[1], 0))
    q, r = np.linalg.qr(XK.T)
    d = np.abs(np.diag(r))
    return q if d.min() > 1e-12 * max(d.max(), 1e-300) else None


def _onto(u, Q):
    u = u - Q @ (Q.T @ u)
    return u / np.linalg.norm(u)


def _multipliers(u, v, XK):
    """μ with T v = Σ μ_k x_k + r, and ‖r‖."""
    tv = v - (u @ v) * u
    if not len(XK):
        return np.zeros(0), float(np.linalg.norm(tv))
    mu = np.linalg.lstsq(XK.T, tv, rcond=None)[0]
    return mu, float(np.linalg.norm(tv - XK.T @ mu))


def _kink_indices(K, n: int) -> np.ndarray:
    try:
        K = np.asarray(K if len(K) else np.zeros(0, int))
    except TypeError as e:
        raise TheoryError(f"K must be a sequence of sample indices, got {type(K).__name__}") from e
    if K.ndim != 1 or (len(K) and (K.dtype.kind not in "iu" or K.min() < 0 or K.max() >= n
                                   or len(set(K.tolist())) < len(K))):
        raise TheoryError(f"K must list distinct sample indices in 0…{n - 1} (the samples on u's hyperplanes), got "
                          f"{K!r}")
    return K.astype(int)


def certify(u, X, y, sign: float, K=()) -> bool:
    """Whether unit u, with the samples K on their hyperplanes, is a strict local maximum of −sign·G_n on the sphere
    (the conditions of the module docstring; every sample outside K strictly off its hyperplane).

    Arguments:
        u: unit direction (d,).  X: inputs (n, d).  y: labels (n,).  sign: ±1.  K: indices of the kink samples.

    Returns:
        True iff the certificate holds.
    """
    X, y = validate.data(X, y)
    u = validate.nonzero("u", validate.array("u", u, shape=(X.shape[1],)))
    u = u / np.linalg.norm(u)
    sign = float(validate.choice("sign", validate.real("sign", sign), (1.0, -1.0)))
    K = _kink_indices(K, len(y))
    n = len(y)
    scale = SLACK * float(np.max(np.abs(y) * np.linalg.norm(X, axis=1))) / n
    z = X @ u
    off = np.setdiff1d(np.arange(n), K)
    xn = np.linalg.norm(X, axis=1)
    if np.any((np.abs(z[off]) <= 1e-12 * xn[off]) & (xn[off] > 0)) or np.any(np.abs(z[K]) > 1e-9 * xn[K]):
        return False
    v = (sign / n) * (np.where(np.isin(np.arange(n), K), 0.0, (z > 0) * y)) @ X
    if not u @ v > 0 or _basis(X[K]) is None:
        return False
    mu, r = _multipliers(u, v, X[K])
    bound = -sign * y[K] / n
    return bool(r <= 1e-9 * np.linalg.norm(v) and np.all(mu > -scale) and np.all(mu < bound + scale))


def walk(u, X, y, sign: float, *, max_moves: int = 10_000) -> tuple[np.ndarray, tuple, bool]:
    """From unit u, the active-set walk of the module docstring to a local maximum of −sign·G_n on the sphere.

    Arguments:
        u: start direction (d,), nonzero.  X: inputs (n, d).  y: labels (n,).  sign: +1 (minima of G_n, positive
        neurons) or −1 (maxima).  max_moves: moves before giving up.

    Returns:
        (u*, K, certified): the end point, the samples on its hyperplanes, and whether `certify` holds there.
    """
    X, y = validate.data(X, y)
    u = validate.nonzero("u", validate.array("u", u, shape=(X.shape[1],)))
    sign = float(validate.choice("sign", validate.real("sign", sign), (1.0, -1.0)))
    max_moves = validate.integer("max_moves", max_moves, minimum=1)
    n, d = X.shape
    xn = np.linalg.norm(X, axis=1)
    w = (sign / n) * y  # F(u) = Σ_k w_k relu(u·x_k)
    u = u / np.linalg.norm(u)
    z = X @ u
    K: list[int] = []
    near = np.flatnonzero((w < 0) & (np.abs(z) <= NEAR * xn) & (xn > 0))
    for k in near[np.argsort(np.abs(z[near]) / xn[near])]:
        if len(K) < d - 1 and _basis(X[K + [int(k)]]) is not None:
            K.append(int(k))
    S = z > 0
    scale = SLACK * float(np.max(np.abs(y) * xn)) / n
    for _ in range(max_moves):
        Q = _basis(X[K])
        if Q is None:
            break
        u = _onto(u, Q)
        inK = np.zeros(n, bool)
        inK[K] = True
        v = (np.where(inK, 0.0, S * w)) @ X
        pv = v - Q @ (Q.T @ v)
        if not np.linalg.norm(pv) > 0:
            break
        c = pv / np.linalg.norm(pv)
        if c @ u <= -1 + 1e-12:
            break  # F(u) < 0 at a vertex: no ascent direction on this face (not reached from F(u) > 0)
        if np.linalg.norm(c - u) <= 1e-13:
            mu, _ = _multipliers(u, v, X[K])
            excess = np.maximum(-scale - mu, mu - (-w[K] + scale))
            if not np.any(excess > 0):
                break
            j = int(np.argmax(excess))
            S[K[j]] = bool(mu[j] > -w[K[j]])  # leave to the active side iff μ_k is above its range
            del K[j]
            continue
        a, b = X @ u, X @ c
        a = np.where(S, np.maximum(a, 0.0), np.minimum(a, 0.0))
        cross = ~inK & (xn > 0) & np.where(S, b < 0, b > 0)
        t = np.full(n, np.inf)
        t[cross] = a[cross] / (a[cross] - b[cross])
        k = int(np.argmin(t))
        if not t[k] < 1:
            u = c
            continue
        u = u + t[k] * (c - u)
        u = u / np.linalg.norm(u)
        if w[k] < 0 and len(K) < d - 1:
            K.append(k)  # a ridge: stay on it
        else:
            S[k] = not S[k]  # a valley: pass through
    u = _onto(u, _basis(X[K])) if _basis(X[K]) is not None else u
    return u, tuple(sorted(K)), certify(u, X, y, sign, K)


def polish(U, X, y, sign: float, *, max_moves: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """`walk` from every row of U (e.g. the endpoints of `theory.extremal.ascent_extremal` with cos_merge = 1).

    Arguments:
        U: start directions (m, d).  X: inputs (n, d).  y: labels (n,).  sign: ±1.  max_moves: per walk.

    Returns:
        (the end points (m, d), whether each is a certified strict local maximum (m,)).
    """
    U = validate.array("U", U, ndim=2)
    X, y = validate.data(X, y)
    if U.shape[1] != X.shape[1]:
        raise TheoryError(f"U has {U.shape[1]} columns but X has d={X.shape[1]}; give U of shape (m, {X.shape[1]})")
    out = [walk(u, X, y, sign, max_moves=max_moves) for u in U]
    return np.array([o[0] for o in out]).reshape(U.shape), np.array([o[2] for o in out], bool)
