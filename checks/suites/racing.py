"""Racing, mutual alignment and unlocking (Pinson 2026; PIN-2…PIN-10) on E6 XOR clusters and on real digits.

Every prediction is a reconstructed formula of `theory.racing` [R], verified symbolically there, or a calibrated
threshold [C] of experiments.md §2.1; each check takes its formula as a constructor argument (teeth tests).
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from scipy.integrate import solve_ivp
from scipy.stats import spearmanr

import numerics
from numerics import data
from theory import racing

from .. import neurons
from ..core import FAIL, INCONCLUSIVE, PASS, Check, register, relative_slope
from ..io import save_figure


# --------------------------------------------------------------------------- shared runs (cached per process)
def train_race(ds, seed: int, lam: float, m: int = 300, lr: float = 0.05, steps: int = 1500):
    """Balanced init at scale λ, full-batch GD, checkpoints log-spaced and every 5 steps."""
    W, a = numerics.init_params(m, ds.inputs.shape[1], scale=lam, seed=seed)
    return ds, numerics.train(ds.inputs, ds.y, W, a, lr=lr, steps=steps, n_checkpoints=60, linear_every=5,
                              progress=False, desc=f"race {ds.name}")


@functools.lru_cache(maxsize=8)
def race_run(dataset: str, seed: int, lam: float = 1e-3, m: int = 300):
    """The race run: E6 norms (1, 1.4, 1.8, 2.2), η = 0.1, 600 steps; or digits 3 vs 8, η = 0.05, 1500 steps."""
    if dataset == "xor":
        return train_race(data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=seed), seed, lam, m, 0.1, 600)
    if dataset == "digits":
        return train_race(data.digits_binary((3, 8), 200, seed=seed), seed, lam, m, 0.05, 1500)
    raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")


class OwnData:
    """Mixin: `check.with_data(ds, lam=…, m=…, lr=…, steps=…)` runs the check on a user's Dataset instead."""

    user: dict | None = None
    dataset = "xor"

    def with_data(self, ds, lam: float = 1e-3, m: int = 300, lr: float = 0.05, steps: int = 1500):
        self.user = dict(ds=ds, lam=lam, m=m, lr=lr, steps=steps)
        return self

    def run_for(self, ctx, seed: int, lam: float | None = None):
        if self.user is None:
            return race_run(self.dataset, seed, 1e-3 if lam is None else lam)
        u = self.user
        return train_race(u["ds"], seed, u["lam"] if lam is None else lam, u["m"], u["lr"], u["steps"])


def drop_index(loss) -> int:
    """First checkpoint whose loss is below 0.9 L(0): the first loss drop."""
    loss = np.asarray(loss)
    below = loss < 0.9 * loss[0]
    return int(np.argmax(below)) if below.any() else len(loss) - 1


def neuron_targets(X, residual, W, a, gates):
    """Per-neuron target sign(a_j) m̂_j and rate s_j, m_j = (1/n) Σ_k g_jk e_k x_k (F1.3)."""
    M = racing.gated_correlation(X, residual, gates)
    return racing.target_direction(M, np.sign(a))


