"""The output size during the early phase (F2.5-output) and its λ-exponent, with the mutants of the bound."""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import validate
from .errors import TheoryError
from .formula import Formula
from .mutants import mutant

__all__ = ["early_output_bound", "output_order"]

# --------------------------------------------------------------------------- output size during the phase (BF-P2)

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
    λ_eff = λ·‖z‖/√m ∝ λ at fixed m, so the exponent in λ is the same).

    Arguments:
        bound: a Formula with args (λ_eff, t, g*, …), e.g. `early_output_bound()`.  eps: ε (finite real).

    Returns:
        c as a float.
    """
    if not isinstance(bound, Formula) or len(bound.args) < 3:
        raise TheoryError(f"bound must be a Formula with args (lambda_eff, t, g_star, …), got {type(bound).__name__}"
                          "; pass early_output_bound() or one of its mutants")
    eps = validate.real("eps", eps)
    lam, t, g = bound.args[:3]
    if not all(isinstance(a, sp.Symbol) for a in (lam, t, g)):
        raise TheoryError(f"bound.args must start with the symbols (lambda_eff, t, g_star), got {bound.args[:3]}")
    e = sp.Symbol("epsilon", positive=True)
    try:
        at = bound.rhs.subs(t, e * sp.log(1 / lam) / g)
        c = complex(sp.simplify(lam * sp.diff(sp.log(at), lam)).subs(e, eps))
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise TheoryError(f"bound {bound.id!r} has no numeric λ-exponent at eps={eps} ({exc}); it must be a "
                          "power of lambda_eff times exponentials in t, like early_output_bound()") from None
    if c.imag != 0 or not np.isfinite(c.real):
        raise TheoryError(f"bound {bound.id!r} gives the exponent {c} at eps={eps}, not a finite real; it must be a "
                          "power of lambda_eff times exponentials in t, like early_output_bound()")
    return float(c.real)


@mutant("F2.5-output", "only one layer grows (e^{g*t} instead of e^{2g*t})")
def _output_one_layer_growth(f: Formula) -> Formula:
    return f.with_rhs(f.rhs.subs(f.args[1], f.args[1] / 2))


@mutant("F2.5-output", "output linear in the init scale (λ_eff instead of λ_eff²)")
def _output_linear_in_scale(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / f.args[0])
