"""Early-alignment objects (BF-EA/BF-ST; formulas.md F2.2–F2.6, F2.8).

  G_n(w) = −(1/n) Σ_k y_k relu(w·x_k),   g_n(w) = (1/n) Σ_{k: w·x_k > 0} y_k x_k,   ⟨w, g_n(w)⟩ = −G_n(w)
  u extremal  ⇔  (I − uuᵀ) g_n(u) = 0;   res(u) = ‖(I − uuᵀ) g_n(u)‖ / ‖g_n(u)‖
  positive neurons → minima (G_n(u) < 0), negative neurons → maxima (G_n(u) > 0); rate |G_n(u)| = ‖g_n(u)‖
  patterns of n points cut by hyperplanes through 0 in ℝ^d:  N(n, d) = 2 Σ_{i<d} C(n−1, i)
  symmetric linear data: G(w) = −½ wᵀΣβ*, u₊ = Σβ*/‖Σβ*‖, rate ½‖Σβ*‖; unit ball Σ = I/(d+2)

X here is the input matrix the network sees (x̃ = (x, 1) with a hidden bias).
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
import sympy as sp

from .formula import Formula, relu, step
from .network import is_zero


def G_n(w, X, y) -> np.ndarray:
    """G_n for each row of w (shape (..., d))."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    return -(np.maximum(np.asarray(w, float) @ X.T, 0.0) @ y) / len(y)


