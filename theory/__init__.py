"""theory: SymPy derivations for two-layer ReLU training dynamics (no torch at import time).

Each formula is a `Formula` (expression + provenance) with `.latex()` and `.numeric("numpy"|"torch")`;
model objects (e.g. `TwoLayerNetwork`) hold symbols and derived equations and `verify()` them.
Submodules (`theory.racing`, `theory.extremal`, `theory.lie`, …) load on first attribute access.
"""
import importlib

from .catalog import all_formulas
from .errors import TheoryError
from .formula import Formula, lambdify, relu, step
from .network import TwoLayerNetwork

SUBMODULES = ("arrangement", "catalog", "conservation", "death", "decay", "descent", "discretisation", "early_output",
              "errors", "extremal", "formula", "intrinsic", "intrinsic_dim", "law_search", "lie", "local_maximum",
              "momentum", "mutants", "mutate", "network", "polar", "racing", "references", "return_time", "rules",
              "sweep", "validate")

__all__ = ["Formula", "TheoryError", "TwoLayerNetwork", "all_formulas", "lambdify", "relu", "step", *SUBMODULES]


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
