"""Plain-text verdict table (claim, provenance, predicted, observed, tolerance, verdict)."""
from __future__ import annotations

import textwrap

COLUMNS = (("check", 36), ("id", 7), ("prov.", 6), ("predicted", 26), ("observed", 26), ("tolerance", 12),
           ("verdict", 12))


def _cells(v) -> list[str]:
    return [v.check, v.prediction_id, v.provenance, v.predicted, v.observed, v.tolerance, v.status]


def format_table(verdicts) -> str:
    head = " ".join(name.ljust(w) for name, w in COLUMNS)
    lines = [head, "-" * len(head)]
    for v in verdicts:
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, (_, w) in zip(_cells(v), COLUMNS)]
        for row in range(max(len(c) for c in wrapped)):
            lines.append(" ".join((c[row] if row < len(c) else "").ljust(w)
                                  for c, (_, w) in zip(wrapped, COLUMNS)).rstrip())
        lines.append(f"  claim: {v.claim}")
        if v.message:
            lines.append(f"  note: {v.message}")
    return "\n".join(lines)
