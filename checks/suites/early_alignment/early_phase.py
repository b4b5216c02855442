"""The regime early_alignment.alignment judges BF-P1/P2/P4 in (`regimes`): the early phase (the output still small
at ε·T_λ), GD tracking the flow (no protected sign flips), and, for d ≤ 3, a horizon T_λ from a complete list of
extremal vectors (`completeness`: the listed best rate per kind against the projected ascent's)."""
from __future__ import annotations

import numpy as np

from theory import extremal

from checks.frame.criteria import regime

SMALL_OUTPUT = 0.1  # the early phase: max|h| ≤ this · max|y| at ε_judged·T_λ, smallest λ (regime test)
RATE_SLACK = 1.01  # an ascent rate above this × the listed one means the extremal list misses a direction


def completeness(X, y, seed):
    """Best rate per kind of `theory.extremal.extremal_vectors` against the projected ascent's (d ≤ 3, where the
    list comes from the exact enumeration): {kind: (listed, ascent, ascent direction)}."""
    listed = extremal.extremal_vectors(X, y, seed=seed)
    out = {}
    for sign, kind in ((1.0, "min"), (-1.0, "max")):
        found = extremal.ascent_extremal(X, y, sign, seed=seed)
        best = max((e.rate for e in listed if e.kind == kind), default=0.0)
        out[kind] = (best, found[0][1] if found else 0.0, found[0][0].tolist() if found else None)
    return out


def regimes(d, obs, rows, pid):
    """The regime BF-P1/P2/P4 are about: the early phase (output still small at ε·T_λ), GD tracking the flow,
    and (d ≤ 3) a horizon T_λ from a complete list of extremal vectors."""
    e, ref = d.eps_judged, obs["refinement"]
    h = rows[-1]["max_h"]
    out = [regime(f"max|h| at ε = {e}·T_λ, smallest λ, ≤ {SMALL_OUTPUT:g}·max|y| (regime reached: early phase)",
                  h <= SMALL_OUTPUT * obs["max_y"],
                  f"max|h| = {h:.3g} against max|y| = {obs['max_y']:.3g}: the network has already fitted by "
                  f"ε·T_λ, so the run is past the early phase (T_λ from g* is too long, or λ too large)",
                  "BF-P1/P2/P4 describe the early phase, while the output is still ≪ the labels (F2.3); a run "
                  "past it says nothing about them.", value=h,
                  tolerance=f"≤ {SMALL_OUTPUT * obs['max_y']:.3g}", prediction_id=pid),
           regime("no protected sign(a_j) flips after the step refinement (regime reached)",
                  ref["flips_left"] == 0,
                  f"{ref['flips_left']} protected signs still flip at lr = {ref['lr_used']} after trying "
                  f"{ref['tried']}; lower lr",
                  f"BF-P3: gradient flow keeps sign(a_j) of every balanced neuron; GD is refined ÷2.5 at the same "
                  f"flow time until none flips (steps used {ref['lr_used']}, tried {ref['tried']}).",
                  value=ref["flips_left"], tolerance="0 flips", details=ref, prediction_id=pid)]
    if obs["complete"] is not None:
        miss = {k: v for k, v in obs["complete"].items() if v[1] > RATE_SLACK * v[0]}
        out.append(regime(
            "the listed extremal vectors include the fastest direction the ascent finds (prediction complete)",
            not miss, "; ".join(
                f"theory.extremal.extremal_vectors lists {'positive' if k == 'min' else 'negative'} extremal "
                f"vectors of rate ≤ {v[0]:.3g}, but the projected ascent finds u = {np.round(v[2], 4).tolist()} "
                f"of rate {v[1]:.3g} (an extremal vector the list misses)"
                for k, v in miss.items()) + "; the predicted directions and T_λ = ln(1/λ_eff)/g* are then wrong",
            "The prediction and the horizon T_λ use the list of extremal vectors; a list that misses the fastest "
            "one judges the wrong directions at the wrong times, which is not evidence about BF-P1.",
            value={k: [v[0], v[1]] for k, v in obs["complete"].items()}, tolerance=f"ascent rate ≤ "
            f"{RATE_SLACK:g} × listed rate", prediction_id=pid))
    return out
