"""Conservation laws of two-layer linear nets z = UVᵀ (formulas.md F3.2–F3.4), symbolically.

  S = UᵀU − VᵀV is constant under U̇ = −G V, V̇ = −Gᵀ U for any G = ∇f(z)            (F3.4)
  one GD step:  S(θ − η∇L) − S(θ) = η² (VᵀGᵀGV − UᵀGGᵀU)                              (F3.2)
  weight decay θ̇ = −∇L − νθ:  d/dt S = −2ν S, so S(t) = e^{−2νt} S(0)                  (F3.3)

`linear_gd_defect()` and `linear_S_rate()` state the GD defect and dS/dt for *any* shape, with matrix symbols
U (n×r), V (m×r), G (n×m); `LinearNetwork(n, m, r)` substitutes explicit entries and `verify()` proves them.
The ReLU analogue (a_j² − ‖w_j‖²) lives in `theory.network`.
"""
from __future__ import annotations

import sympy as sp

from . import validate as vd
from .errors import TheoryError
from .formula import Formula, checked_formula
from .mutants import mutant
from .network import is_zero

__all__ = ["linear_gd_defect", "linear_S_rate", "LinearNetwork", "formulas", "solver_error_law", "tolerance_order"]

_n, _m, _r = sp.symbols("n m r", integer=True, positive=True)
U_, V_, G_ = sp.MatrixSymbol("U", _n, _r), sp.MatrixSymbol("V", _m, _r), sp.MatrixSymbol("G", _n, _m)
ETA, NU = sp.symbols("eta nu", positive=True)


def linear_gd_defect() -> Formula:
    """F3.2 (linear): S(θ − η∇L) − S(θ) = η²(VᵀGᵀGV − UᵀGGᵀU) for z = UVᵀ of any shape; args (η, U, V, G)."""
    return Formula("F3.2-linear", "exact per-step GD change of U^T U - V^T V", "[R]",
                   "one GD step changes S = U^T U - V^T V by eta^2 (V^T G^T G V - U^T G G^T U); the O(eta) terms "
                   "cancel", ETA ** 2 * (V_.T * G_.T * G_ * V_ - U_.T * G_ * G_.T * U_), (ETA, U_, V_, G_),
                   sp.Symbol("DeltaS"))


@mutant("F3.2-linear", "η instead of η²")
def _linear_defect_eta_first(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(ETA ** 2, ETA))


@mutant("F3.2-linear", "η³ instead of η²")
def _linear_defect_eta_cubed(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(ETA ** 2, ETA ** 3))


@mutant("F3.2-linear", "sign flipped")
def _linear_defect_sign(f: Formula) -> Formula:
    return f.with_rhs(-f.rhs)


@mutant("F3.2-linear", "missing factor ½")
def _linear_defect_half(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / 2)


@mutant("F3.2-linear", "UᵀGGᵀU term dropped")
def _linear_defect_output_term(f: Formula) -> Formula:
    return f.with_rhs(ETA ** 2 * V_.T * G_.T * G_ * V_)


def linear_S_rate() -> Formula:
    """dS/dt along θ̇ = −∇L − νθ (U̇ = −GV − νU, V̇ = −GᵀU − νV), by the chain rule; args (U, V, G, ν).

    It is 0 at ν = 0 (F3.4) and −2νS with weight decay (F3.3); `LinearNetwork.verify` proves both.
    """
    dU, dV = -G_ * V_ - NU * U_, -G_.T * U_ - NU * V_
    return Formula("F3.4-rate", "rate of S = U^T U - V^T V along the (weight-decayed) gradient flow", "[R]",
                   "dS/dt = dU^T U + U^T dU - dV^T V - V^T dV = -2 nu S; 0 without weight decay",
                   dU.T * U_ + U_.T * dU - dV.T * V_ - V_.T * dV, (U_, V_, G_, NU), sp.Symbol("dS/dt"))


@mutant("F3.4-rate", "weight decay ν = 1 in the flow (dS/dt = −2S)")
def _rate_decayed(f: Formula) -> Formula:
    return f.subs({NU: 1})


@mutant("F3.4-rate", "only d(UᵀU)/dt (the input layer forgotten)")
def _rate_output_layer_only(f: Formula) -> Formula:
    return f.with_rhs(-(V_.T * G_.T * U_ + U_.T * G_ * V_))


@mutant("F3.4-rate", "sign error in V̇ (V̇ = +GᵀU)")
def _rate_sign_of_vdot(f: Formula) -> Formula:
    return f.with_rhs(-2 * (V_.T * G_.T * U_ + U_.T * G_ * V_))


