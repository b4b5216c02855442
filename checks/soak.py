"""The kill -9 soak of `--resume`: `python -m checks.soak [--kills 20] [--only SEL] [--tier quick] [--work DIR]`.

1. Runs `python -m checks.all --quick --out <work>/ref/run` once, uninterrupted: the reference.
2. Starts the same run into `<work>/soak/run` and kills it with SIGKILL (its whole process group, so the sweep's
   worker processes too) `--kills` times, resuming each time with `--resume`: at a random moment (startup, training,
   a figure, the report), inside a record write, inside a figure save and inside the report. The in-write kills use
   `checks.outputs.atomic`'s hook NUMERICS_PAUSE_WRITE, which holds the chosen write half-done (its temporary file
   half-written, the target untouched) until the kill. After each kill every record present must parse.
3. A last `--resume` finishes the run; it must exit as the reference did.
4. Compares the folders: the same files (figures byte for byte, so the same pictures); every record, summary.json
   and results.csv identical except the wall-clock `seconds` (statuses, criteria values — floats exactly —,
   alternatives, families, designs, commit); the reports identical once durations are masked, each covering every
   (check, prediction ID) once; no partial or temporary file left.

Prints one line, `soak: K/N kills survived (…), D differences from the uninterrupted run`, the differences after
it, and exits 0 only when all N kills were survived with no difference (1 otherwise, 2 on bad arguments). Both
runs use the same commit (this checkout), seed and settings; `--kill-seed` makes the kill plan reproducible.
Heavy: the reference is one full run (about a minute for the quick tier on a quiet core) and the soak costs about
four more; `--only` restricts both runs to a few checks.
"""
from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from checks.runner.cli import Parser
from checks.outputs.atomic import PAUSE_ENV
from checks.outputs.run_folder import MARKER

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("record", "figure", "report", "moment")          # a plan of N kills cycles through these, shuffled
REPORT_FILES = ("results.csv", "summary.json", "report.md", "report.html", "theory/*.md")
# wall time in the report: "6.4 s", "in 63 s", the date line
_DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b|\b\d{4}-\d\d-\d\d \d\d:\d\d UTC\b")


class Run:
    """One `python -m checks.all` invocation in its own session (process group), its stderr read by a thread."""

    def __init__(self, opts, cwd: Path, out: Path, resume: bool, pause: str | None = None):
        cmd = [sys.executable, "-m", "checks.all", "--tier", opts.tier, "--out", str(out)]
        cmd += (["--only", opts.only] if opts.only else []) + (["--seed", str(opts.seed)] if opts.seed is not None
                                                               else []) + (["--resume"] if resume else [])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   NUMERICS_PROGRESS="0")
        env.setdefault("OMP_NUM_THREADS", "1")
        env.pop(PAUSE_ENV, None)
        if pause:
            env[PAUSE_ENV] = pause
        self.lines: queue.Queue = queue.Queue()
        self.err: list[str] = []
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_pause(self, timeout: float) -> str | None:
        """The `pause: <target> <tmp>` line once the hook holds a write, or None when the run ended first."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                return None
            if line.startswith("pause: "):
                return line[len("pause: "):].strip()
        return None

    def kill(self) -> None:
        """SIGKILL the whole process group (the run and any worker process it started)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.finish()

    def finish(self, timeout: float | None = None) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(10)
        return rc


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _reference(out: Path) -> dict:
    """check → (record names, seconds, figure names) of the reference run."""
    info: dict = {}
    for p in sorted((out / "records").glob("*.json")):
        r = _load(p)
        names, secs, figs = info.get(r["check"], ((), 0.0, ()))
        info[r["check"]] = ((*names, p.name), max(secs, r.get("seconds", 0.0)), tuple(sorted({*figs, *r["figures"]})))
    return info


def _pending(ref: dict, out: Path) -> list[str]:
    """The checks whose records are not all present (and parsing) in `out`: those a resume runs again."""
    return [c for c, (names, _, _) in ref.items() if not all(_load(out / "records" / n) for n in names)]


def _plan(n: int, rng: random.Random) -> list[str]:
    kinds = [KINDS[i % len(KINDS)] for i in range(n)]
    rng.shuffle(kinds)
    return sorted(kinds, key=lambda k: k == "report")     # an early report kill would finish every check first


