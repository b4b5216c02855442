"""Progress hooks of the engine: long loops report (phase, done, total) to whoever listens.

`numerics.train` (and other long loops) call `notify(desc, done, total)` at checkpoints; a front end (the checks'
live view) installs a listener with `listen(fn)`. With no listener, `notify` costs one attribute read.

    with progress.listen(lambda desc, done, total: print(desc, done, total)):
        numerics.train(...)
"""
from __future__ import annotations

import contextlib
from typing import Callable

__all__ = ["listen", "notify", "listening"]

Listener = Callable[[str, int, int], None]
_LISTENERS: list[Listener] = []


def notify(desc: str, done: int, total: int) -> None:
    """Tell every listener that `desc` has done `done` of `total` units (steps, runs, …).

    Arguments:
        desc: the phase's label.  done: units completed.  total: units planned (0 if unknown).
    """
    for fn in tuple(_LISTENERS):
        fn(desc, int(done), int(total))


def listening() -> bool:
    """True when at least one listener is installed (loops may skip work done only for progress)."""
    return bool(_LISTENERS)


@contextlib.contextmanager
def listen(fn: Listener):
    """Install `fn(desc, done, total)` as a listener for the duration of the `with` block.

    Arguments:
        fn: called at each notification; exceptions it raises propagate to the loop.
    """
    if not callable(fn):
        from .validate import InputError

        raise InputError(f"listen(fn) needs a callable fn(desc, done, total), got {type(fn).__name__}")
    _LISTENERS.append(fn)
    try:
        yield fn
    finally:
        _LISTENERS.remove(fn)
