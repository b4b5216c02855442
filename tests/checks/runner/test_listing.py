"""Listings fit 100 columns (wrapped, aligned), --list-settings shows each setting's description and its value in
every tier, piping into `head` ends quietly, and the run's closing lines fit too."""
import subprocess
import sys
from pathlib import Path

import pytest

from checks import all as checks_all
from checks.frame.design import TIERS

ROOT = Path(__file__).resolve().parents[3]


def _lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("argv", [["--list"], ["--list", "--tier", "paper"], ["--list-settings"],
                                  ["--list-settings", "--tier", "paper", "--only", "threshold"]])
def test_every_listing_fits_100_columns(argv, capsys):
    assert checks_all.main(argv) == 0
    lines = _lines(capsys)
    assert lines and max(map(len, lines)) <= 100, max(lines, key=len)
    assert all(ln == ln.rstrip() for ln in lines)


def test_list_rows_are_aligned_and_wrap_long_id_lists(capsys):
    assert checks_all.main(["--list"]) == 0
    lines = _lines(capsys)
    col = lines[0].index("IDs")
    rows = [ln for ln in lines[1:] if ln and not ln.startswith(" ")]
    assert all(ln[col - 1] == " " and ln[col] != " " for ln in rows)          # every ID cell starts in its column
    assert any("BF-P14" in ln for ln in lines)


def test_list_settings_shows_description_and_every_tier(capsys):
    assert checks_all.main(["--list-settings", "--only", "racing.race", "--set", "lam=0.01"]) == 0
    lines = _lines(capsys)
    assert lines[1].split() == ["setting", "this", "run", *TIERS]
    lam = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["lam"])
    assert lines[lam].split() == ["lam", "0.01*", "0.001", "0.001", "0.001", "1e-08"]    # * = changed by --set
    assert "init scale" in lines[lam + 1]                                      # its description, under it
    m = next(ln for ln in lines if ln.split()[:1] == ["m"])
    assert m.split()[-1] == "1000" and m.split()[1] == "300"                   # the paper tier's own value


@pytest.mark.parametrize("argv", [["-m", "checks.all", "--list"], ["-m", "checks.all", "--list-settings"],
                                  ["-m", "theory", "--latex"]])
def test_piping_into_head_ends_quietly(argv):
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()                                                       # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141) and "Traceback" not in err and "BrokenPipe" not in err, err


def test_closing_lines_of_a_run_fit(tmp_path, capsys):
    assert checks_all.main(["--quick", "--only", "conservation.gd_step_exact", "--out", str(tmp_path / "r")]) == 0
    lines = _lines(capsys)
    tail = lines[lines.index(next(ln for ln in lines if ln.startswith("1 check in"))):]
    assert all(len(ln) <= 100 for ln in tail) and any(ln.startswith("report: ") for ln in tail), tail


def test_notes_and_problems_wrap_to_100_columns(capsys):
    from checks.runner import cli
    from checks.frame.verdict import Verdict

    v = dict(check="racing.race", prediction_id="PIN-7", paper="Pinson", claim="c", provenance="[R]")
    assert cli.finish([Verdict(status="INCONCLUSIVE", **v)], "quick") == 0  # a note: the file says PASS
    assert cli.finish([Verdict(status="ERROR", message="x " * 200, **v)], "quick") == 1
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert any(ln.startswith("note: ") for ln in lines) and any(ln.startswith("problem: ") for ln in lines)
    assert max(map(len, lines)) <= 100
