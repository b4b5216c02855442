"""Shared pieces of the threshold checks (BF-ST, E5 linear-teacher data): the sweep point functions (CPU and the
batched GPU path), their cache, the OLS references, the shared sweep design and the n* locator."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

import numerics
from numerics import data
from numerics.record import sign_violations
from numerics.sweep import run_sweep
from theory import extremal
from theory import references as ref
from theory.references import mse

from ...design import Design, positive
from ...errors import CheckError

SIGMA = 0.5  # E5 noise level σ (the default of every threshold design)
INTERPOLATING = 0.1  # tolerance: below n* the median train MSE is ≤ 0.1 σ² ("interpolates")


def sigma_ball(d: int, second_moment=extremal.unit_ball_second_moment) -> np.ndarray:
    """Σ = E[xxᵀ] = I/(d + 2) for x uniform in the unit ball (theory, by integration)."""
    return float(second_moment(d)) * np.eye(d)


def e5_teacher(d: int, teacher: tuple = ()) -> np.ndarray:
    """β* of the design: the given `teacher`, or E5's unit teacher of dimension d."""
    if teacher:
        return np.asarray(teacher, float)
    return data.linear_teacher(1, d).meta["beta"]


def test_points(d: int, seed: int, n_test: int = 20_000, sigma: float = SIGMA) -> data.Dataset:
    return data.linear_teacher(n_test, d, sigma, seed=10 ** 6 + seed)


