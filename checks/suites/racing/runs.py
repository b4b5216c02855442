"""Shared racing runs (cached per process), per-neuron targets, the first loss drop and the regime test."""
from __future__ import annotations

import functools
import warnings

import numpy as np

import numerics
from numerics import data
from numerics.record import sign_violations
from theory import racing

from ...criteria import regime
from ...errors import CheckError

#: the built-in race data sets and their GD settings (E6 race run; digits 3 vs 8)
RACE_DATA = {"xor": dict(lr=0.1, steps=600), "digits": dict(lr=0.05, steps=1500)}
# Pinson Fig. 1 (paper tier) for the digits checks: CIFAR-10 from $CIFAR10_DIR (3072 inputs: the step scaled by
# 64/3072 and the steps by 48) or, without it, the digits stand-in at its own step; a GPU only for CIFAR.
DIGITS_PAPER = dict(m=300, dataset=data.cifar10_from_env,
                    lr=lambda: RACE_DATA["digits"]["lr"] * (64 / 3072 if data.cifar10_dir() else 1),
                    steps=lambda: RACE_DATA["digits"]["steps"] * (48 if data.cifar10_dir() else 1))


def digits_paper_needs():
    """"cuda" when the digits checks' paper preset would train on CIFAR-10, else None (CPU)."""
    return "cuda" if data.cifar10_dir() else None
#: protected-sign refinement (BF-P3), as `early_alignment.faithful_train`: the step ÷ REFINE_FACTOR at the same
#: flow time, at most REFINEMENTS times
REFINE_FACTOR, REFINEMENTS = 2.5, 3
#: the regime the racing claims are about: the loss drops below this fraction of L(0)
DROP_FRACTION = 0.9


def check_device(device: str) -> None:
    """CheckError (the CLI's message) when `device` names CUDA and torch sees none."""
    if str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise CheckError(f"device={device!r}: torch sees no CUDA device (torch {torch.__version__}); run on a "
                             "GPU machine with a CUDA build of torch, or use device='cpu'")


# --------------------------------------------------------------------------- shared runs (cached per process)
def train_race(ds, seed: int, lam: float, m: int = 300, lr: float = 0.05, steps: int = 1500, device: str = "cpu",
               refinements: int = REFINEMENTS):
    """Balanced init at scale λ, full-batch GD, checkpoints log-spaced and every 5 steps; the record keeps the
    engine's gradient and the outputs at every checkpoint (the checks never call the engine again on a state).

    Protected signs (BF-P3): gradient flow cannot flip sign(a_j) of a neuron with a_j² ≥ ‖w_j‖² at init (every
    neuron of the balanced init), so a GD run that does is not tracking the flow; the run is repeated at the step
    lr/2.5, lr/2.5², … (same flow time lr·steps, the step count and the linear checkpoint spacing scaled) at most
    `refinements` times, the last try kept whatever it flips. `tr.config["sign_refinement"]` records the design
    step, the step and steps used, the steps tried and the flips left (the verdicts report it)."""
    check_device(device)
    W, a = numerics.init_params(m, ds.inputs.shape[1], scale=lam, seed=seed, device=device)
    tried = []
    for i in range(int(refinements) + 1):
        step, n = lr / REFINE_FACTOR ** i, int(round(steps * REFINE_FACTOR ** i))
        tried.append(step)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # flips are counted and recorded below
                tr = numerics.train(ds.inputs, ds.y, W, a, lr=step, steps=n, n_checkpoints=60,
                                    linear_every=max(1, int(round(5 * REFINE_FACTOR ** i))), progress=False,
                                    desc=f"race {ds.name}", record=("grads", "outputs"),
                                    strict_signs=i < refinements)
        except numerics.SignFlipError:
            continue
        break
    flips = sign_violations(tr.W, tr.a)
    tr.config["sign_refinement"] = dict(design_lr=float(lr), design_steps=int(steps), lr=float(step), steps=n,
                                        refinements=i, tried=tried, flips_left=int(flips))
    if flips:
        warnings.warn(f"race {ds.name}: {flips} protected sign(a_j) still flip at lr={step:g} after {i} "
                      f"refinements of lr={lr:g} (tried {', '.join(f'{t:g}' for t in tried)}); the record says so",
                      RuntimeWarning, stacklevel=2)
    return ds, tr


def refinement(tr) -> dict:
    """The sign-flip refinement record of a `train_race` run (design step, step used, steps tried, flips left)."""
    return dict(tr.config.get("sign_refinement", {}))


