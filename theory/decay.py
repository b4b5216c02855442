"""Weight decay modifies every quadratic conservation law by the same exponential (formulas.md F3.3, MPG-P5).

Under θ̇ = −∇L(θ) − νθ, a quadratic h(θ) = θᵀQθ that the plain flow conserves (∇h·∇L ≡ 0) obeys

    d/dt h = ∇h·(−∇L − νθ) = −ν ∇h·θ = −2ν h          (Euler: ∇h·θ = 2h for a quadratic form)

so h(θ(t)) = e^{−2νt} h(θ(0)). `decay_rate()` derives the rate −2νh from Euler's identity, `decayed_law()`
solves dh/dt = −2νh with SymPy (nothing is typed in), and `verify()` proves d/dt h = −2νh along the weight-decayed
flow of a small linear net (S = UᵀU − VᵀV, any loss gradient G) and of a ReLU neuron (a² − ‖w‖², any residuals,
across gating: relu(u) = u·step(u)).
"""
from __future__ import annotations

import sympy as sp

from . import validate as vd
from .formula import Formula, relu
from .mutants import mutant
from .network import is_zero

__all__ = ["decay_rate", "decayed_law", "verify", "formulas"]

T, NU = sp.symbols("t nu", nonnegative=True)
H0 = sp.Symbol("h_0", real=True)


def _generic_quadratic(D: int):
    """θ ∈ ℝ^D and h = θᵀQθ with a symmetric Q of free symbols."""
    theta = sp.Matrix(sp.symbols(f"theta0:{D}", real=True))
    Q = sp.Matrix(D, D, lambda i, j: sp.Symbol(f"Q{min(i, j)}{max(i, j)}", real=True))
    return theta, Q, (theta.T * Q * theta)[0, 0]


def decay_rate(D: int = 3) -> sp.Expr:
    """The factor c in ∇h·θ = c·h for a generic quadratic form on ℝ^D (Euler's identity; c = 2).

    Arguments:
        D: dimension, an integer in [1, 12] (the symbolic cost grows as D⁴).
    """
    D = vd.integer("D", D, minimum=1, maximum=12)
    theta, Q, h = _generic_quadratic(D)
    euler = sum(sp.diff(h, v) * v for v in theta)
    return sp.simplify(euler / h)


def decayed_law() -> Formula:
    """F3.3: h(θ(t)) = e^{−2νt} h(θ(0)), the solution of dh/dt = −ν(∇h·θ) = −cνh with c from `decay_rate`.

    args (t, ν, h₀); lhs h(t).
    """
    h = sp.Function("h")
    c = decay_rate()
    sol = sp.dsolve(sp.Eq(h(T).diff(T), -c * NU * h(T)), h(T), ics={h(0): H0})
    return Formula("F3.3", "quadratic conservation law under weight decay", "[V: arXiv 2506.06194, Thm 2.1; R]",
                   "under theta' = -grad L - nu theta every quadratic law decays as h(t) = exp(-2 nu t) h(0), "
                   "because grad h . theta = 2 h", sp.simplify(sol.rhs), (T, NU, H0), sp.Symbol("h(t)"))


@mutant("F3.3", "e^{+2νt} (sign of the exponent)")
def _decay_grows(f: Formula) -> Formula:
    return f.subs({T: -T})


@mutant("F3.3", "e^{−4νt} (factor 2 twice)")
def _decay_doubled(f: Formula) -> Formula:
    return f.subs({T: 2 * T})


@mutant("F3.3", "e^{−2ν²t} (ν squared)")
def _decay_nu_squared(f: Formula) -> Formula:
    return f.subs({NU: NU ** 2})


@mutant("F3.3", "first order h₀(1 − 2νt)")
def _decay_first_order(f: Formula) -> Formula:
    return f.with_rhs(sp.series(f.rhs, T, 0, 2).removeO())


@mutant("F3.3", "h conserved (ν dropped)")
def _decay_dropped(f: Formula) -> Formula:
    return f.subs({NU: 0})


def _linear_rate_defect(n: int = 2, m: int = 2, r: int = 2) -> sp.Matrix:
    """dS/dt + 2νS along U̇ = −GV − νU, V̇ = −GᵀU − νV (S = UᵀU − VᵀV, G a free n×m gradient)."""
    U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i}{j}", real=True))
    V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i}{j}", real=True))
    G = sp.Matrix(n, m, lambda i, j: sp.Symbol(f"G{i}{j}", real=True))
    dU, dV = -G * V - NU * U, -G.T * U - NU * V
    S = U.T * U - V.T * V
    return dU.T * U + U.T * dU - dV.T * V - V.T * dV + 2 * NU * S


def _relu_rate_defect(d: int = 2, n: int = 2) -> sp.Expr:
    """dh/dt + 2νh for h = a² − ‖w‖² of one ReLU neuron, square loss on n free points, weight-decayed flow."""
    a = sp.Symbol("a", real=True)
    w = sp.Matrix(sp.symbols(f"w0:{d}", real=True))
    X = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"x{i}{j}", real=True))
    y = sp.symbols(f"y0:{n}", real=True)
    L = sum((a * relu((X[i, :] * w)[0, 0]) - y[i]) ** 2 for i in range(n)) / (2 * n)
    da = -sp.diff(L, a) - NU * a
    dw = sp.Matrix([-sp.diff(L, v) - NU * v for v in w])
    h = a ** 2 - (w.T * w)[0, 0]
    return 2 * a * da - 2 * (w.T * dw)[0, 0] + 2 * NU * h


def verify() -> dict[str, bool]:
    """Symbolic proofs of F3.3: Euler factor 2, the ODE solution, and d/dt h = −2νh for linear and ReLU laws."""
    f = decayed_law()
    return {
        "Euler: grad h . theta = 2 h for a quadratic form": decay_rate() == 2,
        "F3.3 solves dh/dt = -2 nu h with h(0) = h0": is_zero(sp.diff(f.rhs, T) + 2 * NU * f.rhs)
        and is_zero(f.rhs.subs(T, 0) - H0),
        "linear net: d/dt (U^T U - V^T V) = -2 nu S": is_zero(_linear_rate_defect()),
        "ReLU neuron: d/dt (a^2 - |w|^2) = -2 nu h": is_zero(_relu_rate_defect()),
    }


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    return {"F3.3": decayed_law()}
