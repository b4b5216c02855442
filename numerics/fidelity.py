"""How far a GD run is from gradient flow: rerun at η/2 and report how much each observable moves.

For a method of order p (GD = explicit Euler: p = 1) the observable O_η at a fixed flow time obeys
O_η = O_flow + C η^p + o(η^p), so the change Δ = O_η − O_{η/2} estimates the error of the η run (Richardson):
    O_η − O_flow ≈ Δ · 2^p / (2^p − 1)      (= 2Δ for GD).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import validate


def step_halving(run: Callable[[float], Any], observables: dict[str, Callable[[Any], Any]], lr: float,
                 order: int = 1) -> dict[str, dict]:
    """Run `run(lr)` and `run(lr/2)` and, for each observable, the values, the change and the error estimate.

    `run` trains at a given step size (same flow-time horizon) and returns anything the observable functions
    read (a `Trajectory`, say); each observable returns a number or an array. `order` is the method's order p.

    Arguments:
        run: step size → run result.  observables: name → function(run result) → number or array.
        lr: the step size η of the run judged.  order: the method's order p ≥ 1.

    Returns:
        name → {"value", "value_half", "change" (max |O_η − O_η/2|), "relative_change", "error_estimate"
        (change · 2^p/(2^p − 1))}.
    """
    lr = validate.positive("lr", lr)
    if int(order) < 1:
        raise validate.InputError(f"order must be an integer ≥ 1 (the method's order in the step), got {order!r}")
    if not observables:
        raise validate.InputError("observables is empty; give a dict name → function(run result) → value")
    if not callable(run):
        raise validate.InputError(f"run must be a function lr → run result (e.g. lambda lr: numerics.train(X, y, W, a, "
                                  f"lr=lr, horizon=T)), got a {type(run).__name__}; step_halving reruns it at lr/2")
    full, half = run(lr), run(lr / 2)
    factor = 2.0 ** order / (2.0 ** order - 1.0)
    out = {}
    for name, fn in observables.items():
        v, v2 = np.asarray(fn(full), dtype=float), np.asarray(fn(half), dtype=float)
        change = float(np.max(np.abs(v - v2))) if v.size else 0.0
        scale = float(np.max(np.abs(v2))) if v2.size else 0.0
        out[name] = dict(value=v, value_half=v2, change=change, relative_change=change / scale if scale else change,
                         error_estimate=factor * change)
    return out
