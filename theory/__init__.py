"""theory: SymPy derivations for two-layer ReLU training dynamics (no torch at import time).

Each formula is a `Formula` (expression + provenance) with `.latex()` and `.numeric("numpy"|"torch")`;
model objects (e.g. `TwoLayerNetwork`) hold symbols and derived equations and `verify()` them.
"""
from .catalog import all_formulas
from .formula import Formula, lambdify, relu, step
from .network import TwoLayerNetwork

__all__ = ["Formula", "TwoLayerNetwork", "all_formulas", "lambdify", "relu", "step"]
