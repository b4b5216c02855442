"""Atomic file output: write a temporary file in the target folder, then rename it over the target.

A killed run leaves either the old file or the new one, never a partial one. Shared by the sweep cache and by
`checks.io` (records, reports, figures). The file gets the mode a plain `open(path, "w")` would give
(0o666 less the umask), not the 0600 of a temporary file, so a run folder can be shared.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
