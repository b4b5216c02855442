"""Atomic file output: write a temporary file in the target folder, then rename it over the target.

A killed run leaves either the old file or the new one, never a partial one. Every file a run writes (records,
reports, figures: `checks.outputs.io`) goes through it. The file gets the mode a plain `open(path, "w")` would give
(0o666 less the umask), not the 0600 of a temporary file, so a run folder can be shared.

The kill -9 soak (`python -m checks.soak`) needs to kill a run *inside* a write. With the environment variable
`NUMERICS_PAUSE_WRITE=PATTERN@N` (`fnmatch` pattern on the target's path, N ≥ 1), the N-th atomic write to a
matching path in this process stops half-way — half the text written to its temporary file, the target untouched
— prints `pause: <target> <temporary file>` on stderr and waits to be killed (then, after `PAUSE_SECONDS`,
finishes). Unset, as always outside the soak, nothing changes.
"""
from __future__ import annotations

import fnmatch
import os
import sys
import tempfile
import time
from pathlib import Path

PAUSE_ENV = "NUMERICS_PAUSE_WRITE"
PAUSE_SECONDS = 600.0
_seen: dict[str, int] = {}


def pause_point(path, tmp) -> None:
    """The soak's hook, called between a write's start and its rename: see the module doc (a no-op when unset).

    Arguments:
        path: the target file.  tmp: its temporary file, which exists while paused.
    """
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    pattern, _, nth = spec.rpartition("@")
    if not fnmatch.fnmatch(Path(path).as_posix(), pattern or spec):
        return
    _seen[spec] = _seen.get(spec, 0) + 1
    if _seen[spec] != (int(nth) if nth.isdigit() else 1):
        return
    print(f"pause: {Path(path).as_posix()} {Path(tmp).as_posix()}", file=sys.stderr, flush=True)
    time.sleep(PAUSE_SECONDS)


def umask_mode(mode: int = 0o666) -> int:
    """`mode` less the process's umask: the permissions `open()` (0o666) or `mkdir()` (0o777) would give."""
    try:                  # Linux: read it, so no other thread ever sees a zero umask
        with open("/proc/self/status", encoding="ascii") as fh:
            mask = next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0)
        os.umask(mask)
    return mode & ~mask


def publish(tmp, path) -> None:
    """Give the temporary file `tmp` the mode a freshly created file would have, then rename it over `path`."""
    os.chmod(tmp, umask_mode())
    os.replace(tmp, path)


def write_text(path, text: str) -> Path:
    """Write `text` to `path` atomically (parent folders are created).

    Arguments:
        path: the target file.  text: its new content (UTF-8).

    Returns:
        the path as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            half = len(text) // 2
            fh.write(text[:half])
            if os.environ.get(PAUSE_ENV):
                fh.flush()
                pause_point(path, tmp)             # the soak kills here: a half-written temporary file
            fh.write(text[half:])
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
