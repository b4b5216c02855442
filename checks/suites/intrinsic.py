"""Intrinsic dynamics of relaxed-balanced two-layer linear nets (INTR; MPG-P10)."""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from theory import intrinsic

from ..core import FAIL, PASS, Check, register
from ..io import save_figure

# E8 configurations (n, r, m, κ); the last is invalid (r > m with κ > 0 and P_U not a function of z)
CONFIGS = ((3, 2, 2, 2.0), (3, 2, 2, 0.5), (3, 2, 2, -1.0), (2, 2, 1, 1.0), (2, 2, 3, -0.7), (1, 1, 1, 0.3),
           (1, 1, 1, -0.3), (3, 3, 2, 1.0), (2, 3, 3, -1.0))


def _flow(U0, V0, Z, T, rtol):
    """θ-flow of f = ½‖UVᵀ − Z‖²: U̇ = −(UVᵀ − Z)V, V̇ = −(UVᵀ − Z)ᵀU (DOP853)."""
    n, r = U0.shape

    def rhs(t, th):
        U, V = th[: n * r].reshape(n, r), th[n * r:].reshape(-1, r)
        G = U @ V.T - Z
        return np.concatenate([(-G @ V).ravel(), (-G.T @ U).ravel()])

    sol = solve_ivp(rhs, (0, T), np.concatenate([U0.ravel(), V0.ravel()]), method="DOP853", rtol=rtol, atol=rtol,
                    t_eval=np.linspace(0, T, 31))
    return sol.t, [(th[: n * r].reshape(n, r), th[n * r:].reshape(-1, r)) for th in sol.y.T]


@register
class IntrinsicMetric(Check):
    name = "intrinsic.relaxed_balanced_metric"
    paper = "INTR"
    prediction_id = "MPG-P10"
    claim = ("For relaxed-balanced init (U^T U - V^T V = kappa I) the metric is a function of z = U V^T along the whole "
             "flow: U U^T = A(z) and V V^T = B(z) pointwise; a generic init breaks the identity")
    provenance = "[R]"
    tolerance_rationale = ("Pointwise identity along a DOP853 trajectory (rtol 1e-12): error <= 1e-9 allows for the "
                           "integration error of S; negative control (generic init, kappa := tr S / r) must exceed 1e-3.")

    def __init__(self, metric_A=None):
        self.metric_A = metric_A or intrinsic.metric_A

    def predict(self, ctx):
        return {"A": self.metric_A, "B": intrinsic.metric_B}

    def observe(self, ctx):
        T = ctx.pick(1.5, 3.0)
        rng = np.random.default_rng(ctx.seed)
        runs = []
        for n, r, m, kap in CONFIGS:
            U0, V0 = intrinsic.relaxed_balanced(n, r, m, kap, seed=ctx.seed)
            Z = rng.standard_normal((n, m))
            t, traj = _flow(U0, V0, Z, T, 1e-12)
            runs.append(dict(config=(n, r, m, kap), t=t, traj=traj, control=False))
        U0, V0 = rng.standard_normal((3, 2)), rng.standard_normal((2, 2))  # generic init: negative control
        S = U0.T @ U0 - V0.T @ V0
        t, traj = _flow(U0, V0, rng.standard_normal((3, 2)), T, 1e-12)
        runs.append(dict(config=(3, 2, 2, float(np.trace(S) / 2)), t=t, traj=traj, control=True))
        return {"runs": runs}

    def judge(self, predicted, observed):
        A, B = predicted["A"], predicted["B"]
        table = []
        for run in observed["runs"]:
            n, r, m, kap = run["config"]
            errs = [max(np.abs(A(U @ V.T, kap, r) - U @ U.T).max(), np.abs(B(U @ V.T, kap, r) - V @ V.T).max())
                    for U, V in run["traj"]]
            run["errors"] = np.array(errs)
            table.append(dict(config=run["config"], control=run["control"], max_error=float(max(errs))))
        valid_err = max(r["max_error"] for r in table if not r["control"])
        control_err = min(r["max_error"] for r in table if r["control"])
        ok = valid_err <= 1e-9 and control_err > 1e-3
        return self.verdict(PASS if ok else FAIL, "|A(z) − UUᵀ| = 0 (relaxed balance)",
                            f"max {valid_err:.1e}; control {control_err:.2f}", "≤ 1e-9; control > 1e-3",
                            configs=table)

    def figure(self, predicted, observed, ctx):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for run in observed["runs"]:
            style = dict(color="k", lw=2, label="generic init (control)") if run["control"] else dict(alpha=0.7)
            ax.semilogy(run["t"], np.maximum(run["errors"], 1e-17), **style)
        ax.set(xlabel="flow time t", ylabel=r"max(|A(z)−UUᵀ|, |B(z)−VVᵀ|)",
               title="Intrinsic metric along the flow (MPG-P10)")
        ax.legend(fontsize=8)
        return [save_figure(fig, ctx.figure_path(self.name))]


def _torch_inclusion(U, V, rcond=1e-9):
    """ker ∂φ ∩ ker ∂h ⊆ ker ∂M, with Jacobians by torch autograd (independent of theory's symbolic ones)."""
    import torch

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
    stacked = np.vstack([jac(phi), jac(h)])
    _, s, Vt = np.linalg.svd(stacked)
    Q = Vt[int(np.sum(s > rcond * s[0])):].T
    return Q.shape[1], float(np.linalg.norm(jac(metric) @ Q)) if Q.size else 0.0


