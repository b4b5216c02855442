"""Kernel inclusion ker∂φ ∩ ker∂h ⊆ ker∂M and the intersection dimension (MPG-P8, MPG-P9)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from theory import intrinsic

from ...core import Check, Variant, register
from ...criteria import at_most, undecided
from ...design import Design, positive
from ...errors import CheckError
from ...strategies.intrinsic import linear_factorisations
from .common import always, balanced_only, configs, never, same_length, shape_only

def torch_inclusion(U, V, rcond=1e-9):
    """(dim of ker ∂φ ∩ ker ∂h, ‖∂M·Q‖) with Jacobians by torch autograd (independent of theory's symbolic ones)."""
    (n, r), m = U.shape, V.shape[0]
    iu = torch.triu_indices(r, r)

    def split(th):
        return th[: n * r].reshape(n, r), th[n * r:].reshape(m, r)

    def phi(th):
        A, B = split(th)
        return (A @ B.T).ravel()

    def h(th):
        A, B = split(th)
        S = A.T @ A - B.T @ B
        return S[iu[0], iu[1]]

    def metric(th):
        A, B = split(th)
        return torch.cat([(A @ A.T).ravel(), (B @ B.T).ravel()])

    th = torch.tensor(np.concatenate([U.ravel(), V.ravel()]))
    jac = lambda f: torch.autograd.functional.jacobian(f, th).numpy()  # noqa: E731
    _, s, Vt = np.linalg.svd(np.vstack([jac(phi), jac(h)]))
    Q = Vt[int(np.sum(s > rcond * s[0])):].T
    return Q.shape[1], float(np.linalg.norm(jac(metric) @ Q)) if Q.size else 0.0


@dataclass(frozen=True)
class InclusionDesign(Design):
    """E8 kernel inclusion: linear z = UVᵀ at shapes (ns[i], rs[i], ms[i]), each with a generic Gaussian init and,
    where r ≤ n, a relaxed-balanced one with UᵀU − VᵀV = κI.

    Arguments:
        ns, rs, ms: the shapes (output n, inner r, input m).
        kappa: κ of the relaxed-balanced inits.
        rcond: relative singular-value cut of the null spaces (SVD of exact autograd Jacobians).
        instances: drawn architectures of the family (`checks.strategies.linear_factorisations`).
    """

    ns: tuple[int, ...] = (2, 3, 3, 4)
    rs: tuple[int, ...] = (2, 2, 3, 3)
    ms: tuple[int, ...] = (2, 3, 3, 2)
    kappa: float = 0.8
    rcond: float = 1e-9
    instances: int = 12
    presets: ClassVar = {"quick": dict(instances=3), "full": dict(instances=60)}
    sources: ClassVar = {"ns": "docs/theory/mpg-conservation.md#e8 'Kernel inclusion': (2,2,2), (3,2,3), (3,3,3), (4,3,2)",
                         "kappa": "docs/theory/mpg-conservation.md#e8: S = 0.8·I"}

    def validate(self):
        same_length(self, "ns", "rs", "ms")
        positive(self, "ns", "rs", "ms", "kappa", "rcond")
        if self.instances < 0:
            raise CheckError(f"instances={self.instances} must be ≥ 0")


def _inclusion_instance(c: dict) -> dict:
    return {"ns": (c["n"],), "rs": (c["r"],), "ms": (c["m"],), "kappa": c["kappa"], "seed": c["seed"]}


def _dim_as(rule):
    return lambda f: (lambda n, r, m: None if f(n, r, m) is None else rule(r))


@register
class KernelInclusion(Check):
    name = "intrinsic.kernel_inclusion"
    paper = "INTR"
    prediction_id = "MPG-P8"
    also_judges = ("MPG-P9",)
    claim = ("For two-layer linear nets with full-rank U, V and r ≤ min(n, m), dim(ker dφ ∩ ker dh) = r(r-1)/2 at "
             "generic and relaxed-balanced inits: never recoverable for r ≥ 2")
    claims = {"MPG-P9": "For two-layer linear nets with full-rank U, V and r ≤ min(n, m), ker dφ ∩ ker dh ⊆ ker dM "
                        "holds iff Uᵀ U − Vᵀ V = κ I; it fails for (4,3,2) even under relaxed balance (r > m)"}
    provenance = "[R]"
    design = InclusionDesign
    uses = {"dim": lambda: intrinsic.intersection_dim, "holds": lambda: intrinsic.inclusion_predicted}
    alternatives = (
        Variant("recoverable: dim ker∂φ ∩ ker∂h = 0", {"dim": _dim_as(lambda r: 0)},
                why="the ReLU result (gap 0, MPG-P7/P8) carried over to linear nets"),
        Variant("dim = r(r+1)/2 (one direction per law)", {"dim": _dim_as(lambda r: r * (r + 1) // 2)},
                why="confusing the intersection with the number of laws N = r(r+1)/2"),
        Variant("inclusion for every full-rank init (no balance needed)", {"holds": shape_only}, against="MPG-P9",
                why="F3.10 is only a necessary condition; a referee may expect it to hold generically"),
        Variant("inclusion only under exact balance (κ = 0)", {"holds": balanced_only}, against="MPG-P9",
                why="the classical balanced case is the one usually proved"),
    )
    mutants = (
        Variant("inclusion always holds ('always recoverable')", {"holds": always}, against="MPG-P9"),
        Variant("inclusion never holds", {"holds": never}, against="MPG-P9"),
        Variant("inclusion ⇔ r ≤ min(n, m)", {"holds": shape_only}, against="MPG-P9"),
        Variant("dim r(r+1)/2", {"dim": _dim_as(lambda r: r * (r + 1) // 2)}),
        Variant("dim (r−1)(r−2)/2 (off by one)", {"dim": _dim_as(lambda r: (r - 1) * (r - 2) // 2)}),
        Variant("dim r²", {"dim": _dim_as(lambda r: r * r)}),
    )
    family = staticmethod(lambda d: linear_factorisations(kappa=d.kappa).map(_inclusion_instance))

    def observe(self, d):
        rng = np.random.default_rng(d.seed)
        rows = []
        for n, r, m in configs(d, "ns", "rs", "ms"):
            cases = [("generic", rng.standard_normal((n, r)), rng.standard_normal((m, r)))]
            if r <= n:
                cases.append((f"S={d.kappa:g}I", *intrinsic.relaxed_balanced(n, r, m, d.kappa, seed=d.seed)))
            for init, U, V in cases:
                dim, err = torch_inclusion(U, V, d.rcond)
                rows.append(dict(shape=(n, r, m), init=init, U=U, V=V, dim=dim, error=err))
        return {"rows": rows}

    TOL = 1e-8  # ‖∂M·Q‖ below which the inclusion holds (see the MPG-P9 criterion's rationale)

    def _table(self, pred, obs):
        return [dict(shape=row["shape"], init=row["init"], dim=row["dim"], predicted_dim=pred["dim"](*row["shape"]),
                     error=row["error"], holds=row["error"] <= self.TOL,
                     predicted_holds=bool(pred["holds"](row["U"], row["V"]))) for row in obs["rows"]]

    def criteria(self, d, pred, obs):
        table = self._table(pred, obs)
        judged = [r for r in table if r["predicted_dim"] is not None]
        dim_crit = (at_most("max |observed − predicted dim(ker∂φ ∩ ker∂h)| over the cases with r ≤ min(n, m)",
                            max(abs(r["dim"] - r["predicted_dim"]) for r in judged), 0,
                            "An integer: the null-space dimension of exact (autograd) Jacobians of quadratic maps, by "
                            "SVD with rcond 1e-9, far from every singular value of these O(1) draws, so it must equal "
                            "r(r−1)/2 exactly (MPG-P8).", prediction_id="MPG-P8")
                    if judged else undecided("dim(ker∂φ ∩ ker∂h) = r(r−1)/2", "no case with r ≤ min(n, m)",
                                             prediction_id="MPG-P8"))
        wrong = [r for r in table if r["holds"] != r["predicted_holds"]]
        margin = min(abs(np.log10(max(r["error"], 1e-300) / self.TOL)) for r in table)
        return [dim_crit,
                at_most("cases where ker∂φ ∩ ker∂h ⊆ ker∂M (‖∂M·Q‖ ≤ 1e-8) disagrees with 'S = κI and r ≤ min(n,m)'",
                        len(wrong), 0,
                        "‖∂M·Q‖ of exact Jacobians is round-off (~1e-15) where the inclusion holds and O(1) where it "
                        "fails; 1e-8 sits between (docs/theory/mpg-conservation.md#f3-10 uses 1e-6 for finite differences), so every "
                        "case must agree (MPG-P9).", prediction_id="MPG-P9",
                        details={"min_decades_from_tolerance": margin})]

    def numbers(self, d, pred, obs):
        return {"cases": self._table(pred, obs)}
