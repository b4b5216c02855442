"""Run one check on your own data.

    import checks
    v = checks.run("racing.race", X, y, m=300, lam=1e-3, out="my-results")

    python -m checks.run racing.race --data mydata.npz [--set m=300 lam=1e-3] [--quick] [--out DIR]

X is (n, d), y is (n,) with real (e.g. ±1) targets; the file is an .npz with arrays `X` and `y`, or a .csv whose
last column is y. Every design setting of the check can be overridden (`--set`, `--config`, keyword arguments).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import api
from .api import run
from .cli import add_common, fail, overrides_of
from .errors import CheckError
from .table import format_table

__all__ = ["load_data", "main", "run"]


def load_data(path) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from an .npz (arrays X, y) or a .csv (last column y, optional header); clear errors otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"--data {str(path)!r} is not a file; pass an .npz with arrays X and y, or a .csv")
    if path.stat().st_size == 0:
        raise CheckError(f"--data {str(path)!r} is empty; save it with np.savez(path, X=X, y=y)")
    if path.suffix.lower() == ".csv":
        try:
            arr = np.genfromtxt(path, delimiter=",", skip_header=0)
            if arr.ndim == 2 and np.isnan(arr[0]).all():
                arr = arr[1:]
        except ValueError as exc:
            raise CheckError(f"--data {str(path)!r} is not a numeric CSV: {exc}") from None
        if arr.ndim != 2 or arr.shape[1] < 2:
            raise CheckError(f"--data {str(path)!r}: a CSV needs ≥ 2 numeric columns (features…, y)")
        return arr[:, :-1], arr[:, -1]
    if path.suffix.lower() != ".npz":
        raise CheckError(f"--data {str(path)!r}: use an .npz file with arrays X and y (np.savez(path, X=X, y=y)) "
                         "or a .csv whose last column is y")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("X", "y") if k not in f.files]
            if missing:
                raise CheckError(f"--data {str(path)!r} lacks array {', '.join(missing)} (it has "
                                 f"{', '.join(f.files) or 'none'}); save it with np.savez(path, X=X, y=y)")
            return f["X"], f["y"]
    except (ValueError, OSError) as exc:
        raise CheckError(f"--data {str(path)!r} is not a readable .npz file ({exc}); "
                         "save it with np.savez(path, X=X, y=y)") from None


def main(argv=None) -> int:
    api._import_suites()
    own = sorted(n for n, c in api.REGISTRY.items() if c.design.accepts_data)
    p = argparse.ArgumentParser(prog="python -m checks.run", description="Run one check on your own data.")
    p.add_argument("name", help=f"check name, one of {', '.join(own)}")
    p.add_argument("--data", required=True, type=Path, help=".npz with arrays X (n, d) and y (n,), or a .csv")
    p.add_argument("--out", default="results-own", type=Path, help="output folder (default results-own/)")
    add_common(p)
    args = p.parse_args(argv)
    try:
        X, y = load_data(args.data)
        v = run(args.name, X, y, tier=args.tier, out=args.out, config=args.config, **overrides_of(args))
    except CheckError as exc:
        return fail(exc)
    vs = v if isinstance(v, list) else [v]
    print(format_table(vs))
    return 1 if any(x.status == "ERROR" for x in vs) else 0


if __name__ == "__main__":
    sys.exit(main())


class _CallableModule(type(sys)):
    """`import checks.run; checks.run(name, X, y)` still calls run() although `checks.run` is also this module."""

    def __call__(self, *args, **kwargs):
        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
