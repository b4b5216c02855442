"""Shared pieces of the threshold checks (BF-ST, E5 linear-teacher data): the sweep point functions (CPU and the
batched GPU path), their cache, the OLS references, the shared sweep design and the n* locator."""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

import numerics
from numerics import data
from numerics.init import SCHEMES as INITS  # the sweep's init schemes
from numerics.record import sign_violations
from numerics.sweep import run_sweep
from theory import extremal
from theory import references as ref
from theory.references import mse

from checks.frame.design import Design, cpu_estimate, positive
from checks.frame.errors import CheckError
from checks.suites.threshold import protocols

OPTIMIZERS = ("gd", "sgd")  # the sweep's optimizers (Adam: not a sweep setting)
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
        flips = sign_violations(tr.W, tr.a) if optimizer == "gd" else 0
        first = flips if first is None else first
        if flips == 0:
            break
    out = _summary(n, seed, d, tr.time, tr.loss, tr.W, tr.a, plateau, activation, optimizer, sigma, n_test)
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
            row = _summary(n, seeds[k], d, tr.time, tr.loss[:, b], tr.W[:, b], tr.a[:, b], plateau, activation,
                           optimizer, sigma, n_test)
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


def plateau_time(lam: float, m: int, d: int, init: str = "balanced") -> float:
    """2 T_λ: T_λ = ln(1/λ_eff)/g* (F2.5) with g* = ½‖Σβ*‖ (F2.8) and λ_eff = λ√(d/m) (init std λ/√m); for the
    "uniform-default" init λ_eff = λ/√3 (the typical ‖w_j‖ of U(−λ/√d, λ/√d) weights; |a_j| ≤ λ/√m is smaller) [C],
    and the record time is at least one time unit (a default init of λ ≈ 1 has no small-init phase)."""
    _, rate = extremal.population_extremal(sigma_ball(d), e5_teacher(d))
    if init == "uniform-default":
        return max(1.0, 2 * extremal.alignment_horizon(lam / np.sqrt(3), rate))
    return 2 * extremal.alignment_horizon(lam * np.sqrt(d / m), rate)


def cache_dir(design) -> Path:
    """The sweep cache: `design.cache`, or results/cache/threshold (the runner's default output folder)."""
    return Path(design.cache) if design.cache else Path("results") / "cache" / "threshold"


def sweep_rows(design, ns, *, m, lam, d, horizon=None) -> list[dict]:
    """The cached sweep over n × seeds: 2 CPU processes, one point per (n, seed); on a GPU (design.device cuda) one
    batched point per n holding all seeds. `horizon` (default design.horizon) is the flow time of every run. Every
    setting of a point (the step refinement `refine` included) is in its config, so the cache key changes with it."""
    kw = dict(d=int(d), m=int(m), lam=float(lam), horizon=float(design.horizon if horizon is None else horizon),
              lr=design.lr, sigma=design.sigma, n_test=design.n_test, plateau=plateau_time(lam, m, d, design.init),
              refine=int(design.refine), **point_options(design))
    seeds = [design.seed + s for s in range(design.seeds)]
    if design.device.startswith("cuda"):
        configs = [dict(n=int(n), seeds=seeds, device=design.device, **kw) for n in ns]
        rows = run_sweep(threshold_seeds, configs, cache=cache_dir(design), workers=1,
                         desc="threshold sweep (GPU, seeds batched)")
        return [r for row in rows for r in row["result"]["rows"]]
    configs = [dict(n=int(n), seed=s, **kw) for n in ns for s in seeds]
    rows = run_sweep(threshold_point, configs, cache=cache_dir(design), workers=2, desc="threshold sweep")
    return [r["result"] for r in rows]


def point_options(design) -> dict:
    """The design's optimizer, batch_size and init as point-function keywords, only where they differ from the
    point functions' defaults (GD, train's batch default, balanced): a default design keeps its cache keys."""
    opts = dict(optimizer=design.optimizer, batch_size=design.batch_size, init=design.init)
    return {k: v for k, v in opts.items() if v != POINT_DEFAULTS[k]}