class LinearNetwork:
    """Symbols U (n×r), V (m×r), a generic gradient G = ∇f(z) (n×m) and the derived laws."""

    def __init__(self, n: int = 2, m: int = 2, r: int = 2):
        """Arguments:
            n, m, r: the shapes U (n×r), V (m×r), integers in [1, 16].
        """
        n, m, r = (vd.integer(k, x, minimum=1, maximum=16) for k, x in (("n", n), ("m", m), ("r", r)))
        self.shape = (n, m, r)
        self.U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i + 1}{j + 1}", real=True))
        self.V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i + 1}{j + 1}", real=True))
        self.G = sp.Matrix(n, m, lambda i, j: sp.Symbol(f"G{i + 1}{j + 1}", real=True))
        self.eta, self.nu = ETA, NU

    def explicit(self, expr) -> sp.Matrix:
        """A matrix-symbol expression (of `linear_gd_defect`, `linear_S_rate`) with this net's explicit entries."""
        n, m, r = self.shape
        e = expr.subs({_n: n, _m: m, _r: r})
        e = e.xreplace({U_.subs({_n: n, _r: r}): self.U, V_.subs({_m: m, _r: r}): self.V,
                        G_.subs({_n: n, _m: m}): self.G})
        return sp.Matrix(e.doit())

    @property
    def S(self) -> sp.Matrix:
        return self.U.T * self.U - self.V.T * self.V

    def flow(self, nu=0):
        """(U̇, V̇) = (−GV − νU, −GᵀU − νV)."""
        return -self.G * self.V - nu * self.U, -self.G.T * self.U - nu * self.V

    def S_rate(self, nu=0) -> sp.Matrix:
        """dS/dt of `linear_S_rate()` with this net's entries, at weight decay ν."""
        return self.explicit(linear_S_rate().rhs).subs(self.nu, nu)

    def gd_step_change(self) -> sp.Matrix:
        U1, V1 = self.U - self.eta * self.G * self.V, self.V - self.eta * self.G.T * self.U
        return (U1.T * U1 - V1.T * V1) - self.S

    def gd_defect_claim(self) -> sp.Matrix:
        """The exported `linear_gd_defect()` formula with this net's entries."""
        return self.explicit(linear_gd_defect().rhs)

    def verify(self) -> dict[str, bool]:
        dU, dV = self.flow(self.nu)
        chain = dU.T * self.U + self.U.T * dU - dV.T * self.V - self.V.T * dV
        return {
            "dS/dt formula = chain rule along the flow": is_zero(self.S_rate(self.nu) - chain),
            "F3.4 dS/dt = 0": is_zero(self.S_rate()),
            "F3.2 linear GD defect": is_zero(self.gd_step_change() - self.gd_defect_claim()),
            "F3.3 weight decay dS/dt = -2 nu S": is_zero(self.S_rate(self.nu) + 2 * self.nu * self.S),
        }


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    net = LinearNetwork(1, 1, 1)
    return {"F3.4": Formula("F3.4", "linear-net law U^T U - V^T V", "[V: ABIDE Cor. 4.4]",
                            "S = U^T U - V^T V is conserved for z = U V^T and any loss", net.S[0, 0],
                            (net.U[0, 0], net.V[0, 0]), sp.Symbol("S")),
            "F3.4-solver": solver_error_law()}


# --------------------------------------------------------------------------- solver tolerance (MPG-P4)
_TOL = sp.Symbol("tol", positive=True)
_SOLVER_C = sp.Symbol("C", positive=True)


def solver_error_law() -> Formula:
    """Tolerance proportionality of an error-controlled ODE solve [R; numerical analysis, used by MPG-P4]:
    global error ≈ C(T)·tol; args (tol, C). An embedded Runge–Kutta pair with local extrapolation and
    per-step error control (RK45, DOP853 in scipy, rtol = atol = tol) keeps each local error ≤ tol, and the
    stable, smooth linear-net flow adds them up to O(T·tol): exponent 1 in tol, with a method-dependent C."""
    return Formula("F3.4-solver", "global error of an error-controlled ODE solve", "[R]",
                   "drift of an exact invariant ~ C tol (tolerance proportionality)", _SOLVER_C * _TOL,
                   (_TOL, _SOLVER_C),
                   sp.Symbol("drift"))


def tolerance_order(law: Formula) -> float:
    """Exponent of `law` in the tolerance: ∂ln(law)/∂ln tol (1 for `solver_error_law`).

    Arguments:
        law: `solver_error_law()` or a variant (tol first in args), a power law in tol.
    """
    checked_formula("law", law, min_args=1, scalar=True)
    tol = law.args[0]
    k = sp.simplify(tol * sp.diff(sp.log(law.rhs), tol)) if law.rhs != 0 else sp.nan
    if not (k.is_number and k.is_real and k.is_finite):
        raise TheoryError(f"{law.id}: {law.rhs} is not a power law in {tol} (d ln law / d ln tol = {k})")
    return float(k)
