"""Gradients of one neuron in polar coordinates, and their ratios (formulas.md F1.6, all [R]; PIN-12).

Scalar output, fixed gating and residual: ∂L/∂w = −a m and ∂L/∂a = −w·m (F1.1, proved by
`theory.network.TwoLayerNetwork.verify`). In the plane span(w, m) write w = ρ(cos φ, sin φ) and
m = s(cos ψ, sin ψ), θ = φ − ψ = ∠(w, m). The chain rule gives

  ∂L/∂ρ = −a s cos θ,   ∂L/∂φ = a ρ s sin θ,   ∂L/∂a = −ρ s cos θ
  |∂L/∂φ| / |∂L/∂a| = |a| |tan θ|,   |∂L/∂φ| / |∂L/∂ρ| = ρ |tan θ|        (both O(λ) at init: a, ρ ∝ λ)
  angular speed under the flow  |φ̇| = ρ⁻² |∂L/∂φ| = (|a|/ρ) s |sin θ|    (balanced: s|sin θ|, O(1))

Outgoing vector (k = 2): a = r(cos φ_a, sin φ_a), ∂L/∂a = −v with v = M w = ‖v‖(cos ψ_a, sin ψ_a):

  (∂L/∂φ_a) / (∂L/∂r) = r tan(ψ_a − φ_a)                                           (signed)

Fig. 3 of the paper plots this ratio against 3π/4 − φ_a at t = 0: with two outputs and the residual of softmax
cross-entropy at h = 0, e_k = onehot(y_k) − (½, ½) = ±(½, −½), so v = M w ∥ (1, −1) for every neuron, ψ_a ≡ 3π/4
(mod π), and since tan has period π the plotted quantity is r tan(3π/4 − φ_a) for every neuron [R].

`scale_exponent` reads the λ-exponent of a ratio off its homogeneity degree in (a, ρ) (s and θ do not depend on
λ while h ≈ 0, so e ≈ y): 1 for both ratios, 0 for the angular speed.
"""
from __future__ import annotations

import sympy as sp

from .errors import TheoryError
from .formula import Formula, checked_formula
from .mutants import mutant
from .network import TwoLayerNetwork, is_zero

__all__ = ["grad_rho", "grad_phi", "grad_a", "ratio_a", "ratio_rho", "angular_speed", "outgoing_ratio",
           "fig3_target_angle", "scale_exponent", "verify", "verify_outgoing", "formulas"]

a = sp.Symbol("a", real=True)
rho, s, r = sp.symbols("rho s r", positive=True)
theta, phi, psi = sp.symbols("theta phi psi", real=True)


def grad_rho() -> Formula:
    """∂L/∂ρ = −a s cos θ (F1.6); args (a, s, θ)."""
    return Formula("F1.6-rho", "radial gradient of the incoming weights", "[R]", "dL/drho = -a s cos(theta)",
                   -a * s * sp.cos(theta), (a, s, theta), sp.Symbol("dL/drho"))


def grad_phi() -> Formula:
    """∂L/∂φ = a ρ s sin θ (F1.6); args (a, ρ, s, θ)."""
    return Formula("F1.6-phi", "angular gradient of the incoming weights", "[R]",
                   "dL/dphi = a rho s sin(theta), theta = phi - psi the angle from m to w",
                   a * rho * s * sp.sin(theta), (a, rho, s, theta), sp.Symbol("dL/dphi"))


def grad_a() -> Formula:
    """∂L/∂a = −ρ s cos θ (F1.6); args (ρ, s, θ)."""
    return Formula("F1.6-a", "output-weight gradient in polar form", "[R]", "dL/da = -rho s cos(theta)",
                   -rho * s * sp.cos(theta), (rho, s, theta), sp.Symbol("dL/da"))


def ratio_a() -> Formula:
    """|∂L/∂φ| / |∂L/∂a| = |a| |tan θ| (F1.6); args (a, ρ, s, θ)."""
    return Formula("F1.6-ratio-a", "angular over output-weight gradient", "[R]",
                   "|dL/dphi| / |dL/da| = |a| |tan theta|: O(lambda) at init", sp.Abs(a) * sp.Abs(sp.tan(theta)),
                   (a, rho, s, theta), sp.Symbol("|dL/dphi|/|dL/da|"))


@mutant("F1.6-ratio-a", "λ² exponent: a²|tan θ|")
def _ratio_a_squared(f: Formula) -> Formula:
    return f.with_rhs(f.rhs * sp.Abs(a))


@mutant("F1.6-ratio-a", "missing tan: |a|")
def _ratio_a_no_tan(f: Formula) -> Formula:
    return f.with_rhs(sp.Abs(a))


