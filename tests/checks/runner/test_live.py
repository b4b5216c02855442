"""Live progress inside long checks: a sweep reports its points (done, total) to the live view, which shows them
with their rate and ETA above the steps of the run in progress; the next run's ETA comes from the previous run's
wall time per check (figures and records included)."""
import json

import pytest

from checks.runner import live
from numerics import progress
from numerics.sweep import run_sweep


def _point(x: int) -> dict:
    progress.notify("train", 5, 10)          # a point's own training reports its steps in between
    return {"y": x * x}


def test_a_sweep_reports_its_points(tmp_path):
    seen = []
    with progress.listen(lambda desc, done, total: seen.append((desc, done, total))):
        run_sweep(_point, [{"x": i} for i in range(3)], cache=tmp_path, desc="my sweep", progress=False)
    points = [s for s in seen if s[0] == "my sweep (points)"]
    assert points == [("my sweep (points)", k, 3) for k in range(4)]
    seen.clear()
    with progress.listen(lambda desc, done, total: seen.append((desc, done, total))):   # cached: all done at once
        run_sweep(_point, [{"x": i} for i in range(3)], cache=tmp_path, desc="my sweep", progress=False)
    assert seen == [("my sweep (points)", 3, 3)]


def test_the_view_shows_points_rate_and_eta_beside_the_steps():
    with live.Live(["threshold.sweep"], mode="off") as view:
        view.begin(1, "threshold.sweep")
        view.update("threshold sweep (points)", 0, 40)
        t0 = view.outer[3]
        view.update("threshold sweep (points)", 10, 40)
        view.update("train", 300, 1000)
        now = t0 + 20                                  # 10 points in 20 s: 0.5/s, 30 to go
        assert view.check_eta(now) == pytest.approx(60)
        lines = view.lines(now)
        assert len(lines) == 4 and "threshold sweep (points)" in lines[1] and "10/40" in lines[1]
        assert "0.5/s" in lines[1] and "ETA 1 min 00 s" in lines[1]
        assert "train" in lines[2] and "300/1000 steps" in lines[2] and lines[3].startswith("run:")
        assert "steps" not in lines[1]


def test_cached_points_do_not_inflate_the_rate():
    with live.Live(["x"], mode="off") as view:
        view.begin(1, "x")
        view.update("s (points)", 30, 40)               # 30 came from the cache, instantly
        t0 = view.outer[3]
        view.update("s (points)", 32, 40)
        assert view.check_eta(t0 + 10) == pytest.approx(40)   # 2 points in 10 s, 8 to go


def test_eta_uses_the_previous_runs_wall_time_per_check(tmp_path):
    run = tmp_path / "r"
    (run / "records").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"tier": "quick", "check_seconds": {"a.b": 12.5}}))
    (run / "records" / "a.b.X-1.json").write_text(json.dumps({"tier": "quick", "check": "a.b", "seconds": 9.0,
                                                              "status": "PASS"}))
    (run / "records" / "c.d.X-2.json").write_text(json.dumps({"tier": "quick", "check": "c.d", "seconds": 3.0,
                                                              "status": "PASS"}))
    assert live.recorded_seconds([run], "quick") == {"a.b": 12.5, "c.d": 3.0}
    assert live.recorded_seconds([run], "standard") == {}


def test_numerics_bar_is_off_in_every_mode_and_restored(monkeypatch):
    """Off a terminal (plain, off) numerics' tqdm bar is switched off as under the rich view, and restored after."""
    import io
    import os

    monkeypatch.setenv("NUMERICS_PROGRESS", "1")
    for mode in ("plain", "off"):
        with live.Live(["a"], mode=mode, stream=io.StringIO()):
            assert os.environ["NUMERICS_PROGRESS"] == "0"
        assert os.environ["NUMERICS_PROGRESS"] == "1"
    monkeypatch.delenv("NUMERICS_PROGRESS")
    with live.Live(["a"], mode="plain", stream=io.StringIO()):
        assert os.environ["NUMERICS_PROGRESS"] == "0"
    assert "NUMERICS_PROGRESS" not in os.environ
