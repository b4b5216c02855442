"""Documentation that is generated or executed: docs/checks.md equals the registry's rendering; every formula and
prediction ID has its anchor in docs/theory; every catalog formula's LaTeX parses; the examples run."""
import re
import runpy
import sys
from pathlib import Path

import pytest

from checks import docs as checks_docs
from checks.frame.predictions import PREDICTIONS

ROOT = Path(__file__).resolve().parent.parent
THEORY = ROOT / "docs" / "theory"


def test_checks_md_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == checks_docs.generate(), "docs/checks.md is stale: run `python -m checks.docs`"


def _anchors() -> dict:
    return {p.name: set(re.findall(r'<a id="([^"]+)"></a>', p.read_text(encoding="utf-8")))
            for p in THEORY.glob("*.md")}


def test_every_id_has_its_anchor_in_the_theory_digest():
    from checks.runner import api
    from theory.catalog import all_formulas

    from checks.frame.predictions import DECLARED

    ids = set(PREDICTIONS) | {pid for c in api.discover() for pid in c.ids() if pid not in DECLARED}
    ids |= set(all_formulas())       # IDs a check declares outside the specification have no digest anchor
    cited = set()
    for path in (ROOT / "checks").rglob("*.py"):  # formula IDs the checks' rationales cite
        cited |= set(re.findall(r"\bF[123]\.\d+[a-z]?(?:-[a-zA-Z0-9]+)*", path.read_text(encoding="utf-8")))
    anchors = _anchors()
    missing = []
    for pid in sorted(ids | cited):
        page, anchor = checks_docs.theory_link(pid, "").split("#")
        if anchor not in anchors.get(page, set()):
            missing.append(f"{pid} → {page}#{anchor}")
    assert not missing, missing


def test_theory_pages_link_to_existing_anchors():
    anchors = _anchors()
    for page in THEORY.glob("*.md"):
        for target, anchor in re.findall(r"\]\(([\w.-]*\.md)?#([\w-]+)\)", page.read_text(encoding="utf-8")):
            assert anchor in anchors[target or page.name], f"{page.name}: broken link {target}#{anchor}"


GREEK = ("alpha beta gamma delta epsilon eta theta kappa lambda mu nu xi pi rho sigma tau phi chi psi omega nabla "
         "partial Delta Sigma Gamma Lambda Phi Psi Omega").split()
KNOWN = set(GREEK) | set("""frac left right sqrt operatorname mathrm mathbb dot log ln exp cos sin tan atan sum
binom max min dim begin end matrix cdot infty""".split())


def _latex_problems(fid: str, latex: str) -> list[str]:
    from matplotlib.mathtext import MathTextParser

    out = []
    if latex.count("{") != latex.count("}"):
        out.append("unbalanced braces")
    if len(re.findall(r"\\left\b", latex)) != len(re.findall(r"\\right\b", latex)):
        out.append("unpaired \\left/\\right")
    body = latex.replace("\\\\", " ")  # matrix row separators
    unknown = set(re.findall(r"\\([A-Za-z]+)", body)) - KNOWN
    if unknown:
        out.append(f"unknown commands {sorted(unknown)}")
    plain = re.sub(r"\\(mathrm|operatorname)\{[^}]*\}", "", body)
    words = re.findall(r"(?<![\\A-Za-z])[A-Za-z]+", plain)  # letter runs that are not commands
    bare = [w for w in words if any(w == g or (len(g) > 2 and w.startswith(g)) for g in GREEK)]
    if bare:
        out.append(f"Greek names without a backslash {bare}")
    parts = [body]
    m = re.search(r"\\begin\{matrix\}(.*)\\end\{matrix\}", latex)
    if m:  # mathtext has no matrix environment: parse each entry and the rest on its own
        parts = [latex[:m.start()] + "M" + latex[m.end():]] + re.split(r"\\\\|&", m.group(1))
    for part in parts:
        try:
            MathTextParser("path").parse(f"${part}$")
        except ValueError as exc:
            out.append(f"mathtext cannot parse {part[:60]!r}: {str(exc).splitlines()[-1]}")
    return out


def test_every_catalog_formula_prints_valid_latex():
    from theory.catalog import all_formulas

    problems = {fid: p for fid, f in all_formulas().items() if (p := _latex_problems(fid, f.latex()))}
    assert not problems, problems


def test_latex_checker_rejects_the_old_output():
    assert _latex_problems("F3.2", r"DeltaDelta_{j} = \eta^{2} \left(g_{a2} - g_{w2}\right)")
    assert _latex_problems("F1.1", r"nabla_{theta L} = 0")
    assert _latex_problems("x", r"\foo x")


def test_theory_cli_and_text_forms(capsys):
    from theory.__main__ import main
    from theory.catalog import all_formulas

    assert main(["--latex", "F3.2", "F1.1"]) == 0
    printed = capsys.readouterr().out
    assert r"\Delta_j(\theta_{i+1}) - \Delta_j(\theta_i)" in printed and r"\frac{\partial L}{\partial w_j}" in printed
    assert all_formulas()["F3.2"].text() == "ΔΔ_j = η²⋅(g_a² − ‖g_w‖²)"
    for fid, f in all_formulas().items():
        assert "**" not in f.text() and "\n" not in f.text(), (fid, f.text())


def test_formula_helpers_reject_bad_arguments():
    from theory import TheoryError
    from theory.formula import lambdify, latex_name, to_latex

    with pytest.raises(TheoryError, match="backend"):
        lambdify((), 1, backend="jax")
    with pytest.raises(TheoryError, match="expr"):
        to_latex(object())
    with pytest.raises(TheoryError, match="name"):
        latex_name("")


@pytest.mark.parametrize("script, argv", [
    ("custom_sweep.py", ["--lams", "1e-2", "1", "--seeds", "1", "--m", "50", "--horizon", "200"]),
    ("own_data.py", ["--check", "racing.fixed_gating"]),
])
def test_example_runs(script, argv, tmp_path, monkeypatch, capsys):
    if script == "own_data.py":
        argv = argv + ["--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", [script, *argv])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    if script == "custom_sweep.py":
        assert "stuck at the least-squares loss" in out and "interpolates" in out, out
    else:
        assert "racing.fixed_gating · PIN-2" in out and ": ERROR" not in out, out


def test_theory_latex_prints_every_formula_in_general_form_with_delimiters(capsys):
    """`python -m theory --latex`: one $…$ line per formula, its general form (no worked-instance indices such as
    U_{11} or x_{1,2}, no matrices of a 2-D instance), and matplotlib's mathtext renders each one."""
    from matplotlib.mathtext import MathTextParser

    from theory.__main__ import main
    from theory.catalog import all_formulas

    assert main(["--latex"]) == 0
    lines = [ln.strip() for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("$")]
    assert len(lines) == len(all_formulas())
    parser = MathTextParser("path")
    for ln in lines:
        assert ln.endswith("$") and ln.count("$") == 2, ln
        assert not re.search(r"_\{[1-9]\d*(,\d+)?\}|\\begin\{matrix\}|\\Delta\\Delta", ln), ln
        parser.parse(ln)                                          # raises ValueError on what mathtext cannot set
    text = "\n".join(lines)
    assert "$S = U^{T} U - V^{T} V$" in lines
    assert r"\Delta_j = a_j^{2} - \Vert w_j \Vert^{2}" in text                # j on both sides (F3.1)
