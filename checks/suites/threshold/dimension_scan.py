"""The d scan of threshold.dependence (BF-P17): every input dimension d on its own grid, at its width to interpolate,
for the same number of its own time units T_λ; and the interpolated crossing that locates n* on it."""
from __future__ import annotations

import numpy as np

from theory.references import alignment_time, evaluate, plateau_time

from checks.suites.threshold.points import e5_teacher


def time_unit(formula, d: int, m: int, lam: float) -> float:
    """T_λ of the E5 run (d, m, λ) from the alignment-time formula (F2.5 with F2.8, theory.references)."""
    return evaluate(formula, d=d, m=m, **{"lambda": lam}, beta_norm=float(np.linalg.norm(e5_teacher(d))))


def crossing(ns, med, level) -> tuple[float | None, int | None]:
    """(n*, i): n* as the last upward crossing of `level` by the median train MSE, log-linear between the last point
    below (index i) and the next one; (None, None) when no point is below or the last point is below."""
    below = [i for i, v in enumerate(med) if v < level]
    if not below or below[-1] == len(med) - 1:
        return None, None
    i = below[-1]
    t = (level - med[i]) / (med[i + 1] - med[i])
    return float(ns[i] * (ns[i + 1] / ns[i]) ** t), i


def d_scan(design) -> dict:
    """Every d of `design.d_values` on its grid and width (`DependenceDesign.d_grid`), `design.seeds` seeds, for
    d_horizon of its own T_λ: one cached sweep (2 CPU processes). Returns {d: dict(ns, m, rows, horizon)}."""
    f, out = alignment_time(), {}
    for dim in design.d_values:
        ns, m = design.d_grid(dim)
        h = design.d_horizon * time_unit(f, dim, m, design.d_lam)
        out[dim] = dict(ns=ns, m=m, horizon=h)
    from numerics.sweep import run_sweep

    from checks.suites.threshold.points import threshold_point
    from checks.suites.threshold.sweep_cache import cache_dir, point_options

    configs = [dict(n=n, seed=design.seed + s, d=dim, m=run["m"], lam=design.d_lam, horizon=run["horizon"],
                    lr=design.lr, sigma=design.sigma, n_test=design.n_test, refine=int(design.refine),
                    plateau=plateau_time(design.d_lam, run["m"], dim, e5_teacher(dim), design.init),
                    **point_options(design))
               for dim, run in out.items() for n in run["ns"] for s in range(design.seeds)]
    rows = run_sweep(threshold_point, configs, cache=cache_dir(design), workers=2, desc="threshold d scan")
    for c, r in zip(configs, rows):
        out[c["d"]].setdefault("rows", []).append(r["result"])
    return out
