"""Run a check on your own data.

    from checks import run
    verdict = run("racing.race", X, y, lam=1e-3, m=300, lr=0.05, steps=1500, out="my-results")

    python -m checks.run racing.race --data mydata.npz [--lam 1e-3 --m 300 --lr 0.05 --steps 1500 --out DIR]

X is (n, d), y is (n,) with real (e.g. ±1) targets; the .npz file holds arrays `X` and `y`. The verdict's JSON
record and figures are written under `out`. Checks that accept user data are listed in OWN_DATA_CHECKS.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from numerics.data import Dataset
from numerics.validate import InputError, positive

from .core import ERROR, FAIL, REGISTRY, Context, Verdict
from .discover import discover
from .io import write_json
from .table import format_table

OWN_DATA_CHECKS = ("racing.fixed_gating", "racing.race", "racing.merge_prune", "early_alignment.alignment")
CONFIG_KEYS = ("lam", "m", "lr", "steps")


def _validate_data(X, y) -> Dataset:
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise InputError("X and y must be numeric arrays: X of shape (n, d), y of shape (n,)") from None
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X must have shape (n, d) with n, d ≥ 1, got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(f"y must have shape (n,) = ({X.shape[0]},) to match X, got shape {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError("X and y must be finite: remove or impute NaN/inf entries")
    if X.shape[0] < 2:
        raise InputError(f"X needs at least 2 samples, got n = {X.shape[0]}")
    return Dataset("user", X, y, meta=dict(seed=0))


def run(check_name: str, X, y, *, out="results-own", tier: str = "quick", seed: int = 0, **config) -> Verdict:
    """Run `check_name` on (X, y) with the given training config (lam, m, lr, steps); returns its Verdict."""
    discover("full")  # register every check
    if check_name not in REGISTRY:
        raise InputError(f"check_name={check_name!r} is unknown; known checks: {', '.join(sorted(REGISTRY))}")
    if check_name not in OWN_DATA_CHECKS:
        raise InputError(f"check {check_name!r} runs on its paper's data only; checks that accept your data: "
                         f"{', '.join(OWN_DATA_CHECKS)}")
    unknown = set(config) - set(CONFIG_KEYS)
    if unknown:
        raise InputError(f"unknown config {sorted(unknown)}; use any of {CONFIG_KEYS}")
    cfg = dict(lam=1e-3, m=300, lr=0.05, steps=1500)
    cfg.update(config)
    cfg["lam"], cfg["lr"] = positive("lam (λ)", cfg["lam"]), positive("lr", cfg["lr"])
    for k in ("m", "steps"):
        if not isinstance(cfg[k], (int, np.integer)) or cfg[k] < 1:
            raise InputError(f"{k} must be an integer ≥ 1, got {cfg[k]!r}")
    ds = _validate_data(X, y)
    ctx = Context(tier=tier, out=Path(out), seed=int(seed))
    check = REGISTRY[check_name]().with_data(ds, **cfg)
    v = check.run(ctx)
    v.message = (f"run on user data: n={ds.n}, d={ds.X.shape[1]}, config {cfg}. " + v.message).strip()
    write_json(ctx.out / "records" / f"{check_name}.json", v.to_dict())
    return v


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m checks.run", description="Run one check on your own data (.npz with X, y).")
    p.add_argument("name", help=f"check name, one of {', '.join(OWN_DATA_CHECKS)}")
    p.add_argument("--data", required=True, type=Path, help=".npz file with arrays X (n, d) and y (n,)")
    p.add_argument("--out", default="results-own", type=Path, help="output folder (default results-own/)")
    p.add_argument("--seed", default=0, type=int)
    p.add_argument("--lam", type=float, default=1e-3, help="init scale λ (default 1e-3)")
    p.add_argument("--m", type=int, default=300, help="hidden neurons (default 300)")
    p.add_argument("--lr", type=float, default=0.05, help="GD step (default 0.05)")
    p.add_argument("--steps", type=int, default=1500, help="GD steps (default 1500)")
    args = p.parse_args(argv)
    try:
        if not args.data.is_file():
            raise InputError(f"--data {str(args.data)!r} is not a file; pass an .npz with arrays X and y")
        try:
            with np.load(args.data) as f:
                X, y = f["X"], f["y"]
        except KeyError as exc:
            raise InputError(f"--data {str(args.data)!r} lacks array {exc}; save it with np.savez(path, X=X, y=y)") from None
        except (ValueError, OSError) as exc:
            raise InputError(f"--data {str(args.data)!r} is not a readable .npz file: {exc}") from None
        v = run(args.name, X, y, out=args.out, seed=args.seed, lam=args.lam, m=args.m, lr=args.lr, steps=args.steps)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table([v]))
    return 1 if v.status in (FAIL, ERROR) else 0


if __name__ == "__main__":
    sys.exit(main())


class _CallableModule(type(sys)):
    """`import checks; checks.run(name, X, y)` calls run() even though `checks.run` is also this module."""

    def __call__(self, *args, **kwargs):
        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
