"""Counting independent conservation laws with Lie algebras (ABIDE; formulas.md F3.5–F3.8).

Generators χ_i = ∇φ_i of W_φ; bracket [χ, χ′](θ) = ∂χ(θ)χ′(θ) − ∂χ′(θ)χ(θ).
  N = D − dim Lie(W_φ)(θ)        (number of independent laws, locally)
  gap = dim Lie(W_φ)(θ) − rank ∂φ(θ)   (Frobenius gap; 0 ⇔ W_φ closed under brackets)
For the bilinear factorisations of two-layer nets (UVᵀ, ReLU path-lifting) ∇φ_i(θ) = A_iθ with constant
A_i = Hessian(φ_i), and [Aθ, Bθ] = (AB − BA)θ: the algebra is closed exactly as a matrix commutator
algebra, pruned by linear independence of the matrices (F3.7 exact variant). A general sympy-field
version (the frontier algorithm of F3.7 at random points) covers non-bilinear φ such as x₁x₂x₃.

Numeric ranks: singular values σ_i > RTOL·σ_max count (RTOL = 1e-9 for O(1) entries; matrices here
have integer entries and θ* ~ U[0.5, 1.5]), and a count is accepted only if it agrees at ≥ 3 points.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import _budget, validate as vd
from ._budget import closure_cost, quadratic_cost  # noqa: F401  (re-exported: lie.quadratic_cost)
from .errors import TheoryError

__all__ = ["RTOL", "rank", "Factorisation", "linear_net", "relu_path_lifting", "lie_closure", "LawCount",
           "count_laws", "count_laws_fields", "quadratic_laws", "quadratic_law_forms", "gradient_fields",
           "count_rule_applies", "gap_rule_applies", "factorisation", "expected_count", "expected_gap", "formulas"]

RTOL = 1e-9
KINDS = ("relu", "linear")
_ARCH = {"linear": ("n", "m", "r"), "relu": ("d_in", "r")}


def rank(A, rtol: float = RTOL) -> int:
    """Numerical rank: singular values > rtol·σ_max (0 for an empty or zero matrix).

    Arguments:
        A: a finite matrix (or vector; empty allowed).  rtol: relative threshold in (0, 1).
    """
    A = vd.array("A", A, ndim=(0, 1, 2), nonempty=False)
    rtol = vd.positive("rtol", rtol)
    if rtol >= 1:
        raise TheoryError(f"rtol must be < 1 (a relative singular-value threshold), got {rtol}")
    return _rank(A, rtol)


def _rank(A, rtol: float = RTOL) -> int:
    A = np.atleast_2d(np.asarray(A, float))
    if A.size == 0:
        return 0
    s = np.linalg.svd(A, compute_uv=False)
    return int(np.sum(s > rtol * s[0])) if s[0] > 0 else 0


@dataclass(frozen=True)
class Factorisation:
    """φ(θ) as sympy expressions in the parameters θ (D of them)."""

    name: str
    phi: tuple
    theta: tuple

    def __post_init__(self):
        vd.text("name", self.name)
        theta = vd.symbols("theta", self.theta)
        if isinstance(self.phi, (str, bytes)) or not hasattr(self.phi, "__iter__") or not tuple(self.phi):
            raise TheoryError(f"{self.name}: phi must be a non-empty sequence of SymPy expressions in theta (a "
                              "zero width gives none: use n, m, r ≥ 1)")
        for i, f in enumerate(self.phi):
            vd.expression(f"phi[{i}]", f, within=theta)
        object.__setattr__(self, "phi", tuple(self.phi))
        object.__setattr__(self, "theta", theta)

    @property
    def D(self) -> int:
        return len(self.theta)

    def generators(self) -> list[np.ndarray]:
        """A_i = Hessian of φ_i (constant for bilinear φ): ∇φ_i(θ) = A_i θ."""
        mats = []
        for f in self.phi:
            poly = sp.Poly(f, *self.theta)
            if poly.total_degree() > 2:  # the Hessian is constant iff φ_i has degree ≤ 2
                raise TheoryError(f"{self.name}: φ is not bilinear; use count_laws_fields")
            H = np.zeros((self.D, self.D))
            for powers, coeff in poly.terms():  # Hessian read off the degree-2 monomials
                idx = [i for i, p in enumerate(powers) for _ in range(p)]
                if len(idx) == 2:
                    a, b = idx
                    H[a, b] += float(coeff) * (2.0 if a == b else 1.0)
                    if a != b:
                        H[b, a] += float(coeff)
            mats.append(H)
        return mats


def linear_net(n: int, m: int, r: int) -> Factorisation:
    """φ = UVᵀ with U ∈ ℝ^{n×r} (output side), V ∈ ℝ^{m×r} (input side).

    Arguments:
        n, m, r: widths, integers in [1, 32].
    """
    n, m, r = (vd.integer(k, x, minimum=1, maximum=32) for k, x in (("n", n), ("m", m), ("r", r)))
    U = sp.Matrix(n, r, lambda i, j: sp.Symbol(f"U{i}_{j}"))
    V = sp.Matrix(m, r, lambda i, j: sp.Symbol(f"V{i}_{j}"))
    return Factorisation(f"linear(n={n}, m={m}, r={r})", tuple(U * V.T), tuple(U) + tuple(V))


def relu_path_lifting(d_in: int, r: int, d_out: int = 1, bias: bool = False) -> Factorisation:
    """φ = (u_k (v_k; b_k)ᵀ)_{k ≤ r}: one rank-one block per hidden neuron (valid where hyperplanes differ).

    Arguments:
        d_in: input dimension, r: hidden neurons, d_out: outputs (integers in [1, 32]).  bias: with a bias b_k.
    """
    d_in, r, d_out = (vd.integer(k, x, minimum=1, maximum=32) for k, x in (("d_in", d_in), ("r", r), ("d_out", d_out)))
    bias = vd.boolean("bias", bias)
    phi, theta = [], []
    for k in range(r):
        u = sp.Matrix([sp.Symbol(f"u{k}_{i}") for i in range(d_out)])
        v = sp.Matrix([sp.Symbol(f"v{k}_{i}") for i in range(d_in)] + ([sp.Symbol(f"b{k}")] if bias else []))
        phi += list(u * v.T)
        theta += list(u) + list(v)
    return Factorisation(f"relu(d_in={d_in}, r={r}, d_out={d_out}, bias={bias})", tuple(phi), tuple(theta))


def lie_closure(generators: list[np.ndarray], max_dim: int | None = None, budget_s: float | None = None
                ) -> list[np.ndarray]:
    """Basis of the matrix Lie algebra generated by `generators` under A, B ↦ AB − BA.

    W_{k+1} = W_k + [W_k, W_0] (F3.7 frontier loop), keeping a commutator only if it is linearly
    independent of the basis so far (twice-projected Gram–Schmidt on the flattened matrices, vectorised).

    Arguments:
        generators: a non-empty list of finite square matrices of one shape.  max_dim: stop at this dimension.
        budget_s: stop with TheoryError once the loop has run this long (None: `theory._budget.BUDGET_S`).
    """
    if isinstance(generators, np.ndarray) and generators.ndim == 2:
        generators = [generators]
    if not hasattr(generators, "__iter__") or not list(generators):
        raise TheoryError("generators is empty; give at least one square matrix")
    generators = [vd.array(f"generators[{i}]", G, ndim=2) for i, G in enumerate(generators)]
    if any(G.shape != generators[0].shape or G.shape[0] != G.shape[1] for G in generators):
        raise TheoryError(f"generators must be square matrices of one shape, got {[G.shape for G in generators]}")
    if max_dim is not None:
        max_dim = vd.integer("max_dim", max_dim, minimum=1)
    budget_s = _budget.limits(budget_s, None)[0]
    size = generators[0].size
    limit = min(max_dim or size, size)
    ortho = np.zeros((limit, size))
    basis: list[np.ndarray] = []

    def add(M) -> bool:
        if len(basis) >= limit:
            return False
        v = M.ravel().astype(float)
        norm0 = np.linalg.norm(v)
        if norm0 == 0:
            return False
        Q = ortho[:len(basis)]
        v = v - Q.T @ (Q @ v)
        v = v - Q.T @ (Q @ v)  # re-orthogonalise once for stability
        if np.linalg.norm(v) <= 1e-10 * norm0:
            return False
        ortho[len(basis)] = v / np.linalg.norm(v)
        basis.append(M)
        return True

    start = time.perf_counter()
    gens = [G for G in generators if add(G)]
    frontier = list(gens)
    while frontier and len(basis) < limit:
        new = []
        for X in frontier:
            for G in gens:
                C = X @ G - G @ X
                if add(C):
                    new.append(C)
            if time.perf_counter() - start > budget_s:
                raise TheoryError(f"lie_closure stopped after {time.perf_counter() - start:.3g} s > budget_s = "
                                  f"{budget_s:.3g} s at dimension {len(basis)} (D = {generators[0].shape[0]}); use a "
                                  "smaller architecture or raise budget_s")
        frontier = new
    return basis


@dataclass(frozen=True)
class LawCount:
    """N laws, dim Lie(W_φ)(θ*), rank ∂φ(θ*), gap, D, and the values at every random point tried."""

    name: str
    N: int
    dim_lie: int
    rank_dphi: int
    gap: int
    D: int
    per_point: tuple

    def __post_init__(self):
        vd.text("name", self.name)
        for k in ("N", "dim_lie", "rank_dphi", "D"):
            vd.integer(k, getattr(self, k), minimum=0)
        vd.integer("gap", self.gap)

    @property
    def stable(self) -> bool:
        return len(set(self.per_point)) == 1


def count_laws(f: Factorisation, n_points: int = 3, seed: int = 0, budget_s: float | None = None,
               max_bytes: float | None = None) -> LawCount:
    """N = D − rank{Mθ* : M ∈ Lie}, at `n_points` random θ* ~ U[0.5, 1.5]^D; raises if the points disagree.

    The generators split into blocks of disjoint support (one per ReLU neuron); their algebras are closed apart
    (brackets across blocks vanish) and dim Lie(θ*) is the sum over blocks. `closure_cost` is checked first.

    Arguments:
        f: a bilinear Factorisation (`linear_net`, `relu_path_lifting`).  n_points: points ≥ 1.  seed: ≥ 0.
        budget_s, max_bytes: refuse (TheoryError with the estimate) above these (None: `theory._budget` defaults).
    Raises:
        UnstableResult (a TheoryError and an ArithmeticError) when the count differs between the points.
    """
    vd.instance("f", f, Factorisation, "build one with linear_net or relu_path_lifting")
    n_points = vd.integer("n_points", n_points, minimum=1, maximum=100)
    seed = vd.integer("seed", seed, minimum=0)
    budget_s, max_bytes = _budget.limits(budget_s, max_bytes)
    gens = f.generators()
    blocks = [(idx, [A[np.ix_(idx, idx)] for A in gens if np.any(A[np.ix_(idx, idx)])])
              for idx in _budget.components(gens)]
    blocks = [(idx, g) for idx, g in blocks if g]
    cost = closure_cost([len(i) for i, _ in blocks], [len(g) for _, g in blocks])
    _budget.require(f"count_laws({f.name}): the Lie closure", nbytes=cost["bytes"], seconds=cost["seconds"],
                    budget_s=budget_s, max_bytes=max_bytes, fix="use a smaller architecture")
    algebras = [(idx, lie_closure(g, budget_s=budget_s)) for idx, g in blocks]
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(n_points):
        th = rng.uniform(0.5, 1.5, f.D)
        dim_lie = sum(_rank(np.array([M @ th[idx] for M in alg])) for idx, alg in algebras)
        r0 = _rank(np.array([A @ th for A in gens]))
        results.append((f.D - dim_lie, dim_lie, r0))
    if len(set(results)) != 1:
        raise vd.UnstableResult(f"{f.name}: law count differs between random points {results}; "
                              "the rank is not locally constant there or RTOL is too tight")
    N, dim_lie, r0 = results[0]
    return LawCount(f.name, N, dim_lie, r0, dim_lie - r0, f.D, tuple(results))


def count_laws_fields(fields: list[sp.Matrix], theta, n_points: int = 3, seed: int = 0, max_rounds: int = 6
                      ) -> LawCount:
    """General vector fields (sympy column vectors in θ): frontier loop of F3.7 at random points.

    Arguments:
        fields: non-empty list of SymPy column vectors of length D in the symbols θ.  theta: D distinct symbols.
        n_points: points ≥ 1.  seed: ≥ 0.  max_rounds: bracket rounds ≥ 1.
    Raises:
        UnstableResult when the count differs between the points (or a field is not finite there).
    """
    theta = list(vd.symbols("theta", theta))
    D = len(theta)
    fields = _fields(fields, theta)
    n_points = vd.integer("n_points", n_points, minimum=1, maximum=100)
    seed = vd.integer("seed", seed, minimum=0)
    max_rounds = vd.integer("max_rounds", max_rounds, minimum=1, maximum=50)
    rng = np.random.default_rng(seed)
    points = [dict(zip(theta, rng.uniform(0.5, 1.5, D))) for _ in range(n_points)]
    ev = lambda F: _values(F, points)  # noqa: E731  (points × D)
    bracket = lambda A, B: A.jacobian(theta) * B - B.jacobian(theta) * A  # noqa: E731
    kept = list(fields)
    vals = [ev(F) for F in fields]
    r0 = [_rank(np.array([v[i] for v in vals])) for i in range(n_points)]
    frontier = list(fields)
    for _ in range(max_rounds):
        new = []
        for X in frontier:
            for G in fields:
                C = sp.expand(bracket(X, G))
                if C == sp.zeros(D, 1):
                    continue
                cv = ev(C)
                before = [_rank(np.array([v[i] for v in vals])) for i in range(n_points)]
                after = [_rank(np.array([v[i] for v in vals] + [cv[i]])) for i in range(n_points)]
                if any(a > b for a, b in zip(after, before)):
                    kept.append(C)
                    vals.append(cv)
                    new.append(C)
        frontier = new
        if not frontier:
            break
    dims = [_rank(np.array([v[i] for v in vals])) for i in range(n_points)]
    per = tuple((D - dl, dl, rr) for dl, rr in zip(dims, r0))
    if len(set(per)) != 1:
        raise vd.UnstableResult(f"law count differs between random points {per}; the rank is not locally constant "
                               "there: try another seed or more points")
    N, dl, rr = per[0]
    return LawCount("fields", N, dl, rr, dl - rr, D, per)


def _fields(fields, theta) -> list:
    """The fields as SymPy column vectors of length len(theta) in theta only (TheoryError otherwise)."""
    if isinstance(fields, sp.MatrixBase) or not hasattr(fields, "__iter__") or not list(fields):
        raise TheoryError("fields must be a non-empty list of SymPy column vectors (e.g. gradient_fields(phi, theta))")
    out = []
    for i, F in enumerate(fields):
        if not isinstance(F, sp.MatrixBase) or F.shape != (len(theta), 1):
            raise TheoryError(f"fields[{i}] must be a SymPy column vector of length D = {len(theta)}, got "
                              f"{getattr(F, 'shape', type(F).__name__)}")
        for e in F:
            vd.expression(f"fields[{i}]", e, within=theta)
        out.append(F)
    return out


def _values(F, points) -> np.ndarray:
    try:
        vals = np.array([[complex(x.subs(p)) for x in F] for p in points])
    except TypeError:
        raise TheoryError("a field does not evaluate to a number at the random points; "
                          "write it in theta only") from None
    if np.abs(vals.imag).max(initial=0) > 0 or not np.isfinite(vals.real).all():
        raise vd.UnstableResult("a field is not a finite real vector at the random points θ ∈ [0.5, 1.5]^D")
    return vals.real


def quadratic_laws(f: Factorisation, budget_s: float | None = None, max_bytes: float | None = None) -> int:
    """Number of linearly independent conserved quadratic forms h(θ) = θᵀQθ (degree-2 law search, ABIDE code).

    ∇h·χ_i = 2θᵀQA_iθ ≡ 0 for all θ ⇔ QA_i + A_iQ = 0 (A_i, Q symmetric): a linear system in the D(D+1)/2 entries
    of Q whose kernel dimension is the count — found without any Lie bracket. Linear independence is not
    functional independence (z = u·v, r = 2: four quadratics, three independent laws); see `quadratic_law_forms`.

    Arguments:
        f: a bilinear Factorisation.  budget_s, max_bytes: as in `count_laws` (see `quadratic_cost`).
    """
    return len(quadratic_law_forms(f, budget_s, max_bytes))


def quadratic_law_forms(f: Factorisation, budget_s: float | None = None, max_bytes: float | None = None
                        ) -> list[np.ndarray]:
    """A basis (symmetric D×D matrices Q) of the conserved quadratic forms θᵀQθ (the kernel of `quadratic_laws`).

    Arguments:
        f: a bilinear Factorisation.  budget_s, max_bytes: as in `count_laws` (see `quadratic_cost`).
    """
    vd.instance("f", f, Factorisation, "build one with linear_net or relu_path_lifting")
    return _budget.quadratic_forms(f.generators(), f.name, RTOL, budget_s, max_bytes)


def gradient_fields(phi, theta) -> list[sp.Matrix]:
    """χ_i = ∇φ_i as sympy column vectors.

    Arguments:
        phi: non-empty sequence of SymPy expressions in theta.  theta: distinct symbols.
    """
    theta = vd.symbols("theta", theta)
    if isinstance(phi, (str, sp.Basic)) or not hasattr(phi, "__iter__") or not list(phi):
        raise TheoryError("phi must be a non-empty sequence of SymPy expressions (one per output of φ)")
    phi = [vd.expression(f"phi[{i}]", f, within=theta) for i, f in enumerate(phi)]
    return [sp.Matrix([sp.diff(f, v) for v in theta]) for f in phi]


def _arch(kind: str, arch: dict, need: tuple | None = None) -> dict:
    """The architecture's widths for `kind` as integers ≥ 1 (TheoryError naming a missing or bad one)."""
    vd.choice("kind", kind, KINDS)
    need = _ARCH[kind] if need is None else need
    missing = [k for k in need if k not in arch]
    if missing:
        raise TheoryError(f"kind={kind!r} needs the widths {need}; missing {missing}")
    out = dict(arch)
    for k in ("n", "m", "r", "d_in", "d_out"):
        if k in arch:
            out[k] = vd.integer(k, arch[k], minimum=1)
    if "bias" in arch:
        out["bias"] = vd.boolean("bias", arch["bias"])
    return out


