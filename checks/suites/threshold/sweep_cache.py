"""The cached sweep of the threshold checks: one JSON row per (n, seed, …) point in the cache folder, two CPU
processes (or one batched GPU point per n); every setting of a point is in its config, so the key changes with it."""
from __future__ import annotations

import inspect
from pathlib import Path

from numerics.sweep import run_sweep
from theory.references import plateau_time

from checks.suites.threshold.points import e5_teacher, threshold_point, threshold_seeds


def cache_dir(design) -> Path:
    """The sweep cache: `design.cache`, or results/cache/threshold (the runner's default output folder)."""
    return Path(design.cache) if design.cache else Path("results") / "cache" / "threshold"


def sweep_rows(design, ns, *, m, lam, d, horizon=None) -> list[dict]:
    """The cached sweep over n × seeds: 2 CPU processes, one point per (n, seed); on a GPU (design.device cuda) one
    batched point per n holding all seeds. `horizon` (default design.horizon) is the flow time of every run. Every
    setting of a point (the step refinement `refine` included) is in its config, so the cache key changes with it."""
    kw = dict(d=int(d), m=int(m), lam=float(lam), horizon=float(design.horizon if horizon is None else horizon),
              lr=design.lr, sigma=design.sigma, n_test=design.n_test,
              plateau=plateau_time(lam, m, d, e5_teacher(d), design.init),
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
