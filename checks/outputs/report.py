"""report.md and report.html: coverage by prediction ID, the verdict table, then one section per verdict.

Each section gives the claim with its citation, provenance and design, every criterion (value, prediction,
tolerance, rationale), every alternative's score, the family's instance count and counterexample, and the figures.
The HTML embeds its figures (data URIs), so the page travels alone; the Markdown links them relatively
(figures/…). Prediction IDs link to copies of the theory digest pages (docs/theory) written next to the report
(theory/…), so a run folder keeps every link when it is moved or shared. Every file is written atomically.
"""
from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

from checks.frame.criteria import describe, fmt, label, outcome
from checks.outputs.io import write_text
from checks.frame.predictions import PREDICTIONS
from checks.frame.verdict import PAPERS, Verdict

COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#8250df"}
ROOT = Path(__file__).resolve().parents[2]
THEORY = ROOT / "docs" / "theory"
DIGEST = "theory"              # the run folder's copy of docs/theory, next to report.md
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def _theory_base() -> str | None:
    """The prefix of digest links in a report ("theory/", the run folder's copy), or None without docs/theory."""
    return f"{DIGEST}/" if (THEORY / "index.md").is_file() else None


def theory_refs(text) -> str:
    """The specification's file names in rationales and claims replaced by the shipped theory digest."""
    return re.sub(r"\b(?:formulas|experiments)\.md\b", "the theory digest", str(text))


def _id_link(pid: str, base: str | None) -> str | None:
    from checks.frame.predictions import in_digest, theory_link

    return None if base is None or not in_digest(pid) else theory_link(pid, base)   # no link to a missing anchor


def _local_page(target: str) -> str | None:
    """The digest page a relative link inside docs/theory names ("x.md#a" → "x.md"), or None for anything else."""
    page = target.split("#", 1)[0]
    return page if page and "/" not in page and ":" not in page and (THEORY / page).is_file() else None


def _digest_pages(texts) -> list[str]:
    """The digest pages the report texts link to, and every page those link to (so the copies link among
    themselves)."""
    todo = {m for t in texts for m in re.findall(rf"\b{DIGEST}/([\w.-]+\.md)\b", t) if (THEORY / m).is_file()}
    done: set[str] = set()
    while todo:
        page = todo.pop()
        done.add(page)
        for _, target in _LINK.findall((THEORY / page).read_text(encoding="utf-8")):
            if (p := _local_page(target)) and p not in done:
                todo.add(p)
    return sorted(done)


def _digest_copy(page: str) -> str:
    """docs/theory/<page> for the run folder: links that would leave the copied digest become plain text naming
    the file in the toolkit's repository, so no link in a moved run folder points nowhere."""
    def fix(m):
        label, target = m.groups()
        if target.startswith("#") or re.match(r"[a-z][a-z0-9+.-]*:", target) or _local_page(target):
            return m.group(0)
        rel = os.path.normpath(os.path.join("docs", "theory", target.split("#", 1)[0])).replace(os.sep, "/")
        return f"`{rel}` in the toolkit's repository" if label.strip("`") == rel else \
            f"{label} (`{rel}` in the toolkit's repository)"

    text = (THEORY / page).read_text(encoding="utf-8")
    return f"<!-- A copy of docs/theory/{page}, written with this report. -->\n" + _LINK.sub(fix, text)


def write_digest(out: Path, texts) -> list[Path]:
    """Copy the digest pages `texts` link to into `out/theory/` (atomically each); remove stale copies.

    Arguments:
        out: the run folder.  texts: the report texts (report.md, report.html) whose `theory/…` links count.
    Returns:
        the paths written.
    """
    folder = Path(out) / DIGEST
    pages = _digest_pages(texts)
    written = [write_text(folder / page, _digest_copy(page)) for page in pages]
    for old in [*folder.glob("*.md"), *folder.glob(".*.tmp")]:
        if old.name not in pages:
            old.unlink(missing_ok=True)
    return written