def count_rule_applies(kind: str, **arch) -> bool:
    """Hypotheses of `expected_count`: any ReLU path-lifting; linear UVᵀ with (U;V) of full rank, r ≤ n + m.

    Arguments:
        kind: "relu" (widths d_in, r) or "linear" (widths n, m, r); arch: the widths, integers ≥ 1.
    """
    arch = _arch(kind, arch)
    return True if kind == "relu" else arch["r"] <= arch["n"] + arch["m"]


def gap_rule_applies(kind: str, **arch) -> bool:
    """Hypotheses of `expected_gap`: any ReLU path-lifting; linear UVᵀ with r ≤ min(n, m).

    Arguments:
        kind: "relu" or "linear"; arch: the widths (see `count_rule_applies`).
    """
    arch = _arch(kind, arch)
    return True if kind == "relu" else arch["r"] <= min(arch["n"], arch["m"])


def factorisation(kind: str, **arch) -> Factorisation:
    """`linear_net(n, m, r)` or `relu_path_lifting(d_in, r, d_out, bias)` by name (other keys are ignored).

    Arguments:
        kind: "relu" or "linear"; arch: the widths (see `count_rule_applies`), d_out and bias optional for relu.
    """
    arch = _arch(kind, arch)
    if kind == "linear":
        return linear_net(arch["n"], arch["m"], arch["r"])
    return relu_path_lifting(arch["d_in"], arch["r"], arch.get("d_out", 1), arch.get("bias", False))