def faithful_regime(runs, **kw):
    """Regime criterion: GD tracks gradient flow, no protected sign(a_j) flips left after the step refinement.

    Arguments:
        runs: (label, trajectory) pairs of `train_race` runs.
        **kw: prediction_id= of the criterion.
    """
    recs = [(label, refinement(tr)) for label, tr in runs]
    bad = [f"{label} ({r['flips_left']} flips at lr={r['lr']:g})" for label, r in recs if r.get("flips_left")]
    steps = sorted({r["lr"] for _, r in recs if r})
    return regime("no protected sign(a_j) flips after the step refinement (regime reached)", not bad,
                  f"protected signs still flip in {', '.join(bad)} after {REFINEMENTS} refinements of the step by "
                  f"{REFINE_FACTOR:g}; lower lr", "BF-P3: gradient flow keeps sign(a_j) when a_j² ≥ ‖w_j‖² at init "
                  f"(the balanced init), so a GD run that flips one is not tracking the flow the theory is about; "
                  f"the step is refined ÷{REFINE_FACTOR:g} at the same flow time until none flips.",
                  value=sum(r.get("flips_left", 0) for _, r in recs), tolerance="0 flips",
                  details={"lr_used": steps, "runs": {str(label): r for label, r in recs}}, **kw)


def loss_drop_regime(runs, what: str = "the race", **kw):
    """Regime criterion of the racing claims: in every run the loss fell below DROP_FRACTION·L(0) (a first drop).

    Arguments:
        runs: (label, loss curve) pairs, one per run.
        what: the claim's subject, for the rationale.
        **kw: prediction_id= of the criterion.
    """
    ratios = [float(np.min(np.asarray(loss)) / np.asarray(loss)[0]) for _, loss in runs]
    bad = [label for (label, _), r in zip(runs, ratios) if not r < DROP_FRACTION]
    return regime(f"the loss dropped by ≥ {1 - DROP_FRACTION:.0%} in every run (regime reached)", not bad,
                  f"the loss never fell below {DROP_FRACTION:g}·L(0) in {', '.join(map(str, bad))} (min L/L(0) = "
                  f"{max(ratios):.3g}); raise steps or lr, or lower lam, so the run reaches the first loss drop",
                  f"{what} is stated about training up to and past the first loss drop (the plateau's end); a run "
                  "that never leaves the plateau says nothing about it.", value=max(ratios),
                  tolerance=f"max over runs of min L/L(0) < {DROP_FRACTION:g}", **kw)


def race_dataset(dataset: str, seed: int):
    """E6 race data (norms 1, 1.4, 1.8, 2.2; 50 points per cluster, d = 10, noise 0.05) or digits 3 vs 8 (n = 200)."""
    if dataset == "xor":
        return data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=seed)
    if dataset == "digits":
        return data.digits_binary((3, 8), 200, seed=seed)
    raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")


@functools.lru_cache(maxsize=16)
def _cached_run(dataset: str, seed: int, lam: float, m: int, lr: float, steps: int, device: str):
    return train_race(race_dataset(dataset, seed), seed, lam, m, lr, steps, device)


def race_run(dataset: str, seed: int, lam: float = 1e-3, m: int = 300, lr: float | None = None,
             steps: int | None = None, device: str = "cpu"):
    """The race run (cached): E6 norms (1, 1.4, 1.8, 2.2), η = 0.1, 600 steps; or digits 3 vs 8, η = 0.05, 1500 steps."""
    if dataset not in RACE_DATA:
        raise ValueError(f"dataset={dataset!r}: use 'xor' or 'digits'")
    cfg = RACE_DATA[dataset]
    return _cached_run(dataset, int(seed), float(lam), int(m), float(cfg["lr"] if lr is None else lr),
                       int(cfg["steps"] if steps is None else steps), device)


def design_run(d, seed: int, lam: float | None = None):
    """The run a racing design asks for: its user data set when given, else the built-in `d.data` (cached)."""
    lam = d.lam if lam is None else lam
    if d.dataset is not None:
        return train_race(d.dataset, seed, lam, d.m, d.lr, d.steps, d.device)
    return race_run(d.data, seed, lam, d.m, d.lr, d.steps, d.device)


def drop_index(loss) -> int:
    """First checkpoint whose loss is below 0.9 L(0): the first loss drop (the last checkpoint if none)."""
    loss = np.asarray(loss)
    below = loss < DROP_FRACTION * loss[0]
    return int(np.argmax(below)) if below.any() else len(loss) - 1


def neuron_targets(X, residual, W, a, gates):
    """Per-neuron target sign(a_j) m̂_j and rate s_j, m_j = (1/n) Σ_k g_jk e_k x_k (F1.3)."""
    M = racing.gated_correlation(X, residual, gates)
    return racing.target_direction(M, np.sign(a), on_zero="zero")