def run_metadata(verdicts) -> dict:
    """Commit, date, versions, tiers, seeds and machine of a run, for the top of the report."""
    import datetime
    import platform

    from checks.frame.verdict import commit, versions

    return dict(commit=commit(), date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                versions=versions(), seeds=sorted({int(v.seed) for v in verdicts}),
                devices=sorted({str(v.design.get("device", "cpu")) for v in verdicts}),
                machine=f"{platform.system()} {platform.release()} {platform.machine()}, "
                        f"{os.cpu_count()} CPUs, Python {platform.python_version()}")


def _meta_lines(meta: dict, tier: str) -> list[tuple[str, str]]:
    vers = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items() if v)
    return [("commit", meta.get("commit") or "unknown"), ("date", meta.get("date", "")), ("tier", tier),
            ("seeds", ", ".join(str(s) for s in meta.get("seeds", [])) or "—"),
            ("devices", ", ".join(meta.get("devices", [])) or "cpu"), ("machine", meta.get("machine", "")),
            ("versions", vers)]


def _cell(text) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


def _best_alternative(v) -> str:
    """The alternative closest to fitting: one that PASSes, else the one failing the fewest criteria."""
    if not v.alternatives:
        return ""
    a = min(v.alternatives, key=lambda a: (a["status"] != "PASS", len(a["failed"])))
    ours = " (a rival of our refinement)" if a.get("level") == "refinement" else ""
    return f"{a['name']}{ours}: {a['status']}" + (f" (fails {a['failed'][0]})" if a["failed"] else "")


