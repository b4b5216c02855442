"""Cells of the central hyperplane arrangement {w : x_k·w = 0} in ℝ^d, d ≤ 3, by incremental sweeps (F2.4, F2.6).

A cell is an activation pattern S (S_k = 1[x_k·w > 0]); there are at most N(n, d) = 2 Σ_{i<d} C(n−1, i) of them.
Neighbouring cells differ in one hyperplane, so a cellwise sum g_S = Σ_{k∈S} V_k is updated in O(d) per cell:

  d = 2: the 2H critical angles of the H distinct lines are sorted and swept once around the circle, O(n log n);
         every arc is a cell, and whether ±ĝ_S lies in its own arc is an O(1) angle test.
  d = 3: every great circle x_h^⊥ is swept in the same way; each of its arcs is an edge shared by two cells (the two
         sides of x_h), so every cell is met once per edge (≈ 4 times on average, 4H(H−1) visits in all). Whether
         ±ĝ_S lies in its own cell is screened against x_h and a fixed set of 64 hyperplanes, whose side bits are
         carried along the sweep in one uint64; the few that pass are rebuilt and decided exactly by the caller.

The same sweep screens the kink candidates of the extremal-vector enumeration (`theory._kinks.Screen`: vertices, and
for d = 3 edge points, where G_n may have a local extremum) at O(1) per visit. Parallel samples share a hyperplane
(grouped first); zero rows lie on none and are never active. The work goes by
chunks of `chunk` arc visits, so memory is bounded by the chunk size, not by the pattern count. Before starting, a
sweep states its cost (`enumeration_cost`) and refuses above its time budget, with the estimate in the message.
"""
from __future__ import annotations

import numpy as np

from . import _kinks, validate
from .errors import TheoryError
from .sweep import SECONDS_PER_VISIT, EnumerationCost, _Arrangement, _cost, _Hyperplanes, _refuse, _TWO_PI

__all__ = ["EnumerationCost", "enumeration_cost", "count_patterns", "pattern_matrix", "activation_patterns",
           "fixed_point_cells", "MAX_TOL", "SECONDS_PER_VISIT", "DEFAULT_BUDGET_S", "DEFAULT_CHUNK",
           "PATTERN_MATRIX_MAX_BYTES"]

DEFAULT_BUDGET_S = 120.0  # refuse an exact enumeration estimated to take longer (seconds)
DEFAULT_CHUNK = 1 << 17  # arc visits per chunk: the working memory is ≈ 0.5 kB per visit
PATTERN_MATRIX_MAX_BYTES = 1 << 30  # pattern_matrix returns N(n, d)·n bytes: refuse above this
MAX_TOL = 1e-6  # the largest zero threshold accepted


def enumeration_cost(X, *, chunk: int = DEFAULT_CHUNK) -> EnumerationCost:
    """The cost of an exact sweep of X's arrangement, stated before starting it.

    Arguments:
        X: inputs (n, d), d ≤ 3, finite.  chunk: arc visits per chunk (bounds the working memory).

    Returns:
        EnumerationCost(n, d, hyperplanes H, patterns N(H, d), visits, seconds, memory_bytes), the time from the
        per-visit rate `SECONDS_PER_VISIT[d]` measured on this project's reference machine.
    """
    X = _inputs(X)
    chunk = validate.integer("chunk", chunk, minimum=1)
    return _cost(*X.shape, len(_Hyperplanes(X).normals), chunk)


# --------------------------------------------------------------------------- input and hyperplanes
def _inputs(X) -> np.ndarray:
    X = validate.array("X", X, ndim=2)
    if not 1 <= X.shape[1] <= 3:
        raise TheoryError(f"X has d={X.shape[1]} columns; the exact arrangement sweep needs 1 ≤ d ≤ 3 "
                          "(use theory.extremal.ascent_extremal above d = 3)")
    return X


_PATTERN_ALTERNATIVE = ("use pattern_bound(n, d) (the general-position count), or sample activation patterns at "
                        "random directions instead (a lower bound).")


def _tol(tol) -> float:
    tol = validate.positive("tol", tol)
    if tol > MAX_TOL:
        raise TheoryError(f"tol={tol:g} is too large: it is a numerical zero (arcs shorter than tol radians are a "
                          f"vertex); use 0 < tol ≤ {MAX_TOL:g}, e.g. the default 1e-12")
    return tol


