"""Racing, mutual alignment and unlocking (Pinson 2026; PIN-2…PIN-10) on E6 XOR clusters and on real digits.

Every prediction is a reconstructed formula of `theory.racing` [R], verified symbolically there, or a calibrated
threshold [C] of docs/theory/pinson-racing.md#e6; each check declares the formulas it uses, its alternatives and its
mutants.
"""
from checks.suites.racing.angle_norm_laws import AngleNormLaws, cone_problem, flow
from checks.suites.racing.fixed_gating import FixedGatingLinearity
from checks.suites.racing.merge_prune import MergePruneDigits, MergePruneXor
from checks.suites.racing.race import RaceDigits, RaceXor
from checks.suites.racing.runs import design_run, drop_index, neuron_targets, race_dataset, race_run, train_race
from checks.suites.racing.unlocking import Unlocking, fit_steps, unlock_run

__all__ = ["AngleNormLaws", "FixedGatingLinearity", "MergePruneDigits", "MergePruneXor", "RaceDigits", "RaceXor",
           "Unlocking", "cone_problem", "design_run", "drop_index", "fit_steps", "flow", "neuron_targets",
           "race_dataset", "race_run", "train_race", "unlock_run"]