def _choose(kind: str, rng, ref: dict, todo: list[str], out: Path, startup: float, moments: int):
    """(kind, NUMERICS_PAUSE_WRITE spec or None, delay in s) of the next attempt. A write kill strikes one of the
    first writes of its kind (so it costs about one check); a moment falls in the startup or in this moment's share
    of the remaining work (`moments` = the moment kills left), so that the checks with figures are not all done
    before the figure kills come."""
    o = out.as_posix()
    if kind == "record":
        recs = sum(len(ref[c][0]) for c in todo)
        nth = rng.randint(1, min(3, recs)) if recs else rng.randint(1, sum(len(v[0]) for v in ref.values()))
        return kind, f"{o}/records/*.json@{nth}", 0.0
    figs = sum(len(ref[c][2]) for c in todo)
    if kind == "figure" and figs:
        return kind, f"{o}/figures/*.png@{rng.randint(1, min(3, figs))}", 0.0
    if kind == "report":
        return kind, f"{o}/{rng.choice(REPORT_FILES)}@1", 0.0
    return "moment", None, rng.uniform(0.0, startup + sum(ref[c][1] for c in todo) / max(1, moments))


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "seconds"}


def _files(folder: Path) -> set[str]:
    """Every file of a run folder but its marker (present in both folders, and not a partial file)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if (p.is_file() or p.is_symlink()) and p.name != MARKER}


def differences(ref: Path, run: Path) -> list[str]:
    """What differs between the uninterrupted run folder `ref` and the soaked `run` (empty: nothing)."""
    diffs = []
    a, b = _files(ref), _files(run)
    diffs += [f"partial or temporary file left: {f}" for f in sorted(b)
              if any(part.startswith(".") for part in f.split("/")) or f.endswith(".tmp")]
    diffs += [f"only in the uninterrupted run: {f}" for f in sorted(a - b)]
    diffs += [f"only in the soaked run: {f}" for f in sorted(b - a) if not f.split("/")[-1].startswith(".")]
    for f in sorted(a & b):
        x, y = ref / f, run / f
        if f.startswith("records/"):
            rx, ry = _load(x), _load(y)
            if ry is None:
                diffs.append(f"{f}: does not parse")
            elif _strip(rx) != _strip(ry):
                keys = sorted(k for k in {*rx, *ry} if k != "seconds" and rx.get(k) != ry.get(k))
                diffs.append(f"{f}: differs in {', '.join(keys)}")
        elif f == "summary.json":
            sx, sy = _load(x), _load(y)
            if sy is None:
                diffs.append(f"{f}: does not parse")
                continue
            for s in (sx, sy):
                s.pop("seconds", None), s.pop("resumed", None), s.pop("check_seconds", None)  # wall-clock only
                s["verdicts"] = [_strip(v) for v in s.get("verdicts", [])]
            if sx != sy:
                diffs.append(f"{f}: differs in {', '.join(sorted(k for k in {*sx, *sy} if sx.get(k) != sy.get(k)))}")
        elif f in ("report.md", "report.html"):
            tx, ty = (_DURATION.sub("N s", p.read_text(encoding="utf-8")) for p in (x, y))
            if tx != ty:
                diffs.append(f"{f}: differs beyond durations")
        elif x.read_bytes() != y.read_bytes():
            diffs.append(f"{f}: differs")
    if (run / "report.md").is_file():
        heads = re.findall(r"^### (\S+) · (\S+)$", (run / "report.md").read_text(encoding="utf-8"), re.MULTILINE)
        want = sorted((r["check"], r["prediction_id"]) for p in (run / "records").glob("*.json") if (r := _load(p)))
        if sorted(heads) != want:
            diffs.append(f"report.md: sections {len(heads)} ≠ records {len(want)} (each check must appear once)")
    return diffs


def soak(opts) -> tuple[int, list[str], list[str]]:
    """Run the soak; return (kills survived, what happened at each kill, differences)."""
    rng = random.Random(opts.kill_seed)
    work = Path(opts.work) if opts.work else Path(tempfile.mkdtemp(prefix="soak-"))
    for sub in ("ref", "soak"):
        shutil.rmtree(work / sub, ignore_errors=True)
        (work / sub).mkdir(parents=True)
    ref_out, out = work / "ref" / "run", work / "soak" / "run"
    t0 = time.monotonic()
    _say(f"soak: the uninterrupted run into {ref_out}")
    r = Run(opts, work / "ref", ref_out, resume=False)
    ref_rc = r.finish()
    t_ref = time.monotonic() - t0
    if ref_rc not in (0, 1):
        raise SystemExit(f"soak: the uninterrupted run exited {ref_rc}:\n{''.join(r.err[-20:])}")
    ref = _reference(ref_out)
    startup = max(1.0, t_ref - sum(v[1] for v in ref.values()))
    _say(f"soak: the uninterrupted run took {t_ref:.0f} s; now {opts.kills} kills of runs into {out}")
    plan, log, diffs, survived, attempts, run = _plan(opts.kills, rng), [], [], 0, 0, None
    try:
        while len(log) < opts.kills and attempts < 3 * opts.kills + 5:
            attempts += 1
            todo = _pending(ref, out) if out.exists() else list(ref)
            kind, pause, delay = _choose(plan[len(log)], rng, ref, todo, out, startup,
                                         plan[len(log):].count("moment"))
            run = Run(opts, work / "soak", out, resume=attempts > 1, pause=pause)
            if pause:
                held = run.wait_pause(opts.timeout)
                if held is None:                              # the run ended before that write: not a kill
                    rc = run.finish()
                    if rc not in (ref_rc,):
                        diffs.append(f"attempt {attempts} ({kind}) exited {rc}: {''.join(run.err[-5:]).strip()}")
                    continue
                target, tmp = held.split(" ", 1)
                if not Path(tmp).is_file():
                    diffs.append(f"kill {len(log) + 1}: the held write's temporary file {tmp} is missing")
                what = f"{kind} {Path(target).relative_to(out).as_posix()}"
            else:
                try:
                    rc = run.proc.wait(delay)
                    run.finish()
                    if rc != ref_rc:
                        diffs.append(f"attempt {attempts} (moment) exited {rc}: {''.join(run.err[-5:]).strip()}")
                    continue                                  # finished before the moment: not a kill
                except subprocess.TimeoutExpired:
                    what = f"moment {delay:.1f} s"
            run.kill()
            run = None
            bad = [p.name for p in (out / "records").glob("*.json") if _load(p) is None]
            log.append(f"{what}: " + (f"partial records {bad}" if bad else "ok"))
            survived += not bad
            _say(f"soak: kill {len(log)}/{opts.kills} ({log[-1]})")
            diffs += [f"kill {len(log)} ({what}): record {b} does not parse" for b in bad]
        run = Run(opts, work / "soak", out, resume=True)
        rc = run.finish()
        run = None
        if rc != ref_rc:
            diffs.append(f"the final --resume exited {rc}, the uninterrupted run {ref_rc}")
    finally:
        if run is not None:
            run.kill()
    diffs += differences(ref_out, out)
    cache = sorted(p.name for p in (work / "soak" / "results").rglob(".*.tmp"))   # the sweep cache, under its cwd
    if cache:
        _say(f"soak: note: {len(cache)} temporary files a kill left in the sweep cache (outside the run folder; "
             f"a later sweep rewrites the point): {', '.join(cache[:3])}")
    if not opts.keep and not opts.work:
        shutil.rmtree(work, ignore_errors=True)
    return survived, log, diffs


def main(argv=None) -> int:
    p = Parser(prog="python -m checks.soak", description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20, help="SIGKILLs to survive (default 20)")
    p.add_argument("--only", metavar="SEL", help="restrict both runs to these checks (as checks.all --only)")
    p.add_argument("--tier", default="quick", help="tier of both runs (default quick)")
    p.add_argument("--seed", type=int, help="--seed of both runs (default: the tier's)")
    p.add_argument("--kill-seed", type=int, default=0, help="seed of the kill plan (default 0)")
    p.add_argument("--work", metavar="DIR", help="folder for both runs (default: a temporary one, removed after)")
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    p.add_argument("--verbose", action="store_true", help="also print where each kill struck")
    p.add_argument("--timeout", type=float, default=1800.0, help="longest wait for one attempt's held write (s)")
    opts = p.parse_args(argv)
    if opts.kills < 1:
        p.error(f"--kills {opts.kills}: give at least 1 kill")
    survived, log, diffs = soak(opts)
    kinds = {k: sum(line.startswith(k) for line in log) for k in KINDS}
    print(f"soak: {survived}/{opts.kills} kills survived ({kinds['moment']} at a random moment, {kinds['record']} in a "
          f"record write, {kinds['figure']} in a figure save, {kinds['report']} in the report), {len(diffs)} "
          "differences from the uninterrupted run")
    for d in diffs:
        print(f"  difference: {d}")
    if opts.verbose:
        for i, line in enumerate(log, 1):
            print(f"  kill {i}: {line}")
    return 0 if survived == opts.kills and not diffs else 1


if __name__ == "__main__":
    sys.exit(main())
