"""Everything a run writes under its run folder, atomically and with relative paths only.

    records/<check>.<ID>.json   one frozen Verdict per (check, prediction ID), written as soon as the check ends
                                (schema: checks/verdict.schema.json)
    results.csv                 one row per criterion (pandas: pd.read_csv(out / "results.csv"))
    summary.json                tier, seconds, versions, commit, the checks reused by --resume, every verdict
    report.md, report.html      coverage by prediction ID, then one section per verdict (HTML embeds its figures)
    figures/<check><suffix>.png
    theory/<page>.md            copies of the theory digest pages (docs/theory) the report links to

Run folders: without --out, each run gets a fresh `results/<YYYYmmdd-HHMMSS>-<tier>/` (`…-<tier>-2` when that
second is taken) and `results/latest` points at it (a symlink; a text file naming the folder where the platform
has none). An explicit --out folder is written exactly there. A new run first removes what an earlier run left in
its folder (records, figures, report, CSV, summary), so the folder describes one run; `--resume` keeps the
records it can reuse (see `checks.runner.resume`). Files are written to a temporary name and renamed, so a kill
leaves no partial record; temporary files a kill -9 left are removed by the next run.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from checks.frame.errors import CheckError
from checks.outputs.io import write_json, write_text
from checks.outputs.report import DIGEST
from checks.frame.verdict import Verdict, commit, versions

__all__ = ["RunFolder", "prepare", "clean", "write_records", "write_all", "record_name", "results_csv"]

_STAMP = re.compile(r"^\d{8}-\d{6}-(?P<tier>[a-z]+)(-\d+)?$")
_OWN_FILES = ("results.csv", "summary.json", "report.md", "report.html")
MARKER = ".checks-run"   # written into every folder a run writes to: later runs may clean it


@dataclass(frozen=True)
class RunFolder:
    """A fresh run folder under `base`: `base/<YYYYmmdd-HHMMSS>-<tier>/`, with `base/latest` pointing at it.

    Arguments:
        base: the parent folder (created if missing), e.g. "results".
    """

    base: str = "results"

    def create(self, tier: str, flag: str = "--out") -> Path:
        """Make a new, unique run folder for `tier` and point `latest` at it.

        Arguments:
            tier: the run's tier (the folder name's suffix).  flag: the option named in errors.
        """
        base = prepare(self.base, flag)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for k in range(1, 10_000):
            folder = base / (f"{stamp}-{tier}" if k == 1 else f"{stamp}-{tier}-{k}")
            try:
                folder.mkdir()          # atomic: two runs starting in the same second get different folders
            except FileExistsError:
                continue
            except OSError as exc:
                raise CheckError(f"{flag}: run folder {str(folder)!r} cannot be created ({exc.strerror}); "
                                 "pass a writable folder with --out DIR") from None
            (folder / MARKER).touch()
            _point_latest(base, folder)
            return folder
        raise CheckError(f"{flag}: too many run folders for {stamp} under {str(base)!r}")

    def latest(self, tier: str | None = None) -> Path | None:
        """The run folder `latest` points at, or None.

        Arguments:
            tier: if given, None unless that folder is a run of this tier.
        """
        base, link = Path(self.base), Path(self.base) / "latest"
        try:
            name = os.readlink(link) if link.is_symlink() else link.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        folder = base / Path(name).name
        m = _STAMP.match(folder.name)
        if not folder.is_dir() or (tier is not None and (m is None or m["tier"] != tier)):
            return None
        return folder

    def runs(self, tier: str) -> list[Path]:
        """The run folders of `tier` under `base`, newest first.

        Arguments:
            tier: the tier whose run folders to list.
        """
        base = Path(self.base)
        found = [p for p in base.glob(f"*-{tier}*") if p.is_dir() and (m := _STAMP.match(p.name)) and m["tier"] == tier]
        return sorted(found, key=lambda p: p.name, reverse=True)


def _point_latest(base: Path, folder: Path) -> None:
    link = base / "latest"
    if link.is_dir() and not link.is_symlink():
        return                                  # a real folder named latest: leave the user's folder alone
    tmp = base / f".latest.{os.getpid()}.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(folder.name, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except (OSError, NotImplementedError):      # no symlinks here (Windows without the privilege): a text file
        if tmp.is_symlink():
            tmp.unlink()
        if link.is_symlink():
            link.unlink()
        write_text(link, folder.name + "\n")


def prepare(out, flag: str = "--out") -> Path:
    """Create the output folder and make sure it is writable (raised before any training).

    Arguments:
        out: the folder.  flag: the option named in the error (--out; out= from Python reads the same).
    Returns:
        the folder as a Path.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CheckError(f"{flag} {str(out)!r} is a file; pass a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CheckError(f"{flag} {str(out)!r} cannot be written ({exc.strerror or exc}); pass a writable folder"
                         ) from None
    return out


