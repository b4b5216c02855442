"""Kernel inclusion ker∂φ ∩ ker∂h ⊆ ker∂M and the intersection dimension (MPG-P8, MPG-P9): linear z = UVᵀ and the
ReLU path-lifting (E8 'Recoverability')."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from theory import intrinsic

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import at_most, undecided
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.strategies.intrinsic import linear_factorisations
from checks.suites.intrinsic.linear_flow import always, balanced_only, configs, never, same_length, shape_only

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
    Q = _null_space(np.vstack([jac(phi), jac(h)]), rcond)
    return Q.shape[1], float(np.linalg.norm(jac(metric) @ Q)) if Q.size else 0.0


def _null_space(J, rcond):
    _, s, Vt = np.linalg.svd(J)
    return Vt[int(np.sum(s > rcond * s[0])):].T


def torch_relu_kernel_dim(d_in, r, d_out, seed=0, rcond=1e-9):
    """dim(ker ∂φ ∩ ker ∂h) of the ReLU path-lifting φ = (u_k v_kᵀ)_k, h = (‖u_k‖² − ‖v_k‖²)_k at a Gaussian θ,
    with Jacobians by torch autograd (independent of theory's count)."""
    rng = np.random.default_rng(seed)
    k = d_out + d_in

    def blocks(th):
        return th.reshape(r, k)[:, :d_out], th.reshape(r, k)[:, d_out:]

    def phi(th):
        u, v = blocks(th)
        return (u[:, :, None] * v[:, None, :]).ravel()

    def h(th):
        u, v = blocks(th)
        return (u ** 2).sum(1) - (v ** 2).sum(1)

    th = torch.tensor(rng.standard_normal(r * k))
    J = np.vstack([torch.autograd.functional.jacobian(f, th).numpy() for f in (phi, h)])
    return _null_space(J, rcond).shape[1]


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
    relu_d_in: tuple[int, ...] = (3, 4, 2)
    relu_r: tuple[int, ...] = (2, 5, 3)
    relu_d_out: tuple[int, ...] = (1, 2, 3)
    instances: int = 12
    presets: ClassVar = {"quick": dict(instances=3), "full": dict(instances=60)}
    sources: ClassVar = {"ns": "docs/theory/mpg-conservation.md#e8 'Kernel inclusion': (2,2,2), (3,2,3), (3,3,3), "
                               "(4,3,2)",
                         "kappa": "docs/theory/mpg-conservation.md#e8: S = 0.8·I",
                         "relu_d_in": "docs/theory/mpg-conservation.md#mpg-p8 (E8 'Recoverability'): ReLU "
                                      "(d_in, r, d_out) = (3,2,1), (4,5,2), (2,3,3) → 0 (MPG-P8 [V])"}

    def validate(self):
        same_length(self, "ns", "rs", "ms")
        same_length(self, "relu_d_in", "relu_r", "relu_d_out")
        positive(self, "ns", "rs", "ms", "kappa", "rcond", "relu_d_in", "relu_r", "relu_d_out")
        if self.instances < 0:
            raise CheckError(f"instances={self.instances} must be ≥ 0")


def _inclusion_instance(c: dict) -> dict:
    return {"ns": (c["n"],), "rs": (c["r"],), "ms": (c["m"],), "kappa": c["kappa"], "seed": c["seed"]}


def _dim_as(rule):
    return lambda f: (lambda n, r, m: None if f(n, r, m) is None else rule(r))


def _relu_dim_as(rule):
    return lambda f: (lambda d_in, r, d_out: rule(r))


def _deficient_as(rule):
    """Variant: another count only where one factor is rank-deficient (min(n, m) < r ≤ max(n, m))."""
    return lambda f: (lambda n, r, m: rule(n, r, m) if min(n, m) < r <= max(n, m) else f(n, r, m))


@register
class KernelInclusion(Check):
    name = "intrinsic.kernel_inclusion"
    paper = "INTR"
    prediction_id = "MPG-P8"
    also_judges = ("MPG-P9",)
    claim = ("dim(ker dφ ∩ ker dh) at a random θ is 0 for the ReLU path-lifting (d_in, r, d_out) = (3,2,1), (4,5,2), "
             "(2,3,3) (intrinsically recoverable), r(r-1)/2 for two-layer linear nets with r ≤ min(n, m) at generic "
             "and relaxed-balanced inits (never recoverable for r ≥ 2), and 4 for linear (4,3,2) where V is "
             "rank-deficient")
    claims = {"MPG-P9": "For two-layer linear nets with full-rank U, V and r ≤ min(n, m), ker dφ ∩ ker dh ⊆ ker dM "
                        "holds iff Uᵀ U − Vᵀ V = κ I; it fails for (4,3,2) even under relaxed balance (r > m)"}
    provenance = "[V: summary of INTR (ReLU 0); R (linear r(r−1)/2); C ((4,3,2) → 4)]"
    provenances = {"MPG-P9": "[R; C]"}
    design = InclusionDesign
    uses = {"dim": lambda: intrinsic.intersection_dim, "holds": lambda: intrinsic.inclusion_predicted,
            "relu_dim": lambda: intrinsic.relu_intersection_dim}
    alternatives = (
        Variant("recoverable: dim ker∂φ ∩ ker∂h = 0", {"dim": _dim_as(lambda r: 0)},
                why="the ReLU result (gap 0, MPG-P7/P8) carried over to linear nets"),
        Variant("dim = r(r+1)/2 (one direction per law)", {"dim": _dim_as(lambda r: r * (r + 1) // 2)},
                why="confusing the intersection with the number of laws N = r(r+1)/2"),
        Variant("ReLU like linear: dim = r(r−1)/2", {"relu_dim": _relu_dim_as(lambda r: r * (r - 1) // 2)},
                why="a ReLU net is linear on each activation region, so it would inherit the linear "
                    "non-recoverability"),
        Variant("r(r−1)/2 also when a factor is rank-deficient",
                {"dim": _deficient_as(lambda n, r, m: r * (r - 1) // 2)},
                why="the r ≤ min(n, m) rule applied outside its hypothesis (the [C] row (4,3,2))"),
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
        Variant("ReLU: one rescaling direction per neuron, laws not cut (dim r)",
                {"relu_dim": _relu_dim_as(lambda r: r)}),
        Variant("rank-deficient: laws not subtracted (dim r(n+m) − nm)",
                {"dim": _deficient_as(lambda n, r, m: r * (n + m) - n * m)}),
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
        relu = [dict(shape=(di, r, do), dim=torch_relu_kernel_dim(di, r, do, seed=d.seed, rcond=d.rcond))
                for di, r, do in configs(d, "relu_d_in", "relu_r", "relu_d_out")]
        return {"rows": rows, "relu": relu}

    TOL = 1e-8  # ‖∂M·Q‖ below which the inclusion holds (see the MPG-P9 criterion's rationale)

    def _table(self, pred, obs):
        return [dict(shape=row["shape"], init=row["init"], dim=row["dim"], predicted_dim=pred["dim"](*row["shape"]),
                     error=row["error"], holds=row["error"] <= self.TOL,
                     predicted_holds=bool(pred["holds"](row["U"], row["V"]))) for row in obs["rows"]]

    def _relu_table(self, pred, obs):
        return [dict(**row, predicted_dim=pred["relu_dim"](*row["shape"])) for row in obs.get("relu", [])]

    def criteria(self, d, pred, obs):
        table = self._table(pred, obs)
        exact = ("An integer: the null-space dimension of exact (autograd) Jacobians of quadratic maps, by SVD with "
                 "rcond 1e-9, far from every singular value of these O(1) draws, so it must equal the count exactly; "
                 "every rival count differs by ≥ 1 (MPG-P8).")
        full = [r for r in table
                if r["predicted_dim"] is not None and r["shape"][1] <= min(r["shape"][0], r["shape"][2])]
        deficient = [r for r in table if r["predicted_dim"] is not None and r not in full]
        relu = self._relu_table(pred, obs)
        dim_crit = []
        for name, rows, none in (
                ("linear, r ≤ min(n, m): r(r−1)/2", full, "no linear case with r ≤ min(n, m)"),
                ("linear, a factor rank-deficient (r > min(n, m)): r(n+m) − nm − r(r+1)/2, (4,3,2) → 4", deficient,
                 "no linear case with min(n, m) < r ≤ max(n, m)"),
                ("ReLU path-lifting: 0 (intrinsically recoverable)", relu, "no ReLU case")):
            if not rows and rows is deficient:  # e.g. a family instance (drawn with r ≤ min(n, m))
                continue
            dim_crit.append(
                at_most(f"max |observed − predicted dim(ker∂φ ∩ ker∂h)|, {name}",
                        max(abs(r["dim"] - r["predicted_dim"]) for r in rows), 0, exact, prediction_id="MPG-P8",
                        details={"cases": [dict(shape=r["shape"], observed=r["dim"], predicted=r["predicted_dim"])
                                           for r in rows]})
                if rows else undecided(f"dim(ker∂φ ∩ ker∂h), {name}", none, prediction_id="MPG-P8"))
        wrong = [r for r in table if r["holds"] != r["predicted_holds"]]
        margin = min(abs(np.log10(max(r["error"], 1e-300) / self.TOL)) for r in table)
        return [*dim_crit,
                at_most("cases where ker∂φ ∩ ker∂h ⊆ ker∂M (‖∂M·Q‖ ≤ 1e-8) disagrees with 'S = κI and r ≤ min(n,m)'",
                        len(wrong), 0,
                        "‖∂M·Q‖ of exact Jacobians is round-off (~1e-15) where the inclusion holds and O(1) where it "
                        "fails; 1e-8 sits between (docs/theory/mpg-conservation.md#f3-10 uses 1e-6 for finite "
                        "differences), so every case must agree (MPG-P9).", prediction_id="MPG-P9",
                        details={"min_decades_from_tolerance": margin})]

    def numbers(self, d, pred, obs):
        return {"cases": self._table(pred, obs), "relu_cases": self._relu_table(pred, obs)}