def _budget(budget_s) -> float:
    return DEFAULT_BUDGET_S if budget_s is None else validate.positive("budget_s", budget_s)


# --------------------------------------------------------------------------- public enumerations
def _distinct(keys, *rest):
    """Rows of keys (m, 2) uint64 first seen, with the matching rows of `rest` (sorted on the first word; a full
    lexicographic sort only if two different keys share it)."""
    order = np.argsort(keys[:, 0], kind="stable")
    k = keys[order]
    new = np.ones(len(k), bool)
    new[1:] = k[1:, 0] != k[:-1, 0]
    head = np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))
    if np.any(k[:, 1] != k[head, 1]):  # a first-word collision (probability ≈ m²/2⁶⁵)
        order = np.lexsort((keys[:, 1], keys[:, 0]))
        k = keys[order]
        new[1:] = (k[1:] != k[:-1]).any(axis=1)
    idx = order[new]
    return (keys[idx], *(r[idx] for r in rest))


def _hash_visits(arr: _Arrangement, chunk: int, budget: float, alternative: str, reps: bool):
    """Distinct pattern hashes over the usable arc visits, with one representative (point, circle, side) each when
    `reps`; the distinct set is compacted whenever the pending visits outgrow it (memory ∝ patterns, not visits)."""
    done, pend, size = None, [], 0
    for I, sw in arr.batches(chunk, budget, alternative, want_g=False, want_hash=True):
        ok = sw.usable
        circ = np.broadcast_to(I[:, None], ok.shape)[ok]
        for s in ((True, False) if arr.d == 3 else (None,)):
            h = sw.hash[ok] + (arr.R[circ] if s else np.uint64(0))
            pend.append((h, sw.points(ok), circ, np.full(len(circ), bool(s))) if reps else (h,))
            size += len(h)
        if size > 4 * (0 if done is None else len(done[0])) + 8 * chunk:
            done = _distinct(*(np.concatenate(v) for v in zip(*([done] if done else []), *pend)))
            pend, size = [], len(done[0])
    if pend:
        done = _distinct(*(np.concatenate(v) for v in zip(*([done] if done else []), *pend)))
    return done


def _all_sides(arr: _Arrangement, chunk: int, budget: float, alternative: str):
    """Hyperplane sides of every cell, in chunks (generator of bool (m, H))."""
    if arr.d == 1 or arr.H == 0 or (arr.d == 3 and arr.H == 1):
        _refuse(arr.cost(chunk), budget, alternative, "estimated")
        yield arr.small_cells()
        return
    _, pts, circ, side = _hash_visits(arr, chunk, budget, alternative, reps=True)
    step = max(1, chunk // max(arr.n, 1))
    for lo in range(0, len(pts), step):
        sl = slice(lo, lo + step)
        sides, ok = arr.sides_at(pts[sl], circ[sl], side[sl])
        yield sides[ok]


def count_patterns(X, *, tol: float = 1e-12, budget_s: float | None = None, chunk: int = DEFAULT_CHUNK) -> int:
    """The number of distinct strict activation patterns of X (cells of its arrangement), d ≤ 3.

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3.  tol: arcs shorter than tol (radians) are a vertex, not a cell.
        budget_s: refuse when the estimated time exceeds it (default DEFAULT_BUDGET_S).  chunk: arc visits per chunk.

    Returns:
        the count (= N(n, d) in general position), told apart by a two-word hash of the sides; memory about
        16 bytes per pattern beyond the chunk.
    """
    X, tol, budget, chunk = _inputs(X), _tol(tol), _budget(budget_s), \
        validate.integer("chunk", chunk, minimum=1)
    arr = _Arrangement(X, tol=tol)
    if arr.d == 1 or arr.H == 0 or (arr.d == 3 and arr.H == 1):
        return sum(len(s) for s in _all_sides(arr, chunk, budget, _PATTERN_ALTERNATIVE))
    return len(_hash_visits(arr, chunk, budget, _PATTERN_ALTERNATIVE, reps=False)[0])


def pattern_matrix(X, tol: float = 1e-12, *, budget_s: float | None = None, chunk: int = DEFAULT_CHUNK,
                   max_bytes: int = PATTERN_MATRIX_MAX_BYTES) -> np.ndarray:
    """All strict activation patterns realised by some w, as the unique rows of a bool (P, n) matrix (d ≤ 3).

    Exact for any configuration (parallel, antiparallel or zero rows, several hyperplanes through one line): the
    cells are found by the arc sweeps of this module and told apart by a two-word hash of their sides.

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3.  tol: arcs shorter than tol (radians) are a vertex, not a cell.
        budget_s: time budget (default DEFAULT_BUDGET_S).  chunk: arc visits per chunk.
        max_bytes: refuse when the result, about N(n, d)·n bytes, would exceed it.

    Returns:
        the bool matrix, one row per pattern, in sweep order.
    """
    X, tol, budget = _inputs(X), _tol(tol), _budget(budget_s)
    chunk = validate.integer("chunk", chunk, minimum=1)
    max_bytes = validate.integer("max_bytes", max_bytes, minimum=1)
    arr = _Arrangement(X, tol=tol)
    est = arr.cost(chunk)
    if est.patterns * arr.n > max_bytes:
        raise TheoryError(f"pattern_matrix refused: {est.describe()}; the matrix would take about "
                          f"{est.patterns * arr.n / 2 ** 20:.0f} MiB > max_bytes={max_bytes}. Raise max_bytes, "
                          f"count them with count_patterns (16 bytes per pattern), or {_PATTERN_ALTERNATIVE}")
    sides = [s for s in _all_sides(arr, chunk, budget, _PATTERN_ALTERNATIVE)]
    P = arr.hp.samples(np.concatenate(sides)) if sides else np.zeros((0, arr.n), bool)
    packed = np.ascontiguousarray(np.packbits(P, axis=1))
    _, idx = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_index=True)
    return P[np.sort(idx)]


