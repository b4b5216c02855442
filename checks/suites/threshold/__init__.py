"""Simplicity bias and the optimization threshold (BF-ST; BF-P12…BF-P19) on E5 linear-teacher data.

The theorem's constants are not available: every prediction here is [R] (a reconstructed derivation of
`theory`) or a [C] threshold, and the verdicts say so. Training goes through the sweep runner
(`numerics.sweep`): two processes, one cached JSON row per (n, seed, …), so a rerun skips finished points and
the sweep and two-direction checks share their runs.

Modules: `points` (the sweep points: CPU and the batched GPU path), `sweep_cache` (the cached sweep rows),
`references` (the OLS and two-half-space references), `sweep_design` (the shared sweep design), `locate` (the n*
locator), `convergence` (the regime gates:
width to interpolate, stationarity, n* at two horizons, Theorem 2's regime; the OLS and capacity-limited estimator
alternatives), `population_extremal` (BF-P12/P13),
`sweep` (BF-P14/P16/P17/P18), `two_directions` (BF-P15), `dependence` (BF-P17: d, λ, m) with `dimension_scan` (its d
scan), `robustness` (BF-P19).
"""
from checks.suites.threshold.locate import INTERPOLATING, locate_threshold
from checks.suites.threshold.points import SIGMA, e5_teacher, sigma_ball, test_points, threshold_point, threshold_seeds
from checks.suites.threshold.references import REFERENCE_USES, references
from checks.suites.threshold.sweep_cache import cache_dir, sweep_rows
from checks.suites.threshold.sweep_design import SweepDesign
from checks.suites.threshold.population_extremal import FAMILY_RUN, ExtremalDesign, PopulationExtremal
from checks.suites.threshold.sweep import ThresholdSweep
from checks.suites.threshold.two_directions import TwoDirections
from checks.suites.threshold.dependence import VARIABLES, DependenceDesign, ThresholdDependence, n_star
from checks.suites.threshold.robustness import RobustnessDesign, ThresholdRobustness

__all__ = ["FAMILY_RUN", "INTERPOLATING", "REFERENCE_USES", "SIGMA", "DependenceDesign", "ExtremalDesign",
           "PopulationExtremal", "RobustnessDesign", "SweepDesign", "ThresholdDependence", "ThresholdRobustness",
           "ThresholdSweep", "TwoDirections", "VARIABLES", "cache_dir", "e5_teacher", "locate_threshold", "n_star",
           "references", "sigma_ball", "sweep_rows", "test_points", "threshold_point",
           "threshold_seeds"]