@register
class KernelInclusion(Check):
    name = "intrinsic.kernel_inclusion"
    paper = "INTR"
    prediction_id = "MPG-P8/P9"
    claim = ("For two-layer linear nets with full-rank U, V and r <= min(n, m), ker dphi ∩ ker dh ⊆ ker dM holds iff "
             "U^T U - V^T V = kappa I; the intersection has dimension r(r-1)/2 (never recoverable for r >= 2)")
    provenance = "[R]"
    tolerance_rationale = ("Null spaces by SVD (rcond 1e-9) of exact autograd Jacobians of quadratic maps; inclusion "
                           "holds if |dM Q| <= 1e-8 (formulas.md F3.10 uses 1e-6 for finite differences).")

    def __init__(self, predicate=None):
        self.predicate = predicate or intrinsic.inclusion_predicted

    def _cases(self, ctx):
        rng = np.random.default_rng(ctx.seed)
        for n, r, m in ((2, 2, 2), (3, 2, 3), (3, 3, 3), (4, 3, 2)):
            yield (n, r, m, "generic"), (rng.standard_normal((n, r)), rng.standard_normal((m, r)))
            if r <= n:
                yield (n, r, m, "S=0.8I"), intrinsic.relaxed_balanced(n, r, m, 0.8, seed=ctx.seed)

    def predict(self, ctx):
        return {"holds": [bool(self.predicate(U, V)) for _, (U, V) in self._cases(ctx)],
                "dim": [r * (r - 1) // 2 if r <= min(n, m) else None for (n, r, m, _), _ in self._cases(ctx)]}

    def observe(self, ctx):
        rows = []
        for case, (U, V) in self._cases(ctx):
            dim, err = _torch_inclusion(U, V)
            rows.append(dict(case=case, dim=dim, error=err, holds=err <= 1e-8))
        return {"rows": rows}

    def judge(self, predicted, observed):
        rows = [dict(r, predicted=p, predicted_dim=d) for r, p, d in
                zip(observed["rows"], predicted["holds"], predicted["dim"])]
        bad = [r for r in rows if r["holds"] != r["predicted"] or (r["predicted_dim"] is not None
                                                                   and r["dim"] != r["predicted_dim"])]
        return self.verdict(PASS if not bad else FAIL, "inclusion ⇔ S = κI; dim r(r−1)/2",
                            f"{len(rows) - len(bad)}/{len(rows)} cases agree", "|∂M·Q| ≤ 1e-8", cases=rows)


@register
class DepthThreeChain(Check):
    name = "intrinsic.depth3_chain"
    paper = "INTR"
    prediction_id = "MPG-P11"
    claim = ("For the depth-3 scalar ReLU chain z = abc (positive region), z(t) follows the autonomous ODE "
             "zdot = -e2(s, s-h1, s-h1-h2) f'(z) with h1 = a^2-b^2, h2 = b^2-c^2 conserved")
    provenance = "[R]"
    tolerance_rationale = ("Both flows by DOP853 at rtol = atol = 1e-12; [C] a prior run matched to 7.5e-13, so "
                           "|z_theta(t) - z_intrinsic(t)| <= 1e-9 leaves room for the cubic-root conditioning.")

    def __init__(self, elementary=None):
        self.elementary = elementary or intrinsic.chain_elementary

    def predict(self, ctx):
        return {"rate": lambda z, fp, h1, h2: intrinsic.chain_rate(z, fp, h1, h2, self.elementary)}

    CASES = ((4.0, 0.12), (-2.0, 1.0))  # (target y, horizon) of E8

    def observe(self, ctx):
        a0, b0, c0 = 1.3, 0.7, 1.1
        out = []
        for y, T in self.CASES:
            def rhs(t, th, y=y):
                a, b, c = th
                fp = a * b * c - y
                return [-fp * b * c, -fp * a * c, -fp * a * b]

            sol = solve_ivp(rhs, (0, T), [a0, b0, c0], method="DOP853", rtol=1e-12, atol=1e-12,
                            t_eval=np.linspace(0, T, 11))
            out.append(dict(y=y, T=T, t=sol.t, z=np.prod(sol.y, axis=0), h=(a0 ** 2 - b0 ** 2, b0 ** 2 - c0 ** 2)))
        return {"runs": out}

    def judge(self, predicted, observed):
        rate = predicted["rate"]
        errs = []
        for run in observed["runs"]:
            h1, h2 = run["h"]
            sol = solve_ivp(lambda t, z: [rate(z[0], z[0] - run["y"], h1, h2)], (0, run["T"]), [run["z"][0]],
                            method="DOP853", rtol=1e-12, atol=1e-12, t_eval=run["t"])
            errs.append(float(np.abs(sol.y[0] - run["z"]).max()))
        worst = max(errs)
        return self.verdict(PASS if worst <= 1e-9 else FAIL, "z(t) from the intrinsic ODE",
                            f"max |Δz| {worst:.1e}", "≤ 1e-9", errors=errs)