def writable_run_folder(out, flag: str = "--out") -> Path:
    """`prepare(out)` for a folder given by the user, refusing one a run would clean but that is not a run folder.

    A run rewrites its folder (records/*.json, figures/*.png, theory/*.md, report, CSV, summary), so it writes only
    into a new or empty folder, or one an earlier run wrote (its marker file, or the summary.json / records/ of a run
    from before the marker): a user's folder with figures/ or notes of its own is refused, before any training, and
    nothing in it is touched.

    Arguments:
        out: the folder.  flag: the option named in the error.
    Returns:
        the folder as a Path, with the marker written.
    """
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        ours = (out / MARKER).is_file() or (out / "summary.json").is_file() or (
            (out / "records").is_dir() and all(f.suffix == ".json" or f.name.startswith(".")
                                               for f in (out / "records").iterdir()))
        if not ours:
            raise CheckError(f"{flag} {str(out)!r} is a non-empty folder that no run wrote; a run rewrites records/, "
                             "figures/ and the report in its folder, so pass a new or empty folder (or an earlier "
                             "run's folder)")
    out = prepare(out, flag)
    (out / MARKER).touch()
    return out


def clean(out: Path, keep_records: bool = False) -> None:
    """Remove what an earlier run left in `out`: temporary files, report, CSV, summary and the report's theory/
    copies always; records and figures unless `keep_records` (--resume: records are reused or replaced, the rest
    is rewritten at the end)."""
    out = Path(out)
    for sub, pattern in (("records", ".*.tmp"), ("figures", ".*.png"), (".", ".*.tmp"), (DIGEST, ".*.tmp"),
                         (".", ".write-test.*")):                 # prepare()'s probe, if a kill struck in between
        for tmp in (out / sub).glob(pattern):
            tmp.unlink(missing_ok=True)
    for name in _OWN_FILES:
        (out / name).unlink(missing_ok=True)
    for old in (out / DIGEST).glob("*.md"):     # the report's digest copies: rewritten with the report
        old.unlink(missing_ok=True)
    if not keep_records:
        for old in [*(out / "records").glob("*.json"), *(out / "figures").glob("*.png")]:
            old.unlink(missing_ok=True)


def record_name(v: Verdict) -> str:
    """`<check>.<ID>.json`, the record file of verdict `v`."""
    return f"{v.check}.{v.prediction_id}.json"


def write_records(verdicts, out: Path) -> None:
    """Write the records of one finished check (atomically each), so that a kill keeps finished work."""
    for v in verdicts:
        write_json(Path(out) / "records" / record_name(v), v.to_dict())


def results_csv(verdicts) -> str:
    """results.csv as text: one row per criterion of `verdicts`."""
    rows = [r for v in verdicts for r in v.rows()]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["check"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_all(verdicts: list[Verdict], out: Path, tier: str, seconds: float, resumed=(), wall=None) -> dict:
    """Write records, results.csv, summary.json, the report and its theory/ copies; remove stale records, figures
    and digest copies.

    Arguments:
        verdicts: every verdict of the run (reused ones included).  out: the run folder.  tier: the tier.
        seconds: wall time of this invocation.  resumed: names of the checks whose records --resume reused.
        wall: check name → its wall time in this invocation, figures and records included (the next run's ETA).
    Returns:
        the summary dict (as written to summary.json).
    """
    from checks.outputs.report import write_report

    out = Path(out)
    keep = set()
    for v in verdicts:
        keep.add(write_json(out / "records" / record_name(v), v.to_dict()).name)
    for old in (out / "records").glob("*.json"):
        if old.name not in keep:
            old.unlink()
    figs = {Path(f).name for v in verdicts for f in v.figures}
    for old in (out / "figures").glob("*.png"):
        if old.name not in figs:
            old.unlink()
    write_text(out / "results.csv", results_csv(verdicts))
    summary = dict(tier=tier, seconds=seconds, versions=versions(), commit=commit(), resumed=sorted(set(resumed)),
                   counts={s: sum(v.status == s for v in verdicts) for s in ("PASS", "FAIL", "INCONCLUSIVE", "ERROR")},
                   verdicts=[v.to_dict() for v in verdicts], check_seconds=dict(wall or {}))
    write_json(out / "summary.json", summary)
    write_report(verdicts, out, tier, seconds)
    return summary
