"""The sweep points of the threshold checks (BF-ST, E5 linear-teacher data): the data and test points of a point,
one point on the CPU (`threshold_point`) and all seeds of one n batched on a GPU (`threshold_seeds`)."""
from __future__ import annotations

import warnings

import numpy as np
import torch

import numerics
from numerics import data
from theory import extremal
from theory.references import mse

SIGMA = 0.5  # E5 noise level σ (the default of every threshold design)


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
                    sigma: float = SIGMA, n_test: int = 20_000, refine: int = 0, init: str = "balanced",
                    batch_size: int | None = None, device: str = "cpu") -> dict:
    """One sweep point: train on E5 data, return train/test MSE and (W, a) at the post-fit plateau and the end.

    `init` is the `numerics.init_params` scheme at scale `lam`; optimizer "sgd" draws mini-batches of `batch_size`
    (None: train's default n // 10) with the generator seeded by `seed`. `device` is where it trains (a CPU point
    runs in a one-thread worker of the sweep pool; the GPU path's SGD points run here one after another).
    `refine` > 0 (GD only): while a protected sign(a_j) flips (BF-P3: gradient flow cannot flip it, so such a run
    is not tracking the flow), rerun the same flow time at half the step, at most `refine` times. The row keeps the
    flip count at the design step (`sign_flips_first`), the final one (`sign_flips`) and the step used (`lr_used`)."""
    if device == "cpu":
        torch.set_num_threads(1)
    ds = data.linear_teacher(n, d, sigma, seed=seed)
    W, a = numerics.init_params(m, d, scale=lam, scheme=init, seed=seed, device=device)
    X, y = (torch.tensor(v, device=device) for v in (ds.X, ds.y))
    first = None
    for i in range(int(refine) + 1 if optimizer == "gd" else 1):
        step = lr / 2 ** i
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sign flips are counted below, not printed
            tr = numerics.train(X, y, W, a, lr=step, horizon=horizon, activation=activation,
                                optimizer=optimizer, n_checkpoints=40, record_at_times=[plateau],
                                record_patterns=False, progress=False, **_sgd_options(optimizer, batch_size, seed))
        flips = tr.frozen_sign_violations() if optimizer == "gd" else 0
        first = flips if first is None else first
        if flips == 0:
            break
    out = _summary(n, seed, d, tr.time, tr.loss, tr.W, tr.a, tr.frozen_sign_violations(), plateau, activation,
                   optimizer, sigma, n_test)
    return dict(out, sign_flips_first=first, lr_used=step, halvings=i)


def threshold_seeds(n: int, seeds, d: int = 5, m: int = 200, lam: float = 1e-3, horizon: float = 4000.0,
                    plateau: float = 300.0, activation: str = "relu", optimizer: str = "gd", lr: float = 0.2,
                    sigma: float = SIGMA, n_test: int = 20_000, device: str = "cuda", refine: int = 0,
                    init: str = "balanced", batch_size: int | None = None) -> dict:
    """The sweep points of all `seeds` at one n as one batched run on `device` (leading seed axis, per-seed data):
    the GPU path. Each seed gets the data, init, step refinement and summary of `threshold_point` (the seeds whose
    protected signs flip are rerun together at half the step); returns {"rows": [...]}. SGD (one data set per
    run in `numerics.train`) runs the seeds one after another on `device`, each as `threshold_point` does."""
    seeds = [int(s) for s in seeds]
    if optimizer == "sgd":
        return {"rows": [threshold_point(n, s, d, m, lam, horizon, plateau, activation, "sgd", lr, sigma, n_test,
                                         init=init, batch_size=batch_size, device=device) for s in seeds]}
    sets = [data.linear_teacher(n, d, sigma, seed=s) for s in seeds]
    inits = [numerics.init_params(m, d, scale=lam, scheme=init, seed=s) for s in seeds]
    rows, todo, first = {}, list(range(len(seeds))), {}
    for i in range(int(refine) + 1 if optimizer == "gd" else 1):
        step = lr / 2 ** i
        X = torch.tensor(np.stack([sets[k].X for k in todo]), device=device)
        y = torch.tensor(np.stack([sets[k].y for k in todo]), device=device)
        W, a = (torch.stack([inits[k][j] for k in todo]).to(device) for j in (0, 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tr = numerics.train(X, y, W, a, lr=step, horizon=horizon, activation=activation, optimizer=optimizer,
                                n_checkpoints=40, record_at_times=[plateau], record_patterns=False, progress=False)
        again = []
        for b, k in enumerate(todo):
            row = _summary(n, seeds[k], d, tr.time, tr.loss[:, b], tr.W[:, b], tr.a[:, b],
                           tr.frozen_sign_violations(b), plateau, activation, optimizer, sigma, n_test)
            first.setdefault(k, row["sign_flips"])
            rows[k] = dict(row, sign_flips_first=first[k], lr_used=step, halvings=i)
            if row["sign_flips"] > 0:
                again.append(k)
        todo = again
        if not todo:
            break
    return {"rows": [rows[k] for k in range(len(seeds))]}


def _sgd_options(optimizer, batch_size, seed) -> dict:
    """train's mini-batch options of a point: SGD batches drawn with the point's seed (none for GD and Adam)."""
    return dict(batch_size=batch_size, seed_batch=int(seed)) if optimizer == "sgd" else {}


def _summary(n, seed, d, time, loss, Ws, As, flips, plateau, activation, optimizer, sigma, n_test) -> dict:
    """Train/test MSE along the run, and (W, a) with their MSEs at the plateau and at the end."""
    te = test_points(d, seed, n_test, sigma)
    out = {"n": n, "seed": seed, "time": np.asarray(time).tolist(), "train_mse": mse(loss).tolist(),
           "sign_flips": flips if optimizer == "gd" else 0}
    for tag, i in (("plateau", int(np.argmin(np.abs(np.asarray(time) - plateau)))), ("end", len(time) - 1)):
        h = numerics.forward(torch.tensor(Ws[i]), torch.tensor(As[i]), torch.tensor(te.X),
                             activation=activation).numpy()
        out[tag] = dict(t=float(time[i]), train_mse=mse(loss[i]),
                        test_mse=float(np.mean((h - te.X @ te.meta["beta"]) ** 2) + sigma ** 2),
                        W=Ws[i].tolist(), a=As[i].tolist())
    return out
