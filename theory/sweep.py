"""The arc sweeps behind `theory.arrangement` (internal): distinct hyperplanes, one sweep of a batch of great circles
(d = 3) or of the circle (d = 2) with running sums, screening bits and hashes, the cost model and the refusal."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from . import validate
from .errors import TheoryError

__all__ = ["EnumerationCost", "SECONDS_PER_VISIT"]

SECONDS_PER_VISIT = {1: 1e-6, 2: 8e-7, 3: 4e-7}  # 2-core machine, numpy, one thread; d = 2 re-measured with the
# kink screen (2026-12-02, quiet: 6.8e-7 … 1.1e-6 at n = 2e4 … 1e6), d = 3 measured 2.2–2.5e-7 quiet, 3.8e-7 loaded
_BYTES_PER_VISIT = 500
_FILTER_BITS = 64
_TWO_PI = 2.0 * np.pi
_PARALLEL = 1e-11  # hyperplanes whose normals are closer than this (after grouping at 1e-10) count as one
_log = logging.getLogger("theory.arrangement")


@dataclass(frozen=True)
class EnumerationCost:
    """The cost of sweeping an arrangement: its patterns, arc visits, estimated seconds and working memory."""

    n: int
    d: int
    hyperplanes: int
    patterns: int
    visits: int
    seconds: float
    memory_bytes: int

    def __post_init__(self):
        for name in ("n", "d", "hyperplanes", "patterns", "visits", "memory_bytes"):
            object.__setattr__(self, name, validate.integer(name, getattr(self, name), minimum=0))
        object.__setattr__(self, "seconds", validate.positive("seconds", self.seconds, allow_zero=True))

    def describe(self) -> str:
        """One line: n, d, patterns ≈ N(n, d), visits, time and memory."""
        return (f"n={self.n}, d={self.d}: {self.patterns:.3g} patterns ≈ N(n, d) = 2 Σ_(k<d) C(n−1, k) "
                f"({self.hyperplanes} distinct hyperplanes, {self.visits:.3g} arc visits), about "
                f"{self.seconds:.3g} s and {self.memory_bytes / 2 ** 20:.0f} MiB")


def _n_cells(h: int, d: int) -> int:
    return 2 * sum(math.comb(h - 1, i) for i in range(min(d, h))) if h > 0 else 1


def _cost(n: int, d: int, h: int, chunk: int, seconds_per_visit: float | None = None) -> EnumerationCost:
    visits = {1: 2, 2: 2 * h, 3: 4 * h * max(h - 1, 1)}[d]
    per = SECONDS_PER_VISIT[d] if seconds_per_visit is None else seconds_per_visit
    per_circle = 2 * max(h - 1, 1) if d == 3 else max(visits, 1)
    mem = _BYTES_PER_VISIT * min(visits, max(chunk, per_circle)) + 64 * n
    return EnumerationCost(n, d, h, _n_cells(h, d), visits, per * visits, mem)


class _Hyperplanes:
    """The distinct hyperplanes of X: unit normals (H, d); sample k lies on `of[k]` with sign `sigma[k]`
    (x_k·w > 0 ⇔ sigma_k·normal·w > 0); zero rows have of = −1."""

    def __init__(self, X: np.ndarray):
        norms = np.linalg.norm(X, axis=1)
        live = np.flatnonzero(norms > 0)
        U = X[live] / norms[live, None]
        self.of, self.sigma = np.full(len(X), -1), np.zeros(len(X), int)
        if X.shape[1] < 3:  # lines through 0 cross the circle cleanly: duplicates only make empty arcs
            self.normals, self.of[live], self.sigma[live] = U, np.arange(len(live)), 1
            return
        probe = np.array([0.5773502691896258, 0.6123724356957945, 0.5400617248673217])
        sig = np.where(U @ probe >= 0, 1, -1)
        key = np.ascontiguousarray(np.round(U * sig[:, None] * 1e10) + 0.0)
        _, first, inv = np.unique(key.view(np.dtype((np.void, 24))).ravel(), return_index=True, return_inverse=True)
        self.normals = U[first] * sig[first, None]
        self.of[live], self.sigma[live] = inv.ravel(), sig

    def weights(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A, B): Σ V_k over the members of each hyperplane active on its + side (A) and on its − side (B)."""
        H, d = len(self.normals), V.shape[1]
        A, B = np.zeros((H, d)), np.zeros((H, d))
        live = self.of >= 0
        np.add.at(A, self.of[live & (self.sigma > 0)], V[live & (self.sigma > 0)])
        np.add.at(B, self.of[live & (self.sigma < 0)], V[live & (self.sigma < 0)])
        return A, B

    def samples(self, sides: np.ndarray) -> np.ndarray:
        """Sample patterns (m, n) from hyperplane sides (m, H) (True: normal·w > 0)."""
        live = self.of >= 0
        P = np.zeros((len(sides), len(self.of)), bool)
        P[:, live] = sides[:, self.of[live]] == (self.sigma[live] > 0)
        return P


