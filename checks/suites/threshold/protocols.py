"""Protocol cards of the optimization-threshold checks (BF-ST Figure 1, spec E5; see `checks.frame.protocol`)."""
from __future__ import annotations

from checks.frame.protocol import Paper

FIG1 = "BF-ST Fig. 1 (spec E5, from the review thread)"


def sweep_card() -> dict:
    """The BF-ST Figure 1 protocol beside a threshold sweep design."""
    return {
        "d": Paper(5, FIG1 + ": d = 5"),
        "m": Paper(10000, FIG1 + ": m = 10000",
                   why=lambda d: f"m = {d.m}: the width to interpolate, m(d + 1) ≥ 4 × the largest n, at the tier's "
                                 "budget (the paper tier runs 10000)"),
        "optimizer": Paper("sgd", FIG1 + ": SGD", why="full-batch GD, the proxy of the gradient flow Theorem 2 is "
                                                      "about; the paper tier runs SGD"),
        "init": Paper("uniform-default", FIG1 + ": 'default init scheme' (App. A.1; reconstructed [C])",
                      why="balanced init at small λ: Theorem 2's regime λ ≤ λ*; the paper tier runs the default"),
        "lam": Paper(None, "not stated (Theorem 2: λ ≤ λ*)"),
        "sigma": Paper(None, "not stated (σ² marked on Fig. 1); toolkit σ = 0.5"),
        "judged at": Paper("at convergence (train and test loss against n)", FIG1,
                           run=lambda d: f"at the horizon H = {d.horizon:g}, gated on stationarity, n* read at H/4 "
                                         "and H", compare=False)}
