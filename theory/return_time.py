"""The return time of a misaligned neuron under fixed gating (Pinson; from F1.4–F1.5, [R]).

A balanced neuron with δ₀ > 90° first shrinks (d ln p/dt = 2 s cos δ < 0) and turns towards its target; by F1.4
and F1.5, with T₀ = tan(δ₀/2) and u = e^{st},

    p(t) = p₀ u² [(1 + T₀²/u²)/(1 + T₀²)]² = p₀  ⇔  u² − (1 + T₀²) u + T₀² = 0  ⇔  u ∈ {1, T₀²},

so p comes back to p₀ at  t_ret = 2 ln tan(δ₀/2) / s  (> 0 exactly when δ₀ > 90°).  `verify()` checks it against
the norm law of `theory.racing`.
"""
from __future__ import annotations

import sympy as sp

from .formula import Formula
from .mutants import mutant
from .racing import delta0, norm_law, p0, s, t

__all__ = ["return_time", "formulas", "verify"]


def return_time() -> Formula:
    """t_ret = 2 ln(tan(δ₀/2)) / s: when a balanced neuron that starts at angle δ₀ > 90° to its target is back at
    its initial p (F1.4–F1.5 under fixed gating and residual)."""
    return Formula("F1.5-return", "return time of a misaligned neuron", "[R]",
                   "a neuron with delta0 > 90 deg shrinks first and is back at p0 after 2 ln tan(delta0/2)/s",
                   2 * sp.log(sp.tan(delta0 / 2)) / s, (delta0, s), sp.Symbol("t_ret"))


@mutant("F1.5-return", "return time without the factor 2: ln tan(δ₀/2)/s")
def _return_no_two(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / 2)


@mutant("F1.5-return", "return time without the half angle: 2 ln tan δ₀ / s")
def _return_no_half(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(sp.tan(delta0 / 2), sp.tan(delta0)))


def verify() -> dict:
    """{'p(t_ret) = p0': bool}: the norm law evaluated at the return time gives p₀ (checked at sample angles)."""
    law, tr = norm_law(), return_time().rhs
    ok = True
    for d0 in (sp.Rational(2, 3) * sp.pi, sp.Rational(5, 6) * sp.pi, 1.9):
        for rate in (sp.Rational(1, 2), 2):
            val = law.rhs.subs({t: tr.subs({delta0: d0, s: rate}), delta0: d0, s: rate, p0: 1})
            ok &= abs(float(sp.N(val)) - 1.0) < 1e-12
    return {"p(t_ret) = p0": bool(ok)}


def formulas() -> dict[str, Formula]:
    """{"F1.5-return": return_time()} for the catalog."""
    return {"F1.5-return": return_time()}
