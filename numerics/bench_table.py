"""Text tables of the benchmarks (`numerics.bench`, `bench_sgd`, `bench_paper`): rates, ratios, aligned or
Markdown columns."""
from __future__ import annotations


def rate(v) -> str:
    """A rate in steps/s as text: "2.41 M", "27.5 k", "381" ("—" for None)."""
    if v is None:
        return "—"
    return f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k" if v >= 1e3 else f"{v:.0f}"


def times(v) -> str:
    """A ratio as text: "4.1×" ("—" for None)."""
    return "—" if v is None else f"{v:.1f}×"


def table(cols: list[str], cells: list[list[str]], markdown: bool = False) -> list[str]:
    """Right-aligned text table lines: a header and one line per row (`markdown` adds the `|---:|` separator).

    Arguments:
        cols: column headings.  cells: rows of cell strings, one per heading.  markdown: a Markdown table.

    Returns:
        the lines.
    """
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    if markdown:
        lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(cols, widths)) + " |",
                 "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"]
        return lines + ["| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    return [" ".join(c.rjust(w) for c, w in zip(row, widths)) for row in [cols, *cells]]