def g_n(w, X, y) -> np.ndarray:
    """g_n(w) = (1/n) Σ_{w·x_k > 0} y_k x_k for each row of w (relu'(0) = 0 selection of 𝔇_n)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    gate = (np.asarray(w, float) @ X.T > 0).astype(float)
    return (gate * y) @ X / len(y)


def residual(u, X, y) -> np.ndarray:
    """res(u) = ‖(I − uuᵀ)g_n(u)‖/‖g_n(u)‖ (F2.4); inf where g_n(u) = 0 (a dead direction)."""
    u = np.asarray(u, float)
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    g = g_n(u, X, y)
    tang = g - np.sum(g * u, -1, keepdims=True) * u
    gn = np.linalg.norm(g, axis=-1)
    return np.where(gn > 0, np.linalg.norm(tang, axis=-1) / np.where(gn > 0, gn, 1.0), np.inf)


@dataclass(frozen=True)
class Extremal:
    """An extremal vector: unit u, kind 'min' (positive neurons) or 'max' (negative), G_n(u), rate = |G_n(u)|."""

    u: np.ndarray
    kind: str
    G: float
    rate: float
    pattern: tuple


def _candidates_from_patterns(P, X, y, tol) -> list[Extremal]:
    """For each pattern S (rows of bool P): u = ±ĝ_S is extremal iff the strict pattern of u is S."""
    P = np.asarray(P, bool).reshape(-1, len(y))
    gS = (P * y) @ X / len(y)
    norm = np.linalg.norm(gS, axis=1)
    alive = norm > tol
    P, gS, norm = P[alive], gS[alive], norm[alive]
    out: list[Extremal] = []
    scale = tol * np.linalg.norm(X, axis=1)
    for kind, sign in (("min", 1.0), ("max", -1.0)):
        U = sign * gS / norm[:, None]
        Z = U @ X.T
        ok = ~(np.abs(Z) <= scale).any(axis=1) & ((Z > 0) == P).all(axis=1)
        for u, S, r in zip(U[ok], P[ok], norm[ok]):
            out.append(Extremal(u, kind, float(G_n(u, X, y)), float(r), tuple(int(v) for v in S)))
    return _dedupe(out)


def _dedupe(ext: list[Extremal], cos_tol: float = 1e-9) -> list[Extremal]:
    kept: list[Extremal] = []
    for e in sorted(ext, key=lambda e: -e.rate):
        if all(float(e.u @ k.u) < 1 - cos_tol for k in kept):
            kept.append(e)
    return kept


def pattern_matrix(X, tol: float = 1e-12) -> np.ndarray:
    """All strict activation patterns realised by some w, as unique rows of a bool (P, n) matrix.

    Exact for d ≤ 3 with points in general position: d = 1 two half-lines, d = 2 the midpoints of the
    arcs between the lines x_k^⊥, d = 3 the neighbours of every vertex ±x_i×x_j of the arrangement
    (every cell touches a vertex). Memory grows like N(n, 3) ≈ n² rows of n bits.
    """
    X = np.asarray(X, float)
    n, d = X.shape
    if d == 1:
        pts = np.array([[1.0], [-1.0]])
    elif d == 2:
        ang = np.sort(np.concatenate([np.arctan2(X[:, 1], X[:, 0]) + s * np.pi / 2 for s in (1, -1)]) % (2 * np.pi))
        mids = ang + np.diff(np.append(ang, ang[0] + 2 * np.pi)) / 2
        pts = np.stack([np.cos(mids), np.sin(mids)], axis=1)
    elif d == 3:
        pts = _vertex_probes(X, tol)
    else:
        raise ValueError(f"exact enumeration needs d ≤ 3 (got d={d}); use search_extremal for larger d")
    return _unique_patterns(pts, X, tol)


def activation_patterns(X, tol: float = 1e-12) -> set[tuple]:
    """The rows of `pattern_matrix` as tuples of 0/1."""
    return {tuple(int(v) for v in row) for row in pattern_matrix(X, tol)}


def _unique_patterns(pts, X, tol, chunk: int = 100_000) -> np.ndarray:
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


def _vertex_probes(X, tol) -> np.ndarray:
    """Points ±v + ε(±a_i ± a_j) around each vertex v = x_i×x_j/‖x_i×x_j‖ (a_i, a_j the dual pair)."""
    n = len(X)
    I, J = np.triu_indices(n, 1)
    V = np.cross(X[I], X[J]) if n > 1 else np.zeros((0, 3))
    nv = np.linalg.norm(V, axis=1)
    keep = nv > tol
    if not keep.any():  # all points on one line through 0
        return np.vstack([np.eye(3), -np.eye(3)])
    I, J, V = I[keep], J[keep], V[keep] / nv[keep, None]
    dual = np.linalg.pinv(np.stack([X[I], X[J]], axis=1))  # (P, 3, 2): x_i·a_j = δ_ij
    eps = 1e-10 * np.minimum(1.0, 1.0 / np.linalg.norm(dual, axis=1).max(axis=1))
    probes = [sv * V + eps[:, None] * (si * dual[:, :, 0] + sj * dual[:, :, 1])
              for sv in (1, -1) for si in (1, -1) for sj in (1, -1)]
    return np.concatenate(probes)


def enumerate_extremal(X, y, tol: float = 1e-12) -> list[Extremal]:
    """Exact enumeration (d ≤ 3): u = ±ĝ_S is extremal iff the strict pattern of u is S (F2.4)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    return _candidates_from_patterns(pattern_matrix(X, tol), X, y, tol)


def search_extremal(X, y, n_starts: int = 200, seed: int = 0, max_iter: int = 200, tol: float = 1e-10
                    ) -> list[Extremal]:
    """Fixed-point search (any d): u ← ±g_n(u)/‖g_n(u)‖ from random starts until the pattern repeats (F2.4)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    starts = rng.standard_normal((n_starts, X.shape[1]))
    finals = []
    for sign in (1.0, -1.0):
        U = starts / np.linalg.norm(starts, axis=1, keepdims=True)
        for _ in range(max_iter):
            g = sign * g_n(U, X, y)
            gn = np.linalg.norm(g, axis=1)
            alive = gn > tol
            U_new = U.copy()
            U_new[alive] = g[alive] / gn[alive, None]
            if np.allclose(U_new, U, atol=1e-14, rtol=0):
                break
            U = U_new
        finals.append(U[np.linalg.norm(g_n(U, X, y), axis=1) > tol])
    return _candidates_from_patterns(_unique_patterns(np.concatenate(finals), X, tol), X, y, tol)


def ascent_extremal(X, y, sign: float = 1.0, n_starts: int = 64, steps: int = 3000, lr: float = 0.5,
                    seed: int = 0, cos_merge: float = 0.999) -> list[tuple[np.ndarray, float]]:
    """Local maximisers of −sign·G_n(u) on the unit sphere by projected ascent u ← (u + η_k sign g_n(u))/‖·‖.

    This is the direction flow of an early neuron of sign(a) = sign (F2.3), so it also finds the extremal
    vectors that sit on a kink (some u·x_k = 0), where the fixed-point search cycles; the step η_k = lr/(1 + k/50)
    decays so that sliding along a kink settles. Returns [(u, −sign·G_n(u))], best first, merged at cos > cos_merge.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    U = np.random.default_rng(seed).standard_normal((n_starts, X.shape[1]))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    for k in range(steps):
        U = U + lr / (1 + k / 50) * sign * g_n(U, X, y)
        U /= np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
    val = -sign * G_n(U, X, y)
    out: list[tuple[np.ndarray, float]] = []
    for i in np.argsort(-val):
        if val[i] > 0 and all(u @ U[i] < cos_merge for u, _ in out):
            out.append((U[i], float(val[i])))
    return out


