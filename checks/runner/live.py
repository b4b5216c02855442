"""The live progress view of a run: check i/N, its name, the engine's current phase, steps, elapsed time and ETA.

On a terminal (stdout is a TTY) it is a `rich` live display, redrawn four times a second and erased when the run
ends (the verdict table follows); a line per finished check stays above it. Elsewhere (CI logs, pipes, notebooks)
it prints one plain line per finished check on stderr. The engine reports its phase through
`numerics.progress.notify(desc, done, total)`; numerics' own tqdm bar is switched off while a view is open, in every
mode (off a terminal its carriage-return frames would clutter the log).

A sweep (`numerics.sweep.run_sweep`) reports its points as an outer phase ("… (points)"), shown on its own line
above the steps of the run in progress, so a check that trains many points shows both, each with its rate.

ETA: a check's recorded time in an earlier run of the same tier, where there is one (`recorded_seconds`), else the
rate of its sweep's points (or of the current phase's steps); the run's ETA adds the recorded (or the mean
observed) time of the checks still to run.

    with Live(names, recorded) as view:
        for i, name in enumerate(names, 1):
            view.begin(i, name)
            ...
            view.end(verdicts, seconds)
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

__all__ = ["Live", "recorded_seconds", "duration"]


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`.

    Arguments:
        seconds: the duration (negative counts as 0).
    """
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def recorded_seconds(folders, tier: str) -> dict[str, float]:
    """Check name → seconds it took in the first of `folders` that ran it at `tier`: the check's wall time from
    summary.json (figures and records included), else the time its record carries.

    Arguments:
        folders: run folders to read `summary.json` / `records/*.json` from, most relevant first (missing ones are
            skipped).
        tier: only runs and records of this tier count.
    """
    found: dict[str, float] = {}
    for folder in folders:
        try:
            summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
            if summary.get("tier") == tier:
                for name, secs in (summary.get("check_seconds") or {}).items():
                    found.setdefault(str(name), float(secs))
        except (OSError, ValueError, TypeError, AttributeError):
            pass
        for path in sorted(Path(folder).glob("records/*.json")):
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
                if rec.get("tier") == tier and rec.get("status") != "ERROR":
                    found.setdefault(rec["check"], float(rec["seconds"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return found


class Live:
    """Progress of one run, as a rich live display (`mode="rich"`), plain lines (`"plain"`) or nothing (`"off"`).

    Arguments:
        names: the checks of the run, in order.
        recorded: check name → seconds from an earlier run of the tier (for the ETA).
        mode: rich, plain or off; None picks rich when stdout is a TTY, else plain.
        stream: where plain lines go (default stderr).
    """

    def __init__(self, names, recorded: dict | None = None, mode: str | None = None, stream=None):
        self.names, self.recorded = list(names), dict(recorded or {})
        self.mode = mode or ("rich" if sys.stdout.isatty() else "plain")
        if self.mode not in ("rich", "plain", "off"):
            raise ValueError(f"mode={mode!r}: use rich, plain or off")
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.i, self.name, self.t_check = 0, "", self.start
        self.phase = ("", 0, 0, self.start)      # desc, done, total, when the phase began
        self.outer = ("", 0, 0, self.start)      # the same for a sweep's points (desc ends with "(points)")
        self.t_points = None                     # (when, points done) as the sweep began: cached points are free
        self.done: list[tuple[str, float]] = []   # (status line, seconds) of finished checks
        self._live = self._listen = None
        self._env = None

    # ------------------------------------------------------------------ context
    def __enter__(self) -> "Live":
        # numerics' own tqdm bar is off in every mode: the rich view replaces it on a terminal, and off a terminal
        # (plain, off) a bar's carriage-return frames would only clutter a log (the runner's non-terminal rule)
        self._env = os.environ.get("NUMERICS_PROGRESS")
        os.environ["NUMERICS_PROGRESS"] = "0"
        if self.mode == "rich":
            from rich.console import Console
            from rich.live import Live as RichLive

            from numerics import progress

            self._live = RichLive(self, console=Console(file=sys.stdout), refresh_per_second=4, transient=True)
            self._live.__enter__()
            self._listen = progress.listen(self.update)
            self._listen.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._listen is not None:
            self._listen.__exit__(*exc)
            self._listen = None
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None
        if self._env is None:
            os.environ.pop("NUMERICS_PROGRESS", None)
        else:
            os.environ["NUMERICS_PROGRESS"] = self._env

    # ------------------------------------------------------------------ events
    def begin(self, i: int, name: str) -> None:
        """Check `i` of N, `name`, starts."""
        self.i, self.name = i, name
        self.t_check = time.perf_counter()
        self.phase = self.outer = ("", 0, 0, self.t_check)
        self.t_points = None

    def update(self, desc: str, done: int, total: int) -> None:
        """A progress notification of the engine (the `numerics.progress` listener)."""
        now = time.perf_counter()
        outer = str(desc).endswith("(points)")
        old = self.outer if outer else self.phase
        began = old[3] if desc == old[0] and done >= old[1] else now
        if outer and desc != old[0]:
            self.t_points = (now, int(done))       # points already cached count as no time
        new = (str(desc), int(done), int(total), began)
        if outer:
            self.outer = new
        else:
            self.phase = new

    def end(self, verdicts, seconds: float, reused: bool = False) -> None:
        """The current check finished with `verdicts` after `seconds` (or its records were reused)."""
        statuses = ", ".join(f"{v.prediction_id} {v.status}" for v in verdicts) or "no verdict"
        how = "reused (--resume)" if reused else duration(seconds)
        line = f"[{self.i}/{len(self.names)}] {self.name}: {statuses} ({how})"
        self.done.append((line, 0.0 if reused else float(seconds)))
        if self.mode == "plain":
            print(line, file=self.stream, flush=True)
        elif self.mode == "rich" and self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)

    # ------------------------------------------------------------------ estimates and drawing
    def check_eta(self, now: float) -> float | None:
        """Seconds left in the current check: recorded time minus elapsed, else from the phase's step rate."""
        elapsed = now - self.t_check
        rec = self.recorded.get(self.name)
        if rec is not None and rec > elapsed:
            return rec - elapsed
        rate = self._rate(self.outer, now)
        if rate:
            return max(0, self.outer[2] - self.outer[1]) / rate
        rate = self._rate(self.phase, now)
        return max(0, self.phase[2] - self.phase[1]) / rate if rate else None

    def _rate(self, phase, now: float) -> float | None:
        """Units per second of `phase` since it began (a sweep's cached points excluded), or None."""
        desc, done, total, began = phase
        start = 0
        if phase is self.outer and self.t_points is not None:
            began, start = self.t_points
        if total > 0 and done > start and now > began:
            return (done - start) / (now - began)
        return None

    def _phase_line(self, phase, now: float, default: str) -> str:
        desc, done, total, _ = phase
        if total <= 0:
            return f"  {desc or default}" + (f"  {done} done" if done else "")
        frac = min(1.0, done / total)
        bar = "█" * int(24 * frac) + "░" * (24 - int(24 * frac))
        unit = "" if desc.endswith(")") else " steps"
        rate = self._rate(phase, now)
        left = f", ETA {duration(max(0, total - done) / rate)}" if rate else ""
        return f"  {desc or 'training'}  {bar} {done}/{total}{unit}" + (f"  {rate:.3g}/s{left}" if rate else "")

    def run_eta(self, now: float) -> float | None:
        """Seconds left in the run: this check's ETA plus the recorded (else mean observed) time of the rest."""
        left = self.check_eta(now)
        if left is None:
            return None
        observed = [s for _, s in self.done if s > 0]
        mean = sum(observed) / len(observed) if observed else None
        for name in self.names[self.i:]:
            t = self.recorded.get(name, mean)
            if t is None:
                return None
            left += t
        return left

    def lines(self, now: float | None = None) -> list[str]:
        """The view as plain text lines (what the rich display draws)."""
        now = time.perf_counter() if now is None else now
        n = len(self.names)
        eta = self.check_eta(now)
        rec = self.recorded.get(self.name)
        label = "ETA" if rec is not None and rec > now - self.t_check else "phase ETA"
        head = (f"check {self.i}/{n}  {self.name}  elapsed {duration(now - self.t_check)}"
                + (f", {label} {duration(eta)}" if eta is not None else "")) if self.i else f"starting {n} checks"
        phase = self._phase_line(self.phase, now, "running")
        if self.outer[2] > 0:
            phase = self._phase_line(self.outer, now, "sweep") + "\n" + phase
        run_left = self.run_eta(now)
        tail = (f"run: {len(self.done)}/{n} checks done, elapsed {duration(now - self.start)}"
                + (f", ETA {duration(run_left)}" if run_left is not None else ""))
        return [head, *phase.split("\n"), tail]

    def __rich__(self):
        from rich.text import Text

        return Text("\n".join(self.lines()), no_wrap=True, overflow="ellipsis")
