"""The listings of `python -m checks.all`: `--list` (checks) and `--list-settings` (each setting's description and
its value in every tier), wrapped and aligned to fit `WIDTH` columns."""
from __future__ import annotations

import dataclasses
import re
import textwrap

from checks.frame.design import TIERS

WIDTH = 100
__all__ = ["WIDTH", "list_checks", "list_settings", "wrap"]


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> list[str]:
    """`text` wrapped on words to `width` columns, continuation lines indented by `indent` (a word longer than a
    line, e.g. a path, is broken rather than overflow)."""
    first = indent if first is None else first
    return textwrap.wrap(" ".join(str(text).split()), width, initial_indent=first, subsequent_indent=indent,
                         break_on_hyphens=False) or [first.rstrip()]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def list_checks(classes, tier: str, width: int = WIDTH) -> list[str]:
    """One aligned row per check (name, prediction IDs wrapped in their column, provenance tag, tiers); at the paper
    tier, the quoted source of its preset and whether it needs a GPU, wrapped under the row."""
    from checks.outputs.table import _tag

    nw = max([len(c.name) for c in classes] + [5])
    tw = max([len(",".join(c.tiers)) for c in classes] + [5])
    iw = max(10, width - nw - tw - 4 - 3)
    out = [f"{'check':{nw}} {'IDs':{iw}} {'prov':4} tiers".rstrip()]
    for c in classes:
        ids = wrap(", ".join(c.ids()), iw)
        out.append(f"{c.name:{nw}} {ids[0]:{iw}} {_tag(c.provenance):4} {','.join(c.tiers)}".rstrip())
        out += [f"{'':{nw}} {more}" for more in ids[1:]]
        if tier == "paper":
            source, needs = c.paper_info()
            out += wrap(source + (f" — needs {needs}" if needs else ""), width, " " * 6, "    paper: ")
            if getattr(c.design, "paper_cpu", None):
                out += wrap(str(c.design.paper_cpu), width, " " * 6, "    cpu estimate: ")
    return out


def _show(v) -> str:
    if isinstance(v, (tuple, list)):
        return ",".join(_show(x) for x in v) if v else "()"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v) if v != "" else '""'


def list_settings(classes, designs, tier: str, width: int = WIDTH) -> list[str]:
    """Per check: each setting with its value in this run and in every tier (a value this run changes is marked
    with '*'), then its description from the design's `Arguments:` docstring, wrapped."""
    cell = 11
    out = []
    for c, d in zip(classes, designs):
        cls = type(d)
        doc = {}
        for klass in reversed(cls.__mro__):
            doc.update(arguments(klass.__doc__))
        defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
        tiers = {t: {**defaults, **cls.tier_values(t)} for t in TIERS}
        tiers[tier] = {k: getattr(cls.build(tier), k) for k in cls.keys()}   # this tier's exact design
        kw = max([len(k) for k in cls.keys()] + [7])
        out += [f"{c.name}  (this run: tier {tier}; * = changed by --set/--config)",
                (f"  {'setting':{kw}} {'this run':{cell}} " + " ".join(f"{t:{cell}}" for t in TIERS)).rstrip()]
        for key in cls.keys():
            now = getattr(d, key)
            mark = "*" if now != tiers[tier].get(key) else ""
            vals = [_cut(_show(tiers[t].get(key, "—")), cell) for t in TIERS]
            out.append((f"  {key:{kw}} {_cut(_show(now) + mark, cell):{cell}} "
                        + " ".join(f"{v:{cell}}" for v in vals)).rstrip())
            text = doc.get(key, "") + (f" (source: {cls.sources[key]})" if key in cls.sources else "")
            if text:
                out += wrap(text, width, " " * (kw + 5))
        out.append("")
    return out[:-1]


def arguments(doc: str | None) -> dict:
    """`name: text` entries of a docstring's Arguments section (continuation lines joined)."""
    out, current, inside = {}, [], False
    for line in (doc or "").splitlines():
        stripped = line.strip()
        if stripped in ("Arguments:", "Args:"):
            inside = True
            continue
        if not inside:
            continue
        if not stripped:
            if out:
                break
            continue
        if re.match(r"(Returns|Raises|Yields|Examples?|Notes?):", stripped):
            break
        m = re.match(r"([A-Za-z_][\w, ]*):\s+(.*)", stripped)
        if m and all(k.strip().isidentifier() for k in m.group(1).split(",")):
            current = [k.strip() for k in m.group(1).split(",")]
            out.update({k: m.group(2) for k in current})
        else:
            for key in current:
                out[key] += " " + stripped
    return out
