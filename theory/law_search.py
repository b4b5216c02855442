"""Polynomial conservation-law search and the sanity cases of the ABIDE code (formulas.md F3.7; MPG-P14).

A polynomial P(θ) = Σ_α c_α θ^α (monomials of degree 1 … k) is conserved by the fields χ_i iff ⟨∇P, χ_i⟩ ≡ 0 for
every i: a linear system in the coefficients c_α whose kernel is the space of polynomial laws of degree ≤ k.

  `law_system`            the system's integer/rational matrix (rows: (field, monomial of ⟨∇θ^α, χ_i⟩)).
  `polynomial_laws`       an exact basis of the kernel over ℚ (SymPy), as polynomials (small systems).
  `law_count_mod_p`       the kernel dimension over GF(p): an upper bound of the count over ℚ (rank can only drop
                          mod p), equal to it for all but finitely many p; 0 mod p *proves* there is no law.
Sanity cases (the theory side of MPG-P14):
  `product_field`         φ = x₁x₂x₃ (one generator ∇φ), with the laws `product_laws` = {x₃² − x₁², x₂² − x₁²}.
  `generic_field`         one polynomial vector field with random integer coefficients on ℝ^D; one field spans a
                          1-dimensional Lie algebra ([χ, χ] = 0), so `generic_law_count` N = D − 1 (F3.6), and a
                          generic field has no polynomial first integral at all.
  `known_quadratic_laws`  the laws of two-layer nets in `theory.lie`'s symbols: the r(r+1)/2 entries of
                          UᵀU − VᵀV (F3.4) for z = UVᵀ, and ‖u_k‖² − ‖(v_k; b_k)‖² per neuron (F3.1) for ReLU.
`verify()` proves that each stated law is conserved (⟨∇h, χ_i⟩ ≡ 0 symbolically).
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from math import comb

from . import _budget, validate as vd
from .errors import TheoryError
from .formula import Formula
from .mutants import mutant
from .lie import Factorisation, _fields, gradient_fields

__all__ = ["PRIME", "monomials", "law_system", "polynomial_laws", "law_count_mod_p", "coefficient_matrix",
           "product_field", "product_laws", "generic_field", "generic_law_count", "generic_polynomial_laws",
           "known_quadratic_laws", "verify", "formulas"]

PRIME = 2_147_483_629  # < 2³¹, so products of residues fit in int64
MAX_MONOMIALS = 20_000  # the law system has this many columns: beyond, the exact search is refused


def monomials(D: int, degree: int) -> list[tuple]:
    """Exponent tuples of the monomials of degree 1 … `degree` in D variables.

    Arguments:
        D: number of variables ≥ 1.  degree: maximal degree ≥ 1; C(D + degree, degree) − 1 ≤ MAX_MONOMIALS.
    """
    D, degree = vd.integer("D", D, minimum=1), vd.integer("degree", degree, minimum=1)
    count = comb(D + degree, degree) - 1
    if count > MAX_MONOMIALS:
        raise TheoryError(f"D={D}, degree={degree} give {count} monomials (> {MAX_MONOMIALS}); the exact law "
                          "search would not finish: lower the degree or the number of variables")
    out = []
    for k in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(D), k):
            e = [0] * D
            for i in combo:
                e[i] += 1
            out.append(tuple(e))
    return out


def _system_cost(fields, theta, degree: int, op_s: float, bytes_per: float, exact: bool, budget_s, max_bytes):
    """Refuse (TheoryError with the estimate) a law system whose solve would exceed the budgets.

    rows ≤ #fields × #monomials of degree ≤ degree − 1 + the fields' degree; columns = #monomials; the solve costs
    rows·cols·min(rows, cols) operations at `op_s` each, the matrix `bytes_per` bytes an entry (kept twice).
    """
    D = len(theta)
    fdeg = max(sp.Poly(sp.expand(e), *theta).total_degree() for F in fields for e in F if sp.expand(e) != 0) \
        if any(sp.expand(e) != 0 for F in fields for e in F) else 0
    cols = comb(D + degree, degree) - 1
    rows = len(fields) * comb(D + degree - 1 + fdeg, D)
    _budget.require(f"the degree-{degree} law search on D = {D} ({'exact' if exact else 'mod p'}, ≤ {rows} × {cols})",
                    nbytes=2.0 * bytes_per * rows * cols, seconds=op_s * rows * cols * min(rows, cols),
                    budget_s=budget_s, max_bytes=max_bytes, fix="lower the degree or the number of variables")


def law_system(fields, theta, degree: int):
    """(matrix as a list of rows of ints/Rationals, monomial exponents) of ⟨∇P, χ_i⟩ ≡ 0 in P's coefficients.

    Column α holds the coefficients of ⟨∇θ^α, χ_i⟩ = Σ_j α_j θ^{α − e_j} χ_{i,j}, computed on exponent dicts.

    Arguments:
        fields: non-empty list of SymPy column vectors, polynomial in theta.  theta: D distinct symbols.
        degree: maximal degree of P, ≥ 1.
    """
    theta = list(vd.symbols("theta", theta))
    fields = _fields(fields, theta)
    if not all(e.is_polynomial(*theta) for F in fields for e in F):
        raise TheoryError("fields must be polynomial in theta (the law search solves for polynomial laws)")
    D = len(theta)
    mons = monomials(D, degree)
    terms = [[dict(sp.Poly(sp.expand(c), *theta).terms()) if sp.expand(c) != 0 else {} for c in chi]
             for chi in fields]
    cols = []
    for e in mons:
        col: dict = {}
        for i, chi in enumerate(terms):
            for j in range(D):
                if e[j] == 0:
                    continue
                base = list(e)
                base[j] -= 1
                for powers, coeff in chi[j].items():
                    key = (i, tuple(b + q for b, q in zip(base, powers)))
                    col[key] = col.get(key, 0) + e[j] * coeff
        cols.append({k: v for k, v in col.items() if v != 0})
    keys = sorted({k for c in cols for k in c})
    rows = [[c.get(k, sp.S.Zero) for c in cols] for k in keys]
    return rows, mons


def _as_poly(coeffs, mons, theta) -> sp.Expr:
    return sp.expand(sum(c * sp.Mul(*[v ** k for v, k in zip(theta, e)]) for c, e in zip(coeffs, mons) if c != 0))


def polynomial_laws(fields, theta, degree: int, budget_s: float | None = None, max_bytes: float | None = None
                    ) -> list[sp.Expr]:
    """An exact basis (over ℚ) of the polynomial laws of degree ≤ `degree` of the fields (no constants).

    Arguments:
        fields, theta, degree: as in `law_system`.  budget_s, max_bytes: refuse above these (TheoryError with the
        estimate; None: `theory._budget` defaults), estimated at `_budget.SYMPY_OP_S` per exact operation.
    """
    th = list(vd.symbols("theta", theta))
    _system_cost(_fields(fields, th), th, vd.integer("degree", degree, minimum=1), _budget.SYMPY_OP_S, 64.0, True,
                 budget_s, max_bytes)
    rows, mons = law_system(fields, theta, degree)
    M = sp.Matrix(rows) if rows else sp.zeros(0, len(mons))
    basis = M.nullspace() if rows else [sp.eye(len(mons))[:, j] for j in range(len(mons))]
    return [_as_poly(list(b), mons, theta) for b in basis]


def law_count_mod_p(fields, theta, degree: int, p: int = PRIME, budget_s: float | None = None,
                    max_bytes: float | None = None) -> int:
    """dim of the kernel of the law system over GF(p) (an upper bound of the number of laws over ℚ).

    Arguments:
        fields, theta, degree: as in `law_system`.  p: a prime < 2³¹ (so that residue products fit in int64).
        budget_s, max_bytes: as in `polynomial_laws` (rate `_budget.INT_OP_S` per int64 operation).
    """
    th = list(vd.symbols("theta", theta))
    _system_cost(_fields(fields, th), th, vd.integer("degree", degree, minimum=1), _budget.INT_OP_S, 72.0, False,
                 budget_s, max_bytes)
    p = vd.integer("p", p, minimum=2, maximum=2 ** 31 - 1)
    if not sp.isprime(p):
        raise TheoryError(f"p={p} is not prime; GF(p) needs a prime (default PRIME = {PRIME})")
    rows, mons = law_system(fields, theta, degree)
    if not rows:
        return len(mons)
    A = np.array([[int(sp.Rational(x).p * pow(int(sp.Rational(x).q), -1, p)) % p for x in row] for row in rows],
                 dtype=np.int64)
    return len(mons) - _rank_mod_p(A, p)


def _rank_mod_p(A: np.ndarray, p: int) -> int:
    A = A.copy() % p
    rank, (nr, nc) = 0, A.shape
    for c in range(nc):
        piv = next((i for i in range(rank, nr) if A[i, c] != 0), None)
        if piv is None:
            continue
        A[[rank, piv]] = A[[piv, rank]]
        A[rank] = (A[rank] * pow(int(A[rank, c]), -1, p)) % p
        others = np.nonzero(A[:, c])[0]
        others = others[others != rank]
        if len(others):
            A[others] = (A[others] - (A[others, c:c + 1] * A[rank]) % p) % p
        rank += 1
        if rank == nr:
            break
    return rank


def coefficient_matrix(laws, theta, degree: int) -> np.ndarray:
    """Rows: the laws' coefficients on `monomials(len(theta), degree)` (for span comparisons).

    Arguments:
        laws: polynomials in theta without constant term, of degree ≤ degree.  theta: symbols.  degree: ≥ 1.
    """
    theta = vd.symbols("theta", theta)
    laws = [vd.expression(f"laws[{i}]", h, within=theta) for i, h in enumerate(laws)]
    mons = monomials(len(theta), degree)
    index = {e: j for j, e in enumerate(mons)}
    out = np.zeros((len(laws), len(mons)))
    for i, h in enumerate(laws):
        for powers, coeff in sp.Poly(sp.expand(h), *theta).terms():
            if sum(powers) == 0 or powers not in index:
                raise TheoryError(f"law {h} has a term of degree 0 or > {degree}; give laws without constants "
                                  f"and of degree ≤ {degree}")
            c = complex(coeff)
            if c.imag:
                raise TheoryError(f"law {h} has a non-real coefficient {coeff}")
            out[i, index[powers]] = c.real
    return out


# ---------------------------------------------------------------- the sanity cases
def product_field():
    """(θ = (x₁, x₂, x₃), [∇(x₁x₂x₃)]): no arguments."""
    x = sp.symbols("x1:4", real=True)
    return x, gradient_fields([x[0] * x[1] * x[2]], x)


def product_laws() -> list[sp.Expr]:
    """The conserved quadratics of φ = x₁x₂x₃ (ABIDE code): x₃² − x₁² and x₂² − x₁²."""
    x1, x2, x3 = product_field()[0]
    return [x3 ** 2 - x1 ** 2, x2 ** 2 - x1 ** 2]


def generic_field(D: int, degree: int = 2, seed: int = 0, max_coeff: int = 5):
    """(θ ∈ ℝ^D, [χ]) with χ's components polynomials of degree ≤ `degree` (no constant term), integer
    coefficients uniform in [−max_coeff, max_coeff] \\ {0} from `seed` (generic with probability ~1).

    Arguments:
        D: dimension ≥ 1.  degree: ≥ 1.  seed: ≥ 0.  max_coeff: ≥ 1.
    """
    D, degree = vd.integer("D", D, minimum=1, maximum=64), vd.integer("degree", degree, minimum=1)
    seed, max_coeff = vd.integer("seed", seed, minimum=0), vd.integer("max_coeff", max_coeff, minimum=1)
    theta = sp.symbols(f"x1:{D + 1}", real=True)
    rng = np.random.default_rng(seed)
    mons = monomials(D, degree)
    comps = []
    for _ in range(D):
        c = rng.integers(1, max_coeff + 1, len(mons)) * rng.choice([-1, 1], len(mons))
        comps.append(_as_poly([int(v) for v in c], mons, theta))
    return theta, [sp.Matrix(comps)]


def generic_law_count() -> Formula:
    """N = D − 1 independent laws for one generic field (dim Lie = 1 in the counting theorem F3.6); args (D,)."""
    D = sp.Symbol("D", positive=True, integer=True)
    return Formula("F3.7-generic", "laws of one generic polynomial field", "[V: ABIDE code]",
                   "one field spans a 1-dimensional Lie algebra, so N = D - dim Lie = D - 1", D - 1, (D,),
                   sp.Symbol("N"))


@mutant("F3.7-generic", "N = D (off by one)")
def _generic_count_plus_one(f: Formula) -> Formula:
    return f.with_rhs(f.rhs + 1)


def generic_polynomial_laws() -> Formula:
    """The number of *polynomial* laws (any degree) of a generic field: 0 (ABIDE code, at D = 5, degree ≤ 4)."""
    k = sp.Symbol("k", positive=True, integer=True)
    return Formula("F3.7-generic-poly", "polynomial laws of one generic polynomial field", "[V: ABIDE code]",
                   "a generic polynomial field has no polynomial first integral of any degree k", sp.S.Zero, (k,),
                   sp.Symbol("N_poly"))


@mutant("F3.7-generic-poly", "one polynomial law")
def _generic_poly_one(f: Formula) -> Formula:
    return f.with_rhs(sp.S.One)


def known_quadratic_laws(f: Factorisation, kind: str) -> list[sp.Expr]:
    """The known laws of a `theory.lie` factorisation, in its symbols.

    linear (`lie.linear_net`, θ = (U, V) row-major): the upper-triangle entries of UᵀU − VᵀV (F3.4);
    relu (`lie.relu_path_lifting`, θ = (u_k, v_k[, b_k]) per neuron): ‖u_k‖² − ‖v_k‖² − b_k² (F3.1).

    Arguments:
        f: a factorisation built by `lie.linear_net` (kind "linear") or `lie.relu_path_lifting` (kind "relu").
    """
    vd.instance("f", f, Factorisation, "build one with lie.linear_net or lie.relu_path_lifting")
    vd.choice("kind", kind, ("linear", "relu"))
    prefixes = ("U", "V") if kind == "linear" else ("u", "v", "b")
    try:
        if not all(str(x).startswith(prefixes) for x in f.theta):
            raise ValueError
        return _known_laws(f, kind)
    except (ValueError, IndexError):
        maker = "linear_net" if kind == "linear" else "relu_path_lifting"
        raise TheoryError(f"{f.name}: its symbols are not those of lie.{maker}; pass a factorisation built by it "
                          f"(kind={kind!r})") from None


def _known_laws(f: Factorisation, kind: str) -> list[sp.Expr]:
    th = list(f.theta)
    if kind == "linear":
        names = [str(s) for s in th]
        n = 1 + max(int(s[1:].split("_")[0]) for s in names if s.startswith("U"))
        r = 1 + max(int(s.split("_")[1]) for s in names)
        U = sp.Matrix(n, r, th[:n * r])
        V = sp.Matrix(len(th) // r - n, r, th[n * r:])
        S = U.T * U - V.T * V
        return [sp.expand(S[i, j]) for i in range(r) for j in range(i, r)]
    if kind == "relu":
        laws = {}
        for s in th:
            name = str(s)
            k = name[1:].split("_")[0]
            sign = 1 if name.startswith("u") else -1
            laws[k] = laws.get(k, 0) + sign * s ** 2
        return [sp.expand(v) for _, v in sorted(laws.items(), key=lambda kv: int(kv[0]))]


def _conserved(h, fields, theta) -> bool:
    return all(sp.expand(sum(sp.diff(h, v) * c for v, c in zip(theta, chi))) == 0 for chi in fields)


def verify() -> dict[str, bool]:
    """Each stated law conserved (⟨∇h, χ_i⟩ ≡ 0), and the degree-2 search spans the product laws."""
    from .lie import linear_net, relu_path_lifting

    x, fx = product_field()
    lin, relu = linear_net(2, 3, 2), relu_path_lifting(2, 2, 2, bias=True)
    return {
        "x1 x2 x3: both stated laws are conserved": all(_conserved(h, fx, x) for h in product_laws()),
        "linear: entries of U^T U - V^T V are conserved": all(
            _conserved(h, gradient_fields(lin.phi, lin.theta), lin.theta) for h in known_quadratic_laws(lin, "linear")),
        "relu: |u_k|^2 - |(v_k; b_k)|^2 are conserved": all(
            _conserved(h, gradient_fields(relu.phi, relu.theta), relu.theta)
            for h in known_quadratic_laws(relu, "relu")),
        "law search: degree-2 laws of x1 x2 x3 span the stated ones": bool(np.linalg.matrix_rank(np.vstack([
            coefficient_matrix(polynomial_laws(fx, x, 2), x, 2), coefficient_matrix(product_laws(), x, 2)])) == 2),
    }


def formulas() -> dict[str, Formula]:
    """Every formula of this module by ID."""
    return {"F3.7-generic": generic_law_count()}
