"""Dimension of the intrinsic variable: rank ∂φ for the two-layer factorisations (formulas.md F3.8, F3.11; MPG-P13).

  ReLU path-lifting φ = (u_k (v_k; b_k)ᵀ)_k with H hidden neurons and D parameters:  rank ∂φ = D − H
      (each rank-one block u vᵀ, u ∈ ℝ^{d_out}, v ∈ ℝ^{d_in(+1)}, has rank d_out + d_in(+1) − 1: one rescaling
      direction (u, v) ↦ (cu, v/c) per neuron is lost, and the blocks use disjoint parameters).
  Linear z = UVᵀ with r ≤ min(n, m):  rank ∂φ = r(n + m − r), the dimension of the manifold of rank-r n×m
      matrices (D = r(n + m) minus the r² directions (UΞ, −VΞᵀ) of GL(r)).

Both are `Formula` objects (`relu_rank`, `linear_rank`); `predicted_ranks` evaluates them for an architecture and
`verify()` derives each from the block structure symbolically (dimension count of the rank-one / rank-r variety).
"""
from __future__ import annotations

import sympy as sp

from . import validate as vd
from .errors import TheoryError
from .formula import Formula, checked_formula
from .mutants import mutant

__all__ = ["relu_rank", "linear_rank", "relu_parameters", "linear_rank_applies", "predicted_ranks", "verify",
           "formulas"]

D, H = sp.symbols("D H", positive=True, integer=True)
n, m, r = sp.symbols("n m r", positive=True, integer=True)


def relu_rank() -> Formula:
    """rank ∂φ = D − H for the ReLU path-lifting (gap 0, F3.8); args (D, H)."""
    return Formula("F3.11-dim-relu", "rank of the ReLU path-lifting Jacobian", "[R]",
                   "rank dphi = D - H: one lost rescaling direction per hidden neuron, so (z, h) is a full chart",
                   D - H, (D, H), sp.Symbol("rank_dphi"))


@mutant("F3.11-dim-relu", "D − H − 1 (off by one)")
def _relu_rank_minus_one(f: Formula) -> Formula:
    return f.with_rhs(f.rhs - 1)


@mutant("F3.11-dim-relu", "D (no rescaling fibre)")
def _relu_rank_full(f: Formula) -> Formula:
    return f.subs({H: 0})


def linear_rank() -> Formula:
    """rank ∂φ = r(n + m − r) for z = UVᵀ with r ≤ min(n, m) (F3.8); args (n, m, r)."""
    return Formula("F3.8-dim-linear", "rank of the Jacobian of z = U V^T", "[R]",
                   "rank dphi = r(n + m - r), the dimension of the rank-r matrices (valid for r <= min(n, m))",
                   r * (n + m - r), (n, m, r), sp.Symbol("rank_dphi"))


@mutant("F3.8-dim-linear", "r(n + m − r) + 1 (off by one)")
def _linear_rank_plus_one(f: Formula) -> Formula:
    return f.with_rhs(f.rhs + 1)


@mutant("F3.8-dim-linear", "r(n + m − 2r) (fibre counted twice)")
def _linear_rank_double_fibre(f: Formula) -> Formula:
    return f.with_rhs(r * (n + m - 2 * r))


@mutant("F3.8-dim-linear", "r(n + m) − r(r + 1)/2 (an O(r) fibre instead of GL(r))")
def _linear_rank_orthogonal_fibre(f: Formula) -> Formula:
    return f.with_rhs(r * (n + m) - r * (r + 1) / 2)


def relu_parameters(d_in: int, hidden: int, d_out: int = 1, bias: bool = False) -> int:
    """D of the path-lifting: each neuron has d_out output weights and d_in (+1 bias) input weights.

    Arguments:
        d_in, hidden, d_out: widths, integers ≥ 1.  bias: whether each neuron has a bias.
    """
    d_in, hidden, d_out = (vd.integer(k, x, minimum=1) for k, x in (("d_in", d_in), ("hidden", hidden),
                                                                   ("d_out", d_out)))
    bias = vd.boolean("bias", bias)
    return hidden * (d_out + d_in + int(bias))


def linear_rank_applies(n_: int, m_: int, r_: int) -> bool:
    """Hypothesis of `linear_rank`: r ≤ min(n, m).

    Arguments:
        n_, m_, r_: widths, integers ≥ 1.
    """
    n_, m_, r_ = (vd.integer(k, x, minimum=1) for k, x in (("n_", n_), ("m_", m_), ("r_", r_)))
    return r_ <= min(n_, m_)


def predicted_ranks(relu_formula: Formula, linear_formula: Formula, *, d_in: int, hidden: int, d_out: int,
                    bias: bool, n_: int, m_: int, r_: int) -> dict:
    """The two formulas evaluated at one ReLU and one linear architecture.

    Arguments:
        relu_formula: `relu_rank()` or a variant (args (D, H)).  linear_formula: `linear_rank()` or a variant
        (args (n, m, r)).  d_in, hidden, d_out, bias: the ReLU net.  n_, m_, r_: the linear net (integers ≥ 1).
    """
    checked_formula("relu_formula", relu_formula, nargs=2, scalar=True)
    checked_formula("linear_formula", linear_formula, nargs=3, scalar=True)
    Dr = relu_parameters(d_in, hidden, d_out, bias)
    n_, m_, r_ = (vd.integer(k, x, minimum=1) for k, x in (("n_", n_), ("m_", m_), ("r_", r_)))
    return {"relu": _integer(relu_formula, {relu_formula.args[0]: Dr, relu_formula.args[1]: hidden}),
            "relu_D": Dr, "linear": _integer(linear_formula, dict(zip(linear_formula.args, (n_, m_, r_)))),
            "linear_D": r_ * (n_ + m_)}


def _integer(f: Formula, values: dict) -> int:
    out = sp.sympify(f.rhs).subs(values)
    if not (out.is_number and out.is_integer):
        raise TheoryError(f"{f.id} is not an integer at {values} (got {out}); a rank formula must give one")
    return int(out)


def verify() -> dict[str, bool]:
    """Both formulas from dimension counts: D minus the dimension of the fibre of φ through a generic point."""
    p, q = sp.symbols("p q", positive=True, integer=True)  # block sizes d_out, d_in(+1)
    block = p + q - 1  # rank-one p×q matrices: dimension p + q − 1 (the fibre {(cu, v/c)} is 1-dimensional)
    relu_ok = sp.simplify(H * block - relu_rank().rhs.subs(D, H * (p + q))) == 0
    # rank-r n×m matrices: choose the column space (Grassmannian r(n − r)) and a full-rank r×m row factor (rm)
    grass = r * (n - r) + r * m
    linear_ok = sp.expand(grass - linear_rank().rhs) == 0 and sp.expand(r * (n + m) - r ** 2 - linear_rank().rhs) == 0
    return {"ReLU: H rank-one blocks give D - H": relu_ok,
            "linear: dim of rank-r matrices = r(n+m) - r^2 = r(n+m-r)": linear_ok}


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    return {"F3.11-dim-relu": relu_rank(), "F3.8-dim-linear": linear_rank()}
