"""Early-alignment objects (BF-EA/BF-ST; formulas.md F2.2–F2.6, F2.8).

  G_n(w) = −(1/n) Σ_k y_k relu(w·x_k),   g_n(w) = (1/n) Σ_{k: w·x_k > 0} y_k x_k,   ⟨w, g_n(w)⟩ = −G_n(w)
  u extremal  ⇔  (I − uuᵀ) g_n(u) = 0 inside a cell; on a kink, a local extremum of its sign (`theory._kinks`)
  res(u) = ‖(I − uuᵀ) g_n(u)‖ / ‖g_n(u)‖ (on a kink: dist(0, (I − uuᵀ)𝔇_n(u)) in the numerator)
  positive neurons → minima (G_n(u) < 0), negative neurons → maxima (G_n(u) > 0); rate |G_n(u)| = ‖g_n(u)‖
  patterns of n points cut by hyperplanes through 0 in ℝ^d:  N(n, d) = 2 Σ_{i<d} C(n−1, i)
  symmetric linear data: G(w) = −½ wᵀΣβ*, u₊ = Σβ*/‖Σβ*‖, rate ½‖Σβ*‖; unit ball Σ = I/(d+2)

X here is the input matrix the network sees (x̃ = (x, 1) with a hidden bias).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import _kinks, arrangement, validate
from .arrangement import DEFAULT_BUDGET_S, EnumerationCost, activation_patterns, enumeration_cost, pattern_matrix
from .errors import TheoryError
from .formula import Formula, relu, step
from .descent import descent_neuron
from .early_output import early_output_bound, output_order
from .network import is_zero

__all__ = ["G_n", "g_n", "residual", "Extremal", "enumerate_extremal", "search_extremal", "ascent_extremal",
           "extremal_vectors", "pattern_bound", "pattern_matrix", "activation_patterns", "enumeration_cost",
           "EnumerationCost", "DEFAULT_BUDGET_S", "population_extremal", "population_extremal_vectors",
           "angle_concentration", "alignment_horizon", "unit_ball_second_moment", "formulas", "verify",
           "descent_neuron", "early_output_bound", "output_order"]

ASCENT_GUARANTEES = ("use theory.extremal.ascent_extremal(X, y, sign=±1) (projected ascent from random starts, "
                     "cost ≈ n_starts·steps·n·d): its guarantees are local only — every vector it returns is a local "
                     "maximiser of −sign·G_n on the sphere (a minimiser of G_n for sign = +1, a maximiser for −1) "
                     "reachable from one of its starts; it does not find them all (no completeness), so raise "
                     "n_starts to find more.")


def _directions(name: str, w, d: int) -> np.ndarray:
    w = validate.array(name, w, ndim=(1, 2, 3))
    if w.shape[-1] != d:
        raise TheoryError(f"{name} has last dimension {w.shape[-1]} but X has d={d} columns; give {name} of shape "
                          f"(..., {d})")
    return w


def G_n(w, X, y) -> np.ndarray:
    """G_n(w) = −(1/n) Σ_k y_k relu(w·x_k) for each row of w.

    Arguments:
        w: directions (..., d).  X: inputs (n, d).  y: labels (n,).

    Returns:
        G_n for each row of w (shape w.shape[:-1]).
    """
    X, y = validate.data(X, y)
    return _G(_directions("w", w, X.shape[1]), X, y)


def _G(w, X, y) -> np.ndarray:
    """G_n on checked input (the loops below call it once per step)."""
    return -(np.maximum(w @ X.T, 0.0) @ y) / len(y)


def g_n(w, X, y) -> np.ndarray:
    """g_n(w) = (1/n) Σ_{w·x_k > 0} y_k x_k for each row of w (relu'(0) = 0 selection of 𝔇_n).

    Arguments:
        w: directions (..., d).  X: inputs (n, d).  y: labels (n,).

    Returns:
        g_n for each row of w (shape w.shape).
    """
    X, y = validate.data(X, y)
    return _g(_directions("w", w, X.shape[1]), X, y)


def _g(w, X, y) -> np.ndarray:
    """g_n on checked input (the loops below call it once per step)."""
    return ((w @ X.T > 0) * y) @ X / len(y)


def residual(u, X, y, *, tol: float = 1e-12) -> np.ndarray:
    """res(u) = ‖(I − uuᵀ)g_n(u)‖/‖g_n(u)‖ (F2.4); inf where g_n(u) = 0 (a dead direction). On a kink (some sample
    with |u·x_k| ≤ tol‖x_k‖) the numerator is the distance from 0 to (I − uuᵀ)𝔇_n(u), the set-valued derivative
    of F2.1 (`theory._kinks`), so an extremal vector on a kink has res = 0 like one inside a cell.

    Arguments:
        u: directions (..., d), nonzero (normalised here).  X: inputs (n, d).  y: labels (n,).
        tol: the kink threshold (0 < tol ≤ 1e-6).

    Returns:
        the residual for each row of u.
    """
    X, y = validate.data(X, y)
    u = _directions("u", u, X.shape[1])
    tol = arrangement._tol(tol)
    norm = np.linalg.norm(u, axis=-1, keepdims=True)
    if np.any(norm == 0):
        raise TheoryError("u has a zero row; a residual needs a direction (a nonzero vector) in every row")
    u = u / norm
    g = g_n(u, X, y)
    tang = np.linalg.norm(g - np.sum(g * u, -1, keepdims=True) * u, axis=-1)
    flat, tf = u.reshape(-1, X.shape[1]), tang.reshape(-1)
    xn = np.linalg.norm(X, axis=1)
    for i in np.flatnonzero(((np.abs(flat @ X.T) <= tol * xn) & (xn > 0)).any(axis=1)):
        tf[i] = _kinks.distance(flat[i], X, y, tol) or 0.0  # never None here: x_k on the kink, d ≥ 2
    tang = tf.reshape(tang.shape)
    gn = np.linalg.norm(g, axis=-1)
    return np.where(gn > 0, tang / np.where(gn > 0, gn, 1.0), np.inf)


@dataclass(frozen=True)
class Extremal:
    """An extremal vector: unit u, kind 'min' (positive neurons) or 'max' (negative), G_n(u), rate = |G_n(u)|, its
    strict activation pattern, and `kink`: the samples on its hyperplane(s) (u·x_k = 0; () inside a cell)."""

    u: np.ndarray
    kind: str
    G: float
    rate: float
    pattern: tuple
    kink: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "u", validate.array("u", self.u, ndim=1))
        validate.choice("kind", self.kind, ("min", "max"))
        object.__setattr__(self, "G", validate.real("G", self.G))
        object.__setattr__(self, "rate", validate.positive("rate", self.rate, allow_zero=True))
        if not isinstance(self.pattern, tuple):
            raise TheoryError(f"pattern must be a tuple of 0/1 (the strict activation pattern), got "
                              f"{type(self.pattern).__name__}")
        if not isinstance(self.kink, tuple):
            raise TheoryError(f"kink must be a tuple of sample indices (those with u·x_k = 0), got "
                              f"{type(self.kink).__name__}")


def _candidates_from_patterns(P, X, y, tol) -> list[Extremal]:
    """For each pattern S (rows of bool P): u = ±ĝ_S is extremal iff the strict pattern of u is S (zero rows of X
    lie on no hyperplane and do not count as kinks)."""
    P = np.asarray(P, bool).reshape(-1, len(y))
    gS = (P * y) @ X / len(y)
    norm = np.linalg.norm(gS, axis=1)
    alive = norm > tol
    P, gS, norm = P[alive], gS[alive], norm[alive]
    out: list[Extremal] = []
    xn = np.linalg.norm(X, axis=1)
    scale, live = tol * xn, xn > 0
    for kind, sign in (("min", 1.0), ("max", -1.0)):
        U = sign * gS / norm[:, None]
        Z = U @ X.T
        ok = ~((np.abs(Z) <= scale) & live).any(axis=1) & ((Z > 0) == P).all(axis=1)
        for u, S, r in zip(U[ok], P[ok], norm[ok]):
            out.append(Extremal(u, kind, float(-(np.maximum(X @ u, 0.0) @ y) / len(y)), float(r),
                                tuple(S.view(np.uint8).tolist())))
    return out


def _dedupe(ext: list[Extremal], cos_tol: float = 1e-9) -> list[Extremal]:
    """Largest rate first (rates equal to 12 digits keep their given order), merged at cos > 1 − cos_tol."""
    kept: list[Extremal] = []
    for e in sorted(ext, key=lambda e: -float(f"{e.rate:.12g}")):
        if all(float(e.u @ k.u) < 1 - cos_tol for k in kept):
            kept.append(e)
    return kept


def enumerate_extremal(X, y, tol: float = 1e-12, *, budget_s: float | None = None,
                       chunk: int = arrangement.DEFAULT_CHUNK) -> list[Extremal]:
    """Exact enumeration (d ≤ 3): inside a cell, u = ±ĝ_S is extremal iff the strict pattern of u is S (F2.4); on a
    kink (u·x_k = 0 for k ∈ K), u is extremal iff it is a local minimum with G_n < 0 ('min') or a local maximum with
    G_n > 0 ('max'), i.e. −p − Z_± ⊆ Z_∓ for p = (I − uuᵀ)g_S and Z_± = Σ_{k∈K, ±y_k>0} [0, 1]·y_k x_k/n, the parts of
    the set-valued derivative 𝔇_n(u) of F2.1 (`theory._kinks`; this implies 0 ∈ (I − uuᵀ)𝔇_n(u)). The kink
    candidates are the vertices (d = 2: ±x_k^⊥; d = 3: where great circles cross) and the d = 3 edge points
    ±(I − x̂_hx̂_hᵀ)g_S, screened in the same sweep; `Extremal.kink` lists the samples on the kink.

    The cells are swept incrementally (`theory.arrangement`: O(n log n) for d = 2, ≈ 4n² arc visits in chunks for
    d = 3, memory bounded by `chunk`); `enumeration_cost(X)` states the cost, and a sweep estimated above
    `budget_s` is refused with a TheoryError giving the estimate and the alternative (`ascent_extremal`).

    Arguments:
        X: inputs (n, d), 1 ≤ d ≤ 3, finite.  y: labels (n,).  tol: |g_S| ≤ tol is dead, |u·x_k| ≤ tol‖x_k‖ a kink.
        budget_s: time budget in seconds (default `DEFAULT_BUDGET_S`).  chunk: arc visits per chunk.

    Returns:
        the extremal vectors (inside cells and on kinks), largest rate first.
    """
    X, y = validate.data(X, y)
    if X.shape[1] > 3:
        raise TheoryError(f"exact enumeration needs d ≤ 3 (got d={X.shape[1]}); {ASCENT_GUARANTEES}")
    tol = arrangement._tol(tol)
    X = arrangement._inputs(X)
    cells, found = arrangement._cells_and_kinks(X, y, tol=tol, budget_s=budget_s,
                                                chunk=validate.integer("chunk", chunk, minimum=1),
                                                alternative=ASCENT_GUARANTEES)
    seen: dict[tuple, Extremal] = {}
    for P in cells:
        for e in _candidates_from_patterns(P, X, y, tol):
            seen.setdefault((e.kind, e.pattern, ()), e)
    U = np.concatenate(found) if found else np.zeros((0, X.shape[1]))
    _, first = np.unique(np.round(U, 9), axis=0, return_index=True)  # a vertex is met on each of its circles
    for u, kind, G, rate, pattern, kink in _kinks.decide(U[np.sort(first)], X, y, tol):
        seen.setdefault((kind, pattern, kink), Extremal(u, kind, G, rate, pattern, kink))
    return _dedupe(sorted(seen.values(), key=_sweep_order))


def _sweep_order(e: Extremal):
    """Minima first, then (ties of the rate keep this order) by angle for d ≤ 2, by pattern for d = 3."""
    if len(e.u) == 1:
        return e.kind != "min", -e.u[0], e.pattern
    return e.kind != "min", float(np.arctan2(e.u[1], e.u[0]) % (2 * np.pi)) if len(e.u) == 2 else 0.0, e.pattern


def search_extremal(X, y, n_starts: int = 200, seed: int = 0, max_iter: int = 200, tol: float = 1e-10
                    ) -> list[Extremal]:
    """Fixed-point search (any d): u ← ±g_n(u)/‖g_n(u)‖ from random starts until the pattern repeats (F2.4).

    Arguments:
        X: inputs (n, d).  y: labels (n,).  n_starts: random starts.  seed: their seed.  max_iter: iterations.
        tol: |g_n| ≤ tol is dead.

    Returns:
        the true extremal vectors reached (no completeness), largest rate first.
    """
    X, y = validate.data(X, y)
    n_starts = validate.integer("n_starts", n_starts, minimum=1)
    seed = validate.integer("seed", seed, minimum=0)
    max_iter = validate.integer("max_iter", max_iter, minimum=1)
    tol = validate.positive("tol", tol)
    rng = np.random.default_rng(seed)
    starts = rng.standard_normal((n_starts, X.shape[1]))
    finals = []
    for sign in (1.0, -1.0):
        U = starts / np.linalg.norm(starts, axis=1, keepdims=True)
        for _ in range(max_iter):
            g = sign * _g(U, X, y)
            gn = np.linalg.norm(g, axis=1)
            alive = gn > tol
            U_new = U.copy()
            U_new[alive] = g[alive] / gn[alive, None]
            if np.allclose(U_new, U, atol=1e-14, rtol=0):
                break
            U = U_new
        finals.append(U[np.linalg.norm(_g(U, X, y), axis=1) > tol])
    return _dedupe(_candidates_from_patterns(arrangement._unique_patterns(np.concatenate(finals), X, tol), X, y, tol))


def ascent_extremal(X, y, sign: float = 1.0, n_starts: int = 64, steps: int = 3000, lr: float = 0.5,
                    seed: int = 0, cos_merge: float = 0.999) -> list[tuple[np.ndarray, float]]:
    """Local maximisers of −sign·G_n(u) on the unit sphere by projected ascent u ← (u + η_k sign g_n(u))/‖·‖.

    This is the direction flow of an early neuron of sign(a) = sign (F2.3), so it also finds the extremal
    vectors that sit on a kink (some u·x_k = 0), where the fixed-point search cycles; the step η_k = lr/(1 + k/50)
    decays so that sliding along a kink settles. Any d; cost n_starts·steps·n·d. Guarantees are local: each
    result is a maximiser reachable from one of the starts; there is no completeness (unlike the enumeration).

    Arguments:
        X: inputs (n, d).  y: labels (n,).  sign: +1 (minimisers of G_n, positive neurons) or −1 (maximisers).
        n_starts: random starts.  steps: ascent steps.  lr: initial step.  seed: seed of the starts.
        cos_merge: results with cosine above it are merged.

    Returns:
        [(u, −sign·G_n(u))] with −sign·G_n(u) > 0, best first.
    """
    X, y = validate.data(X, y)
    sign = float(validate.choice("sign", validate.real("sign", sign), (1.0, -1.0)))
    n_starts = validate.integer("n_starts", n_starts, minimum=1)
    steps = validate.integer("steps", steps, minimum=0)
    lr = validate.positive("lr", lr)
    seed = validate.integer("seed", seed, minimum=0)
    cos_merge = validate.real("cos_merge", cos_merge)
    if not -1.0 <= cos_merge <= 1.0:
        raise TheoryError(f"cos_merge must lie in [-1, 1], got {cos_merge}")
    U = np.random.default_rng(seed).standard_normal((n_starts, X.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    for k in range(steps):
        U = U + lr / (1 + k / 50) * sign * _g(U, X, y)
        U /= np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    val = -sign * _G(U, X, y)
    out: list[tuple[np.ndarray, float]] = []
    for i in np.argsort(-val):
        if val[i] > 0 and all(u @ U[i] < cos_merge for u, _ in out):
            out.append((U[i], float(val[i])))
    return out


def extremal_vectors(X, y, seed: int = 0, *, budget_s: float | None = None) -> list[Extremal]:
    """Extremal vectors of G_n for any d: the exact enumeration for d ≤ 3 (refused above `budget_s`, see
    `enumerate_extremal`), else projected ascent of both signs (`ascent_extremal`; kind 'min' = positive
    neurons, rate = |G_n(u)|), found from `seed`.

    Arguments:
        X: inputs (n, d).  y: labels (n,).  seed: seed of the ascent (d > 3).  budget_s: time budget (d ≤ 3).

    Returns:
        the extremal vectors.
    """
    X, y = validate.data(X, y)
    seed = validate.integer("seed", seed, minimum=0)
    if X.shape[1] <= 3:
        return enumerate_extremal(X, y, budget_s=budget_s)
    out = []
    for sign, kind in ((1.0, "min"), (-1.0, "max")):
        for u, value in ascent_extremal(X, y, sign, seed=seed):
            out.append(Extremal(u, kind, float(G_n(u, X, y)), value, tuple(bool(b) for b in X @ u > 0)))
    return out


def pattern_bound(n: int, d: int) -> int:
    """N(n, d) = 2 Σ_{i=0}^{d−1} C(n−1, i) (F2.6).

    Arguments:
        n: points (≥ 1).  d: dimension (≥ 1).

    Returns:
        the bound as an int.
    """
    n, d = validate.integer("n", n, minimum=1), validate.integer("d", d, minimum=1)
    return 2 * sum(math.comb(n - 1, i) for i in range(d))


def _sigma_beta(Sigma, beta) -> np.ndarray:
    beta = validate.array("beta", beta, ndim=1)
    Sigma = validate.array("Sigma", Sigma, shape=(len(beta), len(beta)))
    return validate.nonzero("Sigma @ beta", Sigma @ beta)


def population_extremal(Sigma, beta) -> tuple[np.ndarray, float]:
    """(u₊, rate) = (Σβ*/‖Σβ*‖, ½‖Σβ*‖) for symmetric linear-teacher data (F2.8).

    Arguments:
        Sigma: second moment E[xxᵀ] (d, d).  beta: teacher β* (d,); Σβ* must be nonzero (it has a direction).

    Returns:
        (u₊, rate).
    """
    v = _sigma_beta(Sigma, beta)
    return v / np.linalg.norm(v), 0.5 * float(np.linalg.norm(v))


def population_extremal_vectors(Sigma, beta) -> list[Extremal]:
    """Every extremal vector of the population G(w) = −½ wᵀΣβ* on the sphere (F2.8): u₊ = Σβ*/‖Σβ*‖ (a minimum,
    positive neurons) and u₋ = −u₊ (a maximum, negative neurons), both at rate ½‖Σβ*‖: exactly two, the count the
    empirical extremal vectors fall to as n grows (BF-P13).

    Arguments:
        Sigma: second moment (d, d).  beta: teacher (d,), with Σβ* ≠ 0.

    Returns:
        [the minimum, the maximum].
    """
    u, rate = population_extremal(Sigma, beta)
    return [Extremal(u, "min", -rate, rate, ()), Extremal(-u, "max", rate, rate, ())]


def angle_concentration() -> Formula:
    """F2.8 concentration [R]: the angle between the empirical and population extremal vectors scales as
    C·√(d/n)/‖Σβ*‖ (C unknown; the sup-over-u bound adds a √log n the leading vector need not carry), so the
    log–log slope of the angle against n is ∂ln/∂ln n = −1/2 (BF-P12)."""
    C, d, n, s = sp.symbols("C d n |Sigma_beta|", positive=True)
    return Formula("F2.8-angle", "empirical extremal angle error", "[R]",
                   "angle(u+^n, u+) ~ C sqrt(d/n)/|Sigma beta*| (constant unknown)", C * sp.sqrt(d / n) / s,
                   (n, d, s, C), sp.Symbol("angle"))


def alignment_horizon(lam_eff: float, rate: float) -> float:
    """T_λ = ln(1/λ_eff)/g*: the working unit of the early phase (F2.5).

    Arguments:
        lam_eff: effective init scale (> 0).  rate: the leading rate g* (> 0).

    Returns:
        T_λ (negative when λ_eff > 1).
    """
    lam_eff, rate = validate.positive("lam_eff", lam_eff), validate.positive("rate", rate)
    inv = 1.0 / lam_eff
    return float((np.log(inv) if np.isfinite(inv) else -np.log(lam_eff)) / rate)


# --------------------------------------------------------------------------- symbolic statements
def unit_ball_second_moment(d=None) -> sp.Expr:
    """E[x_i²] for x uniform in the d-ball: E[r²]/d with radial density d r^{d−1} → 1/(d+2).

    Arguments:
        d: dimension (≥ 1), or None for the symbolic d.

    Returns:
        the SymPy expression.
    """
    dd = sp.Symbol("d", positive=True) if d is None else sp.Integer(validate.integer("d", int(d) if isinstance(
        d, sp.Integer) else d, minimum=1))
    r = sp.Symbol("r", positive=True)
    return sp.simplify(sp.integrate(r ** 2 * dd * r ** (dd - 1), (r, 0, 1)) / dd)


def formulas() -> dict[str, Formula]:
    """The formulas of this module (F2.2, F2.5-output, F2.6, F2.8, F2.8-angle, F2.8-ball) by id."""
    d = sp.Symbol("d", positive=True, integer=True)
    nb = sp.Symbol("|Sigma beta|", positive=True)
    n, i = sp.symbols("n i", positive=True, integer=True)
    w1, w2 = sp.symbols("w1 w2", real=True)
    x = [sp.symbols(f"x{k}_1 x{k}_2", real=True) for k in (1, 2, 3)]
    yk = sp.symbols("y1:4", real=True)
    Gn = -sum((yk[k] * relu(w1 * x[k][0] + w2 * x[k][1]) for k in range(3)), sp.S.Zero) / 3
    return {
        "F2.5-output": early_output_bound(),
        "F2.2": Formula("F2.2", "early-phase objective G_n (n = 3, d = 2 shown)", "[R]",
                        "G_n(w) = -(1/n) sum_k y_k relu(w.x_k); positive neurons descend it on the sphere",
                        Gn, (w1, w2, *x[0], *x[1], *x[2], *yk), sp.Symbol("G_n")),
        "F2.6": Formula("F2.6", "activation-pattern bound", "[R]",
                        "n points cut by hyperplanes through 0 in R^d give at most N(n, d) patterns",
                        2 * sp.Sum(sp.binomial(n - 1, i), (i, 0, d - 1)), (n, d), sp.Symbol("N")),
        "F2.8": Formula("F2.8", "population extremal rate, unit ball", "[R]",
                        "u+ = beta*/|beta*|, rate |Sigma beta*|/2 = |beta*|/(2(d+2))", nb / 2, (nb,),
                        sp.Symbol("rate")),
        "F2.8-angle": angle_concentration(),
        "F2.8-ball": Formula("F2.8-ball", "unit-ball covariance scale", "[R]", "Sigma = I/(d+2) for U(B(0,1))",
                             unit_ball_second_moment(), (d,), sp.Symbol("Sigma_ii")),
    }


def verify(n: int = 3, d: int = 2) -> dict[str, bool]:
    """Euler identity ⟨w, g_n(w)⟩ = −G_n(w), g_n = −∇G_n, relu(t) = (t + |t|)/2, and Σ = I/(d+2).

    Arguments:
        n: symbolic samples (1…12).  d: symbolic dimension (1…6).

    Returns:
        {statement: holds}.
    """
    n, d = validate.integer("n", n, minimum=1, maximum=12), validate.integer("d", d, minimum=1, maximum=6)
    w = sp.Matrix(sp.symbols(f"w1:{d + 1}", real=True))
    X = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"x{i + 1}_{j + 1}", real=True))
    y = sp.symbols(f"y1:{n + 1}", real=True)
    z = [(X[i, :] * w)[0] for i in range(n)]
    G = -sum((y[i] * relu(z[i]) for i in range(n)), sp.S.Zero) / n
    g = sum((step(z[i]) * y[i] * X[i, :].T for i in range(n)), sp.zeros(d, 1)) / n
    tp, tn = sp.Symbol("t_p", positive=True), sp.Symbol("t_n", negative=True)
    return {
        "F2.2 Euler identity": is_zero((w.T * g)[0] + G),
        "F2.2 g_n = -grad G_n": is_zero(sp.Matrix([sp.diff(G, wi) for wi in w]) + g),
        "F2.8 relu = (t+|t|)/2": all(is_zero(relu(v) - (v + sp.Abs(v)) / 2) for v in (tp, tn)),
        "F2.8 unit-ball covariance 1/(d+2)": is_zero(unit_ball_second_moment() - 1 / (sp.Symbol("d", positive=True)
                                                                                      + 2)),
    }
