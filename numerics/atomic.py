"""Atomic file output: write a temporary file in the target folder, then rename it over the target.

A killed run leaves either the old file or the new one, never a partial one. Shared by the sweep cache and by
`checks.io` (records, reports).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
