"""How closely a time-stepping method follows gradient flow: the order of an explicit Runge–Kutta tableau.

One step of (A, b, c) on θ' = f(θ):  k_i = f(θ + h Σ_{j<i} A_ij k_j),  θ₁ = θ + h Σ_i b_i k_i.
Its order p is the largest p with θ₁ − θ(h) = O(h^{p+1}); over a fixed horizon the error is then O(h^p).
We expand both sides in h for the scalar autonomous equation y' = f(y), with the derivatives f^{(i)}(y) as
symbols; for p ≤ 4 the scalar order conditions coincide with those for systems (Butcher), the range used here.

Gradient descent with step η is the explicit Euler method (A = 0, b = 1) on θ' = −∇L(θ): order 1, so GD
tracks the flow to O(η) ([R], formulas.md F1.1 with t = η·steps). Between gating flips the ReLU flow is smooth,
so an integrator that stops at each flip keeps its smooth order ([R]).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import validate as vd
from .errors import TheoryError

__all__ = ["Tableau", "EULER", "HEUN", "RK4", "local_error", "rk_order", "verify"]


def _exact(v) -> sp.Expr:
    """Exact entries: floats are read as the simple rational they print as (0.1666… → 1/6); the rest as given."""
    if isinstance(v, (float, int)) and not isinstance(v, bool):
        return sp.nsimplify(vd.real("tableau entry", v)) if isinstance(v, float) else sp.Integer(v)
    e = vd.expression("tableau entry", v)
    if not (e.is_number and e.is_real):
        raise TheoryError(f"tableau entry {v!r} must be a real number (int, float or SymPy rational)")
    return e


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge–Kutta method: A strictly lower triangular, weights b, nodes c."""

    name: str
    A: tuple
    b: tuple
    c: tuple

    def __post_init__(self):
        vd.text("name", self.name)
        try:
            s = len(self.b)
            ok = s >= 1 and len(self.A) == s and all(len(row) == s for row in self.A) and len(self.c) == s
        except TypeError:
            s, ok = "s", False
        if not ok:
            raise TheoryError(f"tableau {self.name!r}: A must be {s}×{s} and c of length {s}, with b of length "
                              "s ≥ 1 (nested tuples of numbers)")
        for v in (*self.b, *self.c, *(x for row in self.A for x in row)):
            _exact(v)
        if any(_exact(self.A[i][j]) != 0 for i in range(s) for j in range(i, s)):
            raise TheoryError(f"tableau {self.name!r}: only explicit methods (A strictly lower triangular)")


EULER = Tableau("explicit Euler (gradient descent)", ((0,),), (1,), (0,))
HEUN = Tableau("Heun", ((0, 0), (1, 0)), (sp.Rational(1, 2), sp.Rational(1, 2)), (0, 1))
RK4 = Tableau("classical RK4",
              ((0, 0, 0, 0), (sp.Rational(1, 2), 0, 0, 0), (0, sp.Rational(1, 2), 0, 0), (0, 0, 1, 0)),
              (sp.Rational(1, 6), sp.Rational(1, 3), sp.Rational(1, 3), sp.Rational(1, 6)),
              (0, sp.Rational(1, 2), sp.Rational(1, 2), 1))


def _truncate(expr: sp.Expr, h: sp.Symbol, order: int) -> sp.Expr:
    poly = sp.Poly(sp.expand(expr), h)
    return sum((coef * h ** k for (k,), coef in poly.terms() if k <= order), sp.S.Zero)


def local_error(tableau: Tableau, max_order: int = 5) -> list[sp.Expr]:
    """Coefficients e_1 … e_{max_order} of θ₁ − θ(h) = Σ e_k h^k for y' = f(y), in the symbols F_i = f^{(i)}(y).

    Stages: f(y + δ) = Σ_i F_i δ^i / i! with δ = O(h), truncated at h^max_order. Exact solution: y^{(k+1)} =
    d/dy[y^{(k)}] · F_0, where d/dy F_i = F_{i+1}.

    Arguments:
        tableau: a Tableau.  max_order: highest power of h expanded, an integer in [1, 7].
    """
    vd.instance("tableau", tableau, Tableau, "build one with Tableau(name, A, b, c)")
    max_order = vd.integer("max_order", max_order, minimum=1, maximum=7)
    h = sp.Symbol("h")
    F = sp.symbols(f"F0:{max_order + 2}")

    def f_at(delta: sp.Expr) -> sp.Expr:
        total, power = sp.S.Zero, sp.S.One
        for i in range(max_order + 1):
            total += F[i] * power / sp.factorial(i)
            power = _truncate(power * delta, h, max_order)
        return _truncate(total, h, max_order)

    A = [[_exact(v) for v in row] for row in tableau.A]
    b = [_exact(v) for v in tableau.b]
    stages: list[sp.Expr] = []
    for i in range(len(b)):
        stages.append(f_at(h * sum((A[i][j] * stages[j] for j in range(i)), sp.S.Zero)))
    step = h * sum((bi * ki for bi, ki in zip(b, stages)), sp.S.Zero)  # θ₁ − y
    exact, deriv = sp.S.Zero, F[0]
    for k in range(1, max_order + 1):
        exact += h ** k / sp.factorial(k) * deriv
        deriv = sp.expand(sum(sp.diff(deriv, F[i]) * F[i + 1] for i in range(max_order + 1)) * F[0])
    diff = sp.Poly(_truncate(step - exact, h, max_order), h)
    return [sp.expand(diff.coeff_monomial(h ** k)) for k in range(1, max_order + 1)]


def rk_order(tableau: Tableau, max_order: int = 5) -> int:
    """The order p of the method: the local error starts at h^{p+1} (≤ max_order − 1 is resolved exactly).

    Arguments:
        tableau: a Tableau.  max_order: highest power of h expanded, an integer in [1, 7].
    """
    for k, e in enumerate(local_error(tableau, max_order), start=1):
        if e != 0:
            return k - 1
    return max_order


def verify() -> dict[str, bool]:
    """Known orders: Euler 1, Heun 2, classical RK4 4."""
    return {"GD = Euler has order 1": rk_order(EULER) == 1, "Heun has order 2": rk_order(HEUN) == 2,
            "RK4 has order 4": rk_order(RK4) == 4}
