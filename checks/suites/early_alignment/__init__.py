"""Early alignment and the spurious stationary point (BF-EA; BF-P1, P2, P4, P5–P11): small-init balanced GD on
two-layer ReLU nets. Neurons align to the extremal vectors of G_n during the early phase (BF-P1/P2/P4), cluster at
fixed points whose count does not grow with m (BF-P5/P6), and on E2/E1 data end at a spurious stationary point that is
not a minimum (BF-P7–P11). Every prediction comes from `theory.extremal` and `theory.references`; importing the
submodules registers the checks."""
from checks.suites.early_alignment.alignment import COS_ALIGNED, Alignment, AlignmentDesign
from checks.suites.early_alignment.clusters import direction_clusters
from checks.suites.early_alignment.training import early_run, faithful_train
from checks.suites.early_alignment.failure_rate import FailureRate, FailureRateDesign
from checks.suites.early_alignment.fixed_points import ExtremalFixedPoints, FixedPointsDesign
from checks.suites.early_alignment.not_a_minimum import NotAMinimum, NotAMinimumDesign
from checks.suites.early_alignment.spurious_stationary import SpuriousDesign, SpuriousStationaryPoint

__all__ = ["COS_ALIGNED", "Alignment", "AlignmentDesign", "ExtremalFixedPoints", "FailureRate", "FailureRateDesign",
           "FixedPointsDesign", "NotAMinimum", "NotAMinimumDesign", "SpuriousDesign", "SpuriousStationaryPoint",
           "direction_clusters", "early_run", "faithful_train"]
