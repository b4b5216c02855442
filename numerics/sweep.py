"""Parallel, resumable sweeps: a grid of configs → one result row per config, cached on disk by config hash.

    rows = run_sweep(point_fn, configs, cache="results/cache/threshold", workers=2)

- `point_fn(**config) -> dict` must be a module-level function (it is pickled to worker processes) and
  deterministic given its config (seeds are part of the config).
- Each finished point is written atomically to `<cache>/<hash>.json` (temp file + rename), so a killed sweep
  resumes where it stopped and a rerun skips finished points.
- `point_bytes` (bytes, or a callable config → bytes) declares a point's peak memory: a local sweep refuses before
  starting when min(workers, points to run) × the largest of them exceeds MemAvailable of /proc/meminfo.
- `workers > 1` runs points in a local process pool (one torch thread each); `scheduler="tcp://host:port"` (or a
  `dask.distributed.Client`) sends them to a Dask cluster instead: the same code from a laptop to many machines.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable

from .memory import available_bytes as available_memory  # MemAvailable (None where unknown); tests patch this name
from .validate import InputError

CACHE_VERSION = 1  # bump when a point function's observables change meaning


def config_hash(fn: Callable, config: dict) -> str:
    """sha256 of the function's qualified name, the cache version and the canonical JSON of the config.

    Arguments:
        fn: the point function.  config: its keyword arguments (JSON-serialisable).

    Returns:
        the first 24 hex digits (the cache file name).
    """
    try:
        blob = json.dumps(config, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"config {config!r} must be JSON-serialisable with finite numbers: {exc}") from None
    key = f"{fn.__module__}.{fn.__qualname__}|v{CACHE_VERSION}|{blob}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _write_atomic(path: Path, obj) -> None:
    """The cache file of one point, written to a temporary file in its folder and renamed over it (a killed sweep
    leaves the old file or the new one). The run's records, reports and figures are written by
    `checks.outputs.run_folder`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(obj))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load(path: Path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None  # missing or unreadable: recompute


def _run_point(fn: Callable, config: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    return fn(**config)


def _check_memory(point_bytes, todo, workers: int) -> None:
    """InputError when the concurrent points' declared memory exceeds what the machine has available now."""
    if point_bytes is None or not todo:
        return
    sizes = [point_bytes(c) if callable(point_bytes) else point_bytes for _, c in todo]
    for b in sizes:
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not b >= 0 or b == float("inf"):
            raise InputError(f"point_bytes must give a finite number of bytes ≥ 0 per point, got {b!r}")
    need = min(workers, len(todo)) * max(sizes)
    avail = available_memory()
    if avail is not None and need > avail:
        raise InputError(f"{min(workers, len(todo))} concurrent point(s) × {max(sizes) / 2 ** 30:.3g} GiB = "
                         f"{need / 2 ** 30:.3g} GiB > {avail / 2 ** 30:.3g} GiB available (MemAvailable); lower "
                         "workers or the points' size before starting")


def run_sweep(fn: Callable, configs: Iterable[dict], cache=None, workers: int = 1, scheduler=None,
              progress: bool | None = None, desc: str = "sweep", point_bytes=None) -> list[dict]:
    """Run `fn(**config)` for every config, in parallel and cached; see the module docstring.

    Arguments:
        fn: module-level point function returning a dict.  configs: iterable of keyword dicts.
        cache: folder of the per-point JSON cache (None: no cache).  workers: local processes.
        scheduler: a Dask scheduler address or Client (overrides workers).  progress, desc: progress bar.
        point_bytes: peak bytes of one point, or a callable config → bytes (None: not checked); checked against
        MemAvailable for local runs before any point starts (InputError when too much).

    Returns:
        rows {"config": …, "result": …, "cached": bool} in the order of `configs`.
    """
    configs = [dict(c) for c in configs]
    if int(workers) < 1:
        raise InputError(f"workers must be ≥ 1, got {workers}")
    keys = [config_hash(fn, c) for c in configs]
    cache = Path(cache) if cache is not None else None
    results: dict[str, dict] = {}
    cached: set[str] = set()
    if cache is not None:
        for k in keys:
            row = _load(cache / f"{k}.json")
            if row is not None:
                results[k] = row["result"]
                cached.add(k)
    todo = [(k, c) for k, c in zip(keys, configs) if k not in results]
    todo = list({k: c for k, c in todo}.items())  # a repeated config runs once
    if scheduler is None:
        _check_memory(point_bytes, todo, int(workers))

    from tqdm.auto import tqdm

    from . import progress as _progress
    from .train import _default_progress

    finished = [len(keys) - len(todo)]
    label = f"{desc} (points)"     # the unit in the label: listeners tell a sweep's points from a run's steps
    _progress.notify(label, finished[0], len(keys))
    bar = tqdm(total=len(keys), initial=len(keys) - len(todo), desc=desc, leave=False, delay=1.0,
               disable=not (_default_progress() if progress is None else progress))

    def done(k, c, res):
        if not isinstance(res, dict):
            raise TypeError(f"{fn.__qualname__} must return a dict, got {type(res).__name__}")
        results[k] = res
        if cache is not None:
            _write_atomic(cache / f"{k}.json", {"config": c, "result": res})
        bar.update(1)
        finished[0] += 1
        _progress.notify(label, finished[0], len(keys))

    try:
        if scheduler is not None:
            _run_dask(fn, todo, scheduler, done)
        elif int(workers) == 1 or len(todo) <= 1:
            for k, c in todo:
                done(k, c, fn(**c))
        else:
            import multiprocessing as mp

            with ProcessPoolExecutor(max_workers=int(workers), mp_context=mp.get_context("spawn")) as pool:
                futs = {pool.submit(_run_point, fn, c): (k, c) for k, c in todo}
                for f in as_completed(futs):
                    done(*futs[f], f.result())
    finally:
        bar.close()
    return [{"config": c, "result": results[k], "cached": k in cached} for k, c in zip(keys, configs)]


def _run_dask(fn, todo, scheduler, done) -> None:
    """Submit the points to a Dask distributed scheduler (address string or Client)."""
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError:
        raise InputError("scheduler= needs dask.distributed: pip install 'dask[distributed]'") from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futs = {client.submit(_run_point, fn, c, pure=False): (k, c) for k, c in todo}
        for f in dask_completed(list(futs)):
            done(*futs[f], f.result())
    finally:
        if client is not scheduler:
            client.close()
