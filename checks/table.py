"""Plain-text verdict table (claim, provenance, predicted, observed, tolerance, verdict)."""
from __future__ import annotations

import textwrap

COLUMNS = (("check", 36), ("id", 7), ("prov.", 6), ("predicted", 26), ("observed", 26), ("tolerance", 12),
           ("verdict", 12))


def _cells(v) -> list[str]:
    return [v.check, v.prediction_id, v.provenance, v.predicted, v.observed, v.tolerance, v.status]


ANSI = {"PASS": "\033[32m", "FAIL": "\033[31m", "INCONCLUSIVE": "\033[33m", "ERROR": "\033[35m"}


def _paint(line: str, status: str, colour: bool) -> str:
    return line.replace(status, f"{ANSI[status]}{status}\033[0m", 1) if colour and status in ANSI else line


def format_table(verdicts, colour: bool = False) -> str:
    """The verdict table; `colour` paints the verdict column with ANSI colours (used on a terminal)."""
    head = " ".join(name.ljust(w) for name, w in COLUMNS)
    lines = [head, "-" * len(head)]
    for v in verdicts:
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, (_, w) in zip(_cells(v), COLUMNS)]
        for row in range(max(len(c) for c in wrapped)):
            line = " ".join((c[row] if row < len(c) else "").ljust(w) for c, (_, w) in zip(wrapped, COLUMNS)).rstrip()
            lines.append(_paint(line, v.status, colour) if row == 0 else line)
        lines.append(f"  claim: {v.claim}")
        if v.message:
            lines.append(f"  note: {v.message}")
    return "\n".join(lines)
