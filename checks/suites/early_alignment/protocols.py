"""Protocol cards of the early-alignment checks (BF-EA): the authors' code defaults (spec E4) and the spec's E1/E2
setups beside each design (see `checks.frame.protocol`)."""
from __future__ import annotations

from checks.frame.protocol import Paper

E4 = "spec E4: eboursier/early_alignment code defaults"
INIT = Paper("balanced, per-weight std λ/√m, |a_j| = ‖(w_j, b_j)‖", E4 + " (init_scale, balanced mode)",
             run=lambda d: "balanced, per-weight std λ/√m, |a_j| = ‖(w_j, b_j)‖")
STEP = Paper(0.002, E4 + ": lr 1e-3 on MSE-mean = step 2e-3 on L",
             why="step 0.05 on L (spec E1/E2 setup [C]), refined while a protected sign flips: GD as the flow's "
                 "proxy at the same flow time (engine.flow_fidelity)")
WIDTH = Paper(20000, E4 + ": width 20000", why=lambda d: "a reduced width, the spec's E1/E2 setup [C] (the paper "
                                                          "tier runs 20000)")


def card(judged: str, judged_run, **rows) -> dict:
    """init, step and the rows given, then when the claim is judged.

    Arguments:
        judged: when the paper judges the claim.  judged_run: function(design) → when this run does.
        **rows: setting → `Paper` (a design field, or a described setting with `run`).
    """
    return {"init": INIT, "lr": STEP, **rows,
            "judged at": Paper(judged, "BF-EA Theorem 1 / Section 5", run=judged_run, compare=False)}