POINT_DEFAULTS = {k: inspect.signature(threshold_point).parameters[k].default
                  for k in ("optimizer", "batch_size", "init")}  # threshold_point's own defaults


def references(n: int, seed: int, d: int, sigma: float, th, n_test: int = 0) -> dict:
    """OLS train/test MSE on the same sample (theory.references via `th.ols`, `th.train_loss`, `th.test_mse`).

    With `n_test` > 0 and `th.two_half_space`, `th.ascent` also the two-half-space OLS stationary point of F2.9 on
    the same sample, cut by the sample's positive extremal vector u₊ⁿ (`th.ascent`): its train MSE and its test
    MSE on the `n_test` fresh points of `test_points` (the points of the network's test MSE)."""
    ds = data.linear_teacher(n, d, sigma, seed=seed)
    b = th.ols(ds.X, ds.y)
    out = dict(ols_train=mse(th.train_loss(b, ds.X, ds.y)),
               ols_test=th.test_mse(b, ds.meta["beta"], sigma_ball(d), sigma), sigma2=sigma ** 2, beta_ols=b)
    if n_test and hasattr(th, "two_half_space"):
        u = th.ascent(ds.X, ds.y, 1.0)[0][0]
        hs = th.two_half_space(ds.X, ds.y, u)
        te = test_points(d, seed, n_test, sigma)
        # population test MSE of the two-half-space fit through `th.test_mse`: x is symmetric, so E[xxᵀ1{u·x > 0}] =
        # Σ/2 and each half carries half of its linear fit's risk (exact); the test points' value is kept beside it
        half = [th.test_mse(b_, ds.meta["beta"], sigma_ball(d), sigma) for b_ in (hs.beta_plus, hs.beta_minus)]
        out.update(hs_train=mse(hs.train_loss), hs_consistent=hs.consistent, u_plus=u, hs_test=0.5 * sum(half),
                   hs_test_points=float(np.mean((hs.predict(te.X) - te.X @ te.meta["beta"]) ** 2) + sigma ** 2))
    return out


def expected_gap(th, sigma: float, d: int, n: int) -> dict:
    """F2.10 (`th.expected`): the expected OLS and two-half-space train/test MSE at (σ, d, n), and the two gaps
    E[OLS train] − E[2hs train] and E[2hs test] − E[OLS test] (both σ²d/n: the d extra effective parameters)."""
    f = th.expected()
    v = {k: float(e.rhs.subs(dict(zip(e.args, (sigma, d, n))))) for k, e in f.items()}
    return dict(v, train_gap=v["F2.10-ols-train"] - v["F2.10-2hs-train"],
                test_gap=v["F2.10-2hs-test"] - v["F2.10-ols-test"])


REFERENCE_USES = {"ols": lambda: ref.ols, "train_loss": lambda: ref.train_loss, "test_mse": lambda: ref.test_mse}
# the two-half-space references of F2.9/F2.10 on top of REFERENCE_USES (the split needs u₊ⁿ: the projected ascent)
TWO_HALF_SPACE_USES = {**REFERENCE_USES, "two_half_space": lambda: ref.two_half_space_ols,
                       "ascent": lambda: extremal.ascent_extremal, "expected": lambda: ref.expected_mse}

