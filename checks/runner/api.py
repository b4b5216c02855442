"""The Python front door: select checks, build their designs from tier + config + overrides, run, write outputs.

    import checks
    verdicts = checks.run_all(tier="quick", only="conservation.*", out="results/mine")
    v = checks.run("racing.race", X, y, m=1000, lam=1e-4)     # own data, one check

Selection (`only`): exact check names, globs (`racing.*`), a suite prefix (`racing`), or prediction IDs
(`PIN-7`), comma-separated; a pattern matching nothing is an error listing close names.
Output (`out`): a folder is written exactly there; `RunFolder("results")` makes a fresh
`results/<stamp>-<tier>/` and points `results/latest` at it; None writes nothing (see `checks.outputs.run_folder`).
Settings: tier preset < config file (top-level keys, then the check's own table) < overrides (`--set` / keyword
arguments). A key that a selected check does not have is an error naming it.
"""
from __future__ import annotations

import difflib
import fnmatch
import importlib
import re
import time
from pathlib import Path

import numpy as np

from checks.frame.core import REGISTRY, Check
from checks.frame.design import TIERS
from checks.frame.errors import CheckError
from checks.outputs.run_folder import RunFolder
from checks.frame.verdict import Verdict

__all__ = ["discover", "load_config", "run", "run_all", "designs_for", "resolve_out", "execute", "RunFolder"]


def _import_suites() -> None:
    from checks import suites

    root = Path(suites.__file__).parent
    for path in sorted(root.rglob("*.py")):    # every module under suites/ (a prefix folder needs no __init__.py)
        parts = path.relative_to(root).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        importlib.import_module(".".join((suites.__name__, *parts)))   # importing a module registers its checks


def discover(tier: str | None = None, only: str | None = None) -> list[type[Check]]:
    """The registered check classes (of `tier`, if given), filtered by `only` (see module doc)."""
    _import_suites()
    if tier is not None and tier not in TIERS:
        raise CheckError(f"tier={tier!r} is not supported; use one of {', '.join(TIERS)}")
    names = sorted(REGISTRY)
    if only:
        picked: list[str] = []
        for pat in [p.strip() for p in str(only).split(",") if p.strip()]:
            hit = [n for n in names if n == pat or fnmatch.fnmatchcase(n, pat) or n.startswith(pat.rstrip(".") + ".")
                   or pat in REGISTRY[n].ids()]
            if not hit:
                ids = sorted({i for n in names for i in REGISTRY[n].ids()})
                close = difflib.get_close_matches(pat, names + ids, n=5, cutoff=0.5)
                raise CheckError(f"--only {pat!r} matches no check (exact name, glob, suite prefix or prediction ID); "
                                 + (f"close names: {', '.join(close)}; " if close else "")
                                 + "python -m checks.all --list shows them all")
            picked += [n for n in hit if n not in picked]
        names = sorted(picked)
    selected = [REGISTRY[n] for n in names]
    if tier is not None:
        skipped = [c for c in selected if tier not in c.tiers]
        selected = [c for c in selected if tier in c.tiers]
        if not selected and skipped:
            raise CheckError(f"no selected check runs in the {tier} tier: " + "; ".join(
                f"{c.name} runs in {', '.join(c.tiers)}" for c in skipped) + "; choose another --tier")
    return selected



