"""Thread policy: how many torch (and numba) threads one training run should use, from its shape and the workers.

On a shared 2-core machine, torch's default of one thread per core made an engine step 20–300× slower than one
thread whenever another process was busy (issue #16), and a small step gains nothing from a second thread anyway.
The policy: one thread below a measured work size (n·m·d, stored in `crossover.json`), above it every core this
process may claim, never more than os.cpu_count() // workers.

    with threads.apply(n, m, d):        # or threads.apply(threads=4), or apply(threads=None) to leave them alone
        ...

The number of worker processes sharing the machine is `workers=`, or the environment variable NUMERICS_WORKERS
(set it in a pool's worker initializer), else 1.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
from importlib import resources

from .validate import InputError

__all__ = ["threads_for", "apply", "workers", "crossover", "run_workers"]


def crossover() -> dict:
    """The measured thresholds of this package (`numerics/crossover.json`): kernel and threading crossovers.

    Returns:
        the parsed JSON dict (kernel_max_nmd, kernel_small_d, kernel_small_d_max_nm, threads_min_nmd, ...).
    """
    return dict(_crossover())


def _crossover() -> dict:
    global _CACHE
    if _CACHE is None:
        _CACHE = json.loads(resources.files(__package__).joinpath("crossover.json").read_text(encoding="utf-8"))
    return _CACHE


_CACHE: dict | None = None


def workers() -> int:
    """Worker processes sharing the machine: NUMERICS_WORKERS if set (an integer ≥ 1), else 1."""
    raw = os.environ.get("NUMERICS_WORKERS", "1")
    try:
        w = int(raw)
    except ValueError:
        raise InputError(f"NUMERICS_WORKERS must be an integer ≥ 1, got {raw!r}") from None
    if w < 1:
        raise InputError(f"NUMERICS_WORKERS must be an integer ≥ 1, got {raw!r}")
    return w


def run_workers(runs: int, work: float) -> int:
    """Processes for `runs` independent runs of about `work` multiply-adds each (steps · n·m·d · seeds).

    1 below the measured crossover `parallel_min_work` (a worker process pays seconds to start, import torch and load
    the kernel), else min(runs, cores). Each worker then runs its points with one thread (`numerics.sweep`).

    Arguments:
        runs: independent runs.  work: multiply-adds of one run.
    """
    if int(runs) < 2 or float(work) < _crossover()["parallel_min_work"]:
        return 1
    return max(1, min(int(runs), _cores()))


def _cores() -> int:
    total = os.cpu_count() or 1
    try:
        return max(1, min(total, len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        return total


def threads_for(n: int, m: int, d: int, workers: int | None = None) -> int:
    """Threads for one run of shape (n, m, d): 1 below the measured crossover, else the cores per worker.

    Arguments:
        n, m, d: samples, neurons, input dimension (times any seed axis folded into m).
        workers: processes sharing the machine (default: `workers()`).

    Returns:
        an integer in [1, os.cpu_count() // workers].
    """
    w = globals()["workers"]() if workers is None else int(workers)
    if w < 1:
        raise InputError(f"workers must be ≥ 1, got {workers!r}")
    if min(int(n), int(m), int(d)) < 1:
        raise InputError(f"threads_for needs n, m, d ≥ 1, got ({n}, {m}, {d})")
    share = max(1, (os.cpu_count() or 1) // w)
    share = min(share, _cores())
    return 1 if int(n) * int(m) * int(d) < _crossover()["threads_min_nmd"] else share


def _numba_threads(k: int | None):
    """Set numba's thread count when numba is already loaded and its pool allows k; return the previous count."""
    numba = sys.modules.get("numba")
    if numba is None:
        return None
    try:
        prev = numba.get_num_threads()
        if k is not None:
            numba.set_num_threads(max(1, min(int(k), numba.config.NUMBA_NUM_THREADS)))
        return prev
    except Exception:  # noqa: BLE001 - a threading layer that cannot start must not stop a training run
        return None


@contextlib.contextmanager
def apply(n: int | None = None, m: int | None = None, d: int | None = None, *, threads="auto",
          workers: int | None = None):
    """Set torch's (and numba's) thread count for the duration of a `with` block, then restore it.

    Arguments:
        n, m, d: the run's shape (needed for threads="auto").
        threads: "auto" (the policy `threads_for`), an int ≥ 1 (that many), or None (leave the caller's setting).
        workers: processes sharing the machine (default: `workers()`).

    Yields:
        the thread count in force (torch's).
    """
    import torch

    if threads is None:
        yield torch.get_num_threads()
        return
    if threads == "auto":
        if None in (n, m, d):
            raise InputError("threads='auto' needs the shape n, m, d; give them or an explicit threads=int")
        k = threads_for(n, m, d, workers)
    elif isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1:
        k = threads
    else:
        raise InputError(f"threads must be 'auto', an integer ≥ 1 or None, got {threads!r}")
    prev = torch.get_num_threads()
    if k != prev:
        torch.set_num_threads(k)
    prev_nb = _numba_threads(k)
    try:
        yield k
    finally:
        if torch.get_num_threads() != prev:
            torch.set_num_threads(prev)
        if prev_nb is not None:
            _numba_threads(prev_nb)
