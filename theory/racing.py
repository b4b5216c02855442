"""Racing under fixed gating (Pinson; formulas.md F1.2–F1.8, all [R]).

Scalar neuron with fixed gating and residual: ẇ = a m, ȧ = w·m, s = ‖m‖, δ = ∠(w, sign(a) m̂).
In the plane of (m̂, w): α = m̂·w, β = the orthogonal part (constant), ρ = ‖w‖ = √(α² + β²).

  d cos δ/dt = s (|a|/ρ) sin²δ                          (F1.4, general)
  balanced:  tan(δ(t)/2) = tan(δ₀/2) e^{−st}             (F1.4)
             p(t) = p₀ e^{2st} [(1 + T(t)²)/(1 + T₀²)]²,  T = tan(δ/2)   (F1.5)
             p(t) cos⁴(δ(t)/2) = p₀ cos⁴(δ₀/2) e^{2st}   (F1.5 invariant form; head start cos⁴(δ₀/2))
  same group: p_i/p_j → (p_i0/p_j0) ((1 + cos δ_i0)/(1 + cos δ_j0))²   (F1.7)
  merge:      a_i relu(w_i·x) + a_j relu(w_j·x) = (a_i‖w_i‖ + a_j‖w_j‖) relu(û·x)  if ŵ_i = ŵ_j = û  (F1.8)
  escape:     t_c = ln(1/p_c(0)) / (2 s_c),  p_c(0) ∝ λ²  ⇒  dt_c / d ln(1/λ) = 1/s_c          (F1.9b)
  cluster rate: s_c = ‖(1/N) Σ_{k∈c} y_k x_k‖ ≈ (N_c/N)‖μ_c‖                              (F1.9, XOR clusters)
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import validate as vd
from .errors import TheoryError
from .formula import Formula, checked_formula, relu
from .mutants import mutant
from .network import flow_rate, is_zero  # flow_rate (F3.1-rate) lives beside F3.2 in theory.network
from ._vector_target import vector_target  # F1.3 vector output: sign(c₁⁺)(v₁, u₁) of M's SVD

__all__ = ["angle_law", "with_angle_rate", "norm_law", "with_norm_power", "growth_rate", "head_start", "race_ratio",
           "final_norm_predictor", "escape_time", "escape_slope", "verify", "verify_merge_rule", "verify_spectrum",
           "merge_rule", "formulas", "gated_correlation", "target_direction", "leading_mode", "fixed_gating_system",
           "angle_to", "flow_rate", "vector_target"]

t, s = sp.symbols("t s", positive=True)
delta0 = sp.Symbol("delta_0", positive=True)
p0 = sp.Symbol("p_0", positive=True)
delta = sp.Function("delta")


def angle_law() -> Formula:
    """δ(t) = 2 atan(tan(δ₀/2) e^{−st}) (F1.4)."""
    rhs = 2 * sp.atan(sp.tan(delta0 / 2) * sp.exp(-s * t))
    return Formula("F1.4", "angle law (balanced, fixed gating)", "[R]",
                   "tan(delta/2) decays as exp(-s t), independently of the norm", rhs, (delta0, s, t),
                   sp.Symbol("delta"))


def with_angle_rate(f: Formula, factor) -> Formula:
    """The angle law with e^{−factor·st} (t ↦ factor·t): the mutants below and the checks' rate-2s alternative.

    Arguments:
        f: the angle law (args (δ₀, s, t)) or a variant of it.  factor: a finite real number (or a SymPy expression).
    """
    checked_formula("f", f, nargs=3)
    factor = vd.expression("factor", factor)
    return f.subs({f.args[2]: factor * f.args[2]})


@mutant("F1.4", "rate factor 2: tan(δ/2) ∝ e^{−2st}")
def _angle_rate_doubled(f: Formula) -> Formula:
    return with_angle_rate(f, 2)


@mutant("F1.4", "e^{+st} (sign of the exponent)")
def _angle_rate_sign(f: Formula) -> Formula:
    return f.subs({t: -t})


@mutant("F1.4", "no half angle: tan δ = tan δ₀ e^{−st}")
def _angle_no_half(f: Formula) -> Formula:
    return f.with_rhs(sp.atan(sp.tan(delta0) * sp.exp(-s * t)))


def norm_law(angle: Formula | None = None) -> Formula:
    """p(t) = p₀ e^{2st} [(1 + tan²(δ(t)/2)) / (1 + tan²(δ₀/2))]² (F1.5), δ(t) from `angle` (default F1.4).

    Arguments:
        angle: the angle law δ(t) to use (a Formula in δ₀, s, t), None for `angle_law()`.
    """
    if angle is not None:
        checked_formula("angle", angle, nargs=3)
    T = sp.tan((angle or angle_law()).rhs / 2)
    T0 = sp.tan(delta0 / 2)
    rhs = p0 * sp.exp(2 * s * t) * ((1 + T ** 2) / (1 + T0 ** 2)) ** 2
    return Formula("F1.5", "norm law (balanced, fixed gating)", "[R]",
                   "p = |a||w| grows at rate 2 s cos(delta); the head start is p0 cos^4(delta0/2)",
                   rhs, (p0, delta0, s, t), sp.Symbol("p"))


def with_norm_power(f: Formula, k) -> Formula:
    """The norm law with the head-start ratio ((1 + T²)/(1 + T₀²)) to the power k instead of 2 (k = 1: the cos²
    head start the checks propose as an alternative).

    Arguments:
        f: the norm law (or a variant).  k: the power, an integer or a rational number.
    """
    checked_formula("f", f, min_args=1)
    k = vd.expression("k", k)
    if not k.is_rational:
        raise TheoryError(f"k must be an integer or a rational number, got {k!r}")
    growth = p0 * sp.exp(2 * s * t)
    return f.with_rhs(growth * (f.rhs / growth) ** sp.Rational(k, 2))


@mutant("F1.5", "head-start ratio to the power 1 (cos² head start)")
def _norm_power_one(f: Formula) -> Formula:
    return with_norm_power(f, 1)


@mutant("F1.5", "head-start ratio to the power 3")
def _norm_power_three(f: Formula) -> Formula:
    return with_norm_power(f, 3)


@mutant("F1.5", "e^{st} instead of e^{2st}")
def _norm_rate_halved(f: Formula) -> Formula:
    return f.with_rhs(f.rhs * sp.exp(-s * t))


@mutant("F1.5", "head-start ratio inverted")
def _norm_ratio_inverted(f: Formula) -> Formula:
    return f.with_rhs(p0 ** 2 * sp.exp(4 * s * t) / f.rhs)


def growth_rate() -> Formula:
    """d ln p/dt = 2 s cos δ for a balanced neuron with fixed gating and residual (F1.5; PIN-5)."""
    d = sp.Symbol("delta", real=True)
    return Formula("F1.5-rate", "log-growth rate of p = |a||w|", "[R]",
                   "neurons pointing away from their target (cos delta < 0) shrink", 2 * s * sp.cos(d), (s, d),
                   sp.Symbol("dlnp/dt"))


@mutant("F1.5-rate", "rate factor 1: d ln p/dt = s cos δ")
def _growth_factor_one(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / 2)


@mutant("F1.5-rate", "sin δ instead of cos δ")
def _growth_sin(f: Formula) -> Formula:
    d = f.args[1]
    return f.with_rhs(f.rhs.subs(sp.cos(d), sp.sin(d)))


@mutant("F1.5-rate", "sign flipped")
def _growth_sign(f: Formula) -> Formula:
    return f.with_rhs(-f.rhs)


@mutant("F1.5-rate", "s² instead of s")
def _growth_s_squared(f: Formula) -> Formula:
    return f.with_rhs(f.rhs * f.args[0])


def head_start() -> Formula:
    """lim_{t→∞} p(t) e^{−2st} / p₀ = cos⁴(δ₀/2) (F1.5 asymptote)."""
    return Formula("F1.5-head-start", "asymptotic head-start factor", "[R]",
                   "each neuron's asymptotic norm is p0 cos^4(delta0/2) exp(2 s t)", sp.cos(delta0 / 2) ** 4,
                   (delta0,), sp.Symbol("H"))


@mutant("F1.5-head-start", "cos²(δ₀/2) (the growing-mode amplitude, not squared)")
def _head_start_squared_only(f: Formula) -> Formula:
    return f.with_rhs(sp.cos(delta0 / 2) ** 2)


@mutant("F1.5-head-start", "cos⁴δ₀ (no half angle)")
def _head_start_no_half(f: Formula) -> Formula:
    return f.subs({delta0: 2 * delta0})


@mutant("F1.5-head-start", "inverted: 1/cos⁴(δ₀/2)")
def _head_start_inverted(f: Formula) -> Formula:
    return f.with_rhs(1 / f.rhs)


def race_ratio() -> Formula:
    """p_i/p_j → (p_i0/p_j0)((1 + cos δ_i0)/(1 + cos δ_j0))² within a group (F1.7)."""
    pi, pj, di, dj = sp.symbols("p_i0 p_j0 delta_i0 delta_j0", positive=True)
    rhs = pi / pj * ((1 + sp.cos(di)) / (1 + sp.cos(dj))) ** 2
    return Formula("F1.7", "race ratio within a group", "[R]",
                   "the final norm ratio of two neurons with the same target is fixed by their head starts",
                   rhs, (pi, pj, di, dj), sp.Symbol("p_i/p_j"))


def final_norm_predictor() -> Formula:
    """π_j = p_j cos⁴(δ_j/2): constant ratios within a group while gating and residual are fixed (F1.7)."""
    p, d = sp.symbols("p delta", positive=True)
    return Formula("F1.7-predictor", "final-norm predictor", "[R]",
                   "pi = p cos^4(delta/2) ranks final norms within a group", p * sp.cos(d / 2) ** 4, (p, d),
                   sp.Symbol("pi"))


@mutant("F1.7-predictor", "missing factor p: cos⁴(δ/2)")
def _predictor_no_p(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / f.args[0])


@mutant("F1.7-predictor", "inverted p: p⁻¹cos⁴(δ/2)")
def _predictor_inverted_p(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / f.args[0] ** 2)


@mutant("F1.7-predictor", "δ instead of δ/2: p cos⁴δ")
def _predictor_full_angle(f: Formula) -> Formula:
    return f.subs({f.args[1]: 2 * f.args[1]})


@mutant("F1.7-predictor", "sin for cos: p sin⁴(δ/2)")
def _predictor_sin(f: Formula) -> Formula:
    d = f.args[1]
    return f.with_rhs(f.rhs.subs(sp.cos(d / 2), sp.sin(d / 2)))


def escape_time() -> Formula:
    """t_c = ln(1/p_c(0)) / (2 s_c): flow time for p = p_c(0) e^{2 s_c t} to reach O(1) (F1.9b)."""
    pc = sp.Symbol("p_c0", positive=True)
    return Formula("F1.9b", "escape time of a group (residual unlocking)", "[R]",
                   "a group with rate s escapes when p0 exp(2 s t) reaches O(1)", sp.log(1 / pc) / (2 * s),
                   (pc, s), sp.Symbol("t_c"))


@mutant("F1.9b", "growth factor 1: p_c(0) e^{s_c t} = O(1) (slope 2/s_c)")
def _escape_factor_one(f: Formula) -> Formula:
    return f.with_rhs(2 * f.rhs)


@mutant("F1.9b", "1/s_c² instead of 1/s_c")
def _escape_s_squared(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / f.args[1])


@mutant("F1.9b", "sign flipped")
def _escape_sign(f: Formula) -> Formula:
    return f.with_rhs(-f.rhs)


@mutant("F1.9b", "p_c(0) ∝ λ instead of λ²")
def _escape_linear_init(f: Formula) -> Formula:
    pc = f.args[0]
    return f.with_rhs(f.rhs.subs(pc, pc ** sp.Rational(1, 2)))


def escape_slope(escape: Formula | None = None) -> Formula:
    """dt_c / d ln(1/λ) with p_c(0) = C λ² (init scale λ): 1/s_c for the F1.9b escape time.

    Arguments:
        escape: the escape time (a Formula of (p_c0, s)), None for `escape_time()`.
    """
    f = escape_time() if escape is None else checked_formula("escape", escape, nargs=2)
    C, ell = sp.symbols("C ell", positive=True)  # ell = ln(1/λ), λ = e^{−ell}
    t_of_ell = f.rhs.subs(f.args[0], C * sp.exp(-2 * ell))
    return Formula("F1.9b-slope", "escape-time slope against ln(1/lambda)", "[R]",
                   "a group escapes 1/s_c later per unit of ln(1/lambda)",
                   sp.simplify(sp.diff(t_of_ell, ell)), (s,), sp.Symbol("dt_c/dln(1/lambda)"))


# --------------------------------------------------------------------------- derivations
def _trig(expr):
    """Simplify trigonometric functions of atan: cos(2 atan x) = (1 − x²)/(1 + x²), etc."""
    return sp.simplify(sp.expand_trig(sp.simplify(expr)))


def _planar_flow():
    """α̇ = a s, ȧ = α s (the component along m̂), β constant: the scalar fixed-gating system."""
    al, be, a = sp.symbols("alpha beta a", real=True)
    return al, be, a, {al: a * s, be: sp.S.Zero, a: al * s}


def verify() -> dict[str, bool]:
    """Each racing formula against the ODE it claims to solve (exact symbolic tests)."""
    out = {}
    al, be, a, rates = _planar_flow()
    rho = sp.sqrt(al ** 2 + be ** 2)
    cos_d = al / rho  # a > 0: sign(a) = 1
    dcos = sum(sp.diff(cos_d, v) * r for v, r in rates.items())
    sin2 = be ** 2 / rho ** 2
    out["F1.4 dcos(delta)/dt = s |a|/|w| sin^2"] = is_zero(dcos - s * (a / rho) * sin2)
    # balanced: a = ρ turns the general law into dδ/dt = −s sin δ; the closed form must solve it
    d_t = angle_law().rhs
    out["F1.4 angle law solves d delta/dt = -s sin delta"] = is_zero(
        sp.simplify(sp.diff(d_t, t) + s * sp.sin(d_t)).rewrite(sp.exp))
    out["F1.4 angle law initial value"] = is_zero(sp.tan(d_t.subs(t, 0) / 2) - sp.tan(delta0 / 2))
    # norm law: d ln p / dt = 2 s cos δ(t), p(0) = p0
    p_t = norm_law().rhs
    out["F1.5 d ln p/dt = 2 s cos delta"] = is_zero(_trig(sp.diff(sp.log(p_t), t) - 2 * s * sp.cos(d_t)))
    out["F1.5 growth rate formula"] = is_zero(_trig(
        sp.diff(sp.log(p_t), t) - growth_rate().rhs.subs(growth_rate().args[1], d_t)))
    out["F1.5 norm law initial value"] = is_zero(sp.simplify(p_t.subs(t, 0) - p0))
    # invariant form and head start
    out["F1.5 p cos^4(delta/2) e^{-2st} invariant"] = is_zero(
        sp.simplify((p_t * sp.cos(d_t / 2) ** 4 * sp.exp(-2 * s * t) - p0 * sp.cos(delta0 / 2) ** 4)
                    .rewrite(sp.tan)))
    lim = sp.limit(sp.simplify(p_t * sp.exp(-2 * s * t) / p0).rewrite(sp.exp), t, sp.oo)
    out["F1.5 head start cos^4(delta0/2)"] = is_zero(_trig((lim - head_start().rhs).rewrite(sp.cos)))
    # race ratio: ratio of two head starts
    f = race_ratio()
    pi, pj, di, dj = f.args
    hs = head_start().rhs
    out["F1.7 race ratio"] = is_zero(sp.simplify(pi * hs.subs(delta0, di) / (pj * hs.subs(delta0, dj)) - f.rhs))
    out["F1.9b escape slope = 1/s"] = is_zero(escape_slope().rhs - 1 / s)
    pc = escape_time().args[0]
    out["F1.9b p0 exp(2 s t_c) = 1"] = is_zero(sp.simplify(pc * sp.exp(2 * s * escape_time().rhs) - 1))
    out.update(verify_merge_rule())
    out.update(verify_spectrum())
    return out


def verify_merge_rule() -> dict[str, bool]:
    """F1.8 by positive homogeneity, for any signs of a_i, a_j."""
    ri, rj = sp.symbols("r_i r_j", positive=True)
    ai, aj, z = sp.symbols("a_i a_j z", real=True)  # z = û·x
    lhs = ai * relu(ri * z) + aj * relu(rj * z)
    rhs = (ai * ri + aj * rj) * relu(z)
    q = sp.Symbol("q", positive=True)  # |c| for c = a_i‖w_i‖ + a_j‖w_j‖ ≠ 0
    rep = all(is_zero(sg * sp.sqrt(q) * relu(sp.sqrt(q) * z) - sg * q * relu(z)) for sg in (1, -1))
    return {"F1.8 exact merge": is_zero(lhs - rhs), "F1.8 balanced representative": rep}


def verify_spectrum() -> dict[str, bool]:
    """F1.2 scalar case: K(m̂; ±1) = ±s(m̂; ±1), and α ± a = (α₀ ± a₀) e^{±st} solves the system."""
    m1, m2 = sp.symbols("m1 m2", real=True)
    m = sp.Matrix([m1, m2])
    sn = sp.sqrt(m1 ** 2 + m2 ** 2)
    K = sp.Matrix([[0, 0, m1], [0, 0, m2], [m1, m2, 0]])
    ok = all(is_zero(K * sp.Matrix([*(m / sn), sg]) - sg * sn * sp.Matrix([*(m / sn), sg])) for sg in (1, -1))
    al0, a0 = sp.symbols("alpha_0 a_0", real=True)
    up, dn = (al0 + a0) * sp.exp(s * t), (al0 - a0) * sp.exp(-s * t)
    al_t, a_t = (up + dn) / 2, (up - dn) / 2
    sol = is_zero(sp.diff(al_t, t) - s * a_t) and is_zero(sp.diff(a_t, t) - s * al_t)
    return {"F1.2 eigenpairs of K": ok, "F1.2 solution alpha +- a": sol and is_zero(al_t.subs(t, 0) - al0)}


def merge_rule() -> Formula:
    """c = a_i‖w_i‖ + a_j‖w_j‖: the coefficient of the merged neuron (F1.8); args (a_i, r_i, a_j, r_j), r = ‖w‖."""
    ai, aj = sp.symbols("a_i a_j", real=True)
    ri, rj = sp.symbols("r_i r_j", positive=True)
    return Formula("F1.8", "merge rule", "[R]", "aligned neurons merge into one with coefficient "
                   "a_i|w_i| + a_j|w_j| (positive homogeneity)", ai * ri + aj * rj, (ai, ri, aj, rj),
                   sp.Symbol("c"))


@mutant("F1.8", "missing factor ‖w_i‖: coefficient Σ a_i")
def _merge_no_norms(f: Formula) -> Formula:
    return f.subs({f.args[1]: 1, f.args[3]: 1})


@mutant("F1.8", "sign flipped")
def _merge_sign(f: Formula) -> Formula:
    return f.with_rhs(-f.rhs)


@mutant("F1.8", "factor 2")
def _merge_doubled(f: Formula) -> Formula:
    return f.with_rhs(2 * f.rhs)


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    fs = [angle_law(), norm_law(), growth_rate(), head_start(), race_ratio(), final_norm_predictor(), merge_rule(),
          escape_time(), escape_slope()]
    return {f.id: f for f in fs}


# --------------------------------------------------------------------------- numeric helpers (numpy)
def gated_correlation(X, e, gates) -> np.ndarray:
    """M = (1/n) Σ_k g_k e_k x_kᵀ: (d,) for scalar e (the vector m), (k, d) for vector e; gates (n,) or (n, m).

    Arguments:
        X: inputs (n, d).  e: residuals (n,) or (n, k).  gates: 0/1 (or bool) gates (n,), or (n, m) per neuron.
    Returns:
        (d,), (k, d), (m, d) or (m, k, d).
    """
    X, e = vd.data(X, e, y_ndim=(1, 2))
    g = vd.array("gates", gates, ndim=(1, 2))
    n = X.shape[0]
    if g.shape[0] != n:
        raise TheoryError(f"gates has {g.shape[0]} rows but X has n={n}; give one gate per sample (shape (n,) or "
                          "(n, m))")
    if g.ndim == 2:  # one correlation per neuron
        return np.einsum("kj,k...,kd->j...d", g, e, X) / n
    return np.einsum("k,k...,kd->...d", g, e, X) / n


def target_direction(m, sign_a, *, on_zero: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """Scalar output (F1.3): t = sign(a) m/‖m‖ and s = ‖m‖, for m of shape (..., d).

    A zero m (a neuron active on no sample, or whose residuals cancel) or a zero sign(a) has no target direction:
    TheoryError by default; on_zero="nan" makes that row's t NaN, on_zero="zero" the zero vector (s is ‖m‖ there):
    a sentinel only when asked for, never a silent zero.

    Arguments:
        m: correlation vectors (..., d), finite.  sign_a: output weights (or their signs), shape m.shape[:-1].
        on_zero: "raise" (default), "nan" or "zero", for rows without a direction.
    Returns:
        (t of shape (..., d), s of shape (...)).
    """
    m = vd.array("m", m, ndim=tuple(range(1, 8)))
    sg = np.sign(vd.broadcast("sign_a", sign_a, m.shape[:-1], "one output weight per row of m"))
    s_ = np.linalg.norm(m, axis=-1)
    zero = (s_ == 0) | (sg == 0)
    vd.zero_rows("target_direction", zero, on_zero, "m = 0 or sign(a) = 0")
    t_ = sg[..., None] * m / np.where(s_ > 0, s_, 1.0)[..., None]
    return np.where(zero[..., None], 0.0 if on_zero == "zero" else np.nan, t_), s_


def leading_mode(M) -> tuple[float, np.ndarray, np.ndarray]:
    """Vector output (F1.2–F1.3): top singular triple (σ₁, v₁, u₁) of M (k × d); (v₁; u₁) spans K's top eigenvector.

    Arguments:
        M: the correlation matrix (k, d) (or a vector (d,)), finite and not zero (a zero M has no leading mode).
    """
    M = vd.nonzero("M", M, ndim=M.ndim if isinstance(M, np.ndarray) and M.ndim in (1, 2) else 2)
    U, S, Vt = np.linalg.svd(np.atleast_2d(M))
    return float(S[0]), Vt[0], U[:, 0]


def fixed_gating_system(M) -> np.ndarray:
    """K = [[0, Mᵀ], [M, 0]] for M of shape (k, d) (a row vector mᵀ for scalar output).

    Arguments:
        M: (k, d) or (d,), finite.
    """
    M = np.atleast_2d(vd.array("M", M, ndim=(1, 2)))
    k, d = M.shape
    return np.block([[np.zeros((d, d)), M.T], [M, np.zeros((k, k))]])


def angle_to(w, direction, *, on_zero: str = "raise") -> np.ndarray:
    """δ = ∠(w, direction) in [0, π], rowwise.

    A zero w or zero direction has no angle: TheoryError by default, NaN there with on_zero="nan".

    Arguments:
        w: vectors (..., d).  direction: vectors broadcastable against w, same last dimension d.
        on_zero: "raise" (default) or "nan", for rows where either vector is zero.
    """
    vd.choice("on_zero", on_zero, ("raise", "nan"))
    w = vd.array("w", w, ndim=tuple(range(1, 8)))
    u = vd.array("direction", direction, ndim=tuple(range(1, 8)))
    try:
        if w.shape[-1] != u.shape[-1]:
            raise ValueError
        np.broadcast_shapes(w.shape, u.shape)
    except ValueError:
        raise TheoryError(f"direction {u.shape} does not fit w {w.shape}; give vectors in ℝ^{w.shape[-1]} like w, "
                          "one or one per row") from None
    dots = np.sum(w * u, -1)
    norms = np.linalg.norm(w, axis=-1) * np.linalg.norm(u, axis=-1)
    zero = norms == 0
    vd.zero_rows("angle_to", zero, on_zero, "w = 0 or direction = 0")
    c = dots / np.where(norms > 0, norms, 1.0)
    return np.where(zero, np.nan, np.arccos(np.clip(c, -1.0, 1.0)))