def load_config(path) -> dict:
    """A TOML config: top-level `key = value` for every selected check, `[check.name]` tables for one check."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"--config {str(path)!r} is not a file; pass a TOML file such as my.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CheckError(f"--config {str(path)!r} is not valid TOML: {exc}") from None
    _import_suites()
    common, per = {}, {}

    def walk(prefix, table):
        for k, v in table.items():
            name = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                if name in REGISTRY:
                    per[name] = dict(v)
                else:
                    walk(name, v)
            elif prefix and prefix not in REGISTRY:
                raise CheckError(f"--config {str(path)!r}: table [{prefix}] is not a check; known checks: "
                                 f"{', '.join(sorted(REGISTRY))}")
            else:
                common[k] = v
    walk("", raw)
    return {"common": common, "checks": per}


def designs_for(classes, tier: str, overrides: dict | None = None, config: dict | None = None, dataset=None):
    """The design of each class: tier preset < config (common, then per check) < overrides."""
    overrides, config = dict(overrides or {}), config or {"common": {}, "checks": {}}
    for key in {**config.get("common", {}), **overrides}:
        lacking = [c.name for c in classes if key not in c.design.keys()]
        if lacking:
            valid = sorted({k for c in classes for k in c.design.keys()})
            raise CheckError(f"setting {key!r} is not a setting of {', '.join(lacking)}; "
                             f"valid settings of the selected checks: {', '.join(valid)}"
                             + ("" if len(classes) == 1 else " (narrow the selection with --only)"))
    out = []
    for cls in classes:
        values = {**config.get("common", {}), **config.get("checks", {}).get(cls.name, {}), **overrides}
        if dataset is not None:
            values["dataset"] = dataset
        try:
            out.append(cls.design.build(tier, **values))
        except CheckError as exc:      # name the user's check, not the design class behind it
            raise CheckError(f"{cls.name}: " + re.sub(rf" of (the )?{cls.design.__name__}\b", "", str(exc))) from None
    return out


def resolve_out(out, tier: str, resume: bool = False) -> Path | None:
    """The run folder: `out` itself (a path, written exactly there), a new one (a `RunFolder`), or the one
    `latest` points at (a `RunFolder` with `resume`); None writes nothing. Checked before any training.

    Arguments:
        out: None, a folder, or `checks.outputs.run_folder.RunFolder(base)`.
        tier: the run's tier.
        resume: continue a run.
    """
    from checks.outputs.run_folder import RunFolder, prepare, writable_run_folder

    if out is None:
        return None
    if isinstance(out, RunFolder):
        if not resume:
            return out.create(tier)
        folder = out.latest(tier)
        if folder is None:
            raise CheckError(f"--resume: {str(Path(out.base) / 'latest')!r} points at no {tier} run folder; pass "
                             "the folder of the run to continue with --out DIR (or the same --tier)")
        return prepare(folder)
    return writable_run_folder(out)


def timing_sources(out, tier: str) -> list[Path]:
    """Earlier run folders whose records give each check's time at `tier` (for the live view's ETA)."""
    from checks.outputs.run_folder import RunFolder

    if out is None:
        return []
    return out.runs(tier) if isinstance(out, RunFolder) else [Path(out)]


def execute(classes, designs, tier: str, out_path: Path | None, progress=None, resume: bool = False,
            recorded: dict | None = None) -> list[Verdict]:
    """Run each (class, design), writing each check's records as soon as it ends; then the summary and report.

    Arguments:
        classes, designs: from `discover` and `designs_for`.  tier: recorded in the verdicts.
        out_path: the run folder (from `resolve_out`), or None.
        progress: True/None (live view: rich on a terminal, else one line per check on stderr), False (silent),
            or a `checks.runner.live` mode string.
        resume: reuse the folder's matching records (`checks.runner.resume`) instead of rerunning those checks.
        recorded: check name → seconds at this tier from an earlier run (the view's ETA).
    Returns:
        list[Verdict], in check order.
    """
    from checks.runner import live
    from checks.outputs import run_folder as outputs
    from checks.runner.resume import reusable

    mode = progress if isinstance(progress, str) else (None if progress in (None, True) else "off")
    if out_path is not None:
        outputs.clean(out_path, keep_records=resume)
    verdicts, reused, wall, start = [], [], {}, time.perf_counter()
    with live.Live([c.name for c in classes], recorded, mode=mode) as view:
        for i, (cls, d) in enumerate(zip(classes, designs), 1):
            view.begin(i, cls.name)
            vs = reusable(cls, d, tier, out_path) if (resume and out_path is not None) else None
            if vs is not None:
                reused.append(cls.name)
                view.end(vs, 0.0, reused=True)
            else:
                t0 = time.perf_counter()
                vs = cls().run(d, tier, out_path)
                if out_path is not None:
                    outputs.write_records(vs, out_path)     # a kill from here on keeps this check's work
                wall[cls.name] = round(time.perf_counter() - t0, 3)     # figures and records included
                view.end(vs, wall[cls.name])
            verdicts += vs
    if out_path is not None:
        outputs.write_all(verdicts, out_path, tier, round(time.perf_counter() - start, 1), resumed=reused, wall=wall)
    return verdicts


def run_all(tier: str = "standard", only: str | None = None, out=None, overrides: dict | None = None,
            config=None, progress: bool | None = None, dataset=None, resume: bool = False) -> list[Verdict]:
    """Run the selected checks and return their verdicts (one per prediction ID); write outputs under `out`.

    Arguments:
        tier: quick, standard (default), full or paper.
        only: selection (names, globs, suite prefixes, prediction IDs; comma-separated).
        out: the folder for records, results.csv, summary.json, report.md/html and figures, written exactly there;
            `checks.outputs.run_folder.RunFolder("results")` for a fresh `results/<stamp>-<tier>/`
            (and `results/latest`);
            None: nothing written.
        overrides: settings that replace the tier's (seed=, device=, m=, …), applied to every selected check.
        config: a TOML path or an already loaded config dict (see `load_config`).
        progress: live view (default: rich on a terminal, else one plain line per check on stderr); False: silent.
        dataset: a user's numerics.Dataset (own-data checks only).
        resume: reuse the records of `out` that match this run (tier, seed, design, commit); run the rest.
    Returns:
        list[Verdict], in check order.
    """
    from checks.runner.live import recorded_seconds

    classes = discover(tier, only)
    if isinstance(config, (str, Path)):
        config = load_config(config)
    designs = designs_for(classes, tier, overrides, config, dataset)
    recorded = recorded_seconds(timing_sources(out, tier), tier)
    out_path = resolve_out(out, tier, resume)
    return execute(classes, designs, tier, out_path, progress, resume, recorded)


def run(check_name: str, X=None, y=None, *, tier: str = "standard", out=RunFolder("results/own"), config=None,
        progress: bool = False, **overrides) -> Verdict | list[Verdict]:
    """Run one check, on your own data (X (n, d), y (n,)) if given, with design overrides; returns its verdict.

    Arguments:
        check_name: a registered check (see `python -m checks.all --list`).
        X, y: your data (own-data checks only; both or neither).
        tier: the preset the overrides start from (default standard).
        out: output folder (record, figures, report), written exactly there; the default is a fresh
            `results/own/<stamp>-<tier>/` (and `results/own/latest`); None writes nothing.
        config: a TOML path or loaded config.
        progress: the live view (see `run_all`); off by default.
        **overrides: design settings (m=1000, lam=1e-4, seed=1, …); unknown keys raise CheckError.
    Returns:
        the Verdict (a list when the check judges several prediction IDs).
    """
    _import_suites()
    if check_name not in REGISTRY:
        close = difflib.get_close_matches(str(check_name), sorted(REGISTRY), n=5, cutoff=0.5)
        raise CheckError(f"check {check_name!r} is unknown; "
                         + (f"close names: {', '.join(close)}" if close
                            else f"known checks: {', '.join(sorted(REGISTRY))}"))
    cls = REGISTRY[check_name]
    dataset = None
    if X is not None or y is not None:
        if not cls.design.accepts_data:
            own = sorted(n for n, c in REGISTRY.items() if c.design.accepts_data)
            raise CheckError(f"check {check_name!r} runs on its paper's data only; checks that accept your data: "
                             f"{', '.join(own)}")
        dataset = user_dataset(X, y)
    vs = run_all(tier, check_name, out, overrides, config, progress=progress, dataset=dataset)
    return vs[0] if len(vs) == 1 else vs


def non_finite(X, y) -> str:
    """"" when X and y are finite, else where the first NaN/inf is ("X[7, 2] = nan (sample 7, feature 2, from 0)").

    Arguments:
        X: (n, d) float array.  y: (n,) float array.
    """
    for name, arr in (("X", X), ("y", y)):
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            idx = tuple(int(i) for i in bad[0])
            more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            return (f"{name}[{', '.join(map(str, idx))}] = {arr[idx]}{more} (sample {idx[0]}"
                    + (f", feature {idx[1]}" if len(idx) > 1 else "") + ", counted from 0)")
    return ""


def user_dataset(X, y):
    """Validate a user's (X, y) and wrap it as a numerics.Dataset named 'user'."""
    from numerics.data import Dataset

    if X is None or y is None:
        raise CheckError("pass both X (n, d) and y (n,), or neither")
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise CheckError("X and y must be numeric arrays: X of shape (n, d), y of shape (n,)") from None
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise CheckError(f"X must have shape (n, d) with n, d ≥ 1, got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise CheckError(f"y must have shape (n,) = ({X.shape[0]},) to match X, got shape {y.shape}")
    where = non_finite(X, y)
    if where:
        raise CheckError(f"{where}: X and y must be finite; remove or impute that sample")
    if X.shape[0] < 2:
        raise CheckError(f"X needs at least 2 samples, got n = {X.shape[0]}")
    return Dataset("user", X, y, meta=dict(seed=0))