def expected_count(kind: str, **arch) -> int:
    """The reference rules [V]: one law per hidden ReLU neuron; r(r+1)/2 for full-rank linear nets.

    Arguments:
        kind: "relu" or "linear"; arch: the widths, only r is needed.
    """
    r = _arch(kind, arch, ("r",))["r"]
    return r if kind == "relu" else r * (r + 1) // 2


def expected_gap(kind: str, **arch) -> int:
    """Frobenius gap: 0 for ReLU path-lifting [V]; r(r−1)/2 for UVᵀ with r ≤ min(n, m) [R].

    Arguments:
        kind: "relu" or "linear"; arch: the widths, only r is needed.
    """
    r = _arch(kind, arch, ("r",))["r"]
    return 0 if kind == "relu" else r * (r - 1) // 2


def formulas() -> dict:
    """Every formula of this module by ID."""
    from .formula import Formula

    D, dl, r0, r = sp.symbols("D dim_Lie rank_dphi r", positive=True, integer=True)
    return {
        "F3.6": Formula("F3.6", "number of independent conservation laws", "[V: ABIDE Thm 3.3]",
                        "N = D - dim Lie(W_phi)(theta); ReLU: one per hidden neuron; linear: r(r+1)/2",
                        D - dl, (D, dl), sp.Symbol("N")),
        "F3.8": Formula("F3.8", "Frobenius gap", "[V for ReLU; R for linear]",
                        "gap = dim Lie - rank dphi; 0 for ReLU path-lifting, r(r-1)/2 for U V^T", dl - r0,
                        (dl, r0), sp.Symbol("gap")),
    }