def ratio_rho() -> Formula:
    """|∂L/∂φ| / |∂L/∂ρ| = ρ |tan θ| (F1.6); args (a, ρ, s, θ)."""
    return Formula("F1.6-ratio-rho", "angular over radial gradient", "[R]",
                   "|dL/dphi| / |dL/drho| = rho |tan theta|: O(lambda) at init", rho * sp.Abs(sp.tan(theta)),
                   (a, rho, s, theta), sp.Symbol("|dL/dphi|/|dL/drho|"))


@mutant("F1.6-ratio-rho", "sin instead of tan: ρ|sin θ|")
def _ratio_rho_sin(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(sp.tan(theta), sp.sin(theta)))


def angular_speed() -> Formula:
    """|φ̇| = ρ⁻² |∂L/∂φ| = (|a|/ρ) s |sin θ| (F1.6); args (a, ρ, s, θ)."""
    return Formula("F1.6-speed", "angular speed of the incoming weights under the flow", "[R]",
                   "|dphi/dt| = (|a|/rho) s |sin theta|; balanced: s |sin theta|, O(1) at any init scale",
                   sp.Abs(a) / rho * s * sp.Abs(sp.sin(theta)), (a, rho, s, theta), sp.Symbol("|dphi/dt|"))


@mutant("F1.6-speed", "without ρ⁻² (the raw |∂L/∂φ|)")
def _speed_raw_gradient(f: Formula) -> Formula:
    return f.with_rhs(f.rhs * rho ** 2)


@mutant("F1.6-speed", "cos θ instead of sin θ")
def _speed_cos(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(sp.sin(theta), sp.cos(theta)))


def outgoing_ratio() -> Formula:
    """(∂L/∂φ_a) / (∂L/∂r) = r tan(ψ_a − φ_a) for a = r(cos φ_a, sin φ_a), ψ_a the angle of M w; args (r, φ_a, ψ_a)."""
    return Formula("F1.6-out", "outgoing-angle ratio (the Fig. 3 quantity)", "[R]",
                   "dL/dphi_a / dL/d|a| = |a| tan(psi_a - phi_a), psi_a the polar angle of M w",
                   r * sp.tan(psi - phi), (r, phi, psi), sp.Symbol("dL/dphi_a / dL/d|a|"))


@mutant("F1.6-out", "sign flipped")
def _outgoing_sign(f: Formula) -> Formula:
    return f.with_rhs(-f.rhs)


@mutant("F1.6-out", "cot instead of tan: r cot(ψ_a − φ_a)")
def _outgoing_cot(f: Formula) -> Formula:
    return f.with_rhs(r ** 2 / f.rhs)


def fig3_target_angle() -> sp.Expr:
    """ψ_a (mod π) at t = 0 with residual e = ±(½, −½) (softmax cross-entropy at h = 0): the angle of (−1, 1)."""
    return sp.atan2(1, -1)


def scale_exponent(f: Formula) -> sp.Expr:
    """k with f(λa, λρ, s, θ) = λ^k f(a, ρ, s, θ) (a, ρ ∝ λ at init; s, θ fixed while h ≈ 0).

    Arguments:
        f: a Formula of this module (or a variant), non-zero and homogeneous in (a, ρ).
    """
    checked_formula("f", f, scalar=True)
    if f.rhs == 0:
        raise TheoryError(f"{f.id} is identically 0; it has no scale exponent")
    lam = sp.Symbol("lambda", positive=True)
    scaled = f.rhs.subs({a: lam * a, rho: lam * rho}, simultaneous=True)
    k = sp.simplify(lam * sp.diff(scaled, lam) / scaled)
    if k.free_symbols or not (k.is_number and k.is_finite):
        raise TheoryError(f"{f.id}: {f.rhs} is not homogeneous in (a, rho): d ln f / d ln lambda = {k}")
    return k


# --------------------------------------------------------------------------- derivations
def _polar_gradients():
    """The chain rule applied to the F1.1 gradient of `theory.network` (d = 2, m = s(cos ψ, sin ψ))."""
    net = TwoLayerNetwork(d=2, n=2)
    f11 = net.formulas()["F1.1"]
    w1, w2, a_, m1, m2 = f11.args
    polar = {w1: rho * sp.cos(phi), w2: rho * sp.sin(phi), a_: a, m1: s * sp.cos(psi), m2: s * sp.sin(psi)}
    g = f11.rhs.subs(polar, simultaneous=True)  # (∂L/∂w1, ∂L/∂w2, ∂L/∂a)
    w = sp.Matrix([rho * sp.cos(phi), rho * sp.sin(phi)])
    gw = sp.Matrix(g[:2])
    d_rho, d_phi = (gw.T * w.diff(rho))[0], (gw.T * w.diff(phi))[0]
    at = {phi: theta + psi}
    return [sp.simplify(sp.expand_trig(e.subs(at))) for e in (d_rho, d_phi, g[2])], net


