"""The README holds exactly two set-up commands, and .ci/run runs the test one verbatim."""
from pathlib import Path

from readme_commands import README, command

ROOT = Path(__file__).resolve().parent.parent


def test_two_commands_present():
    text = README.read_text()
    assert text.count("<!-- command: ") == 2
    assert command("main").endswith("python -m checks.all")
    assert command("test").endswith("pytest")
    for which in ("main", "test"):
        assert "pip install torch==2.13.0" in command(which)  # the on-disk CPU wheel, never a CUDA pull


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_commands.py test" in ci and 'bash -euo pipefail -c "$test_cmd"' in ci
    assert "checks.all --quick" in ci
