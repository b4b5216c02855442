"""Interrupted runs (#17 item 3): Ctrl-C and kill -9 leave no partial record, and --resume finishes the run.

Three tiny checks (`zz.a`, `zz.b`, `zz.c`, registered by a script in a subprocess; `zz.b`/`zz.c` wait while an
environment variable says so, reporting progress) stand in for real ones, so the test does not depend on how long
training takes: run 1 is stopped by SIGINT once zz.a's record exists, run 2 (--resume) by SIGKILL once zz.b's
exists, run 3 (--resume) finishes, reusing both.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = '''
import os, sys, time
from dataclasses import dataclass
from checks.runner import api
from checks.frame import core, criteria, design
from checks import all as checks_all
from numerics import progress


@dataclass(frozen=True)
class D(design.Design):
    level: float = 1.0


class Waits(core.Check):
    paper, provenance, claim, design = "GF", "[R]", "a stand-in claim", D

    def observe(self, d):
        if os.environ.get("WAIT") == self.name:           # wait until killed, reporting progress
            for k in range(600):
                progress.notify("waiting", k, 600)
                time.sleep(0.05)
        return {"x": d.level}

    def criteria(self, d, pred, obs):
        return [criteria.within("x", obs["x"], 1.0, 0.1, "stand-in")]


api._import_suites = lambda: None                         # only the stand-ins: a fast start
for name in ("a", "b", "c"):
    core.register(type(f"Z{name}", (Waits,), dict(name=f"zz.{name}", prediction_id=f"ZZ-{name}",
                                                  new_predictions={f"ZZ-{name}": "a stand-in prediction"})))
sys.exit(checks_all.main(sys.argv[1:]))
'''


def _default_sigint():
    """In the child before exec: SIGINT back to its default, so Python installs its Ctrl-C handler even when the test
    session was started as a background job (`cmd &` without job control ignores SIGINT, and a process keeps an
    inherited ignore — which made this test fail under a backgrounded CI script)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path, wait, *extra):
    script = tmp_path / "zz.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, WAIT=wait, PYTHONPATH=str(ROOT), NUMERICS_PROGRESS="0", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, str(script), "--quick", "--only", "zz.*", "--out", str(tmp_path / "run"),
                             *extra], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for(path: Path, proc, timeout=120.0):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)
    time.sleep(0.3)                              # now inside the waiting check


def _state(run: Path):
    records = {p.name: json.loads(p.read_text()) for p in (run / "records").glob("*.json")}   # all parse
    temps = [p.name for p in run.rglob(".*") if p.is_file() and p.name != ".checks-run"]   # the run-folder marker stays
    return records, temps


def test_sigint_then_sigkill_then_resume_finishes_with_the_reused_records(tmp_path):
    run = tmp_path / "run"
    rec = run / "records"
    proc = _start(tmp_path, "zz.b")
    _wait_for(rec / "zz.a.ZZ-a.json", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "--resume" in err, err
    records, temps = _state(run)
    assert set(records) == {"zz.a.ZZ-a.json"} and records["zz.a.ZZ-a.json"]["status"] == "PASS"
    assert temps == [] and not (run / "report.html").exists() and not (run / "summary.json").exists()
    first = (rec / "zz.a.ZZ-a.json").read_text()

    proc = _start(tmp_path, "zz.c", "--resume")
    _wait_for(rec / "zz.b.ZZ-b.json", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    records, _ = _state(run)
    assert set(records) == {"zz.a.ZZ-a.json", "zz.b.ZZ-b.json"}
    second = (rec / "zz.b.ZZ-b.json").read_text()

    proc = _start(tmp_path, "", "--resume")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "3 checks (2 reused by --resume)" in out and "3 verdicts: 3 PASS" in out
    records, temps = _state(run)
    assert set(records) == {"zz.a.ZZ-a.json", "zz.b.ZZ-b.json", "zz.c.ZZ-c.json"} and temps == []
    assert (rec / "zz.a.ZZ-a.json").read_text() == first and (rec / "zz.b.ZZ-b.json").read_text() == second
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed"] == ["zz.a", "zz.b"] and summary["counts"]["PASS"] == 3
    assert len(summary["verdicts"]) == 3 and "zz.c" in (run / "report.md").read_text()
