"""The live progress view of a run: check i/N, its name, the engine's current phase, steps, elapsed time and ETA.

On a terminal (stdout is a TTY) it is a `rich` live display, redrawn four times a second and erased when the run
ends (the verdict table follows); a line per finished check stays above it. Elsewhere (CI logs, pipes, notebooks)
it prints one plain line per finished check on stderr. The engine reports its phase through
`numerics.progress.notify(desc, done, total)`; while the view listens, numerics' own tqdm bar is switched off.

ETA: a check's recorded time in an earlier run of the same tier, where there is one (`recorded_seconds`), else the
current phase's step rate; the run's ETA adds the recorded (or the mean observed) time of the checks still to run.

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
    """Check name → seconds it took in the first of `folders` whose records include it at `tier`.

    Arguments:
        folders: run folders to read `records/*.json` from, most relevant first (missing ones are skipped).
        tier: only records of this tier count.
    """
    found: dict[str, float] = {}
    for folder in folders:
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
        self.done: list[tuple[str, float]] = []   # (status line, seconds) of finished checks
        self._live = self._listen = None
        self._env = None

    # ------------------------------------------------------------------ context
    def __enter__(self) -> "Live":
        if self.mode == "rich":
            from rich.console import Console
            from rich.live import Live as RichLive

            from numerics import progress

            self._env = os.environ.get("NUMERICS_PROGRESS")
            os.environ["NUMERICS_PROGRESS"] = "0"                # the view replaces numerics' tqdm bar
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
        self.phase = ("", 0, 0, self.t_check)

    def update(self, desc: str, done: int, total: int) -> None:
        """A progress notification of the engine (the `numerics.progress` listener)."""
        now = time.perf_counter()
        began = self.phase[3] if desc == self.phase[0] and done >= self.phase[1] else now
        self.phase = (str(desc), int(done), int(total), began)

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
        desc, done, total, began = self.phase
        if total > 0 and done > 0 and now > began:
            return (now - began) / done * max(0, total - done)
        return None

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
        desc, done, total, _ = self.phase
        if total > 0:
            frac = min(1.0, done / total)
            bar = "█" * int(24 * frac) + "░" * (24 - int(24 * frac))
            phase = f"  {desc or 'training'}  {bar} {done}/{total} steps"
        else:
            phase = f"  {desc or 'running'}" + (f"  {done} done" if done else "")
        run_left = self.run_eta(now)
        tail = (f"run: {len(self.done)}/{n} checks done, elapsed {duration(now - self.start)}"
                + (f", ETA {duration(run_left)}" if run_left is not None else ""))
        return [head, phase, tail]

    def __rich__(self):
        from rich.text import Text

        head, phase, tail = self.lines()
        return Text(f"{head}\n{phase}\n{tail}", no_wrap=True, overflow="ellipsis")
