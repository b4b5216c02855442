"""`python -m checks.docs [--check]`: write docs/checks.md, the reference of every registered check, from the registry.

For each check: its claim, prediction IDs, provenance, paper (full citation), whether it takes your data, the tiers
it runs in, and a table of its settings — the standard default, the value of each tier that changes it, where a
value comes from, and the setting's description (from the design's `Arguments:` docstring section). The committed
file must equal the generated one (tests/test_docs.py); rerun this command after changing a check or a design.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

from .design import TIERS
from .errors import CheckError
from .verdict import PAPERS

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks.md"
PINSON, EARLY, THRESHOLD, MPG = ("pinson-racing.md", "bf-early-alignment.md", "bf-threshold.md",
                                 "mpg-conservation.md")

__all__ = ["generate", "main", "theory_link", "DOCS"]


def theory_link(pid: str, base: str = "theory/") -> str:
    """The docs/theory page and anchor of a prediction or formula ID ("PIN-7" → "theory/pinson-racing.md#pin-7").

    Arguments:
        pid: a prediction ID (PIN-…, BF-P…, MPG-P…) or a formula ID (F1.…, F2.…, F3.…).
        base: the path prefix from the linking document to docs/ (e.g. "theory/" from docs/checks.md).
    """
    if not isinstance(pid, str) or not pid:
        raise ValueError(f"pid must be an ID such as 'PIN-7' or 'F3.2', got {pid!r}")
    anchor = re.sub(r"[^a-z0-9-]", "", pid.lower().replace(".", "-"))
    num = re.match(r"(?:F2\.|BF-P|E)(\d+)", pid)
    if pid.startswith(("PIN-", "F1.")) or pid in ("E6", "E7"):
        page = PINSON
    elif pid.startswith(("MPG-", "F3.")) or pid == "E8":
        page = MPG
    elif pid.startswith("F2.") and num:
        page = EARLY if int(num.group(1)) <= 7 else THRESHOLD
    elif pid.startswith("BF-P") and num:
        page = EARLY if int(num.group(1)) <= 11 else THRESHOLD
    elif pid in ("E1", "E2", "E3", "E4"):
        page = EARLY
    elif pid == "E5":
        page = THRESHOLD
    else:
        page = "index.md"
    return f"{base}{page}#{anchor}"


def _in_digest(pid: str) -> bool:
    """Whether the theory digest (docs/theory) has an anchor for `pid` (every ID of the specification does; an ID a
    check declares for its own claim may not)."""
    from .spec import PREDICTIONS

    if pid in PREDICTIONS:
        return True
    page, anchor = theory_link(pid, "").split("#")
    path = DOCS.parent / "theory" / page
    return path.is_file() and f'<a id="{anchor}"></a>' in path.read_text(encoding="utf-8")


def _arguments(doc: str | None) -> dict:
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


def _value(v) -> str:
    if isinstance(v, (tuple, list)):
        return ", ".join(_value(x) for x in v) if v else "()"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _cell(text) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _section(cls) -> list[str]:
    d = cls.design
    ids = ", ".join(f"[{pid}]({theory_link(pid)})" if _in_digest(pid) else f"{pid} (declared by the check)"
                    for pid in cls.ids())
    lines = [f"## {cls.name}", "", f"*{_cell(cls.claim)}*", "",
             f"- **IDs:** {ids}",
             f"- **Provenance:** {_cell(cls.provenance)}",
             f"- **Paper:** {_cell(PAPERS.get(cls.paper, cls.paper))}",
             f"- **Tiers:** {', '.join(cls.tiers)}" + ("; **accepts your data** (`checks.run(name, X, y)`, "
                                                        "`python -m checks.run`)" if d.accepts_data else ""),
             f"- **Design:** `{d.__module__}.{d.__name__}`"]
    for pid in cls.also_judges:
        if pid in cls.claims:
            lines.append(f"- **{pid}:** {_cell(cls.claims[pid])}")
    doc_args = {}
    for klass in reversed(d.__mro__):
        doc_args.update(_arguments(klass.__doc__))
    tiers = {t: d.tier_values(t) for t in TIERS}
    defaults = {f.name: f.default for f in dataclasses.fields(d) if f.name != "dataset"}
    lines += ["", "| setting | standard | " + " | ".join(t for t in TIERS if t != "standard")
              + " | description |", "|---|---|" + "---|" * (len(TIERS) - 1) + "---|"]
    for key in d.keys():
        default = defaults.get(key)
        default = "—" if default is dataclasses.MISSING else _value(default)
        cells = []
        for t in TIERS:
            if t == "standard":
                continue
            v = tiers[t].get(key, dataclasses.MISSING)
            cells.append("" if v is dataclasses.MISSING else f"`{_cell(_value(v))}`")
        text = doc_args.get(key, "")
        if key in d.sources:
            text = (text + " " if text else "") + f"(source: {d.sources[key]})"
        lines.append(f"| `{key}` | `{_cell(default)}` | " + " | ".join(cells) + f" | {_cell(text)} |")
    return lines + [""]


def generate() -> str:
    """The Markdown of docs/checks.md for the checks registered now (deterministic: sorted by name)."""
    from .api import discover

    classes = discover()
    lines = ["# Checks", "",
             "<!-- Generated by `python -m checks.docs` from the check registry; do not edit by hand. -->", "",
             f"{len(classes)} checks. Each judges one or more prediction IDs (linked to the theory digest in "
             "[docs/theory](theory/index.md)). Settings: the **standard** column is the design's default; a tier "
             "column shows only the values that tier changes (empty = the standard value; `paper` falls back to "
             "`full`). Set any of them with `--set key=value`, a TOML `--config`, or keyword arguments of "
             "`checks.run` / `checks.run_all(overrides=...)`.", "", "| check | IDs | provenance | tiers |",
             "|---|---|---|---|"]
    for cls in classes:
        anchor = cls.name.replace(".", "").lower()
        lines.append(f"| [{cls.name}](#{anchor}) | {', '.join(cls.ids())} | {_cell(cls.provenance)} "
                     f"| {', '.join(cls.tiers)} |")
    lines.append("")
    for cls in classes:
        lines += _section(cls)
    return "\n".join(lines).rstrip() + "\n"


README = Path(__file__).resolve().parent.parent / "README.md"
FINDINGS_START, FINDINGS_END = "<!-- findings:start (python -m checks.docs) -->", "<!-- findings:end -->"


def findings() -> str:
    """The README's list of known findings, generated from checks/expected-status.toml (the same data the report's
    first table reads): one bullet per entry with its check, ID, level, tiers and reason."""
    from .expected import load

    lines = []
    for (check, pid), e in load().items():
        tiers = f", {', '.join(e['tiers'])} tier" if e.get("tiers") else ""
        what = " and ".join(x for x in (f"claim {e['status']}" if e["status"] != "PASS" else "",
                                       f"our refinement {e['refinement']}" if e["refinement"] != "PASS" else "") if x)
        lines.append(f"- **{pid}** (`{check}`{tiers}; {what}; level: *{e['level']}*): " + " ".join(e["reason"].split()))
    return "\n".join(lines) + "\n"


def replace_block(text: str, start: str, end: str, body: str) -> str:
    """`text` with what stands between the marker lines `start` and `end` replaced by `body` (a generated README
    block); CheckError naming the markers when they are missing.

    Arguments:
        text: the document.  start, end: the marker comments.  body: the new block, ending with a newline.
    """
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise CheckError(f"README.md lacks the markers {start!r} … {end!r}")
    return text[:i + len(start)] + "\n" + body + text[j:]


def readme_with_findings(text: str) -> str:
    """README text with the block between the findings markers replaced by `findings()`."""
    return replace_block(text, FINDINGS_START, FINDINGS_END, findings())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m checks.docs", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if docs/checks.md differs from the registry")
    p.add_argument("--out", default=str(DOCS), help="where to write (default: docs/checks.md)")
    args = p.parse_args(argv)
    text, out = generate(), Path(args.out)
    readme_old = README.read_text(encoding="utf-8") if README.is_file() else ""
    try:
        readme_new = readme_with_findings(readme_old) if readme_old else ""
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'out of date; run python -m checks.docs'}")
        fresh = readme_new == readme_old
        print(f"{README} findings: {'up to date' if fresh else 'out of date; run python -m checks.docs'}")
        return 0 if same and fresh else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if readme_new and readme_new != readme_old:
        README.write_text(readme_new, encoding="utf-8")
        print(f"updated the findings in {README}")
    print(f"wrote {out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
