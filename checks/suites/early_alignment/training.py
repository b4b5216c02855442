"""The GD runs of the early-alignment suite: the early-phase run up to ε_max·T_λ (`early_run`), GD refined until no
protected sign(a_j) flips (`faithful_train`, BF-P3, with `refinement_summary`), the early exit of the long runs
(`STOP_TOL`, `STOP_RULE`, `stop_record`) and independent runs on the CPU's workers (`run_points`)."""
from __future__ import annotations

import numerics
from theory import extremal

from checks.suites.racing.runs import check_device

#: the early exit of the runs here (numerics.train's stop_tol): a run stops before its step count once the relative
#: update ‖η∇θ‖ ≤ STOP_TOL·‖θ‖ for every seed (tested every 16 steps on the CPU, 64 on a GPU). The loss then changes
#: by ≈ η‖∇θ‖² ≤ STOP_TOL²‖θ‖²/η per step: at 1e-14 both are at float64 round-off, so the paper's fixed count would
#: only add steps that move θ by less than its last bits. Each record keeps the step it stopped at and the count.
STOP_TOL = 1e-14
STOP_RULE = ("early exit once ‖η∇θ‖ ≤ 1e-14·‖θ‖ for every seed (the loss change per step is then ≈ η‖∇θ‖² ≤ "
             "1e-28‖θ‖²/η): the record keeps the step each run stopped at and the full step count")


def stop_record(tr) -> dict:
    """The early exit of a run: the step it stopped at, its full step count (the paper's count at the step used) and
    whether it stopped early."""
    return dict(stopped_at=int(tr.step[-1]), steps=int(tr.config["steps"]), stopped_early=bool(tr.stopped_early))


def run_points(fn, configs: list[dict], work: float, device: str = "cpu", workers: int | None = None) -> list:
    """`fn(**config)` for each config, in order: independent runs on the CPU go to `numerics.threads.run_workers`
    processes (both cores when a run is long enough to pay for a worker) through the sweep runner, with the same
    results as one after another (each point is deterministic given its config); on a GPU, one after another.

    Arguments:
        fn: a module-level point function (pickled to the workers).  configs: its keyword dicts.
        work: multiply-adds of one run (steps · n·m·d · seeds), for the worker policy.  device: the runs' device.
        workers: override the policy (tests).
    """
    from numerics import sweep, threads

    if workers is None:
        workers = 1 if str(device).startswith("cuda") else threads.run_workers(len(configs), work)
    rows = sweep.run_sweep(fn, configs, workers=workers, progress=False)
    return [r["result"] for r in rows]


def early_run(ds, m: int, lam: float, seed: int, eps: tuple, eps_max: float, lr: float, scheme: str = "balanced",
              steps: int | None = None, device: str = "cpu", refinements: int = 3):
    """GD up to ε_max·T_λ, T_λ = ln(1/λ_eff)/g* (F2.5), g* the largest rate of the extremal vectors, λ_eff = median
    ‖w_j(0)‖; checkpoints at ε·T_λ. `steps` caps the run at steps·lr (then later ε are not reached). The run is on
    `device` and refined by `faithful_train` until no protected sign flips (`tr.config["sign_refinement"]`;
    `refinements=0`: one run at `lr`, flips left to the caller)."""
    check_device(device)
    X, y = ds.inputs, ds.y
    g_star = max(e.rate for e in extremal.extremal_vectors(X, y, seed=seed))
    W, a = numerics.init_params(m, X.shape[1], scale=lam, scheme=scheme, seed=seed, device=device)
    lam_eff = float(W.norm(dim=1).median())
    T = extremal.alignment_horizon(lam_eff, g_star)
    horizon = eps_max * T if steps is None else min(eps_max * T, steps * lr)
    tr, _ = faithful_train(X, y, W, a, lr=lr, refinements=refinements, horizon=horizon, n_checkpoints=10,
                           record_at_times=[e * T for e in eps if e * T <= horizon], record=("outputs",))
    return tr, T, horizon


def faithful_train(X, y, W, a, lr: float = 0.05, refinements: int = 4, **kw):
    """GD at the largest step in lr, lr/2.5, lr/2.5², … that keeps every protected sign(a_j) (BF-P3).

    Gradient flow cannot flip sign(a_j) when a_j² ≥ ‖w_j‖² at init; a GD run that does is not tracking the
    flow, so its outcome says nothing about the theorem. Pass the flow time as `horizon=` (a `steps=` count would
    shorten it at each refinement). Returns (trajectory, step used); `tr.config["sign_refinement"]` records the
    design step, the step used, the steps tried and the flips left after the last try (run without strict signs).
    """
    tried = []
    for i in range(refinements + 1):
        step = lr / 2.5 ** i
        tried.append(step)
        try:
            tr = numerics.train(X, y, W, a, lr=step, progress=False, strict_signs=i < refinements, **kw)
        except numerics.SignFlipError:
            continue
        flips = tr.frozen_sign_violations()
        tr.config["sign_refinement"] = dict(design_lr=float(lr), lr=float(step), refinements=i, tried=tried,
                                            flips_left=int(flips))
        return tr, step
    raise AssertionError("unreachable")  # the last refinement runs without strict_signs


def refinement_summary(trs) -> dict:
    """The sign-flip refinements of several runs: steps used, most refinements, flips left, steps tried."""
    recs = [dict(tr.config.get("sign_refinement", {})) for tr in trs]
    return dict(lr_used=sorted({r["lr"] for r in recs if r}), max_refinements=max((r.get("refinements", 0)
                for r in recs), default=0), flips_left=sum(r.get("flips_left", 0) for r in recs),
                tried=max((r.get("tried", []) for r in recs), key=len, default=[]))
