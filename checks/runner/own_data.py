"""Run one check on your own data.

    import checks
    v = checks.run("racing.race", X, y, m=300, lam=1e-3, out="results/my-data")

    python -m checks.run racing.race --data mydata.npz [--set m=300 lam=1e-3] [--quick] [--out DIR]
    python -m checks.run racing.race --data X.npy --labels y.npy
    python -m checks.run racing.race --data mydata.csv          # last column y, header row optional

X is (n, d), y is (n,) with real (e.g. ±1) targets: an .npz with arrays `X` and `y`, a pair of .npy files
(`--data X.npy --labels y.npy`), or a .csv whose last column is y. Anything else (an empty file, a lone .npy, a
missing array, a pickled or non-numeric array, a CSV with empty cells) stops with one CheckError naming the file
and the fix, as does a bad --out or --seed, before any training. Every design setting of the check can be
overridden (`--set`, `--config`, keyword arguments); one the check does not have is rejected. Without --out the
run goes to a fresh `results/own/<YYYYmmdd-HHMMSS>-<tier>/` (`results/own/latest` points at it).

Exit status, the rule of `python -m checks.all` (`checks.runner.cli.finish`): 0 when every verdict is PASS, INCONCLUSIVE
(the table prints what the run lacked and the fix) or a known finding listed in `checks/expected-status.toml`; 1 on
an ERROR or a FAIL that file does not list; 2 on bad arguments; 130 when interrupted.
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np

from checks.frame.errors import CheckError
from checks.outputs.table import format_table
from checks.runner import api
from checks.runner.api import run
from checks.runner.cli import EXIT_RULE, Parser, add_common, add_out, fail, finish, out_of, overrides_of

__all__ = ["load_data", "main", "parser"]

_SAVE = "save it with np.savez(path, X=X, y=y)"


def _numeric(arr, path: Path, what: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise CheckError(f"--data {str(path)!r}: {what} has dtype {arr.dtype}, not numbers; store X and y as "
                         "numeric arrays (e.g. X.astype(float))")
    return arr


def _finite(path: Path, X, y) -> tuple:
    """(X, y) unchanged, or a CheckError naming the file and the first NaN/inf entry."""
    from checks.runner.api import non_finite

    try:
        where = non_finite(np.asarray(X, float), np.asarray(y, float))
    except (TypeError, ValueError):
        return X, y                      # shapes are judged later, with their own message
    if where:
        raise CheckError(f"--data {str(path)!r}: {where} is not a finite number; remove or impute that sample")
    return X, y


def _load_npy(path: Path, flag: str) -> np.ndarray:
    try:
        return _numeric(np.load(path, allow_pickle=False), path, "the array")
    except ValueError as exc:
        why = "holds pickled objects" if "pickle" in str(exc) else f"is not a readable .npy file ({exc})"
        raise CheckError(f"{flag} {str(path)!r} {why}; save a numeric array with np.save(path, arr)") from None


def _load_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        arr = np.genfromtxt(path, delimiter=",", ndmin=2, encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckError(f"--data {str(path)!r} is not a numeric CSV ({exc}); write one row per sample, "
                         "features then y, comma-separated") from None
    if arr.size and np.isnan(arr[0]).all():
        arr = arr[1:]                                               # a header row
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise CheckError(f"--data {str(path)!r}: a CSV needs ≥ 1 row and ≥ 2 numeric columns (features…, y), "
                         f"got shape {arr.shape}")
    bad = np.argwhere(np.isnan(arr))
    if bad.size:
        r, c = bad[0]
        raise CheckError(f"--data {str(path)!r}: row {r + 1} column {c + 1} is empty or not a number; "
                         "fill or drop that sample (a header is allowed only as the first row)")
    return arr[:, :-1], arr[:, -1]


def load_data(path, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) from an .npz (arrays X, y), an .npy pair (`path` = X, `labels` = y) or a .csv (last column y).

    Arguments:
        path: the data file.  labels: the .npy file of y when `path` is an .npy file of X (else None).
    Returns:
        (X, y) as numeric arrays; anything else raises CheckError naming the file and the fix.
    """
    path = Path(path)
    for p, flag in ((path, "--data"), *(((Path(labels), "--labels"),) if labels is not None else ())):
        if not p.is_file():
            raise CheckError(f"{flag} {str(p)!r} is not a file; pass an .npz with arrays X and y, an .npy pair "
                             "(--data X.npy --labels y.npy) or a .csv whose last column is y")
        if p.stat().st_size == 0:
            raise CheckError(f"{flag} {str(p)!r} is empty; {_SAVE}")
    kind = path.suffix.lower()
    if labels is not None and kind != ".npy":
        raise CheckError(f"--labels goes with an .npy file of X; --data {str(path)!r} already holds y (drop --labels)")
    if kind == ".csv":
        return _load_csv(path)
    if kind == ".npy":
        if labels is None:
            raise CheckError(f"--data {str(path)!r} is one .npy array; pass y too with --labels y.npy, or {_SAVE}")
        return _finite(path, _load_npy(path, "--data"), _load_npy(Path(labels), "--labels"))
    if kind != ".npz":
        raise CheckError(f"--data {str(path)!r}: use an .npz file with arrays X and y ({_SAVE}), an .npy pair "
                         "(--data X.npy --labels y.npy) or a .csv whose last column is y")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("X", "y") if k not in f.files]
            if missing:
                raise CheckError(f"--data {str(path)!r} has no array {' or '.join(missing)} (it has "
                                 f"{', '.join(f.files) or 'no arrays'}); {_SAVE}")
            return _finite(path, _numeric(f["X"], path, "array X"), _numeric(f["y"], path, "array y"))
    except CheckError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        why = "holds pickled objects" if "pickle" in str(exc) else f"is not a readable .npz file ({exc})"
        raise CheckError(f"--data {str(path)!r} {why}; save numeric arrays with np.savez(path, X=X, y=y)") from None


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m checks.run` (its errors: one line on stderr, exit 2)."""
    api._import_suites()
    own = sorted(n for n, c in api.REGISTRY.items() if c.design.accepts_data)
    p = Parser(prog="python -m checks.run", description="Run one check on your own data.", epilog=EXIT_RULE)
    p.add_argument("name", help=f"check name, one of {', '.join(own)}")
    p.add_argument("--data", required=True, type=Path, help=".npz with arrays X (n, d) and y (n,), a .csv (last "
                   "column y, header optional), or an .npy of X with --labels")
    p.add_argument("--labels", type=Path, metavar="Y.npy", help="the .npy file of y when --data is an .npy of X")
    add_out(p, "results/own")
    add_common(p)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        out = out_of(args, "results/own")
        if args.out is not None:
            api.resolve_out(out, args.tier)          # --out checked before any work
        overrides = overrides_of(args)               # --seed, --device checked before the data are read
        X, y = load_data(args.data, args.labels)
        v = run(args.name, X, y, tier=args.tier, out=out, config=args.config, progress=None, **overrides)
    except CheckError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    vs = v if isinstance(v, list) else [v]
    print(format_table(vs, colour=sys.stdout.isatty()))
    return finish(vs, args.tier, notes=False)
