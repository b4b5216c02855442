"""The terminal verdict table: one line per verdict (check, ID, provenance, status, the deciding criterion), a tally.

It fits the terminal width (default 100 columns): the deciding criterion wraps on word boundaries onto at most
`MAX_LINES` lines under its column (then it is cut with '…'); the other cells are short.
"""
from __future__ import annotations

import re
import shutil
import textwrap

MAX_LINES = 4
ANSI = {"PASS": "\033[32m", "FAIL": "\033[31m", "INCONCLUSIVE": "\033[33m", "ERROR": "\033[35m"}


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _wrap(text: str, width: int, lines: int = MAX_LINES) -> list[str]:
    """`text` wrapped on word boundaries to `width`, at most `lines` lines (the last cut with '…')."""
    out = textwrap.wrap(" ".join(str(text).split()), width, break_on_hyphens=False) or [""]
    if len(out) > lines:
        out = out[:lines - 1] + [_cut(" ".join(out[lines - 1:]), width)]
    return out


def tally(verdicts) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in ANSI}
    return f"{len(verdicts)} verdicts: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _tag(provenance: str) -> str:
    """The provenance tag alone ([V], [R], [C]; '…' marks a qualified tag, which the report spells out)."""
    m = re.match(r"\[([A-Z])\]?", provenance.strip())
    return provenance if m is None else f"[{m.group(1)}]" + ("" if provenance.strip() == f"[{m.group(1)}]" else "…")


def format_table(verdicts, colour: bool = False, width: int | None = None, claims: bool = False) -> str:
    """The table as text: check, ID, provenance tag, status, the deciding criterion (wrapped), then the tally.

    Arguments:
        verdicts: the verdicts to show, in order.
        colour: paint the status with ANSI colours (for a terminal).
        width: columns to fit (default: the terminal's, 80–160; 100 when unknown).
        claims: add each claim on its own line under its row.
    """
    width = width or max(80, min(160, shutil.get_terminal_size((100, 20)).columns))
    cw = max([len(v.check) for v in verdicts] + [5])
    iw = max([len(v.prediction_id) for v in verdicts] + [2])
    pw = max([len(_tag(v.provenance)) for v in verdicts] + [4])
    sw = max([len(v.status) for v in verdicts] + [6])
    rest = max(20, width - cw - iw - pw - sw - 5)
    head = f"{'check':{cw}} {'id':{iw}} {'prov':{pw}} {'status':{sw}} deciding criterion"
    lines = [head, "-" * (cw + iw + pw + sw + 4 + rest)]
    for v in verdicts:
        status = v.status.ljust(sw)
        if colour:
            status = f"{ANSI.get(v.status, '')}{status}\033[0m"
        first, *more = _wrap(v.headline(), rest)
        lines.append(f"{v.check:{cw}} {v.prediction_id:{iw}} {_tag(v.provenance):{pw}} {status} {first}")
        lines += [" " * (cw + iw + pw + sw + 4) + m for m in more]
        if claims:
            lines.append(f"    claim: {_cut(v.claim, width - 11)}")
    lines += ["", tally(verdicts)]
    return "\n".join(lines)


def coverage_text(verdicts, full: bool = False, width: int = 110) -> str:
    """'k/45 prediction IDs judged' (+ the IDs not run); with `full`, one line per ID: check, status, the
    prediction's first criterion and the best alternative's status (the report's coverage table)."""
    from checks.outputs.report import coverage
    from checks.frame.predictions import PREDICTIONS

    rows = coverage(verdicts)
    judged = sorted({r["id"] for r in rows if r["status"] != "not run" and r["id"] in PREDICTIONS})
    missing = [pid for pid in PREDICTIONS if pid not in judged]
    shown = ", ".join(missing) if len(missing) <= 8 else f"{len(missing)} IDs (--coverage lists them)"
    line = f"coverage: {len(judged)}/{len(PREDICTIONS)} prediction IDs judged" + (
        f"; not run in this selection/tier: {shown}" if missing else "")
    if not full:
        return line
    out = [line, f"{'ID':8} {'check':34} {'status':12} {'score':34} best alternative"]
    for r in rows:
        text = (f"{r['id']:8} {_cut(r['check'], 34):34} {r['status']:12} {_cut(r['score'], 34):34} "
                f"{_cut(r['best_alternative'], max(10, width - 91))}")
        out.append(text.rstrip())
    return "\n".join(out)
