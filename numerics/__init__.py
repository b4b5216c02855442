"""numerics: real training of two-layer networks with PyTorch (float64 by default). No sympy here."""
from .data import Dataset
from .init import init_params
from .model import forward, loss_and_grad, loss_value, with_bias
from .record import Trajectory
from .train import DivergenceError, SignFlipError, train
from .validate import InputError

__all__ = ["Dataset", "DivergenceError", "SignFlipError", "InputError", "Trajectory", "forward", "init_params",
           "loss_and_grad", "loss_value", "train", "with_bias"]
