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

    def figure(self, predicted, observed, ctx, verdict):
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


def _same_z_and_laws(U, V, step: float = 0.3, newton: int = 30):
    """θ′ with φ(θ′) = φ(θ) and h(θ′) = h(θ): step along ker∂φ ∩ ker∂h (a direction with Σ_s ≠ 0), then Newton back."""
    import torch

    (n, r), m = U.shape, V.shape[0]
    iu = torch.triu_indices(r, r)

    def F(th):
        A, B = th[: n * r].reshape(n, r), th[n * r:].reshape(m, r)
        S = A.T @ A - B.T @ B
        return torch.cat([(A @ B.T).ravel(), S[iu[0], iu[1]]])

    th0 = torch.tensor(np.concatenate([U.ravel(), V.ravel()]))
    target = F(th0)
    J = torch.autograd.functional.jacobian(F, th0).numpy()
    _, s, Vt = np.linalg.svd(J)
    Q = Vt[int(np.sum(s > 1e-9 * s[0])):]
    # among kernel directions, prefer the one that changes UUᵀ most (Σ_s ≠ 0, F3.11)
    Uc = U.copy()
    moves = [np.linalg.norm((U + step * q[: n * r].reshape(n, r)) @ (U + step * q[: n * r].reshape(n, r)).T
                            - Uc @ Uc.T) for q in Q]
    th = th0 + step * torch.tensor(Q[int(np.argmax(moves))])
    for _ in range(newton):
        res = F(th) - target
        if float(res.abs().max()) < 1e-14:
            break
        Jt = torch.autograd.functional.jacobian(F, th).numpy()
        th = th - torch.tensor(np.linalg.lstsq(Jt, res.numpy(), rcond=None)[0])
    th = th.numpy()
    return th[: n * r].reshape(n, r), th[n * r:].reshape(m, r), float((F(torch.tensor(th)) - target).abs().max())


@register
class TwoTrajectories(Check):
    name = "intrinsic.two_trajectories"
    paper = "INTR"
    prediction_id = "MPG-P10b"
    claim = ("z(t) is intrinsic (a function of z(0) and the laws) under relaxed balance, not for a generic init: two "
             "parameters with the same z and the same U^T U - V^T V but different U U^T give different z(t) "
             "(generic) or the same z(t) (relaxed balance, where no such pair exists)")
    provenance = "[R]"
    tolerance_rationale = ("DOP853 at rtol 1e-12 over T: 'same' means max_t |z - z'| <= 1e-8; 'diverge' means >= 1e-4. "
                           "Pairs (UO, VO) with O orthogonal are not used: they give identical z(t) for every init.")

    def __init__(self, intrinsic_rule=None):
        self.intrinsic_rule = intrinsic_rule or intrinsic.inclusion_predicted

    def _cases(self, ctx):
        rng = np.random.default_rng(ctx.seed + 7)
        yield "generic (3,2,3)", (rng.standard_normal((3, 2)), rng.standard_normal((3, 2)))
        yield "generic (2,2,2)", (rng.standard_normal((2, 2)), rng.standard_normal((2, 2)))
        yield "relaxed κ=0.8 (3,2,3)", intrinsic.relaxed_balanced(3, 2, 3, 0.8, seed=ctx.seed)
        yield "relaxed κ=−1 (3,2,2)", intrinsic.relaxed_balanced(3, 2, 2, -1.0, seed=ctx.seed)

    def predict(self, ctx):
        return {"same": [bool(self.intrinsic_rule(U, V)) for _, (U, V) in self._cases(ctx)]}

    def observe(self, ctx):
        T = ctx.pick(2.0, 3.0)
        rng = np.random.default_rng(ctx.seed + 11)
        rows = []
        for name, (U, V) in self._cases(ctx):
            U2, V2, resid = _same_z_and_laws(U, V)
            Z = rng.standard_normal((U.shape[0], V.shape[0]))
            t, tr1 = _flow(U, V, Z, T, 1e-12)
            _, tr2 = _flow(U2, V2, Z, T, 1e-12)
            z1 = np.array([A @ B.T for A, B in tr1])
            z2 = np.array([A @ B.T for A, B in tr2])
            rows.append(dict(case=name, t=t, z1=z1, z2=z2, gap=float(np.abs(z1 - z2).max()), newton_residual=resid,
                             metric_change=float(np.abs(U2 @ U2.T - U @ U.T).max())))
        return {"rows": rows}

    def judge(self, predicted, observed):
        table, ok = [], True
        for row, same in zip(observed["rows"], predicted["same"]):
            good = row["gap"] <= 1e-8 if same else row["gap"] >= 1e-4
            ok &= good and row["newton_residual"] < 1e-10
            table.append(dict(case=row["case"], predicted_same=same, max_gap=row["gap"],
                              metric_change=row["metric_change"], newton_residual=row["newton_residual"]))
        obs = "; ".join(f"{r['case']}: {r['max_gap']:.1e}" for r in table)
        return self.verdict(PASS if ok else FAIL, "same z(t) ⇔ relaxed balance", obs, "≤ 1e-8 / ≥ 1e-4", cases=table)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        rows = observed["rows"]
        fig, axes = plt.subplots(1, len(rows), figsize=(3.3 * len(rows), 3.2), sharey=False)
        for ax, row in zip(axes, rows):
            for i in range(min(3, row["z1"].shape[1] * row["z1"].shape[2])):
                ax.plot(row["t"], row["z1"].reshape(len(row["t"]), -1)[:, i], "-", color=f"C{i}")
                ax.plot(row["t"], row["z2"].reshape(len(row["t"]), -1)[:, i], "--", color=f"C{i}")
            ax.set_title(f"{row['case']}\nmax |z − z′| = {row['gap']:.1e}", fontsize=8)
            ax.set_xlabel("t")
        axes[0].set_ylabel("entries of z(t) (solid θ, dashed θ′)")
        fig.suptitle("Same z(0) and same laws, different metric (MPG-P10)", fontsize=9, y=1.04)
        return [save_figure(fig, ctx.figure_path(self.name))]
