"""Intrinsic dynamics of two-layer linear nets z = UVᵀ and the depth-3 chain (INTR; formulas.md F3.9–F3.12).

Relaxed balance UᵀU − VᵀV = κ I_r gives zzᵀ = A² − κA and zᵀz = B² + κB for A = UUᵀ, B = VVᵀ, hence
  A(z) = ½(κ²I_n + 4zzᵀ)^{1/2} + (κ/2)I_n − max(κ, 0)(I_n − P_U)
  B(z) = ½(κ²I_m + 4zᵀz)^{1/2} − (κ/2)I_m − max(−κ, 0)(I_m − P_V)
and the lifted flow ż = −(A(z)∇f(z) + ∇f(z)B(z)) is autonomous in z. P_U = I_n when r ≥ n, else the
projector onto range z (rank r); likewise P_V with zᵀ and m. κ > 0 needs r ≤ n; κ < 0 needs r ≤ m.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import validate as vd
from .errors import TheoryError
from .formula import Formula
from .mutants import mutant
from .network import is_zero

__all__ = ["metric_A", "metric_B", "relaxed_balanced", "verify", "kernel_inclusion", "intersection_dim",
           "relu_intersection_dim",
           "inclusion_predicted", "chain_elementary", "chain_s", "chain_rate_formula", "chain_rate", "verify_chain"]


def _metric_args(z, kappa, r):
    return (vd.array("z", z, ndim=2), vd.real("kappa", kappa), vd.integer("r", r, minimum=1))


def _factors(U, V):
    U, V = vd.array("U", U, ndim=2), vd.array("V", V, ndim=2)
    if U.shape[1] != V.shape[1]:
        raise TheoryError(f"U {U.shape} and V {V.shape} must have the same number r of columns (z = U Vᵀ)")
    return U, V


def _psd_sqrt(M: np.ndarray) -> np.ndarray:
    w, Q = np.linalg.eigh((M + M.T) / 2)
    return (Q * np.sqrt(np.clip(w, 0, None))) @ Q.T


def _range_projector(z: np.ndarray, r: int, dim: int) -> np.ndarray:
    if r >= dim:
        return np.eye(dim)
    Uz = np.linalg.svd(z, full_matrices=False)[0][:, :r]
    return Uz @ Uz.T


def metric_A(z, kappa: float, r: int) -> np.ndarray:
    """A(z) ≈ UUᵀ (F3.11).

    Arguments:
        z: the product UVᵀ (n, m), finite.  kappa: the balance constant κ (UᵀU − VᵀV = κI).  r: inner width ≥ 1.
    """
    z, kappa, r = _metric_args(z, kappa, r)
    n = z.shape[0]
    return (0.5 * _psd_sqrt(kappa ** 2 * np.eye(n) + 4 * z @ z.T) + 0.5 * kappa * np.eye(n)
            - max(kappa, 0.0) * (np.eye(n) - _range_projector(z, r, n)))


def metric_B(z, kappa: float, r: int) -> np.ndarray:
    """B(z) ≈ VVᵀ (F3.11).

    Arguments:
        z: the product UVᵀ (n, m), finite.  kappa: the balance constant κ.  r: inner width ≥ 1.
    """
    z, kappa, r = _metric_args(z, kappa, r)
    m = z.shape[1]
    return (0.5 * _psd_sqrt(kappa ** 2 * np.eye(m) + 4 * z.T @ z) - 0.5 * kappa * np.eye(m)
            - max(-kappa, 0.0) * (np.eye(m) - _range_projector(z.T, r, m)))


def relaxed_balanced(n: int, r: int, m: int, kappa: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(U, V) with UᵀU − VᵀV = κI (E8): from V when κ ≥ 0 (U = Q (VᵀV + κI)^{1/2}), else from U.

    Arguments:
        n, r, m: widths ≥ 1 (κ ≥ 0 needs r ≤ n, κ < 0 needs r ≤ m).  kappa: finite real.  seed: ≥ 0.
    """
    n, r, m = (vd.integer(k, x, minimum=1) for k, x in (("n", n), ("r", r), ("m", m)))
    kappa, seed = vd.real("kappa", kappa), vd.integer("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    if kappa >= 0:
        if r > n:
            raise TheoryError(f"κ ≥ 0 needs r ≤ n (got r={r}, n={n})")
        V = rng.standard_normal((m, r))
        Q = np.linalg.qr(rng.standard_normal((n, r)))[0]
        return Q @ _psd_sqrt(V.T @ V + kappa * np.eye(r)), V
    if r > m:
        raise TheoryError(f"κ < 0 needs r ≤ m (got r={r}, m={m})")
    U = rng.standard_normal((n, r))
    Q = np.linalg.qr(rng.standard_normal((m, r)))[0]
    return U, Q @ _psd_sqrt(U.T @ U - kappa * np.eye(r))


def verify() -> dict[str, bool]:
    """Scalar case (n = m = r = 1): A = ½√(κ² + 4z²) + κ/2 solves A² − κA = z², B = A − κ solves B² + κB = z²."""
    z, kap = sp.symbols("z kappa", real=True)
    A = sp.sqrt(kap ** 2 + 4 * z ** 2) / 2 + kap / 2
    B = sp.sqrt(kap ** 2 + 4 * z ** 2) / 2 - kap / 2
    return {"F3.11 A^2 - kappa A = z^2": is_zero(sp.expand(A ** 2 - kap * A - z ** 2)),
            "F3.11 B^2 + kappa B = z^2": is_zero(sp.expand(B ** 2 + kap * B - z ** 2)),
            "F3.11 A - B = kappa": is_zero(A - B - kap)}


def _jacobians(n: int, r: int, m: int):
    """Symbolic Jacobians (w.r.t. θ = (U, V)) of φ = UVᵀ, h = upper(UᵀU − VᵀV) and M = (UUᵀ, VVᵀ), lambdified."""
    from .formula import lambdify

    U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i}_{j}"))
    V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i}_{j}"))
    theta = list(U) + list(V)
    S = U.T * U - V.T * V
    maps = {"phi": sp.Matrix(list(U * V.T)),
            "h": sp.Matrix([S[i, j] for i in range(r) for j in range(i, r)]),
            "M": sp.Matrix(list(U * U.T) + list(V * V.T))}
    return {k: lambdify(theta, v.jacobian(theta), "numpy") for k, v in maps.items()}


