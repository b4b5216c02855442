"""Sweep runner: cached rows by config hash, resumable after an interruption, parallel, and on Dask."""
import json

import pytest

from numerics import sweep
from numerics.validate import InputError

CALLS = []


def square(x: int, fail_on: int = -1) -> dict:
    """A point function: module-level (picklable) and deterministic."""
    if x == fail_on:
        raise KeyboardInterrupt  # the run is killed at this point
    CALLS.append(x)
    return {"x2": x * x}


def test_rows_follow_configs_and_cache(tmp_path):
    configs = [{"x": i} for i in (3, 1, 2)]
    rows = sweep.run_sweep(square, configs, cache=tmp_path, progress=False)
    assert [r["result"]["x2"] for r in rows] == [9, 1, 4] and not any(r["cached"] for r in rows)
    CALLS.clear()
    again = sweep.run_sweep(square, configs, cache=tmp_path, progress=False)
    assert CALLS == [] and all(r["cached"] for r in again)
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 3 and all(json.loads(f.read_text())["config"]["x"] in (1, 2, 3) for f in files)
    assert not list(tmp_path.glob(".*tmp*"))


def test_resumes_after_interruption_without_recomputing(tmp_path):
    configs = [{"x": i, "fail_on": -1} for i in range(4)]
    killed = [{"x": i, "fail_on": 2} for i in range(4)]
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(square, [dict(c, fail_on=-1) for c in configs[:2]] + killed[2:], cache=tmp_path, progress=False)
    CALLS.clear()
    rows = sweep.run_sweep(square, configs, cache=tmp_path, progress=False)
    assert CALLS == [2, 3]  # points 0 and 1 came from the cache
    assert [r["cached"] for r in rows] == [True, True, False, False]


def test_parallel_processes_match_serial(tmp_path):
    configs = [{"x": i} for i in range(6)]
    par = sweep.run_sweep(square, configs, cache=tmp_path / "p", workers=2, progress=False)
    ser = sweep.run_sweep(square, configs, workers=1, progress=False)
    assert [r["result"] for r in par] == [r["result"] for r in ser]


def test_bad_configs_and_workers_are_named():
    with pytest.raises(InputError, match="JSON"):
        sweep.run_sweep(square, [{"x": float("nan")}])
    with pytest.raises(InputError, match="workers"):
        sweep.run_sweep(square, [{"x": 1}], workers=0)


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        rows = sweep.run_sweep(square, [{"x": i} for i in range(5)], cache=tmp_path, scheduler=client,
                               progress=False)
    assert [r["result"]["x2"] for r in rows] == [0, 1, 4, 9, 16]
    assert len(list(tmp_path.glob("*.json"))) == 5


def test_sweep_refuses_when_declared_memory_exceeds_available(monkeypatch, tmp_path):
    monkeypatch.setattr(sweep, "available_memory", lambda: 10 * 2 ** 20)  # a 10 MiB machine
    CALLS.clear()
    with pytest.raises(InputError, match="MemAvailable"):
        sweep.run_sweep(square, [{"x": i} for i in range(4)], workers=2, point_bytes=6 * 2 ** 20, progress=False)
    with pytest.raises(InputError, match="MemAvailable"):
        sweep.run_sweep(square, [{"x": 1}], point_bytes=lambda c: 2 ** 30, progress=False)
    assert CALLS == []  # refused before any point ran
    rows = sweep.run_sweep(square, [{"x": 3}], workers=2, point_bytes=6 * 2 ** 20, progress=False)  # 1 × 6 MiB fits
    assert rows[0]["result"] == {"x2": 9}
    with pytest.raises(InputError, match="point_bytes"):
        sweep.run_sweep(square, [{"x": 1}], point_bytes=float("nan"), progress=False)


def test_available_memory_reads_meminfo():
    avail = sweep.available_memory()
    assert avail is None or avail > 0