def _first_sentence(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    cut = text.find(". ")
    text = text if cut < 0 else text[:cut + 1]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def coverage(verdicts) -> list[dict]:
    """One row per prediction ID of the specification and check judging it: the claim's status, the deciding
    criterion (the failed one for FAIL, the undecided one for INCONCLUSIVE, the prediction's own for PASS) with
    observed vs predicted, the best alternative, the status of our refinements, and a known finding's reason and
    level (from checks/expected-status.toml)."""
    from checks.frame.predictions import finding, load

    table = load()
    rows = []

    def row(pid, title, v):
        if v is None:
            return dict(id=pid, claim=title, check="—", status="not run", score="", best_alternative="",
                        refinement="", finding="", level="")
        f = finding(v, table)
        deciding = "; ".join(describe(c) for c in v.deciding()[:2]) if v.status != "ERROR" else v.message
        return dict(id=pid, claim=title, check=v.check, status=v.status, score=deciding,
                    best_alternative=_best_alternative(v), refinement=v.refinement_status,
                    finding=_first_sentence(f["reason"]) if f else "", level=f["level"] if f else "")

    for pid, title in PREDICTIONS.items():
        vs = [v for v in verdicts if v.prediction_id == pid]
        rows += [row(pid, title, v) for v in vs or [None]]
    extra = sorted({(v.prediction_id, v.check) for v in verdicts if v.prediction_id not in PREDICTIONS})
    for pid, check in extra:
        rows.append(row(pid, "(toolkit's own)", next(x for x in verdicts if x.prediction_id == pid and
                                                     x.check == check)))
    return rows


def _protocol_md(v) -> list[str]:
    if not v.protocol:
        return []
    out = ["", "*Protocol card* (the paper's protocol beside this run's; ≠ marks a deviation and its reason):", "",
           "| setting | paper | source | this run | | why it differs |", "|---|---|---|---|---|---|"]
    for r in v.protocol:
        mark = {True: "=", False: "≠", None: ""}[r["same"]]
        out.append(f"| {_cell(r['setting'])} | {_cell(r['paper'])} | {_cell(theory_refs(r['source']))} "
                   f"| {_cell(r['run'])} | {mark} | {_cell(r['why'])} |")
    return out


def markdown(verdicts: list[Verdict], out: Path, tier: str, seconds: float, meta: dict | None = None) -> str:
    meta = meta or {}
    counts = {s: sum(v.status == s for v in verdicts) for s in COLOURS}
    cov = coverage(verdicts)
    judged = len({r["id"] for r in cov if r["status"] != "not run" and r["id"] in PREDICTIONS})
    lines = [f"# Verification report ({tier} tier)", "",
             f"{len(verdicts)} verdicts in {seconds:.0f} s: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
             + f". {judged}/{len(PREDICTIONS)} prediction IDs judged.", ""]
    if meta:
        lines += ["| run | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in _meta_lines(meta, tier)] + [""]
    base = _theory_base()
    lines += [(f"Prediction IDs link to the theory digest ([{base}index.md]({base}index.md), copied next to "
               "this report); papers:") if base else "Papers:", ""]
    lines += [f"- **{key}**: {PAPERS[key]}" for key in sorted({v.paper for v in verdicts}) if key in PAPERS] + [""]
    lines += ["## The papers' claims, by prediction ID", "",
              "The status is the claim's as the specification states it, judged inside its regime; our own refinements "
              "([R] reconstructed laws, [C] calibrated expectations) are judged apart (*refinements*). A known finding "
              "gives its reason and the level that failed.", "",
              "| ID | prediction | check | claim | deciding criterion (observed vs predicted) | best alternative "
              "| refinements | known finding (level) |", "|---|---|---|---|---|---|---|---|"]
    for r in cov:
        rid = _md_link(r["id"], base) if r["id"] in PREDICTIONS else r["id"]
        known = f"{r['finding']} ({r['level']})" if r["finding"] else ""
        lines.append(f"| {rid} | {_cell(r['claim'])} | {r['check']} | **{r['status']}** | {_cell(r['score'])} "
                     f"| {_cell(r['best_alternative'])} | {r['refinement']} | {_cell(known)} |")
    lines += ["", "## Verdicts", "", "| check | ID | provenance | status | deciding criterion |",
              "|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| [{v.check}](#{_anchor(v)}) | {_md_link(v.prediction_id, base)} "
                     f"| {_cell(v.provenance)} | **{v.status}** "
                     f"| {_cell(v.headline())} |")
    for v in verdicts:
        lines += ["", f'<a id="{_anchor(v)}"></a>', "", f"### {v.check} · {v.prediction_id}", "",
                  f"**{v.status}** · {_md_link(v.prediction_id, base)} · {v.provenance} · "
                  f"{v.seconds:.1f} s · {PAPERS.get(v.paper, v.paper)}", "",
                  f"*Claim.* {theory_refs(v.claim)}", "",
                  *([f"*Our refinements:* **{v.refinement_status}**", ""] if v.refinement_status else []),
                  "| level | criterion | observed | predicted | tolerance | result | rationale |",
                  "|---|---|---|---|---|---|---|"]
        for c in v.criteria:
            lines.append(f"| {c.get('level', 'claim')}{' [' + c['tag'] + ']' if c.get('tag') else ''} "
                         f"| {_cell(label(c))} | {_cell(fmt(c['value']))} | "
                         f"{'' if c.get('predicted') is None else _cell(fmt(c['predicted']))} | "
                         f"{_cell(c['tolerance'])} "
                         f"| {outcome(c)} | {_cell(theory_refs(c['rationale']))} |")
        if v.alternatives:
            lines += ["", "*Alternatives (judged on the same run; each must be rejected):*", ""]
            for a in v.alternatives:
                lines.append(f"- {a['name']}: **{a['status']}**" + (f" — fails {', '.join(a['failed'])}"
                                                                   if a["failed"] else "") +
                             (f" ({theory_refs(a['why'])})" if a.get("why") else ""))
        if v.family:
            f = v.family
            lines += ["", f"*Family:* {f['passed']}/{f['instances']} instances pass"
                      + (f"; shrunk counterexample `{f['counterexample']}`" if f.get("counterexample") else "")]
        lines += _protocol_md(v)
        lines += ["", "*Design:* `" + ", ".join(f"{k}={v2}" for k, v2 in v.design.items()) + "`"]
        if v.message:
            lines += ["", f"*Message.* `{theory_refs(v.message)}`"]
        for f in v.figures:
            lines += ["", f"![{v.check}]({f})"]
    return "\n".join(lines) + "\n"


def _md_link(pid: str, base: str | None) -> str:
    target = _id_link(pid, base)
    return f"[{pid}]({target})" if target else pid


def _anchor(v) -> str:
    return (f"{v.check}-{v.prediction_id}").replace(".", "").lower()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Verification report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }}