# --------------------------------------------------------------------------- PIN-2, PIN-5
@register
class FixedGatingLinearity(OwnData, Check):
    name = "racing.fixed_gating"
    paper = "Pinson"
    prediction_id = "PIN-2/PIN-5"
    claim = ("With its gating g_j and the residual e frozen, neuron j follows the linear system (w_j; a_j)' = "
             "[[0, M_j^T], [M_j, 0]](w_j; a_j), M_j = (1/n) sum_k g_jk e_k x_k, and a balanced neuron's log-norm "
             "grows at d ln p_j/dt = 2 s_j cos(delta_j) (negative when it points away from its target)")
    provenance = "[R]"
    tolerance_rationale = ("Exact identities evaluated in float64 at a mid-training state of the E6 race run and of "
                           "the digits run: relative error <= 1e-9 (round-off is ~1e-14; a wrong sign, transpose or "
                           "factor gives O(1)).")

    def __init__(self, system=None, rate=None):
        self.system = system or racing.fixed_gating_system
        self.rate = rate or racing.growth_rate()

    def predict(self, ctx):
        return {"rate": self.rate.numeric("numpy")}

    def observe(self, ctx):
        states = []
        runs = [self.run_for(ctx, ctx.seed)] if self.user else [race_run(n, ctx.seed) for n in ("xor", "digits")]
        for ds, tr in runs:
            name = ds.name
            # linearity at a pre-drop state (residual ≠ y, gating has moved); the balanced rate law at t = 0,
            # where |a_j| = ‖w_j‖ exactly (GD keeps balance only to O(η²) per step)
            for i, what in ((drop_index(tr.loss) // 2, "linear"), (0, "rate")):
                W, a, X = tr.W[i], tr.a[i], ds.inputs
                lg = numerics.loss_and_grad(torch.tensor(W), torch.tensor(a), torch.tensor(X), torch.tensor(ds.y))
                e = ds.y - numerics.forward(torch.tensor(W), torch.tensor(a), torch.tensor(X)).numpy()
                states.append(dict(data=name, what=what, t=float(tr.time[i]), W=W, a=a, X=X, e=e,
                                   gates=(X @ W.T > 0).astype(float),
                                   dW=-lg.grad_W.numpy(), da=-lg.grad_a.numpy()))
        return {"states": states}

    def judge(self, predicted, observed):
        rows = []
        for st in observed["states"]:
            W, a = st["W"], st["a"]
            M = racing.gated_correlation(st["X"], st["e"], st["gates"])  # (m, d)
            if st["what"] == "linear":
                lin = np.array([self.system(M[j]) @ np.append(W[j], a[j]) for j in range(len(a))])
                eng = np.concatenate([st["dW"], st["da"][:, None]], axis=1)
                err = float(np.abs(lin - eng).max() / np.abs(eng).max())
                rows.append(dict(data=st["data"], what="K(w; a) = gradient", t=st["t"], error=err))
                continue
            r = np.linalg.norm(W, axis=1)
            p, pdot = np.abs(a) * r, np.sign(a) * st["da"] * r + np.abs(a) * np.sum(W * st["dW"], 1) / r
            target, s_j = racing.target_direction(M, np.sign(a))
            cos_d = np.sum(W * target, 1) / r
            pred = predicted["rate"](s_j, np.arccos(np.clip(cos_d, -1, 1)))
            err = float(np.abs(pdot / p - pred).max() / np.abs(pred).max())
            rows.append(dict(data=st["data"], what="d ln p/dt = 2 s cos δ", t=st["t"], error=err,
                             shrinking_when_cos_negative=float(np.mean(pdot[cos_d < 0] < 0))))
        worst = max(r["error"] for r in rows)
        obs = "; ".join(f"{r['data']} {r['what']} (t={r['t']:.2g}): {r['error']:.1e}" for r in rows)
        return self.verdict(PASS if worst <= 1e-9 else FAIL, "gradient = K(w; a); d ln p/dt = 2 s cos δ", obs,
                            "relative error ≤ 1e-9", states=rows)


# --------------------------------------------------------------------------- PIN-3, PIN-4 (+ convergence to target)
def cone_problem(seed: int = 0, n: int = 40, d: int = 5, m: int = 20, lam: float = 1e-8):
    """Fixed-gating data: x_k, y_k > 0 and w_j(0), a_j(0) > 0, so every w_j·x_k > 0 for all t (gating constant)."""
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((n, d)))
    y = 1.0 + 0.5 * rng.random(n)
    W, a = numerics.init_params(m, d, scale=lam, seed=seed)
    return X, y, W.abs(), a.abs()


def flow(X, y, W, a, times):
    """Gradient flow by DOP853 (rtol 1e-12); no kink is crossed on the cone problem, so the solver is valid."""
    m, d = W.shape
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def rhs(_, th):
        lg = numerics.loss_and_grad(torch.tensor(th[:m * d].reshape(m, d)), torch.tensor(th[m * d:]), Xt, yt)
        return -np.concatenate([lg.grad_W.numpy().ravel(), lg.grad_a.numpy()])

    th0 = np.concatenate([W.numpy().ravel(), a.numpy()])
    sol = solve_ivp(rhs, (0, times[-1]), th0, method="DOP853", rtol=1e-12, atol=1e-30, t_eval=times)
    return sol.y[:m * d].T.reshape(len(times), m, d), sol.y[m * d:].T


@register
class AngleNormLaws(Check):
    name = "racing.angle_norm_laws"
    paper = "Pinson"
    prediction_id = "PIN-3/PIN-4"
    claim = ("With gating and residual fixed, a balanced neuron turns to its target as tan(delta/2) = tan(delta0/2) "
             "e^{-st} and its norm follows p0 e^{2st}((1 + T^2)/(1 + T0^2))^2 (cos^4(delta0/2) head start); GD "
             "approaches these laws at order 1 in the step")
    provenance = "[R]"
    tolerance_rationale = ("Gradient flow (DOP853, rtol 1e-12) on data where gating cannot change and lambda = 1e-8 "
                           "keeps the residual at y to ~1e-13: max relative error < 1e-6 (PIN-3/4). GD at eta, eta/2, "
                           "eta/4: errors must fall with an observed order in [0.8, 1.2] (explicit Euler is order 1).")

    def __init__(self, angle=None, norm=None):
        self.angle = angle or racing.angle_law()
        self.norm = norm or racing.norm_law()

    def predict(self, ctx):
        return {"angle": self.angle.numeric("numpy"), "norm": self.norm.numeric("numpy")}

    def observe(self, ctx):
        X, y, W, a = cone_problem(ctx.seed)
        mvec = racing.gated_correlation(X, y, np.ones(len(X)))
        s = float(np.linalg.norm(mvec))
        T = 3.0 / s  # tan(δ/2) shrinks by e^{-3}; p grows by ≤ e^6 and stays ~1e-13: the residual stays y
        times = np.linspace(0, T, 31)
        Wf, af = flow(X, y, W, a, times)
        runs = [dict(lr=None, time=times, W=Wf, a=af)]
        for lr in ctx.pick((0.02, 0.01, 0.005), (0.02, 0.01, 0.005, 0.0025)):
            tr = numerics.train(X, y, W, a, lr=lr, horizon=T, n_checkpoints=30, progress=False)
            runs.append(dict(lr=lr, time=tr.time, W=tr.W, a=tr.a))
        return {"s": s, "u": mvec / s, "runs": runs}

    def _errors(self, predicted, s, u, run):
        d0 = racing.angle_to(run["W"][0], u)
        p0 = np.abs(run["a"][0]) * np.linalg.norm(run["W"][0], axis=1)
        t = np.asarray(run["time"])[:, None]
        d_obs = np.stack([racing.angle_to(w, u) for w in run["W"]])
        p_obs = np.abs(run["a"]) * np.linalg.norm(run["W"], axis=2)
        d_pred = predicted["angle"](d0[None], s, t)
        p_pred = predicted["norm"](p0[None], d0[None], s, t)
        return (float(np.max(np.abs(np.tan(d_obs / 2) / np.tan(d_pred / 2) - 1))),
                float(np.max(np.abs(p_obs / p_pred - 1))), float(np.cos(d_obs[-1]).min()), float(np.cos(d_pred[-1]).min()))

    def judge(self, predicted, observed):
        s, u = observed["s"], observed["u"]
        flow_run, gd = observed["runs"][0], observed["runs"][1:]
        fa, fn, cos_obs, cos_pred = self._errors(predicted, s, u, flow_run)
        ga = [self._errors(predicted, s, u, r)[:2] for r in gd]
        lrs = [r["lr"] for r in gd]
        order_a = relative_slope(lrs, [e[0] for e in ga])
        order_n = relative_slope(lrs, [e[1] for e in ga])
        ok = (fa < 1e-6 and fn < 1e-6 and 0.8 <= order_a <= 1.2 and 0.8 <= order_n <= 1.2
              and all(b[0] < a_[0] and b[1] < a_[1] for a_, b in zip(ga, ga[1:])))
        obs = (f"flow: angle {fa:.1e}, norm {fn:.1e}; GD order {order_a:.2f} (angle), {order_n:.2f} (norm); "
               f"min cos to target {cos_obs:.4f} (law {cos_pred:.4f})")
        return self.verdict(PASS if ok else FAIL, "flow error < 1e-6; GD error ∝ η", obs,
                            "< 1e-6; order in [0.8, 1.2]", flow_angle_error=fa, flow_norm_error=fn, s=s,
                            gd=[dict(lr=lr, angle_error=e[0], norm_error=e[1]) for lr, e in zip(lrs, ga)],
                            order_angle=order_a, order_norm=order_n, final_cos_target=cos_obs,
                            predicted_final_cos=cos_pred)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        s, u = observed["s"], observed["u"]
        run = observed["runs"][0]
        d0 = racing.angle_to(run["W"][0], u)
        t = np.asarray(run["time"])
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
        for j in range(min(6, len(d0))):
            obs = [racing.angle_to(w[j:j + 1], u)[0] for w in run["W"]]
            ax1.plot(t, np.tan(np.array(obs) / 2), "o", ms=3, color=f"C{j}")
            ax1.plot(t, np.tan(predicted["angle"](d0[j], s, t) / 2), "-", color=f"C{j}", lw=1)
        ax1.set(yscale="log", xlabel="flow time t", ylabel="tan(δ/2)", title="angle law: points = flow, lines = F1.4")
        g = verdict.numbers["gd"]
        ax2.loglog([r["lr"] for r in g], [r["angle_error"] for r in g], "o-", label="angle law")
        ax2.loglog([r["lr"] for r in g], [r["norm_error"] for r in g], "s-", label="norm law")
        ax2.set(xlabel="GD step η", ylabel="max relative error", title="GD → flow at order 1")
        ax2.legend(fontsize=8)
        return [save_figure(fig, ctx.figure_path(self.name))]


# --------------------------------------------------------------------------- PIN-7 (+ PIN-5 shrinkage)
class _Race(OwnData, Check):
    paper = "Pinson"
    prediction_id = "PIN-7"
    provenance = "[R] predictor, [C] thresholds"
    dataset = "xor"
    tolerance_rationale = ("[C] thresholds of PIN-7: median Spearman over clusters (>= 8 neurons) of the derived "
                           "predictor p cos^4(delta/2) at the pre-drop time >= 0.95, and not lower than at t = 0; "
                           "Spearman of cos(delta) at t = 0 > 0 ([C] >= 0.5 on E6, reported). >= 90% of neurons with "
                           "cos(delta_target) < -0.2 at t = 0 must shrink at the first GD step (PIN-5); the time at which fewer "
                           "than half still shrink is reported (gating and target change at angular speed O(s)).")

    def __init__(self, predictor=None):
        self.predictor = predictor or racing.final_norm_predictor()

    def predict(self, ctx):
        return {"predictor": self.predictor.numeric("numpy")}

    def observe(self, ctx):
        return {"runs": [self.run_for(ctx, ctx.seed + i) for i in range(ctx.pick(1, 2))]}

    def judge(self, predicted, observed):
        rows = []
        for ds, tr in observed["runs"]:
            p_end = tr.norm_product[-1]
            labels = neurons.parameter_clusters(tr.W[-1], tr.a[-1])
            i_pre = tr.at_time(0.4 * tr.time[drop_index(tr.loss)])
            per = []
            for c in np.unique(labels):
                sel = labels == c
                if sel.sum() < 8:
                    continue
                u = (p_end[sel, None] * tr.W[-1][sel]).sum(0)
                row = {}
                for tag, i in (("t0", 0), ("pre", i_pre)):
                    delta = racing.angle_to(tr.W[i][sel], u)
                    pred = predicted["predictor"](tr.norm_product[i][sel], delta)
                    row[f"cos_{tag}"] = float(spearmanr(np.cos(delta), p_end[sel])[0])
                    row[f"predictor_{tag}"] = float(spearmanr(pred, p_end[sel])[0])
                per.append(dict(size=int(sel.sum()), **row))
            # PIN-5: neurons pointing away from their initial target (cos δ < −0.2) shrink at the first step
            W0, a0 = tr.W[0], tr.a[0]
            gates = (ds.inputs @ W0.T > 0).astype(float)
            target, _ = neuron_targets(ds.inputs, ds.y, W0, a0, gates)
            cos0 = np.sum(W0 * target, 1) / np.linalg.norm(W0, axis=1)
            away = cos0 < -0.2
            shrinking = [float(np.mean(tr.norm_product[i][away] < tr.norm_product[0][away])) for i in range(1, len(tr.time))]
            shrink = shrinking[0]
            half = next((float(tr.time[i + 1]) for i, f in enumerate(shrinking) if f < 0.5), float("nan"))
            rows.append(dict(seed=int(ds.meta.get("seed", 0)), t_pre=float(tr.time[i_pre]),
                             t_drop=float(tr.time[drop_index(tr.loss)]), clusters=per, shrink_fraction=shrink,
                             shrink_half_time=half, n_away=int(away.sum()),
                             n_clusters=int(len(np.unique(labels)))))
        med = lambda k: float(np.median([c[k] for r in rows for c in r["clusters"]]))  # noqa: E731
        m = {k: med(k) for k in ("cos_t0", "cos_pre", "predictor_t0", "predictor_pre")}
        shrink = min(r["shrink_fraction"] for r in rows)
        ok = m["predictor_pre"] >= 0.95 and m["predictor_pre"] >= m["predictor_t0"] and m["cos_t0"] > 0 and shrink >= 0.9
        obs = (f"median Spearman: p·cos⁴(δ/2) {m['predictor_t0']:.2f} (t=0) → {m['predictor_pre']:.2f} (pre-drop); "
               f"cos δ {m['cos_t0']:.2f} → {m['cos_pre']:.2f}; cos δ<−0.2 shrinking at step 1: {shrink:.2f}")
        return self.verdict(PASS if ok else FAIL, "predictor ≥ 0.95 before the drop; cos δ(0) > 0", obs,
                            "see rationale", medians=m, runs=rows)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        ds, tr = observed["runs"][0]
        p_end = tr.norm_product[-1]
        labels = neurons.parameter_clusters(tr.W[-1], tr.a[-1])
        big = np.bincount(labels).argmax()
        sel = labels == big
        u = (p_end[sel, None] * tr.W[-1][sel]).sum(0)
        i_pre = tr.at_time(verdict.numbers["runs"][0]["t_pre"])
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        for ax, i in zip(axes[:2], (0, i_pre)):
            delta = racing.angle_to(tr.W[i][sel], u)
            sc = ax.scatter(np.cos(delta), tr.norm_product[i][sel], c=np.log10(p_end[sel]), cmap="Greys", s=14,
                            edgecolors="k", linewidths=0.2)
            ax.set(yscale="log", xlabel="cos δ to the final cluster direction", ylabel="p = |a|‖w‖",
                   title=f"largest cluster, t = {tr.time[i]:.1f}")
        fig.colorbar(sc, ax=axes[1], label="log10 final p (darker = larger)")
        axes[2].semilogy(tr.time, tr.loss)
        axes[2].axvline(tr.time[i_pre], ls="--", c="grey", label="pre-drop time")
        axes[2].set(xlabel="flow time t", ylabel="training loss", title=f"{ds.name}: loss")
        axes[2].legend(fontsize=8)
        paths = [save_figure(fig, ctx.figure_path(self.name))]
        order = np.argsort(labels, kind="stable")
        times = [0, i_pre, drop_index(tr.loss), len(tr.time) - 1]
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
        for ax, i in zip(axes, times):
            th = np.concatenate([tr.W[i], tr.a[i][:, None]], 1)[order]
            th = th / np.linalg.norm(th, axis=1, keepdims=True)
            ax.imshow(th @ th.T, vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set(title=f"t = {tr.time[i]:.1f}", xticks=[], yticks=[])
        fig.suptitle("cosine similarity of (w_j; a_j), neurons ordered by final cluster", fontsize=10)
        paths.append(save_figure(fig, ctx.figure_path(self.name + ".cosine")))
        return paths


@register
class RaceXor(_Race):
    name = "racing.race"
    dataset = "xor"
    claim = ("Within each final cluster (E6 XOR clusters, lambda = 1e-3, m = 300) early alignment predicts the final "
             "norm: the head-start predictor p cos^4(delta/2) ranks final norms before the loss drop, cos(delta) at "
             "t = 0 already correlates, and neurons pointing away from their target shrink first")


@register
class RaceDigits(_Race):
    name = "racing.race_digits"
    dataset = "digits"
    claim = ("The race on real images (scikit-learn digits 3 vs 8, n = 200, standardised, lambda = 1e-3, m = 300): "
             "p cos^4(delta/2) before the drop ranks each cluster's final norms; neurons pointing away shrink first")


# --------------------------------------------------------------------------- PIN-6, PIN-8, PIN-9
class _MergePrune(OwnData, Check):
    paper = "Pinson"
    prediction_id = "PIN-6/8/9"
    provenance = "[R] merge rule, [C] counts"
    dataset = "xor"
    tolerance_rationale = ("Merge (F1.8): |h' - h| must stay under the Lipschitz bound sum_i p_i |w_i/|w_i| - u| |x| "
                           "on every sample and be <= 1% of |h| (O(1 - cos), cos > 0.99); the plain coefficient a_i "
                           "is reported for contrast. Counts [C]: clusters non-decreasing in lambda (slack 1) and "
                           "<= 20 of 300 at lambda <= 1e-3, where <= 20 clusters hold 90% of sum p; pruning every "
                           "neuron with p_j < 1e-3 max p changes the training loss by < 1% relative (PIN-9).")

    def __init__(self, coefficient=None):
        f = racing.formulas()["F1.8"]
        fn = f.numeric("numpy")
        self.coefficient = coefficient or (lambda a, r: fn(a, r, 0.0, 0.0))

    def lams(self, ctx):
        return ctx.pick((1e-6, 1e-3, 1e-1), (1e-6, 1e-4, 1e-3, 1e-2, 1e-1))

    def predict(self, ctx):
        return {"coefficient": self.coefficient}

    def observe(self, ctx):
        return {"runs": {lam: self.run_for(ctx, ctx.seed, lam) for lam in self.lams(ctx)}}

    def judge(self, predicted, observed):
        rows = []
        for lam, (ds, tr) in observed["runs"].items():
            X, y, W, a = ds.inputs, ds.y, tr.W[-1], tr.a[-1]
            labels = neurons.parameter_clusters(W, a)
            Wm, am, U = neurons.merge(W, a, labels, predicted["coefficient"])
            h, hm = neurons.predict(W, a, X), neurons.predict(Wm, am, X)
            bound = neurons.merge_error_bound(W, a, labels, U, X)
            p = np.abs(a) * np.linalg.norm(W, axis=1)
            mass = neurons.cluster_mass(p, labels)
            k90 = int(np.searchsorted(np.cumsum(mass) / mass.sum(), 0.9) + 1)
            keep = p >= 1e-3 * p.max()
            loss = 0.5 * np.mean((h - y) ** 2)
            loss_pruned = 0.5 * np.mean((neurons.predict(W[keep], a[keep], X) - y) ** 2)
            rows.append(dict(lam=lam, clusters=int(len(U)), merge_change=float(np.linalg.norm(hm - h) / np.linalg.norm(h)),
                             within_bound=bool(np.all(np.abs(hm - h) <= bound + 1e-12 * np.abs(h).max())),
                             clusters_for_90pct=k90, pruned=int((~keep).sum()), loss=float(loss),
                             prune_change=float(abs(loss_pruned - loss) / loss)))
        counts = [r["clusters"] for r in rows]
        small = [r for r in rows if r["lam"] <= 1e-3]
        ok = (all(r["within_bound"] and r["merge_change"] <= 0.01 for r in small)
              and all(b >= a_ - 1 for a_, b in zip(counts, counts[1:]))
              and all(r["clusters"] <= 20 and r["clusters_for_90pct"] <= 20 for r in small)
              and all(r["prune_change"] < 0.01 for r in rows))
        obs = "; ".join(f"λ={r['lam']:.0e}: {r['clusters']} clusters ({r['clusters_for_90pct']} hold 90% of Σp), "
                        f"merge Δh {r['merge_change']:.1e}, {r['pruned']} pruned: loss Δ {r['prune_change']:.1e}"
                        for r in rows)
        return self.verdict(PASS if ok else FAIL, "few clusters at small λ; merge exact to O(1-cos); prune < 1%", obs,
                            "see rationale", runs=rows)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        rows = verdict.numbers["runs"]
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.loglog([r["lam"] for r in rows], [r["clusters"] for r in rows], "o-")
        ax.set(xlabel="init scale λ", ylabel="clusters of (w; a) at cos > 0.99",
               title=f"Mutual alignment: {observed['runs'][rows[0]['lam']][0].name}")
        return [save_figure(fig, ctx.figure_path(self.name))]


@register
class MergePruneXor(_MergePrune):
    name = "racing.merge_prune"
    dataset = "xor"
    claim = ("Small init makes neurons mutually align (E6): few clusters of (w; a) at small lambda, more as lambda "
             "grows; merging a cluster with the F1.8 coefficient sum a_i|w_i| leaves h unchanged to O(1 - cos); "
             "keeping only the top clusters barely changes the loss")


@register
class MergePruneDigits(_MergePrune):
    name = "racing.merge_prune_digits"
    dataset = "digits"
    claim = ("Mutual alignment, merging and pruning on real images (digits 3 vs 8, m = 300): few clusters at small "
             "lambda, the F1.8 merge leaves h unchanged to O(1 - cos), the top clusters carry the loss")


# --------------------------------------------------------------------------- PIN-10
def fit_steps(tr, X, y, cluster) -> list:
    """Per data cluster c: the first checkpoint time where its loss falls below half its initial value."""
    H = np.einsum("cnm,cm->cn", np.maximum(np.einsum("cmd,nd->cnm", tr.W, X), 0.0), tr.a)
    out = []
    for c in np.unique(cluster):
        L = ((H[:, cluster == c] - y[cluster == c]) ** 2).mean(1)
        below = L < L[0] / 2
        out.append(float(tr.time[np.argmax(below)]) if below.any() else float("nan"))
    return out


@functools.lru_cache(maxsize=16)
def unlock_run(norms: tuple, lam: float, seed: int):
    """E6 init-scale scan: d = 10, 50 points per cluster, m = 300, η = 0.05, 4000 steps, checkpoints every 5."""
    ds = data.xor_clusters(norms, 50, 10, 0.05, seed=seed)
    W, a = numerics.init_params(300, 10, scale=lam, seed=seed)
    tr = numerics.train(ds.inputs, ds.y, W, a, lr=0.05, steps=4000, n_checkpoints=0, linear_every=5,
                        progress=False, desc=f"unlock λ={lam:g}")
    return ds, tr


@register
class Unlocking(Check):
    name = "racing.unlocking"
    paper = "Pinson"
    prediction_id = "PIN-10"
    claim = ("Staggered escapes: on XOR clusters of norms (1, 2, 3, 4) each cluster is fitted at its own time, in the "
             "order of its rate s_c, and the fit time moves by dt_c/d ln(1/lambda) = 1/s_c; equal norms fit together")
    provenance = "[R] slope, [C] tolerance"
    tolerance_rationale = ("Slope of t_c against ln(1/lambda) within 10% of the F1.9b slope 1/s_c (s_c from the "
                           "cluster-gated correlation of the data) ([C] of PIN-10; prior runs: 2-3%); fit order = "
                           "order of s_c at every lambda; equal-norm control: max/min fit time <= 1.15 ([C] 700-750).")

    def __init__(self, slope=None):
        self.slope = (slope or racing.escape_slope()).numeric("numpy")

    def lams(self, ctx):
        return ctx.pick((1e-6, 1e-4, 1e-2), (1e-8, 1e-6, 1e-4, 1e-2))

    def predict(self, ctx):
        ds = data.xor_clusters((1.0, 2.0, 3.0, 4.0), 50, 10, 0.05, seed=ctx.seed)
        cl = ds.meta["cluster"]
        gates = np.stack([cl == c for c in np.unique(cl)], 1).astype(float)
        s_c = np.linalg.norm(racing.gated_correlation(ds.inputs, ds.y, gates), axis=1)
        return {"s_c": s_c, "slope": self.slope(s_c)}

    def observe(self, ctx):
        scan = {}
        for lam in self.lams(ctx):
            ds, tr = unlock_run((1.0, 2.0, 3.0, 4.0), lam, ctx.seed)
            scan[lam] = dict(fit=fit_steps(tr, ds.inputs, ds.y, ds.meta["cluster"]), time=tr.time, loss=tr.loss)
        ds, tr = unlock_run((1.0, 2.0, 3.0, 4.0), 1e-4, ctx.seed)
        flips = self._flip_targets(ds, tr)
        dse, tre = unlock_run((1.0, 1.0, 1.0, 1.0), 1e-4, ctx.seed)
        return {"scan": scan, "flips": flips, "equal_fit": fit_steps(tre, dse.inputs, dse.y, dse.meta["cluster"])}

    @staticmethod
    def _flip_targets(ds, tr):
        """Gating flips (F1.9a) before the first fit, and the angle by which each moves the neuron's target."""
        X, y = ds.inputs, ds.y
        first = min(fit_steps(tr, X, y, ds.meta["cluster"]))
        idx = [i for i in range(1, len(tr.time)) if tr.time[i] <= first]
        changes = []
        for i in idx:
            flipped = np.flatnonzero((tr.patterns[i] != tr.patterns[i - 1]).any(0))
            if len(flipped) == 0:
                continue
            e = y - np.maximum(X @ tr.W[i].T, 0) @ tr.a[i]
            before, _ = neuron_targets(X, e, tr.W[i][flipped], tr.a[i][flipped], tr.patterns[i - 1][:, flipped])
            after, _ = neuron_targets(X, e, tr.W[i][flipped], tr.a[i][flipped], tr.patterns[i][:, flipped])
            changes.extend(np.degrees(np.arccos(np.clip(np.sum(before * after, 1), -1, 1))).tolist())
        return dict(events=len(changes), median_deg=float(np.median(changes)) if changes else 0.0,
                    max_deg=float(np.max(changes)) if changes else 0.0)

    def judge(self, predicted, observed):
        s_c, slope_pred = predicted["s_c"], predicted["slope"]
        lams = sorted(observed["scan"])
        fits = np.array([observed["scan"][lam]["fit"] for lam in lams])  # (λ, cluster)
        ell = np.log(1 / np.array(lams))
        slope_obs = np.array([np.polyfit(ell, fits[:, c], 1)[0] for c in range(fits.shape[1])])
        rel = np.abs(slope_obs / slope_pred - 1)
        order_ok = all(list(np.argsort(f)) == list(np.argsort(-s_c)) for f in fits)
        eq = np.array(observed["equal_fit"])
        spread = float(eq.max() / eq.min())
        ok = bool(np.all(np.isfinite(fits)) and rel.max() <= 0.10 and order_ok and spread <= 1.15)
        obs = (f"slopes {np.round(slope_obs, 2).tolist()} vs 1/s_c {np.round(slope_pred, 2).tolist()} "
               f"(max rel. dev. {rel.max():.2f}); order by s_c: {order_ok}; equal norms spread {spread:.2f}; "
               f"{observed['flips']['events']} gating flips before the first fit (median target turn "
               f"{observed['flips']['median_deg']:.1f}°)")
        return self.verdict(PASS if ok else FAIL, "dt_c/dln(1/λ) = 1/s_c; order by s_c", obs,
                            "±10%; exact order; spread ≤ 1.15", s_c=s_c, slope_predicted=slope_pred,
                            slope_observed=slope_obs, fit_times={f"{lam:g}": f for lam, f in zip(lams, fits)},
                            equal_norm_fit_times=eq, flips=observed["flips"])

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        for i, (lam, run) in enumerate(sorted(observed["scan"].items())):
            ax1.semilogy(run["time"], run["loss"], color=f"C{i}", label=f"λ = {lam:.0e}")
            for t_c in run["fit"]:
                ax1.axvline(t_c, color=f"C{i}", ls=":", lw=0.8)
        ax1.set(xlabel="flow time t", ylabel="training loss", title="loss; dotted: cluster fit times")
        ax1.legend(fontsize=7)
        lams = sorted(observed["scan"])
        ell = np.log(1 / np.array(lams))
        fits = np.array([observed["scan"][lam]["fit"] for lam in lams])
        for c in range(fits.shape[1]):
            ax2.plot(ell, fits[:, c], "o", color=f"C{c}", label=f"s_c = {predicted['s_c'][c]:.2f}")
            b = np.mean(fits[:, c] - predicted["slope"][c] * ell)
            ax2.plot(ell, b + predicted["slope"][c] * ell, "-", color=f"C{c}", lw=1)
        ax2.set(xlabel="ln(1/λ)", ylabel="fit time t_c", title="points: observed; lines: slope 1/s_c (F1.9b)")
        ax2.legend(fontsize=7)
        return [save_figure(fig, ctx.figure_path(self.name))]