def verify() -> dict[str, bool]:
    """Each F1.6 formula from the chain rule on the verified F1.1 gradient (exact symbolic tests)."""
    (d_rho, d_phi, d_a), net = _polar_gradients()
    checks = net.verify()
    out = {"F1.1 gradients (theory.network)": checks["F1.1 grad_a = -M w"] and checks["F1.1 grad_w = -M^T a"]}
    out["F1.6 dL/drho = -a s cos theta"] = is_zero(d_rho - grad_rho().rhs)
    out["F1.6 dL/dphi = a rho s sin theta"] = is_zero(d_phi - grad_phi().rhs)
    out["F1.6 dL/da = -rho s cos theta"] = is_zero(d_a - grad_a().rhs)
    # ratios: compare squares (|x|² = x² for real x), away from cos θ = 0
    sq = lambda f: f.rhs ** 2  # noqa: E731
    out["F1.6 |dL/dphi|/|dL/da| = |a||tan theta|"] = is_zero(sp.simplify(d_phi ** 2 / d_a ** 2 - sq(ratio_a())))
    out["F1.6 |dL/dphi|/|dL/drho| = rho|tan theta|"] = is_zero(sp.simplify(d_phi ** 2 / d_rho ** 2 - sq(ratio_rho())))
    # flow in polar coordinates: metric diag(1, ρ²), so φ̇ = −ρ⁻² ∂L/∂φ; check against ẇ = −∂L/∂w directly
    w = sp.Matrix([rho * sp.cos(phi), rho * sp.sin(phi)])
    m = sp.Matrix([s * sp.cos(psi), s * sp.sin(psi)])
    wdot = a * m  # −∂L/∂w (F1.1)
    phidot = sp.simplify((w[0] * wdot[1] - w[1] * wdot[0]) / rho ** 2).subs(phi, theta + psi)
    out["F1.6 phi' = -rho^-2 dL/dphi"] = is_zero(sp.expand_trig(phidot + d_phi / rho ** 2))
    out["F1.6 |phi'| = (|a|/rho) s |sin theta|"] = is_zero(sp.simplify(phidot ** 2 - sq(angular_speed())))
    bal = angular_speed().rhs.subs(a, rho)
    out["F1.6 balanced speed s|sin theta|"] = is_zero(bal - s * sp.Abs(sp.sin(theta)))
    out.update(verify_outgoing())
    out["F1.6 ratios O(lambda), speed O(1)"] = (scale_exponent(ratio_a()) == 1 and scale_exponent(ratio_rho()) == 1
                                               and scale_exponent(angular_speed()) == 0)
    return out


def verify_outgoing() -> dict[str, bool]:
    """Outgoing vector: ∂L/∂a = −v (F1.1, vector output: −M w), a = r(cos φ_a, sin φ_a); and Fig. 3's 3π/4."""
    v1, v2 = sp.symbols("v1 v2", real=True)
    av = sp.Matrix([r * sp.cos(phi), r * sp.sin(phi)])
    g = -sp.Matrix([v1, v2])
    d_r, d_phi = (g.T * av.diff(r))[0], (g.T * av.diff(phi))[0]
    q = sp.Symbol("q", positive=True)  # ‖v‖
    polar_v = {v1: q * sp.cos(psi), v2: q * sp.sin(psi)}
    ratio = sp.simplify(sp.expand_trig((d_phi / d_r).subs(polar_v)))
    ok_ratio = is_zero(sp.simplify(sp.expand_trig(ratio - outgoing_ratio().rhs)))
    # residual ±(½, −½): M w = c (½, −½) for a real c, so ψ_a ∈ {−π/4, 3π/4}; tan(ψ − φ) is the same for both
    ok_angle = is_zero(sp.tan(fig3_target_angle() - phi) - sp.tan(-sp.pi / 4 - phi)) and \
        is_zero(fig3_target_angle() - 3 * sp.pi / 4)
    return {"F1.6 outgoing ratio r tan(psi_a - phi_a)": ok_ratio,
            "F1.6 Fig. 3: psi_a = 3pi/4 mod pi": ok_angle}


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    fs = [grad_rho(), grad_phi(), grad_a(), ratio_a(), ratio_rho(), angular_speed(), outgoing_ratio()]
    return {f.id: f for f in fs}