def activation_patterns(X, tol: float = 1e-12, **kw) -> set[tuple]:
    """The rows of `pattern_matrix` as tuples of 0/1.

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3.  tol, **kw: as for `pattern_matrix`.

    Returns:
        the set of patterns.
    """
    return {tuple(int(v) for v in row) for row in pattern_matrix(X, tol, **kw)}


def fixed_point_cells(X, V, *, tol: float = 1e-12, budget_s: float | None = None, chunk: int = DEFAULT_CHUNK,
                      alternative: str = "use a local method.", seed: int = 0):
    """Cells S whose direction ±ĝ_S (g_S = Σ_{k∈S} V_k) may lie in S itself: a superset, screened per visit.

    d = 2 the test is exact (the angle of ±ĝ_S against the arc); d = 3 it screens against the sweep's own
    hyperplane and 64 fixed ones, so the caller decides the few survivors exactly (e.g. the strict pattern of
    ±ĝ_S equals S). Every cell in which ±ĝ_S lies strictly (margin > tol) is among those yielded.

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3.  V: per-sample vectors (n, d).  tol: below this, g_S counts as zero and an
        arc as a vertex.  budget_s: time budget (default DEFAULT_BUDGET_S).  chunk: arc visits per chunk.
        alternative: the advice appended to a refusal.  seed: choice of the 64 screening hyperplanes.

    Returns:
        a generator of bool pattern chunks (m, n) (a pattern may repeat across chunks).
    """
    X = _inputs(X)
    V = validate.array("V", V, shape=X.shape)
    tol, budget = _tol(tol), _budget(budget_s)
    chunk = validate.integer("chunk", chunk, minimum=1)
    seed = validate.integer("seed", seed, minimum=0)
    return _fixed_point_cells(_Arrangement(X, V, tol, seed), chunk, budget, alternative)


def _cells_and_kinks(X, y, *, tol: float, budget_s: float | None, chunk: int, alternative: str):
    """`fixed_point_cells` of V_k = y_k x_k / n on checked input, and the kink candidates of the same sweep
    (`theory._kinks.Screen`: the vertices and, d = 3, the edge points where G_n may have a local extremum).

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3, finite.  y: labels (n,).  tol, budget_s, chunk, alternative: as for
        `fixed_point_cells`.

    Returns:
        (the generator of pattern chunks, a list that receives one (m, d) array of candidates per swept batch).
    """
    arr = _Arrangement(X, y[:, None] * X / len(y), tol, 0)
    found: list = []
    screen = _kinks.Screen(arr, y)
    return _fixed_point_cells(arr, chunk, _budget(budget_s), alternative,
                              lambda I, sw: found.append(screen(I, sw))), found


