"""The dimension of the intrinsic variable (MPG-P13): rank ∂φ observed from autograd Jacobians of a torch φ at
random points (not from theory's SymPy expressions), against the Lie-algebra and law-search counts."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np
import sympy as sp
import torch

from theory import intrinsic_dim, lie

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import holds, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.strategies.conservation import intrinsic_dim_architectures


# ====================================================================== MPG-P13 rank ∂φ
def _phi_relu(theta, d_in, hidden, d_out, bias):
    """Path-lifting (u_k (v_k; b_k)ᵀ)_k in torch; θ per neuron = (u_k, v_k[, b_k]) (theory.lie's order)."""
    q = d_in + int(bias)
    blocks = theta.reshape(hidden, d_out + q)
    return torch.cat([torch.outer(b[:d_out], b[d_out:]).reshape(-1) for b in blocks])


def _phi_linear(theta, n, m, r):
    U, V = theta[:n * r].reshape(n, r), theta[n * r:].reshape(m, r)
    return (U @ V.T).reshape(-1)


def exact_count(value):
    """A predicted count as a number: int when it is an integer, else the exact value as a float (never truncated,
    so a formula giving D − ½ is not read as D − 1)."""
    value = sp.sympify(value)
    return int(value) if value.is_integer else float(value)


def _autograd_rank(phi, D, points, rng):
    ranks = []
    for _ in range(points):
        th = torch.tensor(rng.standard_normal(D))
        J = torch.autograd.functional.jacobian(phi, th).numpy()
        ranks.append(lie.rank(J))
    return ranks


@dataclass(frozen=True)
class IntrinsicDimDesign(Design):
    """One ReLU path-lifting and one linear factorisation; rank ∂φ from autograd Jacobians at random points.

    Arguments:
        d_in, hidden, d_out, bias: the ReLU net (input dim, hidden neurons H, output dim, bias).
        n, m, r: the linear net z = UVᵀ (U n×r, V m×r), r ≤ min(n, m).
        points: Gaussian random θ per architecture (the rank must agree at all).
        instances: drawn architectures of the family (checks.strategies.intrinsic_dim_architectures).
    """

    d_in: int = 3
    hidden: int = 2
    d_out: int = 2
    bias: bool = True
    n: int = 4  # n ≠ m and n + m ≠ 2r + 2: at (3, 3, 2), r(n + m − r) could not tell n from m, nor r from r + 2
    m: int = 3
    r: int = 2
    points: int = 3
    instances: int = 12
    presets: ClassVar = {"quick": dict(instances=3), "full": dict(instances=60),
                         "paper": dict(d_in=10, hidden=10, d_out=5, n=8, m=8, r=6, instances=60)}
    paper_source: ClassVar = ("MPG-P13 (E8) at the largest nets the block-wise Lie closure (the cross-check) counts in "
                              "well under a minute on 2 cores: ReLU (10, 10, 5) with bias 4 s and linear (8, 8, 6) "
                              "33 s (2026-12-02, beside other jobs); ReLU (12, 12, 6) 17 s; linear (10, 10, 8) is "
                              "refused by the closure's memory estimate (9.8 GiB > 4 GiB)")

    def validate(self):
        positive(self, "d_in", "hidden", "d_out", "n", "m", "r", "points")
        if not intrinsic_dim.linear_rank_applies(self.n, self.m, self.r):
            raise CheckError(f"r={self.r} > min(n, m) = {min(self.n, self.m)}: r(n + m − r) needs r ≤ min(n, m)")
        if self.instances < 0:
            raise CheckError(f"instances={self.instances} must be ≥ 0")


def _plus_one(f):
    return dataclasses.replace(f, rhs=f.rhs + 1)


@register
class IntrinsicDimension(Check):
    name = "conservation.intrinsic_dimension"
    paper = "INTR"
    prediction_id = "MPG-P13"
    claim = ("rank dφ = D − H for the ReLU path-lifting (H hidden neurons) and r(n + m − r) for z = U Vᵀ with "
             "r ≤ min(n, m), on every small architecture")
    provenance = "[R]"
    design = IntrinsicDimDesign
    uses = {"relu": intrinsic_dim.relu_rank, "linear": intrinsic_dim.linear_rank}
    alternatives = (Variant("ReLU rank D − H + 1", {"relu": _plus_one},
                            why="one global rescaling lost instead of one per neuron"),
                    Variant("linear rank r(n + m)", {"linear": lambda f: dataclasses.replace(
                        f, rhs=f.args[2] * (f.args[0] + f.args[1]))},
                            why="full rank D: forgetting the GL(r) fibre (UΞ, −VΞᵀ)"))
    mutants = ()  # theory.intrinsic_dim declares the mutants of F3.11-dim-relu and F3.8-dim-linear
    family = staticmethod(lambda d: intrinsic_dim_architectures())

    def predict(self, d, th):
        return intrinsic_dim.predicted_ranks(th.relu, th.linear, d_in=d.d_in, hidden=d.hidden, d_out=d.d_out,
                                             bias=d.bias, n_=d.n, m_=d.m, r_=d.r)

    def observe(self, d):
        rng = np.random.default_rng(d.seed)
        Dr = d.hidden * (d.d_out + d.d_in + int(d.bias))
        relu = _autograd_rank(partial(_phi_relu, d_in=d.d_in, hidden=d.hidden, d_out=d.d_out, bias=d.bias), Dr,
                              d.points, rng)
        linear = _autograd_rank(partial(_phi_linear, n=d.n, m=d.m, r=d.r), d.r * (d.n + d.m), d.points, rng)
        return {"relu": relu, "linear": linear}

    def criteria(self, d, pred, obs):
        stable = ("The rank is locally constant on a dense open set, so generic Gaussian points must agree; "
                  "ranks by SVD with σ_i > 1e-9·σ_max (theory.lie.RTOL), the Jacobian entries being O(1) products.")
        exact = ("Integer rank, no tolerance: a count off by one is a different geometry (the alternatives differ by "
                 "≥ 1: D − H + 1, and r(n + m) by r²)")
        return [holds("ReLU rank ∂φ identical at every random point", len(set(obs["relu"])) == 1, stable,
                      value=obs["relu"]),
                holds("linear rank ∂φ identical at every random point", len(set(obs["linear"])) == 1, stable,
                      value=obs["linear"]),
                within(f"ReLU rank ∂φ (d_in={d.d_in}, H={d.hidden}, d_out={d.d_out}, bias={d.bias}, "
                       f"D={pred['relu_D']})",
                       min(obs["relu"]), pred["relu"], 0, exact + " (MPG-P13, ReLU)."),
                within(f"linear rank ∂φ (n={d.n}, m={d.m}, r={d.r})", min(obs["linear"]), pred["linear"], 0,
                       exact + " (MPG-P13, linear).")]

    def numbers(self, d, pred, obs):
        # cross-check with theory.lie's exact matrix-algebra route (a different computation of the same rank)
        out = dict(relu_D=pred["relu_D"], linear_D=pred["linear_D"])
        for key, f in (("relu", lie.relu_path_lifting(d.d_in, d.hidden, d.d_out, d.bias)),
                       ("linear", lie.linear_net(d.n, d.m, d.r))):
            try:
                c = lie.count_laws(f, seed=d.seed)
                out[f"lie_rank_dphi_{key}"], out[f"lie_gap_{key}"] = c.rank_dphi, c.gap
            except ArithmeticError as exc:  # reported, not judged
                out[f"lie_rank_dphi_{key}"] = f"unstable: {exc}"
        return out