def kernel_inclusion(U, V, rcond: float = 1e-9, tol: float = 1e-8) -> tuple[bool, int, float]:
    """F3.10: does ker ∂φ(θ) ∩ ker ∂h(θ) ⊆ ker ∂M(θ)? Returns (holds, dim of the intersection, ‖∂M·Q‖).

    Arguments:
        U: (n, r), V: (m, r), finite.  rcond: relative rank threshold in (0, 1).  tol: inclusion tolerance > 0.
    """
    U, V = _factors(U, V)
    rcond, tol = vd.positive("rcond", rcond), vd.positive("tol", tol)
    if U.size + V.size > 400:
        raise TheoryError(f"U {U.shape}, V {V.shape}: the symbolic Jacobians need ≤ 400 parameters; use a smaller net")
    (n, r), m = U.shape, V.shape[0]
    J = _jacobians(n, r, m)
    vals = [*U.ravel(), *V.ravel()]
    Jphi, Jh, JM = (np.asarray(J[k](*vals), float).reshape(-1, len(vals)) for k in ("phi", "h", "M"))
    A = np.vstack([Jphi, Jh])
    _, s, Vt = np.linalg.svd(A)
    rank_ = int(np.sum(s > rcond * s[0])) if s[0] > 0 else 0
    Q = Vt[rank_:].T  # orthonormal basis of the intersection
    err = float(np.linalg.norm(JM @ Q)) if Q.size else 0.0
    return err <= tol, Q.shape[1], err


