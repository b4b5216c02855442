"""Racing, mutual alignment and unlocking (Pinson 2026; PIN-2…PIN-10) on E6 XOR clusters and on real digits.

Every prediction is a reconstructed formula of `theory.racing` [R], verified symbolically there, or a calibrated
threshold [C] of docs/theory/pinson-racing.md#e6; each check declares the formulas it uses, its alternatives and its mutants.
"""
from .laws import AngleNormLaws, FixedGatingLinearity, cone_problem, flow
from .merge import MergePruneDigits, MergePruneXor
from .race import RaceDigits, RaceXor
from .runs import design_run, drop_index, neuron_targets, race_dataset, race_run, train_race
from .unlocking import Unlocking, fit_steps, unlock_run
from . import ratios  # noqa: E402,F401  (PIN-12; registers racing.gradient_ratios)
from . import balance, targets  # noqa: E402,F401  (PIN-1, PIN-11)
from . import vector_targets  # noqa: E402,F401  (PIN-11, two outputs; racing.target_direction_vector)

__all__ = ["AngleNormLaws", "FixedGatingLinearity", "MergePruneDigits", "MergePruneXor", "RaceDigits", "RaceXor",
           "Unlocking", "cone_problem", "design_run", "drop_index", "fit_steps", "flow", "neuron_targets",
           "race_dataset", "race_run", "train_race", "unlock_run"]