def extremal_vectors(X, y, seed: int = 0) -> list[Extremal]:
    """Extremal vectors of G_n for any d: the exact enumeration for d ≤ 3, else projected ascent of both signs
    (`ascent_extremal`; kind 'min' = positive neurons, rate = |G_n(u)|), found from `seed`."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    if X.shape[1] <= 3:
        return enumerate_extremal(X, y)
    out = []
    for sign, kind in ((1.0, "min"), (-1.0, "max")):
        for u, value in ascent_extremal(X, y, sign, seed=seed):
            out.append(Extremal(u, kind, float(G_n(u, X, y)), value, tuple(bool(b) for b in X @ u > 0)))
    return out


def pattern_bound(n: int, d: int) -> int:
    """N(n, d) = 2 Σ_{i=0}^{d−1} C(n−1, i) (F2.6)."""
    return int(2 * sum(sp.binomial(n - 1, i) for i in range(d)))


def population_extremal(Sigma, beta) -> tuple[np.ndarray, float]:
    """(u₊, rate) = (Σβ*/‖Σβ*‖, ½‖Σβ*‖) for symmetric linear-teacher data (F2.8)."""
    v = np.asarray(Sigma, float) @ np.asarray(beta, float)
    return v / np.linalg.norm(v), 0.5 * float(np.linalg.norm(v))


def population_extremal_vectors(Sigma, beta) -> list[Extremal]:
    """Every extremal vector of the population G(w) = −½ wᵀΣβ* on the sphere (F2.8): u₊ = Σβ*/‖Σβ*‖ (a minimum,
    positive neurons) and u₋ = −u₊ (a maximum, negative neurons), both at rate ½‖Σβ*‖: exactly two, the count the
    empirical extremal vectors fall to as n grows (BF-P13)."""
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
    """T_λ = ln(1/λ_eff)/g*: the working unit of the early phase (F2.5)."""
    if not (lam_eff > 0 and rate > 0):
        raise ValueError(f"lam_eff and rate must be > 0, got {lam_eff}, {rate}")
    return float(np.log(1.0 / lam_eff) / rate)


# --------------------------------------------------------------------------- symbolic statements
def unit_ball_second_moment(d=None) -> sp.Expr:
    """E[x_i²] for x uniform in the d-ball: E[r²]/d with radial density d r^{d−1} → 1/(d+2)."""
    dd = sp.Symbol("d", positive=True) if d is None else sp.Integer(d)
    r = sp.Symbol("r", positive=True)
    return sp.simplify(sp.integrate(r ** 2 * dd * r ** (dd - 1), (r, 0, 1)) / dd)


def formulas() -> dict[str, Formula]:
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
    """Euler identity ⟨w, g_n(w)⟩ = −G_n(w), g_n = −∇G_n, relu(t) = (t + |t|)/2, and Σ = I/(d+2)."""
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


def descent_neuron(X, r, tol: float = 1e-12) -> tuple[float, np.ndarray, float]:
    """Best small neuron to add at a stationary point with residuals r = h − y (F2.7 "not a minimum").

    Adding a = sϵ, w = ϵv changes L = (1/2n)Σ(h − y)² by ΔL = s ϵ² G_r(v) + O(ϵ⁴), with the piecewise-linear
    G_r(v) = (1/n) Σ_k r_k relu(v·x_k). On each closed activation cell S it is linear, ⟨c_S, v⟩, and its
    extremes on the unit sphere lie at ∓ĉ_S projected onto a face {v·x_k = 0, k ∈ A} of the cell (|A| < d).
    Returns (s, v, s·G_r(v)) minimising the first-order change; s·G_r(v) < 0 certifies a descent direction.
    Exhaustive over cells and faces: meant for small n and d ≤ 3.
    """
    from itertools import combinations

    X, r = np.asarray(X, float), np.asarray(r, float)
    n, d = X.shape
    best = (1.0, np.zeros(d), 0.0)
    for S in pattern_matrix(X, tol):
        c = (S * r) @ X / n
        for k in range(d):
            for A in combinations(range(n), k):
                Q = np.eye(d) - (np.linalg.pinv(X[list(A)]) @ X[list(A)] if A else 0.0)
                for s in (1.0, -1.0):
                    v = -s * Q @ c
                    if np.linalg.norm(v) <= tol:
                        continue
                    v = v / np.linalg.norm(v)
                    z = X @ v
                    if np.any(z[S] < -1e-12) or np.any(z[~S] > 1e-12):
                        continue  # v is not in the closed cell
                    val = s * float(np.maximum(z, 0.0) @ r) / n
                    if val < best[2]:
                        best = (s, v, val)
    return best


# --------------------------------------------------------------------------- output size during the phase (BF-P2)
from .mutants import mutant  # noqa: E402  (appended section: the mutants of F2.5-output below)

_LAM, _T, _G, _M, _C = sp.symbols("lambda_eff t g_star m C", positive=True)


def early_output_bound() -> Formula:
    """F2.5 output size while h ≈ 0 [R]: max_k |h(x_k)| ≈ C·m·λ_eff²·e^{2g*t}; args (λ_eff, t, g*, m, C).

    Derivation (F2.3, balanced init |a_j| = ‖w_j‖ ≈ λ_eff): d‖w_j‖/dt = −sign(a_j)‖w_j‖G_n(ŵ_j) ≤ g*‖w_j‖, and
    |a_j| = ‖w_j‖ is conserved (F3.1), so every term a_j relu(w_j·x) of h is ≤ λ_eff² e^{2g*t}‖x‖: both layers grow
    at rate g*. The positive neurons reach that rate once aligned with the leading extremal vector, after an O(1)
    turn whose angular speed does not depend on λ (F1.6), so the bound is also the size, up to a λ-independent C
    (which absorbs the turn, ‖x‖ and the aligned fraction). The constant is not available (F2.5).
    """
    return Formula("F2.5-output", "output size during the early phase", "[R]",
                   "max_k |h(x_k)| ~ C m lambda_eff^2 exp(2 g* t) while h ~ 0 (both layers grow at rate g*)",
                   _C * _M * _LAM ** 2 * sp.exp(2 * _G * _T), (_LAM, _T, _G, _M, _C), sp.Symbol("max|h|"))


def output_order(bound: Formula, eps) -> float:
    """λ-exponent c of `bound` at t = ε·T_λ, T_λ = ln(1/λ_eff)/g* (F2.5): c = ∂ln(bound)/∂ln λ_eff after the
    substitution. For `early_output_bound` λ_eff² e^{2g*εT_λ} = λ_eff^{2(1−ε)}, so c = 2(1 − ε) (BF-P2's O(λ^c);
    λ_eff = λ·‖z‖/√m ∝ λ at fixed m, so the exponent in λ is the same)."""
    lam, t, g = bound.args[:3]
    e = sp.Symbol("epsilon", positive=True)
    at = bound.rhs.subs(t, e * sp.log(1 / lam) / g)
    return float(sp.simplify(lam * sp.diff(sp.log(at), lam)).subs(e, eps))


@mutant("F2.5-output", "only one layer grows (e^{g*t} instead of e^{2g*t})")
def _output_one_layer_growth(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(f.args[1], f.args[1] / 2))


@mutant("F2.5-output", "output linear in the init scale (λ_eff instead of λ_eff²)")
def _output_linear_in_scale(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / f.args[0])