def _fixed_point_cells(arr: _Arrangement, chunk, budget, alternative, on_batch=None):
    if arr.d == 1 or arr.H == 0 or (arr.d == 3 and arr.H == 1):
        _refuse(arr.cost(chunk), budget, alternative, "estimated")
        yield arr.hp.samples(arr.small_cells())
        return  # no kink can hold an extremal vector here: one great circle, or none, carries no g_S ≠ 0 on it
    for I, sw in arr.batches(chunk, budget, alternative):
        if on_batch is not None:
            on_batch(I, sw)
        ok = sw.usable
        for s in ((True, False) if arr.d == 3 else (None,)):
            g = sw.g + (arr.D[I][:, None, :] if s else 0.0)
            keep = ok & (np.einsum("ced,ced->ce", g, g) > arr.tol ** 2)
            if arr.d == 2:
                ang = np.arctan2(g[..., 1], g[..., 0])
                hit = np.zeros_like(keep)
                for a in (ang % _TWO_PI, (ang + np.pi) % _TWO_PI):  # +ĝ (minima) and −ĝ (maxima)
                    delta = (a - sw.lo) % _TWO_PI
                    hit |= (delta > 0) & (delta < sw.gap)
            else:
                hit = keep & _screen(arr, I, s, g, sw.bits)
            circ, pts = np.broadcast_to(I[:, None], hit.shape)[hit], sw.points(hit)
            step = max(1, chunk // max(arr.n, 1))  # rebuilt patterns take (step, n): bounded by the chunk too
            for lo in range(0, len(circ), step):
                sides, good = arr.sides_at(pts[lo:lo + step], circ[lo:lo + step],
                                           np.full(len(circ[lo:lo + step]), bool(s)))
                yield arr.hp.samples(sides[good])


def _screen(arr: _Arrangement, I, s: bool, g, bits) -> np.ndarray:
    """d = 3: does the candidate ±ĝ of each visit lie on the cell's side of the own circle and of the 64 screening
    hyperplanes? The own circle picks the sign (+ĝ, a minimum, or −ĝ, a maximum); then the first 8 screening
    hyperplanes are tested for every visit and all 64 for those that pass."""
    c, E, _ = g.shape
    nz = np.einsum("ced,cd->ce", g, arr.N[I]).ravel()
    m = ((bits | arr.fbits[I][:, None]) if s else bits).ravel()
    flip = (nz > 0) != s  # the own side says −ĝ (a maximum): test the sides of −g
    idx = np.flatnonzero(nz != 0)
    G = g.reshape(-1, 3)
    for width in sorted({min(8, len(arr.F)), len(arr.F)}):
        if not len(idx):
            break
        v = G[idx] @ arr.N[arr.F[:width]].T
        v[flip[idx]] *= -1
        w = np.packbits(v > 0, axis=1, bitorder="little")
        if width > 8:
            w = np.pad(w, ((0, 0), (0, 8 - w.shape[1]))).view("<u8").ravel()
            keep = w == (m[idx] & (np.uint64((1 << width) - 1) if width < 64 else ~np.uint64(0)))
        else:
            keep = w.ravel() == (m[idx] & np.uint64((1 << width) - 1)).astype(np.uint8)
        idx = idx[keep]
    out = np.zeros(c * E, bool)
    out[idx] = True
    return out.reshape(c, E)


def _unique_patterns(pts, X, tol, chunk: int = 100_000) -> np.ndarray:
    """The distinct strict patterns (bool (m, n)) of the points pts (p, d), skipping points on a kink."""
    n = len(X)
    scale = tol * np.linalg.norm(X, axis=1)
    packed = []
    for lo in range(0, len(pts), chunk):
        Z = pts[lo:lo + chunk] @ X.T
        ok = ~(np.abs(Z) <= scale).any(axis=1)  # probes on a kink are skipped
        packed.append(_unique_rows(np.packbits(Z[ok] > 0, axis=1)))
    rows = _unique_rows(np.concatenate(packed)) if packed else np.zeros((0, (n + 7) // 8), np.uint8)
    return np.unpackbits(rows, axis=1)[:, :n].astype(bool)


def _unique_rows(B: np.ndarray) -> np.ndarray:
    """Unique rows of a uint8 matrix (via a 1-D void view: much faster than np.unique(axis=0))."""
    B = np.ascontiguousarray(B)
    void = B.view(np.dtype((np.void, B.shape[1]))).ravel()
    _, idx = np.unique(void, return_index=True)
    return B[np.sort(idx)]
