"""Memory guard: estimate what a training run's record will hold and refuse before allocating it (#17 item 3).

    available_bytes()          MemAvailable of /proc/meminfo, else psutil's, else None (no check possible)
    limit_bytes()              the allowed peak: NUMERICS_MEMORY_LIMIT (bytes, or a fraction of available), else
                               80% of available; None when available memory is unknown
    train_bytes(...)           the estimate for `numerics.train` (record + peak of stacking it + one step's work)
    check(estimate, what, fix) InputError with the estimate, the limit and the fix when it exceeds the limit
"""
from __future__ import annotations

import os

from .validate import InputError

__all__ = ["available_bytes", "limit_bytes", "train_bytes", "check", "DEFAULT_FRACTION", "ENV"]

DEFAULT_FRACTION = 0.8
ENV = "NUMERICS_MEMORY_LIMIT"
_F64, _BOOL = 8, 1


def available_bytes() -> int | None:
    """Memory this process may still allocate: MemAvailable (/proc/meminfo), or psutil's, else None.

    Returns:
        bytes, or None when neither source is readable (the guard then skips its check).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the kernel reports kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def limit_bytes() -> int | None:
    """The allowed peak of one run: NUMERICS_MEMORY_LIMIT if set, else DEFAULT_FRACTION of `available_bytes()`.

    NUMERICS_MEMORY_LIMIT is either a number of bytes (> 1, e.g. 4e9) or a fraction of the available memory in
    (0, 1] (e.g. 0.5).

    Returns:
        bytes, or None when the limit is a fraction and the available memory is unknown (no check).
    """
    raw = os.environ.get(ENV)
    frac = DEFAULT_FRACTION
    if raw is not None and raw.strip():
        try:
            val = float(raw)
        except ValueError:
            val = float("nan")
        if not val > 0 or val == float("inf"):
            raise InputError(f"{ENV} must be a number of bytes (> 1, e.g. 4e9) or a fraction of the available memory "
                             f"in (0, 1] (e.g. 0.5), got {raw!r}")
        if val > 1:
            return int(val)
        frac = val
    avail = available_bytes()
    return None if avail is None else int(frac * avail)


def train_bytes(*, checkpoints: int, seeds: int, n: int, m: int, d: int, k: int, patterns: bool, grads: bool,
                outputs: bool, data_seeds: int = 1) -> int:
    """Bytes a `numerics.train` run holds at its peak: the record twice (the per-checkpoint lists and their stacked
    copy) plus one step's working set.

    Per checkpoint and seed: loss, W (m·d), a (m·k) float64; patterns n·m bool; grads m·d + m·k; outputs n·k.
    Working set: data (n·d + n·k per data set), parameters, gradients and update, and two n·m float64 blocks per seed
    (the pre-activation and its gate; the engine's row blocks are never larger).

    Arguments:
        checkpoints: recorded steps.  seeds: networks S (1 without a seed axis).  n, m, d, k: samples, width, input
        dimension, outputs (k = 1 for scalar).  patterns, grads, outputs: what the record holds.
        data_seeds: data sets (S for per-seed data, 1 for shared).

    Returns:
        the estimate in bytes.
    """
    params = m * d + m * k
    per = 1 + params + (params if grads else 0) + (n * k if outputs else 0)
    record = checkpoints * seeds * (per * _F64 + (n * m * _BOOL if patterns else 0))
    work = data_seeds * (n * d + n * k) * _F64 + seeds * (4 * params + 2 * n * m + n * k) * _F64
    return int(2 * record + work)


def _size(b: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{int(b)} bytes"


def check(estimate: int, what: str, fix: str) -> None:
    """Refuse (InputError) when `estimate` exceeds `limit_bytes()`; do nothing when no limit is known.

    Arguments:
        estimate: bytes the operation would hold.  what: the operation, for the message.  fix: how to need less.

    Returns:
        None; raises InputError naming the estimate, the available memory, the limit and the fix.
    """
    limit = limit_bytes()
    if limit is None or estimate <= limit:
        return
    avail = available_bytes()
    have = f"{_size(avail)} available" if avail is not None else "available memory unknown"
    raise InputError(f"{what} would hold about {_size(estimate)} ({estimate} bytes), above the memory limit of "
                     f"{_size(limit)} ({have}; {ENV} sets the limit in bytes or as a fraction); {fix}")
