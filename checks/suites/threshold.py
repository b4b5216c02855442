"""Simplicity bias and the optimization threshold (BF-ST; BF-P12…BF-P19) on E5 linear-teacher data.

The theorem's constants are not available: every prediction here is [R] (a reconstructed derivation of
`theory`) or a [C] threshold, and the verdicts say so. Training goes through the sweep runner
(`numerics.sweep`): two processes, one cached JSON row per (n, seed, …), so a rerun skips finished points and
the sweep and two-direction checks share their runs.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

import numerics
from numerics import data
from numerics.record import sign_violations
from numerics.sweep import run_sweep
from theory import extremal
from theory import references as ref

from .. import neurons
from ..core import FAIL, PASS, Check, register, relative_slope
from ..io import save_figure

D, SIGMA, LR = 5, 0.5, 0.2
N_TEST = 20_000
NOT_INTERPOLATING = 0.5  # n* = smallest n from which the median train MSE stays ≥ 0.5 σ² (stated fraction)
INTERPOLATING = 0.1  # below n*: the median train MSE is ≤ 0.1 σ²


def sigma_ball(d: int) -> np.ndarray:
    """Σ = E[xxᵀ] = I/(d + 2) for x uniform in the unit ball (theory, by integration)."""
    return float(extremal.unit_ball_second_moment(d)) * np.eye(d)


def test_points(d: int, seed: int) -> data.Dataset:
    return data.linear_teacher(N_TEST, d, SIGMA, seed=10 ** 6 + seed)


def threshold_point(n: int, seed: int, d: int = D, m: int = 200, lam: float = 1e-3, horizon: float = 4000.0,
                    plateau: float = 300.0, activation: str = "relu", optimizer: str = "gd", lr: float = LR) -> dict:
    """One sweep point: train on E5 data, return train/test MSE and (W, a) at the post-fit plateau and the end."""
    torch.set_num_threads(1)
    ds = data.linear_teacher(n, d, SIGMA, seed=seed)
    W, a = numerics.init_params(m, d, scale=lam, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sign flips are counted below, not printed
        tr = numerics.train(ds.X, ds.y, W, a, lr=lr, horizon=horizon, activation=activation, optimizer=optimizer,
                            n_checkpoints=40, record_at_times=[plateau], record_patterns=False, progress=False)
    return _summary(n, seed, d, tr.time, tr.loss, tr.W, tr.a, plateau, activation, optimizer)


def threshold_seeds(n: int, seeds, d: int = D, m: int = 200, lam: float = 1e-3, horizon: float = 4000.0,
                    plateau: float = 300.0, activation: str = "relu", optimizer: str = "gd", lr: float = LR,
                    device: str = "cuda") -> dict:
    """The sweep points of all `seeds` at one n as one batched run on `device` (leading seed axis, per-seed data):
    the GPU path. Each seed gets the data, init and summary of `threshold_point`; returns {"rows": [...]}."""
    seeds = [int(s) for s in seeds]
    sets = [data.linear_teacher(n, d, SIGMA, seed=s) for s in seeds]
    inits = [numerics.init_params(m, d, scale=lam, seed=s) for s in seeds]
    X = torch.tensor(np.stack([ds.X for ds in sets]), device=device)
    y = torch.tensor(np.stack([ds.y for ds in sets]), device=device)
    W, a = (torch.stack([p[i] for p in inits]).to(device) for i in (0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tr = numerics.train(X, y, W, a, lr=lr, horizon=horizon, activation=activation, optimizer=optimizer,
                            n_checkpoints=40, record_at_times=[plateau], record_patterns=False, progress=False)
    return {"rows": [_summary(n, s, d, tr.time, tr.loss[:, i], tr.W[:, i], tr.a[:, i], plateau, activation, optimizer)
                     for i, s in enumerate(seeds)]}


def _summary(n, seed, d, time, loss, Ws, As, plateau, activation, optimizer) -> dict:
    """Train/test MSE along the run, and (W, a) with their MSEs at the plateau and at the end."""
    te = test_points(d, seed)
    out = {"n": n, "seed": seed, "time": np.asarray(time).tolist(), "train_mse": (2 * np.asarray(loss)).tolist(),
           "sign_flips": sign_violations(Ws, As) if optimizer == "gd" else 0}
    for tag, i in (("plateau", int(np.argmin(np.abs(np.asarray(time) - plateau)))), ("end", len(time) - 1)):
        h = numerics.forward(torch.tensor(Ws[i]), torch.tensor(As[i]), torch.tensor(te.X),
                             activation=activation).numpy()
        out[tag] = dict(t=float(time[i]), train_mse=float(2 * loss[i]),
                        test_mse=float(np.mean((h - te.X @ te.meta["beta"]) ** 2) + SIGMA ** 2),
                        W=Ws[i].tolist(), a=As[i].tolist())
    return out


def plateau_time(lam: float, m: int, d: int = D) -> float:
    """2 T_λ: T_λ = ln(1/λ_eff)/g* (F2.5) with g* = ½‖Σβ*‖ (F2.8) and λ_eff = λ√(d/m) (init std λ/√m)."""
    _, rate = extremal.population_extremal(sigma_ball(d), data.linear_teacher(1, d).meta["beta"])
    return 2 * extremal.alignment_horizon(lam * np.sqrt(d / m), rate)


def sweep_config(ctx) -> dict:
    return dict(ns=ctx.pick((20, 80, 640), (10, 20, 40, 80, 160, 320, 640, 1280)),
                seeds=ctx.pick((0, 1), (0, 1, 2)), m=ctx.pick(100, 200), lam=1e-3, horizon=4000.0)


def sweep_rows(ctx, ns, seeds, **kw) -> list[dict]:
    """The cached sweep over n × seeds: 2 CPU processes, one point per (n, seed); on a GPU (ctx.device cuda) one
    batched point per n holding all seeds."""
    plateau = plateau_time(kw["lam"], kw["m"], kw.get("d", D))
    cache = ctx.out / "cache" / "threshold"
    if ctx.device.startswith("cuda"):
        configs = [dict(n=int(n), seeds=[int(ctx.seed + s) for s in seeds], plateau=plateau, device=ctx.device, **kw)
                   for n in ns]
        rows = run_sweep(threshold_seeds, configs, cache=cache, workers=1, desc="threshold sweep (GPU, seeds batched)")
        return [r for row in rows for r in row["result"]["rows"]]
    configs = [dict(n=int(n), seed=int(ctx.seed + s), plateau=plateau, **kw) for n in ns for s in seeds]
    rows = run_sweep(threshold_point, configs, cache=cache, workers=2, desc="threshold sweep")
    return [r["result"] for r in rows]


def references(n: int, seed: int, d: int = D) -> dict:
    """OLS train/test MSE on the same sample (theory.references) and σ²."""
    ds = data.linear_teacher(n, d, SIGMA, seed=seed)
    b = ref.ols(ds.X, ds.y)
    return dict(ols_train=2 * ref.train_loss(b, ds.X, ds.y),
                ols_test=ref.test_mse(b, ds.meta["beta"], sigma_ball(d), SIGMA), sigma2=SIGMA ** 2, beta_ols=b)


# --------------------------------------------------------------------------- BF-P12, BF-P13
@register
class PopulationExtremal(Check):
    name = "threshold.population_extremal"
    paper = "BF-ST"
    prediction_id = "BF-P12/P13"
    claim = ("The empirical positive extremal vector u+^n of G_n converges to the population one Sigma beta*/|Sigma "
             "beta*| at rate ~ n^{-1/2} (up to logs), and the number of distinct empirical extremal vectors falls "
             "to 2 as n grows (no training)")
    provenance = "[R] rate, [C] thresholds"
    tolerance_rationale = ("Log-log slope of the median angle against n in [-0.8, -0.3] (-1/2 up to log factors); "
                           "cos(u+^n, u+) >= 0.95 at n = 640 ([C] of BF-P12); median count of distinct extremal "
                           "vectors (both signs, projected-ascent search, merged at cos > 0.999) = 2 at the largest n "
                           "and larger at the smallest n.")

    def __init__(self, population=None):
        self.population = population or extremal.population_extremal

    def predict(self, ctx):
        beta = data.linear_teacher(1, D).meta["beta"]
        return {"u": self.population(sigma_ball(D), beta)[0]}

    def observe(self, ctx):
        rows = []
        for n in ctx.pick((20, 80, 320, 640, 1280), (20, 40, 80, 160, 320, 640, 1280)):
            for seed in range(ctx.pick(3, 5)):
                ds = data.linear_teacher(n, D, SIGMA, seed=ctx.seed + seed)
                pos = extremal.ascent_extremal(ds.X, ds.y, 1.0, seed=seed)
                neg = extremal.ascent_extremal(ds.X, ds.y, -1.0, seed=seed)
                rows.append(dict(n=n, u=pos[0][0], count=len(pos) + len(neg)))
        return {"rows": rows}

    def judge(self, predicted, observed):
        u = predicted["u"]
        ns = sorted({r["n"] for r in observed["rows"]})
        ang = [float(np.median([np.arccos(np.clip(r["u"] @ u, -1, 1)) for r in observed["rows"] if r["n"] == n]))
               for n in ns]
        count = [float(np.median([r["count"] for r in observed["rows"] if r["n"] == n])) for n in ns]
        fit = [i for i, n in enumerate(ns) if n >= 80]  # the small-n angles are O(1): outside the asymptotic regime
        slope = relative_slope([ns[i] for i in fit], [ang[i] for i in fit])
        cos640 = float(np.cos(ang[ns.index(640)]))
        ok = -0.8 <= slope <= -0.3 and cos640 >= 0.95 and count[-1] == 2 and count[0] > 2
        obs = f"slope {slope:.2f}; cos at n=640 {cos640:.3f}; median counts {dict(zip(ns, count))}"
        return self.verdict(PASS if ok else FAIL, "angle ∝ n^(-1/2); count → 2", obs,
                            "slope in [-0.8, -0.3]; cos ≥ 0.95; count 2", n=ns, angle=ang, count=count, slope=slope)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        v = verdict.numbers
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        ax1.loglog(v["n"], v["angle"], "o-", label="median angle(u+^n, u+)")
        n = np.array(v["n"], float)
        ax1.loglog(n, v["angle"][-1] * np.sqrt(n[-1] / n), "k--", lw=1, label="n^(-1/2)")
        ax1.set(xlabel="n", ylabel="angle (rad)", title="empirical → population extremal vector")
        ax1.legend(fontsize=8)
        ax2.semilogx(v["n"], v["count"], "s-")
        ax2.axhline(2, ls=":", c="k")
        ax2.set(xlabel="n", ylabel="distinct extremal vectors", title="the count falls to 2 (BF-P13)")
        return [save_figure(fig, ctx.figure_path(self.name))]


# --------------------------------------------------------------------------- BF-P14, P16, P17, P18
def locate_threshold(ns, train_med, sigma2, fraction=NOT_INTERPOLATING):
    """(n*, lower bracket): the smallest grid n from which the median train MSE stays ≥ fraction·σ²."""
    above = [t >= fraction * sigma2 for t in train_med]
    for i in range(len(ns)):
        if all(above[i:]):
            return ns[i], (ns[i - 1] if i > 0 else None)
    return None, ns[-1]


@register
class ThresholdSweep(Check):
    name = "threshold.sweep"
    paper = "BF-ST"
    prediction_id = "BF-P14/P16/P17/P18"
    claim = ("On linear-teacher data (d = 5, sigma = 0.5, small init, m >> n) the network interpolates below a finite "
             "sample size n* and stops interpolating above it: train MSE ~ OLS train MSE, test MSE ~ sigma^2 + "
             "O(sigma^2 d/n), and the test MSE drops across n*")
    provenance = "[R] references, [C] tolerances"
    tolerance_rationale = ("n* = smallest grid n from which the median train MSE stays >= 0.5 sigma^2 (stated "
                           "fraction; its uncertainty is the grid bracket). Below: median train MSE <= 0.1 sigma^2 and "
                           "test > sigma^2 at the smallest n. Above (largest n): train within 10% of the OLS train "
                           "MSE and test within 10% of the OLS test MSE ([C]; at n >= 640, 10% is > 10 sigma^2 d/n, "
                           "as the paper's constant is unknown). Test MSE at n* below the one just under n*.")

    def __init__(self, reference=None):
        self.reference = reference or references

    def predict(self, ctx):
        cfg = sweep_config(ctx)
        return {"refs": {(n, s): self.reference(n, ctx.seed + s) for n in cfg["ns"] for s in cfg["seeds"]}}

    def observe(self, ctx):
        cfg = sweep_config(ctx)
        return {"rows": sweep_rows(ctx, **cfg), "ns": cfg["ns"]}

    def judge(self, predicted, observed):
        ns, rows = list(observed["ns"]), observed["rows"]
        refs = predicted["refs"]
        sigma2 = next(iter(refs.values()))["sigma2"]
        per = []
        for n in ns:
            rs = [r for r in rows if r["n"] == n]
            rf = [refs[(n, r["seed"])] for r in rs]
            per.append(dict(n=n, train=float(np.median([r["end"]["train_mse"] for r in rs])),
                            test=float(np.median([r["end"]["test_mse"] for r in rs])),
                            ols_train=float(np.median([f["ols_train"] for f in rf])),
                            ols_test=float(np.median([f["ols_test"] for f in rf])),
                            seeds_train=[r["end"]["train_mse"] for r in rs],
                            seeds_test=[r["end"]["test_mse"] for r in rs],
                            sign_flips=int(sum(r["sign_flips"] for r in rs))))
        n_star, below = locate_threshold(ns, [p["train"] for p in per], sigma2)
        lo, hi = per[0], per[-1]
        checks = {
            "interpolates below": lo["train"] <= INTERPOLATING * sigma2 and lo["test"] > sigma2,
            "finite n*": n_star is not None and n_star > ns[0],
            "train ≈ OLS above": abs(hi["train"] / hi["ols_train"] - 1) <= 0.10,
            "test ≈ OLS above": abs(hi["test"] / hi["ols_test"] - 1) <= 0.10,
        }
        if checks["finite n*"]:
            i = ns.index(n_star)
            checks["test drops across n*"] = per[i]["test"] < per[i - 1]["test"]
        ok = all(checks.values())
        obs = (f"n* = {n_star} (bracket ({below}, {n_star}]); smallest n: train {lo['train']:.3f}, test {lo['test']:.3f}; "
               f"largest n: train {hi['train']:.3f} (OLS {hi['ols_train']:.3f}), test {hi['test']:.3f} "
               f"(OLS {hi['ols_test']:.3f}); σ² = {sigma2}")
        return self.verdict(PASS if ok else FAIL, "interpolation below n*, OLS-like above, test drop at n*", obs,
                            "see rationale", n_star=n_star, n_star_bracket=[below, n_star], criteria=checks, per_n=per,
                            sigma2=sigma2)

    def figure(self, predicted, observed, ctx, verdict):
        import matplotlib.pyplot as plt

        v = verdict.numbers
        per, sigma2 = v["per_n"], v["sigma2"]
        ns = [p["n"] for p in per]
        fig, ax = plt.subplots(figsize=(8.4, 4.2))
        for key, color, label in (("train", "tab:blue", "train MSE"), ("test", "tab:red", "test MSE")):
            for p in per:
                ax.scatter([p["n"]] * len(p[f"seeds_{key}"]), p[f"seeds_{key}"], s=12, color=color, alpha=0.5)
            ax.plot(ns, [p[key] for p in per], "-", color=color, label=f"{label} (median, seeds as points)")
            ax.plot(ns, [p[f"ols_{key}"] for p in per], "--", color=color, lw=1, label=f"OLS {key}")
        ax.axhline(sigma2, color="k", ls=":", lw=1, label="σ²")
        if v["n_star"]:
            ax.axvline(v["n_star"], color="grey", ls="-.", lw=1, label=f"n* = {v['n_star']}")
        ax.set(xscale="log", yscale="log", xlabel="sample size n", ylabel="MSE",
               title="Optimization threshold (BF-ST Fig. 1 analogue)")
        floor = min(min(p["seeds_train"]) for p in per)
        ax.set_ylim(max(1e-6, floor / 3), None)
        ax.text(ns[0], sigma2 * 1.15, f"σ² = {sigma2:g}", fontsize=8)
        ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
        return [save_figure(fig, ctx.figure_path(self.name))]


# --------------------------------------------------------------------------- BF-P15
def empirical_extremals(X, y) -> tuple[np.ndarray, np.ndarray]:
    """(u+^n, u-^n): the leading extremal vectors of G_n for positive and negative neurons (F2.4, F2.8)."""
    return extremal.ascent_extremal(X, y, 1.0)[0][0], extremal.ascent_extremal(X, y, -1.0)[0][0]


@register
class TwoDirections(Check):
    name = "threshold.two_directions"
    paper = "BF-ST"
    prediction_id = "BF-P15"
    claim = ("Above n*, just after the fitting phase the positive neurons form one direction cluster at u+^n and the "
             "negative ones one at u-^n (~ -u+^n), and the network is close to the OLS estimator: sup_x |h(x) - beta_ols.x| "
             "is small and decreases with n; clusters split slowly later at finite lambda")
    provenance = "[R] directions, [C] tolerances"
    tolerance_rationale = ("At the plateau (2 T_lambda) for the largest n of the sweep, with direction clusters "
                           "cut at cos 0.99: the heaviest positive cluster is within cos > 0.99 of u+^n and the heaviest negative one of "
                           "u-^n ([C] cos > 0.99 of BF-P15), each carrying >= 90% of its sign's mass; "
                           "sup |h - beta_ols.x| over 2000 test points decreases from the smallest n above n* to the "
                           "largest and is <= 0.25 (half of sigma). The end-of-training split is reported.")

    def __init__(self, directions=None):
        self.directions = directions or empirical_extremals

    def predict(self, ctx):
        cfg = sweep_config(ctx)
        out = {}
        for n in cfg["ns"]:
            ds = data.linear_teacher(n, D, SIGMA, seed=ctx.seed)
            u_plus, u_minus = self.directions(ds.X, ds.y)
            out[n] = dict(u_plus=u_plus, u_minus=u_minus, beta=references(n, ctx.seed)["beta_ols"])
        return out

    def observe(self, ctx):
        cfg = sweep_config(ctx)
        return {"rows": [r for r in sweep_rows(ctx, **cfg) if r["seed"] == ctx.seed]}

    def judge(self, predicted, observed):
        from .early_alignment import direction_clusters

        te = test_points(D, 0).X[:2000]
        per = []
        for r in observed["rows"]:
            n = r["n"]
            row = dict(n=n)
            for tag in ("plateau", "end"):
                W, a = np.array(r[tag]["W"]), np.array(r[tag]["a"])
                p = np.abs(a) * np.linalg.norm(W, axis=1)
                cl = direction_clusters(W, a, p, angle=float(np.arccos(0.99)))
                h = neurons.predict(W, a, te)
                info = dict(t=r[tag]["t"], sup_dev=float(np.max(np.abs(h - te @ predicted[n]["beta"]))),
                            clusters_pos=sum(c["sign"] > 0 for c in cl), clusters_neg=sum(c["sign"] < 0 for c in cl))
                for sgn, key, target in ((1.0, "pos", predicted[n]["u_plus"]), (-1.0, "neg", predicted[n]["u_minus"])):
                    cs = [c for c in cl if c["sign"] == sgn]
                    if cs:
                        top = max(cs, key=lambda c: c["mass"])
                        info[f"cos_{key}"] = float(top["u"] @ target)
                        info[f"mass_{key}"] = top["mass"] / sum(c["mass"] for c in cs)
                    else:
                        info[f"cos_{key}"], info[f"mass_{key}"] = float("nan"), 0.0
                row[tag] = info
            per.append(row)
        per.sort(key=lambda r: r["n"])
        above = [r for r in per if r["plateau"]["sup_dev"] < 1.0 and r["n"] >= 80]  # non-interpolating side
        hi = per[-1]["plateau"]
        ok = (hi["cos_pos"] > 0.99 and hi["cos_neg"] > 0.99 and hi["mass_pos"] >= 0.9 and hi["mass_neg"] >= 0.9
              and len(above) >= 2 and above[-1]["plateau"]["sup_dev"] < above[0]["plateau"]["sup_dev"]
              and hi["sup_dev"] <= 0.25)
        e = per[-1]["end"]
        obs = (f"n={per[-1]['n']} plateau (t={hi['t']:.0f}): cos+ {hi['cos_pos']:.3f}, cos− {hi['cos_neg']:.3f}, "
               f"mass {hi['mass_pos']:.2f}/{hi['mass_neg']:.2f}, sup|h−β̂·x| {hi['sup_dev']:.3f}; end (t={e['t']:.0f}): "
               f"{e['clusters_pos']}+/{e['clusters_neg']}− clusters, sup {e['sup_dev']:.3f}")
        return self.verdict(PASS if ok else FAIL, "one cluster per sign at u±^n; h ≈ β̂_OLS·x", obs,
                            "cos > 0.99; mass ≥ 0.9; sup ≤ 0.25 and decreasing", per_n=per)
