"""Heavy-ball momentum on a two-layer linear net z = UVᵀ: the modified conservation law (MPG-P12).

The heavy-ball ODE τ θ̈ + θ̇ = −∇L, with ∇_U L = GV, ∇_V L = GᵀU (G = ∇f(z), any loss f), is invariant under the
rotations (U, V) ↦ (UR, VR), R ∈ O(r). Their Noether-type charge is the antisymmetric r×r matrix

    A = Asym(UᵀU̇ + VᵀV̇) = UᵀU̇ + VᵀV̇ − (UᵀU̇ + VᵀV̇)ᵀ.

Derivation (proved by `verify()` with explicit entries): dA/dt = UᵀÜ − ÜᵀU + VᵀV̈ − V̈ᵀV (the U̇ᵀU̇ terms cancel);
with τÜ = −U̇ − GV and τV̈ = −V̇ − GᵀU the loss terms −UᵀGV + VᵀGᵀU − VᵀGᵀU + UᵀGV cancel, leaving
τ dA/dt = −A. Hence A(t) = e^{−t/τ} A(0):

    e^{t/τ} · Asym(UᵀU̇ + VᵀV̇)  is constant                                    (`momentum_law`)

which is the text of experiments.md MPG-P12, confirmed (with Asym(M) = M − Mᵀ; the ½ convention only rescales).
Note: under the plain flow (τ → 0) A = −Asym(UᵀGV + VᵀGᵀU) = 0 identically, so the law is informative only with a
non-zero initial velocity. The plain law S = UᵀU − VᵀV is *not* conserved by heavy ball (`plain_law`, and
`verify()` shows dS/dt ≠ 0): dS/dt = U̇ᵀU + UᵀU̇ − V̇ᵀV − VᵀV̇. No analogous law is derived for ReLU nets (their
symmetry is a rescaling, which does not preserve the kinetic term).
"""
from __future__ import annotations

import sympy as sp

from . import validate as vd
from .formula import Formula, checked_formula
from .mutants import mutant
from .network import is_zero

__all__ = ["momentum_law", "plain_law", "HeavyBallLinear", "verify", "formulas"]

_n, _m, _r = sp.symbols("n m r", integer=True, positive=True)
U_, V_ = sp.MatrixSymbol("U", _n, _r), sp.MatrixSymbol("V", _m, _r)
dU_, dV_ = sp.MatrixSymbol("dU", _n, _r), sp.MatrixSymbol("dV", _m, _r)
T, TAU = sp.symbols("t tau", positive=True)


def momentum_law() -> Formula:
    """K(t) = e^{t/τ}(UᵀU̇ + VᵀV̇ − U̇ᵀU − V̇ᵀV), constant along τθ̈ + θ̇ = −∇L; args (t, τ, U, V, U̇, V̇)."""
    M = U_.T * dU_ + V_.T * dV_
    return Formula("F3.3-momentum", "heavy-ball conservation law of a linear net", "[V: arXiv 2405.12888; R]",
                   "exp(t/tau) Asym(U^T dU + V^T dV) is constant under tau theta'' + theta' = -grad L for z = U V^T",
                   sp.exp(T / TAU) * (M - M.T), (T, TAU, U_, V_, dU_, dV_), sp.Symbol("K"))


@mutant("F3.3-momentum", "e^{−t/τ} (sign of the exponent)")
def _momentum_exponent_sign(f: Formula) -> Formula:
    return f.subs({T: -T})


@mutant("F3.3-momentum", "e^{2t/τ} (factor 2)")
def _momentum_exponent_doubled(f: Formula) -> Formula:
    return f.subs({T: 2 * T})


@mutant("F3.3-momentum", "e^{t/(2τ)} (missing factor 2)")
def _momentum_exponent_halved(f: Formula) -> Formula:
    return f.subs({T: T / 2})


@mutant("F3.3-momentum", "Asym(UᵀU̇ − VᵀV̇) (sign of the V term)")
def _momentum_v_sign(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.xreplace({dV_: -dV_}))


