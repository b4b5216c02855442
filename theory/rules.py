"""Rules the checks used to type in, as theory objects (each with its mutants declared beside it).

`norm_growth_rate` is the exponential rate of p_j = |a_j|‖w_j‖ in the fixed-gating phase (formulas.md F1.5:
p_j(t) = p_j(0) e^{2 s_j t} [(1 + tan²(δ_j(t)/2))/(1 + tan²(δ_j(0)/2))]², asymptote p_j(0) cos⁴(δ_j(0)/2) e^{2 s_j t}):
the racing checks divide it out to read the head start. Other rules live beside their derivations
(`theory.lie.expected_count` / `expected_gap` for the law counts, `theory.intrinsic.inclusion_predicted` for the
kernel inclusion, `theory.network.sign_frozen` for sign freezing, `theory.references.mse` for MSE = 2L).
"""
from __future__ import annotations

import sympy as sp

from . import validate
from .formula import Formula, checked_formula
from .mutants import mutant

__all__ = ["norm_growth_rate", "growth_factor"]


def norm_growth_rate() -> Formula:
    """F1.5 [R]: d ln p_j/dt → 2 s_j once the neuron is aligned (s_j = ‖m_j‖, the gated correlation's norm).

    Returns:
        the Formula g = 2 s (argument s).
    """
    s = sp.Symbol("s", positive=True)
    return Formula("F1.5-growth", "norm growth rate", "[R]",
                   "exponential rate of p = |a|‖w‖ in the fixed-gating phase (the e^{2st} of F1.5)",
                   2 * s, (s,), sp.Symbol("g"))


def growth_factor(formula: Formula, s, t):
    """e^{g(s)·t}: the growth of p over a time t at gated-correlation norm s, from the rate `formula`.

    Arguments:
        formula: the rate (`norm_growth_rate()` or a mutant of it).
        s: the norm ‖m‖ of the gated correlation (> 0).
        t: the elapsed time (≥ 0).
    Returns:
        the factor as a float.
    """
    checked_formula("formula", formula, nargs=1)
    s = validate.positive("s", s)
    t = validate.positive("t", t, allow_zero=True)
    return float(sp.exp(formula.rhs.subs(formula.args[0], s) * t))


@mutant("F1.5-growth", "rate s instead of 2s (p taken as growing like ‖w‖ alone)")
def _growth_rate_s(f: Formula) -> Formula:
    return f.with_rhs(f.rhs / 2)


@mutant("F1.5-growth", "rate 4s (the rate of p² taken for p)")
def _growth_rate_4s(f: Formula) -> Formula:
    return f.with_rhs(2 * f.rhs)