.status {{ font-weight: bold; color: white; padding: 1px 6px; border-radius: 4px; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }}
section {{ border-top: 1px solid #ddd; margin-top: 1.5em; }} code {{ font-size: 0.85em; }}
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
<table>{meta}</table>
<p>{digest}Papers:</p>
<ul>{papers}</ul>
<h2>The papers' claims, by prediction ID</h2>
<p>The status is the claim's as the specification states it, judged inside its regime; our own refinements ([R]
reconstructed laws, [C] calibrated expectations) are judged apart. A known finding gives its reason and level.</p>
<table><tr><th>ID</th><th>prediction</th><th>check</th><th>claim</th><th>deciding criterion (observed vs predicted)</th>
<th>best alternative</th><th>refinements</th><th>known finding (level)</th></tr>
{coverage}
</table>
<h2>Verdicts</h2>
<table><tr><th>check</th><th>ID</th><th>provenance</th><th>status</th><th>deciding criterion</th></tr>
{rows}
</table>
{sections}
</body></html>
"""


def _protocol_html(v) -> str:
    e = html.escape
    if not v.protocol:
        return ""
    rows = "".join(f"<tr><td>{e(r['setting'])}</td><td>{e(r['paper'])}</td><td>{e(theory_refs(r['source']))}</td>"
                   f"<td>{e(r['run'])}</td><td>{ {True: '=', False: '≠', None: ''}[r['same']] }</td>"
                   f"<td>{e(r['why'])}</td></tr>" for r in v.protocol)
    return ("<p><b>Protocol card</b> (the paper's protocol beside this run's; ≠ marks a deviation):</p><table><tr>"
            "<th>setting</th><th>paper</th><th>source</th><th>this run</th><th></th><th>why it differs</th></tr>"
            f"{rows}</table>")


def _badge(status: str) -> str:
    return f'<span class="status" style="background:{COLOURS.get(status, "#555")}">{html.escape(status)}</span>'


def _img(out: Path, rel: str, alt: str) -> str:
    """The figure `rel` (relative to the run folder `out`) embedded as a data URI; a relative link if unreadable."""
    try:
        data = base64.b64encode((Path(out) / rel).read_bytes()).decode()
        return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    except OSError:
        return f'<img src="{html.escape(Path(rel).as_posix())}" alt="{html.escape(alt)} (missing)">'


def html_page(verdicts: list[Verdict], out: Path, tier: str, seconds: float, meta: dict | None = None) -> str:
    e = html.escape
    base = _theory_base()

    def link(pid):
        target = _id_link(pid, base) if pid in PREDICTIONS else None
        return f'<a href="{e(target)}">{e(pid)}</a>' if target else e(pid)

    cov = "\n".join(f"<tr><td>{link(r['id'])}</td><td>{e(r['claim'])}</td><td>{e(r['check'])}</td>"
                    f"<td>{_badge(r['status']) if r['status'] in COLOURS else e(r['status'])}</td>"
                    f"<td>{e(r['score'])}</td><td>{e(r['best_alternative'])}</td><td>{e(r['refinement'])}</td>"
                    f"<td>{e(r['finding'] + (' (' + r['level'] + ')' if r['level'] else ''))}</td></tr>"
                    for r in coverage(verdicts))
    rows = "\n".join(f'<tr><td><a href="#{_anchor(v)}">{e(v.check)}</a></td><td>{link(v.prediction_id)}</td>'
                     f"<td>{e(v.provenance)}</td><td>{_badge(v.status)}</td><td>{e(v.headline())}</td></tr>"
                     for v in verdicts)
    sections = []
    for v in verdicts:
        crit = "".join(f"<tr><td>{e(c.get('level', 'claim'))}{e(' [' + c['tag'] + ']' if c.get('tag') else '')}</td>"
                       f"<td>{e(label(c))}</td><td>{e(fmt(c['value']))}</td>"
                       f"<td>{'' if c.get('predicted') is None else e(fmt(c['predicted']))}</td>"
                       f"<td>{e(c['tolerance'])}</td><td>{e(outcome(c))}</td>"
                       f"<td>{e(theory_refs(c['rationale']))}</td></tr>"
                       for c in v.criteria)
        alts = "".join(f"<li>{e(a['name'])}: {_badge(a['status'])} {e(', '.join(a['failed']))}</li>"
                       for a in v.alternatives)
        fam = ""
        if v.family:
            f = v.family
            fam = (f"<p><b>Family.</b> {f['passed']}/{f['instances']} instances pass"
                   + (f"; shrunk counterexample <code>{e(str(f['counterexample']))}</code>" if f.get("counterexample")
                      else "") + "</p>")
        figs = "".join(_img(out, f, v.check) for f in v.figures)
        msg = f"<p><b>Message.</b> <code>{e(theory_refs(v.message))}</code></p>" if v.message else ""
        sections.append(
            f'<section id="{_anchor(v)}"><h3>{e(v.check)} · {e(v.prediction_id)} {_badge(v.status)}</h3>'
            f"<p>{link(v.prediction_id)} · {e(PAPERS.get(v.paper, v.paper))} · {e(v.provenance)} · "
            f"{v.seconds:.1f} s</p><p><b>Claim.</b> {e(theory_refs(v.claim))}</p>"
            + (f"<p><b>Our refinements:</b> {_badge(v.refinement_status)}</p>" if v.refinement_status else "")
            + "<table><tr><th>level</th><th>criterion</th><th>observed</th><th>predicted</th>"
            f"<th>tolerance</th><th>result</th><th>rationale</th></tr>{crit}</table>"
            + (f"<p><b>Alternatives</b> (each must be rejected):</p><ul>{alts}</ul>" if alts else "")
            + fam + _protocol_html(v) + f"<p><b>Design.</b> <code>{e(str(v.design))}</code></p>{msg}{figs}</section>")
    counts = ", ".join(f"{sum(v.status == s for v in verdicts)} {s}" for s in COLOURS
                       if any(v.status == s for v in verdicts))
    meta = meta or {}
    summary = f"{len(verdicts)} verdicts in {seconds:.0f} s: {counts}."
    meta_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in _meta_lines(meta, tier))
    papers = "".join(f"<li><b>{e(k)}</b>: {e(PAPERS[k])}</li>" for k in sorted({v.paper for v in verdicts})
                     if k in PAPERS)
    digest = (f'Prediction IDs link to the theory digest (<a href="{e(base)}index.md">{e(base)}index.md</a>, '
              "copied next to this report). " if base else "")
    return _PAGE.format(tier=e(tier), summary=summary, meta=meta_rows, digest=digest, papers=papers, coverage=cov,
                        rows=rows, sections="\n".join(sections))


def write_report(verdicts: list[Verdict], out: Path, tier: str, seconds: float) -> tuple[Path, Path]:
    """Write report.md, report.html and the digest pages they link to (`theory/`) under `out`, atomically.

    Arguments:
        verdicts: the run's verdicts.  out: the run folder.  tier: the run's tier.  seconds: the run's wall time.
    Returns:
        the paths of report.md and report.html.
    """
    out = Path(out)
    meta = run_metadata(verdicts)
    md_text = markdown(verdicts, out, tier, seconds, meta)
    page_text = html_page(verdicts, out, tier, seconds, meta)
    write_digest(out, [md_text, page_text])        # first, so the reports never link to a page not yet there
    md, page = out / "report.md", out / "report.html"
    write_text(md, md_text)
    write_text(page, page_text)
    return md, page