@mutant("F3.3-momentum", "the plain law UᵀU − VᵀV")
def _momentum_plain(f: Formula) -> Formula:
    return f.with_rhs(U_.T * U_ - V_.T * V_)


def plain_law() -> Formula:
    """S = UᵀU − VᵀV (F3.4) written with the same args as `momentum_law` (it ignores t, τ and the velocities)."""
    return Formula("F3.4", "linear-net law U^T U - V^T V", "[V: ABIDE Cor. 4.4]",
                   "conserved by gradient flow, not by heavy ball", U_.T * U_ - V_.T * V_,
                   (T, TAU, U_, V_, dU_, dV_), sp.Symbol("S"))


class HeavyBallLinear:
    """Explicit entries U (n×r), V (m×r), velocities U̇, V̇, a free gradient G (n×m), and the heavy-ball ODE."""

    def __init__(self, n: int = 2, m: int = 2, r: int = 2):
        """Arguments:
            n, m, r: the shapes U (n×r), V (m×r), integers in [1, 16].
        """
        n, m, r = (vd.integer(k, x, minimum=1, maximum=16) for k, x in (("n", n), ("m", m), ("r", r)))
        self.shape = (n, m, r)
        self.U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i}{j}", real=True))
        self.V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i}{j}", real=True))
        self.dU = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"dU{i}{j}", real=True))
        self.dV = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"dV{i}{j}", real=True))
        self.G = sp.Matrix(n, m, lambda i, j: sp.Symbol(f"G{i}{j}", real=True))

    def explicit(self, f: Formula) -> sp.Matrix:
        """`f` (a formula in the matrix symbols U, V, dU, dV) with this net's explicit entries."""
        checked_formula("f", f)
        n, m, r = self.shape
        e = f.rhs.subs({_n: n, _m: m, _r: r})
        e = e.xreplace({U_.subs({_n: n, _r: r}): self.U, V_.subs({_m: m, _r: r}): self.V,
                        dU_.subs({_n: n, _r: r}): self.dU, dV_.subs({_m: m, _r: r}): self.dV})
        return sp.Matrix(e.doit())

    def accelerations(self):
        """(Ü, V̈) = (−U̇ − GV, −V̇ − GᵀU)/τ."""
        return (-self.dU - self.G * self.V) / TAU, (-self.dV - self.G.T * self.U) / TAU

    def time_derivative(self, expr: sp.Matrix) -> sp.Matrix:
        """d/dt of an expression in (t, U, V, U̇, V̇) along the heavy-ball ODE (chain rule)."""
        ddU, ddV = self.accelerations()
        pairs = list(zip(self.U, self.dU)) + list(zip(self.V, self.dV)) + list(zip(self.dU, ddU)) + \
            list(zip(self.dV, ddV))
        return expr.diff(T) + sum((expr.diff(x) * dx for x, dx in pairs), sp.zeros(*expr.shape))

    def verify(self) -> dict[str, bool]:
        K = self.explicit(momentum_law())
        S = self.explicit(plain_law())
        A = K * sp.exp(-T / TAU)
        return {
            "MPG-P12 d/dt [exp(t/tau) Asym(U^T dU + V^T dV)] = 0": is_zero(self.time_derivative(K)),
            "tau dA/dt = -A": is_zero(TAU * self.time_derivative(A) + A),
            "A = 0 along the plain flow (dU = -GV, dV = -G^T U)": is_zero(
                A.subs({**dict(zip(self.dU, -self.G * self.V)), **dict(zip(self.dV, -self.G.T * self.U))})),
            "U^T U - V^T V is not conserved by heavy ball": not is_zero(self.time_derivative(S)),
        }


def verify() -> dict[str, bool]:
    """The heavy-ball law and its derivation at (n, m, r) = (2, 2, 2) and (3, 2, 2)."""
    return HeavyBallLinear(2, 2, 2).verify() | {f"(n, m, r) = (3, 2, 2): {k}": v
                                                for k, v in HeavyBallLinear(3, 2, 2).verify().items()}


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    return {"F3.3-momentum": momentum_law()}
