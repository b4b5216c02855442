"""The symbolic sanity cases (MPG-P14): the Lie-algebra count and the polynomial law search on the ABIDE code's
cases, with non-generic control fields."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np
import sympy as sp

from theory import law_search, lie

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import holds, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.suites.conservation.intrinsic_dimension import exact_count


# ====================================================================== MPG-P14 symbolic sanity
def _v_sign_flipped(laws_fn):
    """Mutant: UᵀU + VᵀV (each V entry v ↦ i·v turns −v² into +v²)."""
    def wrong(f):
        vs = {s: sp.I * s for s in f.theta if str(s).startswith("V")}
        return [sp.expand(h.subs(vs)) for h in laws_fn(f)]
    return lambda orig: wrong


def control_fields(D: int) -> dict:
    """Non-generic single fields on ℝ^D that the count N = D − 1 cannot tell from a generic one (issue #25): a
    rotation (x₁, x₂) ↦ (−x₂, x₁), (x₃, x₄) ↦ (−x₄, x₃), … (laws x₁² + x₂², …, and the untouched coordinates) and
    the constant field e₁ (laws: every polynomial in x₂ … x_D). One field each, so dim Lie = 1 and N = D − 1 where
    the field is non-zero, yet each has polynomial laws of low degree."""
    x = sp.symbols(f"x1:{D + 1}", real=True)
    rot = [0] * D
    for i in range(0, D - 1, 2):
        rot[i], rot[i + 1] = -x[i + 1], x[i]
    return {"rotation": (x, [sp.Matrix(rot)]), "constant": (x, [sp.Matrix([1] + [0] * (D - 1))])}


def _span(A: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(A, tol=1e-9)) if A.size else 0


@dataclass(frozen=True)
class SanityDesign(Design):
    """The ABIDE code's sanity cases for the Lie-algebra count and the polynomial law search.

    Arguments:
        generic_dim: D of the generic polynomial field on ℝ^D.
        field_degree: degree of the generic field's components (random integer coefficients from `seed`).
        search_degree: the generic field must have no polynomial law of degree ≤ this.
        n, m, r: the linear net of the degree-2 search (z = UVᵀ, U n×r, V m×r).
        d_in, hidden, d_out, bias: the ReLU path-lifting of the degree-2 search.
    """

    generic_dim: int = 5
    field_degree: int = 2
    search_degree: int = 4
    n: int = 2
    m: int = 2
    r: int = 2
    d_in: int = 2
    hidden: int = 2
    d_out: int = 1
    bias: bool = True
    presets: ClassVar = {"full": dict(n=2, m=3, r=2, d_in=2, hidden=3)}
    sources: ClassVar = {"generic_dim": "ABIDE reference code: one generic field on R^5, no law of degree <= 4"}

    def validate(self):
        positive(self, "generic_dim", "field_degree", "search_degree", "n", "m", "r", "d_in", "hidden", "d_out")
        if self.generic_dim > 6 or self.search_degree > 5:
            raise CheckError("generic_dim ≤ 6 and search_degree ≤ 5 keep the law search under a minute")
        if self.r > self.n + self.m:
            raise CheckError(f"r={self.r} > n + m: the r(r+1)/2 entries of S are then dependent")


@register
class SymbolicSanity(Check):
    name = "conservation.symbolic_sanity"
    paper = "ABIDE"
    prediction_id = "MPG-P14"
    claim = ("φ = x1 x2 x3 has the conserved quadratics x3² − x1² and x2² − x1² (N = 2); one generic polynomial "
             "field on R^D has no polynomial law of degree ≤ 4 (its N = D − 1 laws, a count any single non-vanishing "
             "field shares, are not polynomial); the degree-2 search recovers exactly the known laws of two-layer "
             "linear and ReLU nets")
    provenance = "[V: code]"
    design = SanityDesign
    uses = {"product": law_search.product_laws, "generic": law_search.generic_law_count,
            "generic_poly": law_search.generic_polynomial_laws,
            "linear": lambda: partial(law_search.known_quadratic_laws, kind="linear"),
            "relu": lambda: partial(law_search.known_quadratic_laws, kind="relu")}
    alternatives = (Variant("linear net: one law per hidden unit (the r diagonal entries of S)",
                            {"linear": lambda fn: (lambda f: [h for i, h in enumerate(fn(f)) if _is_diagonal(i, f)])},
                            why="the ReLU rule (one law per neuron) carried over to linear nets"),
                    Variant("the D − 1 laws of one field are polynomial (as for a rotation or a constant field)",
                            {"generic_poly": lambda f: f.with_rhs(sp.Integer(SanityDesign.generic_dim - 1))},
                            why="N = D − 1 holds for the rotation and constant controls too, whose laws are "
                                "polynomial; a referee reading only the count would expect D − 1 polynomial laws"))
    mutants = (Variant("x₃² + x₁² instead of x₃² − x₁²", {"product": lambda laws: [
                   laws[0] + 2 * sp.Symbol("x1", real=True) ** 2, *laws[1:]]}),
               Variant("linear laws UᵀU + VᵀV", {"linear": _v_sign_flipped(
                   partial(law_search.known_quadratic_laws, kind="linear"))}),
               Variant("ReLU laws without the bias term", {"relu": lambda fn: (lambda f: [
                   h.subs({s: 0 for s in f.theta if str(s).startswith("b")}) for h in fn(f)])}))

    def _nets(self, d):
        return (lie.linear_net(d.n, d.m, d.r), lie.relu_path_lifting(d.d_in, d.hidden, d.d_out, d.bias))

    def predict(self, d, th):
        x = law_search.product_field()[0]
        lin, relu = self._nets(d)
        g = th.generic
        return {"product": law_search.coefficient_matrix(th.product, x, 2),
                "generic_N": exact_count(g.rhs.subs(g.args[0], d.generic_dim)),
                "generic_poly": exact_count(th.generic_poly.rhs.subs(th.generic_poly.args[0], d.search_degree)),
                "linear": law_search.coefficient_matrix(th.linear(lin), lin.theta, 2),
                "relu": law_search.coefficient_matrix(th.relu(relu), relu.theta, 2)}

    def observe(self, d):
        x, fx = law_search.product_field()
        theta, chi = law_search.generic_field(d.generic_dim, d.field_degree, d.seed)
        lin, relu = self._nets(d)
        search = {}
        for key, f in (("linear", lin), ("relu", relu)):
            search[key] = law_search.coefficient_matrix(
                law_search.polynomial_laws(lie.gradient_fields(f.phi, f.theta), f.theta, 2), f.theta, 2)
        controls = {name: dict(N=lie.count_laws_fields(f, y, seed=d.seed).N,
                               poly=law_search.law_count_mod_p(f, y, d.search_degree))
                    for name, (y, f) in control_fields(d.generic_dim).items()}
        return {"product_N": lie.count_laws_fields(fx, x, seed=d.seed).N,
                "product": law_search.coefficient_matrix(law_search.polynomial_laws(fx, x, 2), x, 2),
                "generic_N": lie.count_laws_fields(chi, theta, seed=d.seed).N,
                "generic_poly": law_search.law_count_mod_p(chi, theta, d.search_degree), "controls": controls,
                **search}

    @staticmethod
    def _same_span(found, predicted):
        """(dim found, dim predicted, dim of their sum): equal spans ⇔ all three agree."""
        return _span(found), _span(predicted), _span(np.vstack([found, predicted]) if found.size else predicted)

    def criteria(self, d, pred, obs):
        span_why = ("Exact rational kernel (SymPy nullspace), compared by rank of the stacked coefficient vectors "
                    "(rtol 1e-9 on integer entries): equal spans ⇔ dim found = dim predicted = dim of the sum; "
                    "a missing, extra or wrong law changes one of them by ≥ 1.")
        out = []
        for key, label in (("product", "φ = x₁x₂x₃: degree-2 laws found vs x₃² − x₁², x₂² − x₁²"),
                           ("linear", f"linear ({d.n}, {d.m}, {d.r}): degree-2 laws found vs entries of UᵀU − VᵀV"),
                           ("relu", f"ReLU (d_in={d.d_in}, H={d.hidden}, d_out={d.d_out}, bias={d.bias}): degree-2 "
                                    "laws found vs ‖u_k‖² − ‖(v_k; b_k)‖²")):
            f, p, s = self._same_span(obs[key], pred[key])
            out.append(holds(label, f == p == s, span_why, value=f"found {f}, predicted {p}, joint {s}",
                             tolerance="equal spans"))
        out += [within("φ = x₁x₂x₃: Lie-algebra count N", obs["product_N"], _span(pred["product"]), 0,
                       "Integer count at 3 random points that must agree (theory.lie.RTOL = 1e-9): N = 2 = number of "
                       "independent predicted laws; no tolerance."),
                within(f"generic field on ℝ^{d.generic_dim}: Lie-algebra count N", obs["generic_N"], pred["generic_N"],
                       0, "Integer count (one field, [χ, χ] = 0, so dim Lie = 1 at points where χ ≠ 0); no tolerance. "
                          "Necessary, not discriminating: the rotation and constant controls give N = D − 1 too.",
                       details={"controls_N": {k: v["N"] for k, v in obs["controls"].items()}}),
                within(f"generic field on ℝ^{d.generic_dim}: polynomial laws of degree ≤ {d.search_degree}",
                       obs["generic_poly"], pred["generic_poly"], 0,
                       "The criterion that tells a generic field from the controls: kernel dimension of the law system "
                       "over GF(p), p ≈ 2³¹, an upper bound of the count over ℚ, so 0 proves there is no such law; "
                       "integer, no tolerance.",
                       details={"controls_poly": {k: v["poly"] for k, v in obs["controls"].items()}})]
        ctrl = obs["controls"]
        out.append(holds(f"controls (rotation, constant field on ℝ^{d.generic_dim}): N = D − 1 like the generic field, "
                         f"yet ≥ 1 polynomial law of degree ≤ {d.search_degree} each",
                         all(c["N"] == pred["generic_N"] and c["poly"] >= 1 for c in ctrl.values()),
                         "Positive control of the law search: on single fields with known polynomial laws (x₁² + x₂², "
                         "x₅, …; any polynomial in x₂ … x_D) the same count gives N = D − 1 while the search finds "
                         "laws, so a generic field's 0 is not a search that finds nothing.",
                         value={k: [v["N"], v["poly"]] for k, v in ctrl.items()}, tolerance="N = D − 1 and ≥ 1 law"))
        return out

    def numbers(self, d, pred, obs):
        return dict(product_N=obs["product_N"], generic_N=obs["generic_N"], generic_poly_laws=obs["generic_poly"],
                    controls=obs["controls"],
                    linear_laws_found=_span(obs["linear"]), relu_laws_found=_span(obs["relu"]))


def _is_diagonal(i: int, f) -> bool:
    """Whether the i-th law of `known_quadratic_laws(f, "linear")` (upper triangle, row-major) is a diagonal entry."""
    r = len([s for s in f.theta if str(s).startswith("U0_")])
    pairs = [(a, b) for a in range(r) for b in range(a, r)]
    return pairs[i][0] == pairs[i][1]
