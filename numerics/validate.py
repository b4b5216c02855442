"""Input validation at the public boundary: one clear error naming the argument and the fix."""
from __future__ import annotations

import math

import numpy as np
import torch


class InputError(ValueError):
    """Bad user input (shape, value or option); the message names the argument and the expected form."""


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite real > 0 (or ≥ 0).

    Arguments:
        name: the argument's name for the message.  value: the value.  allow_zero: accept 0.

    Returns:
        the value as float; raises InputError otherwise.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def choice(name: str, value, options) -> str:
    """`value` if it is one of `options`, else InputError naming `name` and listing the options."""
    if value not in options:
        raise InputError(f"{name}={value!r} is not supported; use one of {tuple(options)}")
    return value


def as_tensor(name: str, value, *, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """A finite, non-empty float tensor.

    Arguments:
        name: the argument's name for the message.  value: tensor or array-like.  dtype, device: target.

    Returns:
        the tensor (converted, not copied if already right); raises InputError otherwise.
    """
    if isinstance(value, torch.Tensor):
        t = value.to(dtype=dtype, device=device)
    else:
        try:
            t = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype, device=device)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} must be a numeric array, got {type(value).__name__}: {exc}") from None
    if t.numel() == 0:
        raise InputError(f"{name} is empty (shape {tuple(t.shape)}); give at least one sample")
    if not torch.isfinite(t).all():
        raise InputError(f"{name} contains NaN or inf; clean or drop those entries")
    return t


def data(X, y, *, dtype=torch.float64, device="cpu", seed_axis: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """X as (n, d) and y as (n,) or (n, k), finite and with matching n; with `seed_axis`, X may also be
    (S, n, d) with y (S, n) or (S, n, k): one data set per seed.

    Returns:
        (X, y) as tensors; raises InputError naming the bad shape otherwise.
    """
    X = as_tensor("X", X, dtype=dtype, device=device)
    y = as_tensor("y", y, dtype=dtype, device=device)
    lead = X.dim() - 2
    if X.dim() != 2 and not (seed_axis and X.dim() == 3):
        shapes = "(n, d) or (S, n, d) (one data set per seed)" if seed_axis else "(n, d)"
        raise InputError(f"X must be an array of shape {shapes}, got shape {tuple(X.shape)}")
    if y.dim() - lead not in (1, 2) or y.shape[:lead] != X.shape[:lead]:
        want = "(n,) or (n, k)" if not lead else f"({X.shape[0]}, n) or ({X.shape[0]}, n, k)"
        raise InputError(f"y must have shape {want}, got shape {tuple(y.shape)}")
    if y.shape[lead] != X.shape[lead]:
        raise InputError(f"X has n={X.shape[lead]} rows but y has {y.shape[lead]}; they must match")
    return X, y


def params(W: torch.Tensor, a: torch.Tensor, d: int, y: torch.Tensor, data_seeds: int = 0) -> None:
    """W (..., m, d) and a (..., m) or (..., m, k) consistent with the data (`data_seeds` = S for per-seed data).

    Returns:
        None; raises InputError naming the bad shape.
    """
    if data_seeds and (W.dim() != 3 or W.shape[0] != data_seeds):
        raise InputError(f"per-seed data for {data_seeds} seeds needs W of shape ({data_seeds}, m, d), "
                         f"got {tuple(W.shape)}")
    y = y[0] if data_seeds else y
    if W.dim() < 2 or W.shape[-1] != d:
        raise InputError(f"W must have shape (..., m, d) with d={d}, got {tuple(W.shape)}")
    vector = a.dim() == W.dim()
    if a.shape[: W.dim() - 1] != W.shape[:-1]:
        raise InputError(f"a must have shape {tuple(W.shape[:-1])} (+ (k,) for vector output), got {tuple(a.shape)}")
    if vector != (y.dim() == 2) or (vector and a.shape[-1] != y.shape[-1]):
        raise InputError(f"output shape mismatch: a is {tuple(a.shape)} but y is {tuple(y.shape)}; "
                         "use a of shape (m,) with y (n,), or a (m, k) with y (n, k)")