def intersection_dim(n: int, r: int, m: int) -> int | None:
    """F3.11 [R]: dim(ker ∂φ ∩ ker ∂h) for z = UVᵀ at a generic (U, V), by a dimension count.

      r ≤ min(n, m): r(r−1)/2 — ker ∂φ is the r² directions (UΞ, −VΞᵀ) of GL(r), and the r(r+1)/2 laws
          h = upper(UᵀU − VᵀV) cut the symmetric part of Ξ, leaving the skew part.
      min(n, m) < r ≤ max(n, m) (one factor rank-deficient, e.g. (4,3,2) → 4 [C]): φ is a submersion onto all
          n×m matrices, so dim ker ∂φ = r(n + m) − nm, and the r(r+1)/2 laws cut it to r(n + m) − nm − r(r+1)/2
          (their differentials stay independent on ker ∂φ).
    None for r > max(n, m), where the count can go negative and the closed form does not apply.

    Arguments:
        n, r, m: widths, integers ≥ 1.
    """
    n, r, m = (vd.integer(k, x, minimum=1) for k, x in (("n", n), ("r", r), ("m", m)))
    if r <= min(n, m):
        return r * (r - 1) // 2
    return r * (n + m) - n * m - r * (r + 1) // 2 if r <= max(n, m) else None


def relu_intersection_dim(d_in: int, r: int, d_out: int = 1, bias: bool = False) -> int:
    """[V: INTR summary] dim(ker ∂φ ∩ ker ∂h) = 0 for the ReLU path-lifting φ = (u_k (v_k; b_k)ᵀ)_k.

    Each rank-one block u_k v_kᵀ has a one-dimensional kernel (u_k, −v_k) (the rescaling), and the neuron's law
    h_k = ‖u_k‖² − ‖v_k‖² has ∂h_k·(u_k, −v_k) = 2(‖u_k‖² + ‖v_k‖²) ≠ 0 on it: r kernel directions, each cut by
    its own law, leave r − r = 0 ("ReLU is intrinsically recoverable").

    Arguments:
        d_in, r, d_out: widths, integers ≥ 1.  bias: with a hidden bias (same count).
    """
    d_in, r, d_out = (vd.integer(k, x, minimum=1) for k, x in (("d_in", d_in), ("r", r), ("d_out", d_out)))
    vd.boolean("bias", bias)
    kernel_directions, laws = r, r
    return kernel_directions - laws


def inclusion_predicted(U, V, tol: float = 1e-10) -> bool:
    """F3.11 necessity [R]: with U, V of full column rank and r ≤ min(n, m), inclusion ⇔ UᵀU − VᵀV = κI.

    Arguments:
        U: (n, r), V: (m, r), finite.  tol: relative tolerance of the balance test, ≥ 0.
    """
    U, V = _factors(U, V)
    tol = vd.positive("tol", tol, allow_zero=True)
    (n, r), m = U.shape, V.shape[0]
    if r > min(n, m) or np.linalg.matrix_rank(U) < r or np.linalg.matrix_rank(V) < r:
        return False
    S = U.T @ U - V.T @ V
    return bool(np.abs(S - np.trace(S) / r * np.eye(r)).max() <= tol * max(1.0, np.abs(S).max()))


# --------------------------------------------------------------------------- depth-3 scalar ReLU chain (F3.12)
def chain_elementary(x, y, w) -> float:
    """e₂(x, y, w) = xy + xw + yw.

    Arguments:
        x, y, w: finite numbers or arrays of one shape, or SymPy expressions (the formula and its mutants).
    """
    if not any(isinstance(q, sp.Basic) for q in (x, y, w)):
        x, y, w = (vd.array(k, q, nonempty=False) for k, q in (("x", x), ("y", y), ("w", w)))
    return x * y + x * w + y * w


