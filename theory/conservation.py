"""Conservation laws of two-layer linear nets z = UVᵀ (formulas.md F3.2–F3.4), symbolically.

  S = UᵀU − VᵀV is constant under U̇ = −G V, V̇ = −Gᵀ U for any G = ∇f(z)            (F3.4)
  one GD step:  S(θ − η∇L) − S(θ) = η² (VᵀGᵀGV − UᵀGGᵀU)                              (F3.2)
  weight decay θ̇ = −∇L − νθ:  d/dt S = −2ν S, so S(t) = e^{−2νt} S(0)                  (F3.3)
The ReLU analogue (a_j² − ‖w_j‖²) lives in `theory.network`.
"""
from __future__ import annotations

import sympy as sp

from .formula import Formula
from .network import is_zero


class LinearNetwork:
    """Symbols U (n×r), V (m×r), a generic gradient G = ∇f(z) (n×m) and the derived laws."""

    def __init__(self, n: int = 2, m: int = 2, r: int = 2):
        if min(n, m, r) < 1:
            raise ValueError(f"n, m, r must be ≥ 1, got {n}, {m}, {r}")
        self.U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i + 1}{j + 1}", real=True))
        self.V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i + 1}{j + 1}", real=True))
        self.G = sp.Matrix(n, m, lambda i, j: sp.Symbol(f"G{i + 1}{j + 1}", real=True))
        self.eta, self.nu = sp.symbols("eta nu", positive=True)

    @property
    def S(self) -> sp.Matrix:
        return self.U.T * self.U - self.V.T * self.V

    def flow(self, nu=0):
        """(U̇, V̇) = (−GV − νU, −GᵀU − νV)."""
        return -self.G * self.V - nu * self.U, -self.G.T * self.U - nu * self.V

    def S_rate(self, nu=0) -> sp.Matrix:
        dU, dV = self.flow(nu)
        return dU.T * self.U + self.U.T * dU - dV.T * self.V - self.V.T * dV

    def gd_step_change(self) -> sp.Matrix:
        U1, V1 = self.U - self.eta * self.G * self.V, self.V - self.eta * self.G.T * self.U
        return (U1.T * U1 - V1.T * V1) - self.S

    def gd_defect_claim(self, eta_power: int = 2) -> sp.Matrix:
        G, U, V = self.G, self.U, self.V
        return self.eta ** eta_power * (V.T * G.T * G * V - U.T * G * G.T * U)

    def verify(self) -> dict[str, bool]:
        return {
            "F3.4 dS/dt = 0": is_zero(self.S_rate()),
            "F3.2 linear GD defect": is_zero(self.gd_step_change() - self.gd_defect_claim()),
            "F3.3 weight decay dS/dt = -2 nu S": is_zero(self.S_rate(self.nu) + 2 * self.nu * self.S),
        }


def formulas() -> dict[str, Formula]:
    net = LinearNetwork(1, 1, 1)
    return {"F3.4": Formula("F3.4", "linear-net law U^T U - V^T V", "[V: ABIDE Cor. 4.4]",
                            "S = U^T U - V^T V is conserved for z = U V^T and any loss", net.S[0, 0],
                            (net.U[0, 0], net.V[0, 0]), sp.Symbol("S"))}