# --------------------------------------------------------------------------- the sweep of one batch of circles
def _basis(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal (e1, e2) spanning n^⊥ for each unit row of n (c, 3)."""
    axis = np.eye(3)[np.argmin(np.abs(n), axis=1)]
    e1 = np.cross(n, axis)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(n, e1)


@dataclass
class _Sweep:
    """Arc visits of a batch of c circles, E arcs each (arrays (c, E, ·)): arc start `lo`, length `gap`, the running
    sum g (own circle's hyperplane left out), the screening bits and (on request) a two-word hash of the sides."""

    E1: np.ndarray
    E2: np.ndarray
    lo: np.ndarray
    gap: np.ndarray
    g: np.ndarray | None
    bits: np.ndarray | None
    hash: np.ndarray | None
    usable: np.ndarray  # (c, E): arcs longer than tol on circles without an (unmerged) parallel partner
    ev: np.ndarray | None = None  # (c, E): the event opening each arc, h (enter hyperplane h) or H + h (leave it)

    def points(self, mask) -> np.ndarray:
        """Midpoints (m, d) of the arcs selected by the bool mask (c, E)."""
        r, q = np.nonzero(mask)
        mid = self.lo[r, q] + self.gap[r, q] / 2
        return np.cos(mid)[:, None] * self.E1[r] + np.sin(mid)[:, None] * self.E2[r]


def _sweep(arr: "_Arrangement", circles, E1, E2, want_g=True, want_hash=False) -> _Sweep:
    """Sweep the circles spanned by (E1, E2) (c, d); `circles` (c,) the hyperplane each lies on, or −1 (d = 2)."""
    N, H, c = arr.N, arr.H, len(E1)
    a, b = E1 @ N.T, E2 @ N.T  # normal_h · p(θ) = a cos θ + b sin θ
    own = circles >= 0
    others = np.ones((c, H), bool)
    others[np.flatnonzero(own), circles[own]] = False
    K = int(others[0].sum())
    ids = np.broadcast_to(np.arange(H), (c, H))[others].reshape(c, K)
    a, b = a[others].reshape(c, K), b[others].reshape(c, K)
    phi = np.arctan2(b, a)
    lone = np.min(a * a + b * b, axis=1, initial=np.inf) > _PARALLEL ** 2  # a partner along would make φ noise
    t = np.concatenate([phi - np.pi / 2, phi + np.pi / 2], axis=1)
    t %= _TWO_PI
    order = np.argsort(t, axis=1)
    t = np.take_along_axis(t, order, axis=1)
    gap = np.empty_like(t)
    np.subtract(t[:, 1:], t[:, :-1], out=gap[:, :-1])
    gap[:, -1] = t[:, 0] + _TWO_PI - t[:, -1]
    start = np.argmax(gap, axis=1)  # the longest arc: its midpoint is safely off every hyperplane
    E = 2 * K
    roll = (start[:, None] + 1 + np.arange(E)) % E
    order, t, gap = (np.take_along_axis(v, roll, axis=1) for v in (order, t, gap))
    ev = np.take_along_axis(np.concatenate([ids, ids + H], axis=1), order, axis=1)  # h: enter h, H + h: leave h
    m0 = t[:, -1] + gap[:, -1] / 2
    side0 = ((np.cos(m0)[:, None] * E1 + np.sin(m0)[:, None] * E2) @ N.T > 0) & others
    g = bits = hsh = None
    if want_g:
        g = np.cumsum(arr.Dpm[ev], axis=1)
        g += (arr.B_sum + side0 @ arr.D)[:, None, :]
        bits = np.bitwise_xor.accumulate(arr.fbits2[ev], axis=1)
        bits ^= np.bitwise_or.reduce(np.where(side0, arr.fbits, np.uint64(0)), axis=1)[:, None]
    if want_hash:
        hsh = np.cumsum(arr.Rpm[ev], axis=1, dtype=np.uint64)
        hsh += np.where(side0[..., None], arr.R, np.uint64(0)).sum(axis=1, dtype=np.uint64)[:, None, :]
    return _Sweep(E1, E2, t, gap, g, bits, hsh, (gap > arr.tol) & lone[:, None], ev)


class _Arrangement:
    """The sweep machinery of one input matrix X (d ≤ 3) with per-sample vectors V (n, d) for g_S = Σ_{k∈S} V_k."""

    def __init__(self, X, V=None, tol: float = 1e-12, seed: int = 0):
        self.X, self.n, self.d = X, *X.shape
        self.tol = tol
        self.hp = _Hyperplanes(X)
        self.N = self.hp.normals
        self.H = len(self.N)
        V = np.zeros_like(X) if V is None else V
        A, B = self.hp.weights(V)
        self.A, self.D, self.B_sum = A, A - B, B.sum(axis=0)
        rng = np.random.default_rng(seed)
        self.R = rng.integers(0, 2 ** 63, (self.H, 2), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.F = np.sort(rng.choice(self.H, min(_FILTER_BITS, self.H), replace=False)) if self.H else np.zeros(0, int)
        self.fbits = np.zeros(self.H, np.uint64)
        self.fbits[self.F] = np.uint64(1) << np.arange(len(self.F), dtype=np.uint64)
        self.Dpm, self.fbits2 = np.concatenate([self.D, -self.D]), np.concatenate([self.fbits, self.fbits])
        self.Rpm = np.concatenate([self.R, np.uint64(0) - self.R])

    def cost(self, chunk, per=None) -> EnumerationCost:
        return _cost(self.n, self.d, self.H, chunk, per)

    def batches(self, chunk: int, budget_s: float, alternative: str, **want):
        """Yield (circles, Sweep) batch by batch; refuse before starting (a priori estimate) and after the
        first batch (measured rate) when the estimate exceeds `budget_s`."""
        est = self.cost(chunk)
        _refuse(est, budget_s, alternative, "estimated")
        _log.info("exact enumeration: %s (budget_s=%g)", est.describe(), budget_s)
        if self.d == 1 or self.H <= 1 and self.d == 3 or self.H == 0:
            return  # handled without sweeping (see _small_cells)
        if self.d == 2:
            E1, E2 = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
            yield np.array([-1]), _sweep(self, np.array([-1]), E1, E2, **want)
            return
        per_circle = 2 * (self.H - 1)
        c = max(1, chunk // (2 * per_circle))
        t1, seen, decided = None, 0, False  # the first batch warms up; the rate is timed over the next ones
        for k, lo in enumerate(range(0, self.H, c)):
            I = np.arange(lo, min(lo + c, self.H))
            E1, E2 = _basis(self.N[I])
            yield I, _sweep(self, I, E1, E2, **want)
            if decided or k == 0:
                t1 = time.perf_counter()
                continue
            seen += len(I) * 2 * per_circle
            if time.perf_counter() - t1 >= 0.5 or k == 8 or lo + c >= self.H:
                decided = True
                rate = (time.perf_counter() - t1) / seen
                _refuse(self.cost(chunk, rate), budget_s, alternative, "measured on the first chunks")

    def sides_at(self, pts, circles, side) -> tuple[np.ndarray, np.ndarray]:
        """Hyperplane sides (m, H) at points on circles (side of the own circle given); `ok` where no other
        hyperplane passes within tol of the point (a degenerate arc)."""
        Z = pts @ self.N.T
        sides = Z > 0
        near = np.abs(Z) <= self.tol
        own = circles >= 0
        r = np.flatnonzero(own)
        sides[r, circles[own]] = side[own]
        near[r, circles[own]] = False
        return sides, ~near.any(axis=1)

    def small_cells(self) -> np.ndarray:
        """Hyperplane sides (m, H) of every cell when no sweep is needed (d = 1, or at most one hyperplane)."""
        if self.H == 0:
            return np.zeros((1, 0), bool)
        if self.d == 1:  # w = +1 and w = −1
            return np.stack([self.N[:, 0] > 0, self.N[:, 0] < 0])
        return np.array([[True], [False]]) if self.H == 1 else np.zeros((0, self.H), bool)


def _refuse(est: EnumerationCost, budget_s: float, alternative: str, how: str) -> None:
    if est.seconds > budget_s:
        raise TheoryError(f"exact enumeration refused: {est.describe()} ({how}), over budget_s={budget_s:g} s. "
                          f"Raise budget_s (or the module default DEFAULT_BUDGET_S) to run it anyway, or "
                          f"{alternative}")
