"""docs/adding-a-check.md is true: its example file, saved in a scratch copy of the repository and followed by the
recipe's commands to the letter, runs and passes, and nothing but that file and the generated docs/checks.md
changed. An undeclared prediction ID or paper key is one error naming where to declare it."""
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checks import CheckError
from checks.frame.core import Check, register
from checks.frame.design import Design

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "adding-a-check.md").read_text(encoding="utf-8")
SKIP = {".git", "__pycache__", ".pytest_cache", ".hypothesis", "results", ".venv"}


def _block(marker: str) -> str:
    m = re.search(re.escape(marker) + r"\s*\n```\w*\n(.*?)\n```", DOC, re.S)
    assert m, f"docs/adding-a-check.md has no code block after {marker!r}"
    return m.group(1) + "\n"


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and not SKIP & set(p.relative_to(root).parts)}


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    return [f for f in out if f and (ROOT / f).is_file()]


def test_the_docs_example_is_one_file_and_the_recipe_runs_as_written(tmp_path):
    """Copy the repository's files, save the doc's example, run each recipe command: all succeed, and the only
    changes are the new file and docs/checks.md."""
    path = re.search(r"<!-- example: (\S+) -->", DOC).group(1)
    repo = tmp_path / "repo"
    for f in _tracked_files():
        (repo / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, repo / f)
    before = _snapshot(repo)
    (repo / path).parent.mkdir(parents=True, exist_ok=True)        # a new prefix: a new folder, no __init__.py
    (repo / path).write_text(_block(f"<!-- example: {path} -->"), encoding="utf-8")
    commands = [line.split("#")[0].strip() for line in _block("<!-- recipe -->").splitlines()]
    commands = [c for c in commands if c]
    assert commands and all(c.startswith("python -m ") for c in commands), commands
    for command in commands:
        argv = [sys.executable, *command.split()[1:]]
        done = subprocess.run(argv, cwd=repo, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    after = _snapshot(repo)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert changed == sorted([path, "docs/checks.md"]), changed
    text = (repo / "docs" / "checks.md").read_text(encoding="utf-8")
    assert "## mine.drift_order" in text and "MY-1 (declared by the check)" in text
    report = next((repo / "results" / "mine").glob("report.md")).read_text(encoding="utf-8")
    assert "My paper on drift" in report and "theory/index.md#my-1" not in report   # cited, no dead link


def _declare(**attrs):
    return register(type("Tmp", (Check,), dict(dict(name=f"tmp.{id(attrs)}", claim="c", provenance="[R]",
                                                    design=Design), **attrs)))


def test_an_undeclared_id_or_paper_is_one_error_naming_where_to_declare_it():
    with pytest.raises(CheckError, match=r"prediction ID 'ZZ-9' .*checks/frame/predictions.py.*new_predictions = "):
        _declare(paper="ABIDE", prediction_id="ZZ-9")
    with pytest.raises(CheckError, match=r"paper 'Nobody2030' .*checks/frame/predictions.py REFERENCES.*reference = "):
        _declare(paper="Nobody2030", prediction_id="MPG-P3")
    with pytest.raises(CheckError, match="already an ID of the specification"):
        _declare(paper="ABIDE", prediction_id="MPG-P3", new_predictions={"MPG-P3": "again"})
    with pytest.raises(CheckError, match=r"reference must be \(authors, year, title, arXiv id, venue\)"):
        _declare(paper="Nobody2030", prediction_id="MPG-P3", reference=("only a title",))