def chain_s(z: float, h1: float, h2: float) -> float:
    """s = a²: the root of s(s − h₁)(s − h₁ − h₂) = z² with s ≥ max(0, h₁, h₁ + h₂) (F3.12).

    The cubic is ≤ 0 at s = max(0, h₁, h₁ + h₂) and increasing beyond, so the root always exists; bisection
    takes over where np.roots loses it to round-off (a double root).

    Arguments:
        z: the product abc.  h1, h2: the chain's conserved quantities (all finite reals).
    """
    z, h1, h2 = vd.real("z", z), vd.real("h1", h1), vd.real("h2", h2)
    lo = max(0.0, h1, h1 + h2)
    roots = np.roots([1.0, -(2 * h1 + h2), h1 * (h1 + h2), -z * z])
    real = [float(r.real) for r in roots if abs(r.imag) <= 1e-9 * max(1.0, abs(r))]
    cands = [r for r in real if r >= lo - 1e-12]
    if cands:
        return max(cands)
    cubic = lambda q: q * (q - h1) * (q - h1 - h2) - z * z  # noqa: E731
    hi = lo + 1.0
    while cubic(hi) < 0:
        hi = lo + 2 * (hi - lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cubic(mid) < 0 else (lo, mid)
    return hi


def chain_rate_formula() -> Formula:
    """ż = −e₂(s, s − h₁, s − h₁ − h₂) f′(z) (F3.12) as a formula of (s, h₁, h₂, f′); s = `chain_s(z, h₁, h₂)`."""
    s, h1, h2, fp = sp.symbols("s h_1 h_2 fprime", real=True)
    return Formula("F3.12", "intrinsic z-dynamics of the depth-3 chain z = abc", "[R]",
                   "with s = a^2, b^2 = s - h1, c^2 = s - h1 - h2, the NTK of z is e2(a^2, b^2, c^2)",
                   -chain_elementary(s, s - h1, s - h1 - h2) * fp, (s, h1, h2, fp), sp.Symbol("zdot"))


def _chain_e2(f: Formula, e2) -> Formula:
    s, h1, h2, fp = f.args
    return f.with_rhs(-e2(s, s - h1, s - h1 - h2) * fp)


@mutant("F3.12", "e₁ instead of e₂")
def _chain_e1(f: Formula) -> Formula:
    return _chain_e2(f, lambda x, y, w: x + y + w)


@mutant("F3.12", "sign flipped (ascent)")
def _chain_ascent(f: Formula) -> Formula:
    return f.subs({f.args[3]: -f.args[3]})


@mutant("F3.12", "one product term of e₂ missing")
def _chain_term_missing(f: Formula) -> Formula:
    return _chain_e2(f, lambda x, y, w: x * y + x * w)


def chain_rate(z: float, fprime: float, h1: float, h2: float) -> float:
    """ż = −e₂(s, s − h₁, s − h₁ − h₂) f′(z): the intrinsic z-dynamics of the chain z = abc (F3.12).

    Arguments:
        z: the product abc.  fprime: f′(z).  h1, h2: the conserved quantities (all finite reals).
    """
    fprime = vd.real("fprime", fprime)
    s = chain_s(z, h1, h2)
    return -chain_elementary(s, s - h1, s - h1 - h2) * fprime


def verify_chain() -> dict[str, bool]:
    """With s = a², b² = s − h₁, c² = s − h₁ − h₂: the cubic holds and ż of the θ-flow equals the z-formula."""
    a, b, c, fp = sp.symbols("a b c fp", positive=True)
    h1, h2 = a ** 2 - b ** 2, b ** 2 - c ** 2
    s = a ** 2
    zdot = b * c * (-fp * b * c) + a * c * (-fp * a * c) + a * b * (-fp * a * b)
    return {"F3.12 cubic": is_zero(sp.expand(s * (s - h1) * (s - h1 - h2) - (a * b * c) ** 2)),
            "F3.12 z-dynamics": is_zero(sp.expand(zdot + chain_elementary(s, s - h1, s - h1 - h2) * fp))}
