"""Convergence, width and regime gates of the threshold checks: the threshold as the paper states it, at
convergence, with the width to interpolate, in Theorem 2's regime (λ small, n ≫ n*).

- Width: a network with P = m(d + 1) parameters can interpolate any n ≤ P points; the grid keeps P ≥ CAPACITY·n at
  every n, so "it stops interpolating" cannot be a representation limit (`capacity_width` derives m from the grid).
- Stationarity: a point is read where it has stopped moving: its train MSE changed by < STATIONARY (1 %) over the
  last half of the run, and at its final rate of descent one more horizon H would lower it by < 1 % (gradient
  flow: −dL/dt = ‖∇L‖², measured on the run; `descent_rate` says why not the instantaneous gradient). An
  interpolating point (train MSE ≤ 0.1 σ²) needs neither: further
  descent only confirms "interpolates".
- Two horizons: n* is read on the same runs at H/EARLY and at H (the log-spaced checkpoints hold both); a bracket
  that moves between them is set by the horizon, not by the optimisation problem.
- The estimator alternatives: the OLS estimator of each sample, and a capacity-limited net (least squares with P
  parameters: train MSE σ²(1 − P/n)₊), replace the network's readings in the same criteria on the same run.
"""
from __future__ import annotations

import math

import numpy as np
import torch

import numerics
from numerics import data

CAPACITY = 4  # parameters m(d + 1) ≥ 4 × the largest n of every grid
STATIONARY = 0.01  # < 1 % change of the train MSE over the last half; ‖∇L‖²·H < 1 % of L
EARLY = 4  # n* is read at H/4 and at H
SMALL_LAMBDA = 1e-6  # Theorem 2's regime λ ≤ λ*: judged from λ ≤ 1e-6 (λ = 1e-3 splits its clusters, BF-P14)
WELL_ABOVE = 4  # "n ≫ n*": the BF-P14 point is at least 4 n* (two grid doublings)


def parameters(m: int, d: int) -> int:
    """P = m(d + 1): the first layer's m·d weights and the m output weights."""
    return int(m) * (int(d) + 1)


def capacity_width(n_max: int, d: int, factor: int = CAPACITY) -> int:
    """The smallest width m with m(d + 1) ≥ factor·n_max."""
    return math.ceil(factor * n_max / (d + 1))


def train_at(row: dict, t: float) -> float:
    """The train MSE of a sweep row at the checkpoint nearest to time t (log-spaced checkpoints)."""
    time = np.asarray(row["time"])
    return float(row["train_mse"][int(np.argmin(np.abs(time - t)))])


def grad_sq(row: dict, d: int, sigma: float, activation: str = "relu") -> float:
    """‖∇L‖² (W and a) of the training loss L = MSE/2 at the end of a sweep row, on its own sample."""
    ds = data.linear_teacher(row["n"], d, sigma, seed=row["seed"])
    t = lambda v: torch.tensor(np.asarray(v, dtype=np.float64))  # noqa: E731
    g = numerics.loss_and_grad(t(row["end"]["W"]), t(row["end"]["a"]), t(ds.X), t(ds.y), activation=activation)
    return float((g.grad_W ** 2).sum() + (g.grad_a ** 2).sum())


def descent_rate(row: dict) -> float:
    """−dL/dt over the last checkpoint interval, relative: (L(t_{k−1}) − L(t_k))/(t_k − t_{k−1}) · H / L(t_k), with
    L the train MSE. Under gradient flow −dL/dt = ‖∇L‖², so this is the gradient norm test measured on the run (the
    energy it still dissipates); the instantaneous ‖∇L‖² at the end is not used: at the plateau's ReLU kinks GD
    chatters and keeps ‖∇L‖ finite while the loss stands still (calibration, n = 80: ‖∇L‖²·H/L = 2.7–4.1 with the
    loss changing 0.1–0.24 % over the last half)."""
    t, L = np.asarray(row["time"], float), np.asarray(row["train_mse"], float)
    return float(max(L[-2] - L[-1], 0.0) / (t[-1] - t[-2]) * t[-1] / max(L[-1], 1e-300))


def network_reading(row: dict, ref: dict, P: int) -> dict:
    """The network's readings of one sweep row: end train/test MSE, train MSE at H/EARLY, stationarity."""
    H = row["time"][-1]
    end = row["end"]["train_mse"]
    change = abs(end - train_at(row, H / 2)) / max(end, 1e-300)
    return dict(n=row["n"], seed=row["seed"], train=end, test=row["end"]["test_mse"],
                train_early=train_at(row, H / EARLY), change=change, flow=descent_rate(row),
                grad_flow=row.get("grad_sq", float("nan")) * H / max(end / 2, 1e-300))


def ols_reading(row: dict, ref: dict, P: int) -> dict:
    """Alternative: the network is the OLS estimator of the same sample (a linear fit at every n; stationary)."""
    return dict(n=row["n"], seed=row["seed"], train=ref["ols_train"], test=ref["ols_test"],
                train_early=ref["ols_train"], change=0.0, flow=0.0)


def capacity_reading(row: dict, ref: dict, P: int) -> dict:
    """Alternative: a representation limit — least squares with P parameters fits P of the n labels' noise, so its
    train MSE is σ²(1 − P/n)₊ (0 where P ≥ n); test MSE as observed (the alternative is about the train side)."""
    train = ref["sigma2"] * max(0.0, 1.0 - P / row["n"])
    return dict(n=row["n"], seed=row["seed"], train=train, test=row["end"]["test_mse"], train_early=train,
                change=0.0, flow=0.0)


def is_stationary(r: dict, sigma2: float, interpolating: float) -> bool:
    """Stationary (both tests < STATIONARY), or already interpolating (train MSE ≤ interpolating·σ²)."""
    return r["train"] <= interpolating * sigma2 or (r["change"] < STATIONARY and r["flow"] < STATIONARY)


STATIONARY_WHY = (f"A threshold 'at convergence' is read where the run has stopped: the train MSE changed by < "
                  f"{STATIONARY:.0%} over the last half of the run, and at its final rate of descent (the last "
                  f"checkpoint interval; under gradient flow −dL/dt = ‖∇L‖²) one more horizon would lower it by < "
                  f"{STATIONARY:.0%}. Points "
                  "that already interpolate (train MSE ≤ 0.1 σ²) need neither: further descent keeps them there. A "
                  "point still falling may cross the n* level later: its reading is set by the budget.")


def horizon_fix(horizon: float) -> str:
    """The fix named by a non-stationary or horizon-moved verdict: the next reading, EARLY × the horizon."""
    return f"rerun at ≥ {EARLY}× the horizon (--set horizon={EARLY * horizon:g}), or on the full/paper tier"


def clusters_per_sign(W, a, cos: float = 0.99) -> tuple[int, int]:
    """(positive, negative) direction clusters of the neurons (cut at cos 0.99, mass |a_j|‖w_j‖ ≥ 1e-3 of the max)."""
    from checks.suites.early_alignment import direction_clusters

    W, a = np.asarray(W), np.asarray(a)
    cl = direction_clusters(W, a, np.abs(a) * np.linalg.norm(W, axis=1), angle=float(np.arccos(cos)))
    return sum(c["sign"] > 0 for c in cl), sum(c["sign"] < 0 for c in cl)