def threshold_point(n: int, seed: int, d: int = 5, m: int = 200, lam: float = 1e-3, horizon: float = 4000.0,
                    plateau: float = 300.0, activation: str = "relu", optimizer: str = "gd", lr: float = 0.2,
                    sigma: float = SIGMA, n_test: int = 20_000) -> dict:
    """One sweep point: train on E5 data, return train/test MSE and (W, a) at the post-fit plateau and the end."""
    torch.set_num_threads(1)
    ds = data.linear_teacher(n, d, sigma, seed=seed)
    W, a = numerics.init_params(m, d, scale=lam, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sign flips are counted below, not printed
        tr = numerics.train(ds.X, ds.y, W, a, lr=lr, horizon=horizon, activation=activation, optimizer=optimizer,
                            n_checkpoints=40, record_at_times=[plateau], record_patterns=False, progress=False)
    return _summary(n, seed, d, tr.time, tr.loss, tr.W, tr.a, plateau, activation, optimizer, sigma, n_test)


def threshold_seeds(n: int, seeds, d: int = 5, m: int = 200, lam: float = 1e-3, horizon: float = 4000.0,
                    plateau: float = 300.0, activation: str = "relu", optimizer: str = "gd", lr: float = 0.2,
                    sigma: float = SIGMA, n_test: int = 20_000, device: str = "cuda") -> dict:
    """The sweep points of all `seeds` at one n as one batched run on `device` (leading seed axis, per-seed data):
    the GPU path. Each seed gets the data, init and summary of `threshold_point`; returns {"rows": [...]}."""
    seeds = [int(s) for s in seeds]
    sets = [data.linear_teacher(n, d, sigma, seed=s) for s in seeds]
    inits = [numerics.init_params(m, d, scale=lam, seed=s) for s in seeds]
    X = torch.tensor(np.stack([ds.X for ds in sets]), device=device)
    y = torch.tensor(np.stack([ds.y for ds in sets]), device=device)
    W, a = (torch.stack([p[i] for p in inits]).to(device) for i in (0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tr = numerics.train(X, y, W, a, lr=lr, horizon=horizon, activation=activation, optimizer=optimizer,
                            n_checkpoints=40, record_at_times=[plateau], record_patterns=False, progress=False)
    return {"rows": [_summary(n, s, d, tr.time, tr.loss[:, i], tr.W[:, i], tr.a[:, i], plateau, activation, optimizer,
                              sigma, n_test) for i, s in enumerate(seeds)]}


def _summary(n, seed, d, time, loss, Ws, As, plateau, activation, optimizer, sigma, n_test) -> dict:
    """Train/test MSE along the run, and (W, a) with their MSEs at the plateau and at the end."""
    te = test_points(d, seed, n_test, sigma)
    out = {"n": n, "seed": seed, "time": np.asarray(time).tolist(), "train_mse": mse(loss).tolist(),
           "sign_flips": sign_violations(Ws, As) if optimizer == "gd" else 0}
    for tag, i in (("plateau", int(np.argmin(np.abs(np.asarray(time) - plateau)))), ("end", len(time) - 1)):
        h = numerics.forward(torch.tensor(Ws[i]), torch.tensor(As[i]), torch.tensor(te.X),
                             activation=activation).numpy()
        out[tag] = dict(t=float(time[i]), train_mse=mse(loss[i]),
                        test_mse=float(np.mean((h - te.X @ te.meta["beta"]) ** 2) + sigma ** 2),
                        W=Ws[i].tolist(), a=As[i].tolist())
    return out


def plateau_time(lam: float, m: int, d: int) -> float:
    """2 T_λ: T_λ = ln(1/λ_eff)/g* (F2.5) with g* = ½‖Σβ*‖ (F2.8) and λ_eff = λ√(d/m) (init std λ/√m)."""
    _, rate = extremal.population_extremal(sigma_ball(d), e5_teacher(d))
    return 2 * extremal.alignment_horizon(lam * np.sqrt(d / m), rate)


def cache_dir(design) -> Path:
    """The sweep cache: `design.cache`, or results/cache/threshold (the runner's default output folder)."""
    return Path(design.cache) if design.cache else Path("results") / "cache" / "threshold"


def sweep_rows(design, ns, *, m, lam, d) -> list[dict]:
    """The cached sweep over n × seeds: 2 CPU processes, one point per (n, seed); on a GPU (design.device cuda) one
    batched point per n holding all seeds."""
    kw = dict(d=int(d), m=int(m), lam=float(lam), horizon=design.horizon, lr=design.lr, sigma=design.sigma,
              n_test=design.n_test, plateau=plateau_time(lam, m, d))
    seeds = [design.seed + s for s in range(design.seeds)]
    if design.device.startswith("cuda"):
        configs = [dict(n=int(n), seeds=seeds, device=design.device, **kw) for n in ns]
        rows = run_sweep(threshold_seeds, configs, cache=cache_dir(design), workers=1,
                         desc="threshold sweep (GPU, seeds batched)")
        return [r for row in rows for r in row["result"]["rows"]]
    configs = [dict(n=int(n), seed=s, **kw) for n in ns for s in seeds]
    rows = run_sweep(threshold_point, configs, cache=cache_dir(design), workers=2, desc="threshold sweep")
    return [r["result"] for r in rows]


def references(n: int, seed: int, d: int, sigma: float, th) -> dict:
    """OLS train/test MSE on the same sample (theory.references via `th.ols`, `th.train_loss`, `th.test_mse`)."""
    ds = data.linear_teacher(n, d, sigma, seed=seed)
    b = th.ols(ds.X, ds.y)
    return dict(ols_train=mse(th.train_loss(b, ds.X, ds.y)),
                ols_test=th.test_mse(b, ds.meta["beta"], sigma_ball(d), sigma), sigma2=sigma ** 2, beta_ols=b)


REFERENCE_USES = {"ols": lambda: ref.ols, "train_loss": lambda: ref.train_loss, "test_mse": lambda: ref.test_mse}

@dataclass(frozen=True)
class SweepDesign(Design):
    """E5 data, GD from a small init, trained to a fixed horizon at each sample size n (cached sweep).

    Arguments:
        ns: sample sizes n of the sweep (a doubling grid: n* is known to one grid step).
        seeds: seeds per n (seed, seed + 1, …): data, init and test points.
        d: input dimension.
        sigma: noise level σ.
        m: width.
        lam: init scale λ (init std λ/√m).
        lr: GD step size.
        horizon: flow time of every run.
        n_test: fresh test points per seed.
        fraction: n* = smallest grid n from which the median train MSE stays ≥ fraction·σ² (the stated fraction
            of BF-P17).
        sup_points: test points of sup_x |h(x) − β̂_OLS·x| (BF-P15).
        cache: folder of the cached sweep rows ("" = results/cache/threshold).
    """

    ns: tuple[int, ...] = (10, 20, 40, 80, 160, 320, 640, 1280)
    seeds: int = 3
    d: int = 5
    sigma: float = SIGMA
    m: int = 200
    lam: float = 1e-3
    lr: float = 0.2
    horizon: float = 4000.0
    n_test: int = 20_000
    fraction: float = 0.5
    sup_points: int = 2000
    cache: str = ""
    presets: ClassVar = {"quick": dict(ns=(20, 80, 640), seeds=2, m=100),
                         "paper": dict(m=10_000)}
    sources: ClassVar = {"d": "E5 / BF-ST Fig. 1: d = 5", "m": "BF-ST Fig. 1: m = 10000 (paper preset)"}

    def validate(self):
        positive(self, "ns", "seeds", "d", "sigma", "m", "lam", "lr", "horizon", "n_test", "fraction", "sup_points")
        if len(self.ns) < 2 or list(self.ns) != sorted(set(self.ns)):
            raise CheckError(f"ns={self.ns!r} must be at least two increasing sample sizes")


def locate_threshold(ns, train_med, sigma2, fraction):
    """(n*, lower bracket): the smallest grid n from which the median train MSE stays ≥ fraction·σ²."""
    above = [t >= fraction * sigma2 for t in train_med]
    for i in range(len(ns)):
        if all(above[i:]):
            return ns[i], (ns[i - 1] if i > 0 else None)
    return None, ns[-1]
