"""numerics: real training of two-layer networks with PyTorch (float64 by default). No sympy here.

The submodules `flow` (event-located gradient flow), `fidelity` (η/2 step halving), `sweep` (cached parameter
sweeps), `kernel` (the compiled small-shape GD kernel), `threads` (the thread policy), `bench`, `data`, `model`,
`record`, ... are reachable as attributes (`numerics.flow.event_flow`) without
importing them by name; the ones not needed by `train` load on first use.
"""
import importlib as _importlib

from .data import Dataset
from .init import init_params
from .model import forward, loss_and_grad, loss_value, with_bias
from .record import Trajectory
from .train import DivergenceError, SignFlipError, train
from .validate import InputError

SUBMODULES = ("bench", "data", "fidelity", "flow", "init", "kernel", "model", "optim", "progress", "record",
              "sweep", "threads", "train", "validate")

__all__ = ["Dataset", "DivergenceError", "SignFlipError", "InputError", "Trajectory", "forward", "init_params",
           "loss_and_grad", "loss_value", "train", "with_bias"]


def __getattr__(name: str):
    """Load a submodule on first attribute access (`numerics.flow`, `numerics.sweep`, ...)."""
    if name in SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'numerics' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES))
