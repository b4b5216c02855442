"""report.md and report.html in the output folder: a summary table, then one section per check with its figures.

The HTML comes from a small built-in template (no extra dependency); figures are linked by relative path so the
folder can be moved or zipped as a whole. Both files are written atomically.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

from .core import Verdict
from .io import write_text

COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#8250df"}


def _rel(path: str, out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), out.resolve())).as_posix()


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(verdicts: list[Verdict], out: Path, tier: str, seconds: float) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in COLOURS}
    lines = [f"# Verification report ({tier} tier)", "",
             f"{len(verdicts)} checks in {seconds:.0f} s: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n), "",
             "| check | paper | prediction | provenance | predicted | observed | tolerance | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| [{v.check}](#{v.check.replace('.', '')}) | {v.paper} | {v.prediction_id} | {_cell(v.provenance)} "
                     f"| {_cell(v.predicted)} | {_cell(v.observed)} | {_cell(v.tolerance)} | **{v.status}** |")
    for v in verdicts:
        lines += ["", f"## {v.check}", "", f"**{v.status}** · {v.paper} · {v.prediction_id} · {v.provenance} · "
                  f"{v.seconds:.1f} s", "", f"*Claim.* {v.claim}", "", f"*Predicted.* {v.predicted}", "",
                  f"*Observed.* {v.observed}", "", f"*Tolerance.* {v.tolerance} — {v.rationale}"]
        if v.message:
            lines += ["", f"*Message.* `{v.message}`"]
        for f in v.figures:
            lines += ["", f"![{v.check}]({_rel(f, out)})"]
    return "\n".join(lines) + "\n"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Verification report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.85em; }} td, th {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }}
.status {{ font-weight: bold; color: white; padding: 1px 6px; border-radius: 4px; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }}
section {{ border-top: 1px solid #ddd; margin-top: 1.5em; }}
</style>
<script>
window.addEventListener("load", () => {{
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.body.dataset.images = imgs.length;
  document.body.dataset.brokenImages = broken;
}});
</script></head>
<body>
<h1>Verification report ({tier} tier)</h1>
<p>{summary}</p>
<table><tr><th>check</th><th>paper</th><th>prediction</th><th>provenance</th><th>predicted</th><th>observed</th>
<th>tolerance</th><th>verdict</th></tr>
{rows}
</table>
{sections}
</body></html>
"""


def _badge(status: str) -> str:
    return f'<span class="status" style="background:{COLOURS.get(status, "#555")}">{html.escape(status)}</span>'


def html_page(verdicts: list[Verdict], out: Path, tier: str, seconds: float) -> str:
    e = html.escape
    rows = "\n".join(
        f'<tr><td><a href="#{e(v.check)}">{e(v.check)}</a></td><td>{e(v.paper)}</td><td>{e(v.prediction_id)}</td>'
        f"<td>{e(v.provenance)}</td><td>{e(v.predicted)}</td><td>{e(v.observed)}</td><td>{e(v.tolerance)}</td>"
        f"<td>{_badge(v.status)}</td></tr>" for v in verdicts)
    sections = []
    for v in verdicts:
        figs = "".join(f'<img src="{e(_rel(f, out))}" alt="{e(v.check)} figure">' for f in v.figures)
        msg = f"<p><b>Message.</b> <code>{e(v.message)}</code></p>" if v.message else ""
        sections.append(
            f'<section id="{e(v.check)}"><h2>{e(v.check)} {_badge(v.status)}</h2>'
            f"<p>{e(v.paper)} · {e(v.prediction_id)} · {e(v.provenance)} · {v.seconds:.1f} s</p>"
            f"<p><b>Claim.</b> {e(v.claim)}</p><p><b>Predicted.</b> {e(v.predicted)}</p>"
            f"<p><b>Observed.</b> {e(v.observed)}</p><p><b>Tolerance.</b> {e(v.tolerance)} — {e(v.rationale)}</p>"
            f"{msg}{figs}</section>")
    counts = ", ".join(f"{sum(v.status == s for v in verdicts)} {s}" for s in COLOURS
                       if any(v.status == s for v in verdicts))
    return _PAGE.format(tier=e(tier), summary=f"{len(verdicts)} checks in {seconds:.0f} s: {counts}", rows=rows,
                        sections="\n".join(sections))


def write_report(verdicts: list[Verdict], out: Path, tier: str, seconds: float) -> tuple[Path, Path]:
    """Write report.md and report.html under `out` (atomically); return their paths."""
    out = Path(out)
    md, page = out / "report.md", out / "report.html"
    write_text(md, markdown(verdicts, out, tier, seconds))
    write_text(page, html_page(verdicts, out, tier, seconds))
    return md, page
