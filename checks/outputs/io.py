"""Atomic output: write to a temporary file in the target folder, then rename over the target."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from checks.outputs.atomic import pause_point, publish, write_text

__all__ = ["save_figure", "write_json", "write_text"]


def write_json(path, obj) -> Path:
    """Write `obj` as JSON atomically, keys in their own order (not sorted): a record read back by `--resume` is
    then the very verdict that was written, and renders in the report exactly as a fresh one does."""
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def save_figure(fig, path) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        pause_point(path, tmp)                     # the kill -9 soak's hook (checks.outputs.atomic)
        publish(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
