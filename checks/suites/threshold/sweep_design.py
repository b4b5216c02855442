"""The shared design of the threshold sweeps (BF-ST Fig. 1, spec E5): grid, width, init, optimizer and horizon."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from numerics.init import SCHEMES as INITS  # the sweep's init schemes

from checks.frame.design import Design, cpu_estimate, positive
from checks.frame.errors import CheckError
from checks.suites.threshold import protocols
from checks.suites.threshold.points import SIGMA

OPTIMIZERS = ("gd", "sgd")  # the sweep's optimizers (Adam: not a sweep setting)


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
                         "optimizer": "docs/theory/bf-threshold.md#e5: 'Training used SGD' (paper preset); "
                                      "batch n // 10 [C]",
                         "init": "docs/theory/bf-threshold.md#e5: 'a default init scheme (App. A.1)' (paper preset); "
                                 "reconstructed as PyTorch's nn.Linear default [C]",
                         "lam": "paper preset: λ = 1, the PyTorch default scale of the uniform-default init [C]",
                         "lr": "paper preset: 0.005 [C] (not given; below SGD's stability bound ≈ 0.0076 at m = 10000)",
                         "horizon": "paper preset: 1000 [C] (iterations not given; 2·10⁵ SGD steps at lr 0.005)"}
    paper_source: ClassVar = ("BF-ST Fig. 1 (docs/theory/bf-threshold.md#e5, from the review thread): "
                              "'Figure 1: d = 5, m = 10000; "
                              "train and test loss at convergence against n, with σ² marked. Training used SGD with a "
                              "default init scheme (App. A.1)'; the authors: 'our experiments are run with SGD and a "
                              "general default initialization scheme'. Reconstructed [C]: the init as PyTorch's "
                              "nn.Linear default (U(−1/√fan_in, 1/√fan_in), λ = 1), SGD batches n // 10, lr 0.005, "
                              "horizon 1000, σ = 0.5 and the n-grid (σ, lr, iterations and grid are not known). "
                              "Appendix variants d = 10 (preliminary) and d = 20 (announced): --tier paper --set d=10 "
                              "(or 20) with a wider ns")
    # numerics.train's SGD steps/s per n at m = 10⁴, d = 5 (batch n // 10; the kernel to batch 16, torch above;
    # CPU time, BENCHMARKS.md "Paper tier on the CPU")
    paper_cpu: ClassVar = cpu_estimate([(200_000, r) for r in (38300, 33100, 20800, 10400, 6000, 1471, 804, 381)
                                        for _ in range(3)], 2, "8 n × 3 seeds × 2·10⁵ SGD steps at the measured rate "
                                       "per batch, 3.8·10⁴ (batch 1, fused kernel) … 381 (batch 128) steps/s; "
                                       "threshold.two_directions then reads the same cached points; measured end to "
                                       "end 2026-12-06 on 2 cores: 35.7 min, two_directions 1.7 min more")

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