@dataclass(frozen=True)
class SweepDesign(Design):
    """E5 data, GD (or SGD) from a small (or the default) init, trained to a fixed horizon at each sample size n
    (cached sweep).

    Arguments:
        ns: sample sizes n of the sweep (a doubling grid: n* is known to one grid step).
        seeds: seeds per n (seed, seed + 1, …): data, init and test points.
        d: input dimension.
        sigma: noise level σ.
        m: width.
        lam: init scale λ (init std λ/√m; bounds λ/√d, λ/√m for the uniform-default init).
        lr: GD (SGD) step size.
        horizon: flow time of every run (lr · steps).
        optimizer: "gd" (full batch, the gradient-flow proxy) or "sgd" (mini-batches of batch_size, drawn with each
            point's seed; no step refinement and no sign-flip count: SGD does not track the flow).
        batch_size: SGD mini-batch size, at most the smallest n (None: numerics.train's default n // 10).
        init: numerics.init_params scheme at scale lam: "balanced" (std λ/√m, |a_j| = ‖w_j‖), "uniform-default"
            (PyTorch's nn.Linear default at lam = 1 [C], the reconstructed App. A.1 init), "dominated", "gaussian".
        n_test: fresh test points per seed.
        fraction: n* = smallest grid n from which the median train MSE stays ≥ fraction·σ² (the stated fraction
            of BF-P17).
        sup_points: test points of sup_x |h(x) − β̂_OLS·x| (BF-P15).
        lambdas: further init scales λ run at the largest n only (BF-P14's plateau-length arm: the plateau of the
            two-half-space fit lengthens as λ decreases, the paper's mechanism where 'at convergence' is out of
            reach); () skips the arm.
        refine: at most this many halvings of the step at a point whose protected signs flip (BF-P3). One: in
            calibration (standard tier) 3 halvings cost ≈ 15× at a flip point and left 11 of 11 and 1 of 27 flips,
            all at points that do not decide n*; flips left at a deciding point make n* undecided instead.
        cache: folder of the cached sweep rows ("" = results/cache/threshold).
    """

    # The grid and the width are derived together (convergence.CAPACITY): m(d + 1) ≥ 4 × the largest n, so no n of
    # the grid is beyond what the network can interpolate; the standard grid stops at 320 (m = 214 =
    # capacity_width(320, 5)), one point of n = 320 at m = 214 costs ≈ 10 s on a quiet core. λ = 1e-6: Theorem 2's
    # regime (at λ = 1e-3 the clusters split after the plateau, BF-P14).
    ns: tuple[int, ...] = (20, 40, 80, 160, 320)
    seeds: int = 3
    d: int = 5
    sigma: float = SIGMA
    m: int = 214
    lam: float = 1e-6
    lr: float = 0.2
    horizon: float = 4000.0
    n_test: int = 20_000
    fraction: float = 0.5
    sup_points: int = 2000
    refine: int = 1
    lambdas: tuple[float, ...] = (1e-3, 1e-12)
    optimizer: str = "gd"
    batch_size: int | None = None
    init: str = "balanced"
    cache: str = ""
    # paper: the BF-ST Fig. 1 protocol. λ = 1 makes the uniform-default init PyTorch's own; its curvature bounds
    # the step: 2/λ_max(Hessian) ≈ 0.023 full batch and ≈ 0.0076 on SGD's 2-point batches at n = 20 (m = 10000,
    # d = 5, `numerics.train.stable_lr`), and lr = 0.005 ran stably at n = 10 (batch 1) in a CPU probe. There
    # n = 10 interpolated by t ≈ 10, while at n = 1280 the train MSE passed the OLS value (0.247) by t ≈ 1 and was
    # still falling at t = 200 (0.199): horizon 1000 (2·10⁵ SGD steps, 4 ms a step at n = 1280 on one CPU core).
    # quick: the standard width and horizon on three n (20 below n*, 80 at it, 320 = 4·80), two seeds. full: the grid
    # to 1280 at its capacity width 854 and a 4× horizon (the H/4 reading is then the standard horizon).
    protocol: ClassVar = protocols.sweep_card()
    presets: ClassVar = {"quick": dict(ns=(20, 80, 320), seeds=2, lambdas=()),
                         "full": dict(ns=(20, 40, 80, 160, 320, 640, 1280), m=854, horizon=16_000.0),
                         "paper": dict(ns=(10, 20, 40, 80, 160, 320, 640, 1280), m=10_000, optimizer="sgd",
                                       init="uniform-default", lam=1.0, lr=0.005, lambdas=(),
                                       horizon=1000.0)}
    sources: ClassVar = {"d": "E5 / BF-ST Fig. 1: d = 5 (appendix: d = 10, 20 via --set d=)",
                         "m": "BF-ST Fig. 1: m = 10000 (paper preset)",
                         "optimizer": "docs/theory/bf-threshold.md#e5: 'Training used SGD' (paper preset); batch n // 10 [C]",
                         "init": "docs/theory/bf-threshold.md#e5: 'a default init scheme (App. A.1)' (paper preset); "
                                 "reconstructed as PyTorch's nn.Linear default [C]",
                         "lam": "paper preset: λ = 1, the PyTorch default scale of the uniform-default init [C]",
                         "lr": "paper preset: 0.005 [C] (not given; below SGD's stability bound ≈ 0.0076 at m = 10000)",
                         "horizon": "paper preset: 1000 [C] (iterations not given; 2·10⁵ SGD steps at lr 0.005)"}
    paper_source: ClassVar = ("BF-ST Fig. 1 (docs/theory/bf-threshold.md#e5, from the review thread): 'Figure 1: d = 5, m = 10000; "
                              "train and test loss at convergence against n, with σ² marked. Training used SGD with a "
                              "default init scheme (App. A.1)'; the authors: 'our experiments are run with SGD and a "
                              "general default initialization scheme'. Reconstructed [C]: the init as PyTorch's "
                              "nn.Linear default (U(−1/√fan_in, 1/√fan_in), λ = 1), SGD batches n // 10, lr 0.005, "
                              "horizon 1000, σ = 0.5 and the n-grid (σ, lr, iterations and grid are not known). "
                              "Appendix variants d = 10 (preliminary) and d = 20 (announced): --tier paper --set d=10 "
                              "(or 20) with a wider ns")
    # numerics.train's SGD steps/s per n at m = 10⁴, d = 5 (batch n // 10; the kernel to batch 16, torch above;
    # CPU time, BENCHMARKS.md "Paper tier on the CPU")
    paper_cpu: ClassVar = cpu_estimate([(200_000, r) for r in (23324, 15743, 9720, 5226, 2657, 1258, 534, 269)
                                        for _ in range(3)], 2, "8 n × 3 seeds × 2·10⁵ SGD steps at the measured rate "
                                       "per batch, 2.3·10⁴ (batch 1) … 269 (batch 128) steps/s; "
                                       "threshold.two_directions then reads the same cached points")

    def validate(self):
        positive(self, "ns", "seeds", "d", "sigma", "m", "lam", "lr", "horizon", "n_test", "fraction", "sup_points")
        if any(not v > 0 for v in self.lambdas):
            raise CheckError(f"lambdas={self.lambdas!r}: every init scale must be > 0 (or give () to skip the arm)")
        if len(self.ns) < 2 or list(self.ns) != sorted(set(self.ns)):
            raise CheckError(f"ns={self.ns!r} must be at least two increasing sample sizes")
        if self.optimizer not in OPTIMIZERS:
            raise CheckError(f"optimizer={self.optimizer!r} is not supported; use one of {', '.join(OPTIMIZERS)}")
        if self.init not in INITS:
            raise CheckError(f"init={self.init!r} is not supported; use one of {', '.join(INITS)}")
        if self.batch_size is not None:
            if self.optimizer != "sgd":
                raise CheckError(f"batch_size={self.batch_size} is an SGD setting; set optimizer=sgd or drop it")
            if not 1 <= self.batch_size <= min(self.ns):
                raise CheckError(f"batch_size={self.batch_size} must be in [1, smallest n = {min(self.ns)}]; "
                                 "lower it or drop it (None: n // 10 at each n)")


def locate_threshold(ns, train_med, sigma2, fraction):
    """(n*, lower bracket): the smallest grid n from which the median train MSE stays ≥ fraction·σ²."""
    above = [t >= fraction * sigma2 for t in train_med]
    for i in range(len(ns)):
        if all(above[i:]):
            return ns[i], (ns[i - 1] if i > 0 else None)
    return None, ns[-1]
