"""The README's two set-up commands, read from the fenced blocks that follow their markers.

`python3 tests/readme_commands.py test` prints the test command; `.ci/run` executes exactly that.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = {"main": "<!-- command: main -->", "test": "<!-- command: test -->"}


def command(which: str) -> str:
    text = README.read_text(encoding="utf-8")
    marker = MARKERS[which]
    m = re.search(re.escape(marker) + r"\s*```(?:bash|sh)?\n(.*?)\n```", text, re.S)
    if not m:
        raise SystemExit(f"README.md has no fenced command after {marker}")
    return m.group(1).strip()


if __name__ == "__main__":
    print(command(sys.argv[1] if len(sys.argv) > 1 else "test"))
