"""Generated mutants judged on the checks' own runs: `python -m checks.mutants --generated [--tier T] [--only SEL]`.

Each check that reads a Formula is observed once at the tier (a check of other tiers only on that tier's preset, as
in the teeth test); every single-node edit `theory.mutate` generates of each Formula it uses goes through the frame's
mutant path (`Check.all_mutants(th, generated=True)`, `Check.score_variant`, the rule of `Check.kills`: a kill counts
only from a criterion the unmutated theory passes, criterion by criterion, so a check whose own verdict is FAIL or
INCONCLUSIVE hides nothing). A mutant that is not killed is

    equivalent for that check  when the check cannot see it: at every point where the check evaluated the formula's
                               numeric function (recorded while the theory was judged), in every number of the
                               prediction (e.g. an elasticity computed symbolically) and in every criterion value
                               it gives what the original gives (to 1e-9 relative + 1e-13 absolute: round-off, far
                               below any check's tolerance, so a tolerance never turns a survivor into an
                               "equivalent");
    a survivor                 otherwise, reported with the criterion that came nearest to failing.

Per formula: killed by some check; else "not observable by any check" when equivalent for every check that reads
it (a finding about coverage, listed apart); else a survivor.
"""
from __future__ import annotations

import dataclasses
import math
import re
import sys
import time

import numpy as np
import sympy as sp

from theory.formula import Formula
from theory.mutate import edits

from checks.runner import api
from checks.frame.criteria import fmt

__all__ = ["judge_check", "report", "summarise"]

RTOL = 1e-9          # "the same number": numerical noise only …
ATOL = 1e-13         # … and round-off around 0 (a law that cancels to 1e-17 and its negation are the same 0)
MAX_CALLS = 400      # evaluation points recorded per formula (the first ones)


@dataclasses.dataclass(frozen=True)
class _Recorded(Formula):
    """A Formula whose numeric functions record the arguments they are called with (the check's own points)."""

    log: list = dataclasses.field(default_factory=list, compare=False, hash=False, repr=False)

    def numeric(self, backend: str = "numpy"):
        fn, log = Formula.numeric(self, backend), self.log

        def recorded(*values):
            if len(log) < MAX_CALLS:
                log.append(tuple(_plain(v) for v in values))
            return fn(*values)

        return recorded


def _plain(v):
    """A copy of an argument as numpy (torch tensors through .detach(), without importing torch)."""
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v


def _recording(th):
    """(a copy of the theory namespace with each Formula recording its calls, key → call log)."""
    logs = {}
    out = type(th)(**vars(th))
    for key, obj in vars(th).items():
        if isinstance(obj, Formula):
            rec = _Recorded(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(Formula)})
            logs[key] = rec.log
            setattr(out, key, rec)
    return out, logs


def _close(a, b) -> bool:
    """Numerically the same (relative RTOL of the larger magnitude; NaN equals NaN); False if not comparable."""
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype.kind not in "biufc" or y.dtype.kind not in "biufc" or x.shape != y.shape:
            return False
        x, y = x.astype(complex), y.astype(complex)
        fin = np.isfinite(x) & np.isfinite(y)
        if not np.array_equal(np.isnan(x), np.isnan(y)) or not np.array_equal(x[~fin & ~np.isnan(x)],
                                                                                 y[~fin & ~np.isnan(y)]):
            return False
        scale = max(np.abs(x[fin]).max(initial=0.0), np.abs(y[fin]).max(initial=0.0))
        return bool(np.all(np.abs(x[fin] - y[fin]) <= RTOL * scale + ATOL))
    except (TypeError, ValueError):
        return False


def _same_expr(a, b) -> bool:
    if a == b:
        return True
    try:
        return not isinstance(a, (sp.MatrixBase, sp.MatrixExpr)) and sp.simplify(a - b) == 0
    except Exception:  # noqa: BLE001 (not known to be equal)
        return False


def _same(a, b) -> bool:
    """Whether two prediction values are the same for the check (callables: judged at the recorded points)."""
    if isinstance(a, Formula) or isinstance(b, Formula):
        return isinstance(a, Formula) and isinstance(b, Formula) and _same_expr(a.rhs, b.rhs)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and not (a and isinstance(a[0], (int, float, np.number))):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (sp.Basic, sp.MatrixBase)):
        if isinstance(a, sp.Basic) and a.is_number and isinstance(b, sp.Basic) and b.is_number:
            return _close(complex(a), complex(b))
        return isinstance(b, (sp.Basic, sp.MatrixBase)) and _same_expr(a, b)
    if callable(a):
        return callable(b)
    if isinstance(a, (int, float, complex, np.number, np.ndarray, list, tuple, bool, np.bool_)):
        return _close(a, b)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 (e.g. dataclasses holding arrays: not known to be equal)
        return False


def _at_points(original: Formula, mutated: Formula, calls) -> bool:
    """Whether the mutated formula's numeric function gives the original's values at every recorded call."""
    if not calls:
        return True
    try:
        f, g = original.numeric("numpy"), mutated.numeric("numpy")
        with np.errstate(all="ignore"):
            return all(_close(f(*c), g(*c)) for c in calls)
    except Exception:  # noqa: BLE001 (a mutant that cannot be evaluated where the original can is visible)
        return False


_TOL = (re.compile(r"^\|obs − pred\| ≤ ([^·\s]+)(·max\(1,\|pred\|\))?"), re.compile(r"^≤ (\S+)"),
        re.compile(r"^≥ (\S+)"))


def _slack(c) -> float | None:
    """How far a passing criterion is from its bound, in its own units (None when its rule is not a number)."""
    try:
        value = float(c.value)
        for i, rx in enumerate(_TOL):
            m = rx.match(c.tolerance)
            if m:
                bound = float(m.group(1))
                if i == 0:
                    scale = max(1.0, abs(float(c.predicted))) if m.group(2) else 1.0
                    return bound * scale - abs(value - float(c.predicted))
                return bound - value if i == 1 else value - bound
    except (TypeError, ValueError):
        return None
    return None


def _closest(truth: dict, crit: list) -> str:
    """The criterion (passed by the theory and by the mutant) that came nearest to failing, in words."""
    best = None
    for c in crit:
        t = truth.get(c.name)
        if t is None or t.passed is not True or c.passed is not True:
            continue
        st, sm = _slack(t), _slack(c)
        if st is not None and sm is not None and st > 0 and math.isfinite(st) and math.isfinite(sm):
            ratio = sm / st
            if best is None or ratio < best[0]:
                best = (ratio, (f"{c.name}: {fmt(t.value)} → {fmt(c.value)} ({c.tolerance}); "
                                f"margin left {100 * ratio:.0f}% of the theory's"))
    if best is not None:
        return best[1]
    moved = [c for c in crit if c.name in truth and not _same(truth[c.name].value, c.value)]
    if moved:
        c = moved[0]
        return f"{c.name}: {fmt(truth[c.name].value)} → {fmt(c.value)} ({c.tolerance}); no numeric margin"
    undecided = [c.name for c in crit if c.passed is None and truth.get(c.name) is not None
                 and truth[c.name].passed is not None]
    return ("undecided: " + ", ".join(undecided)) if undecided else "no criterion value moved"


def judge_check(cls, tier: str = "quick", progress: bool = True) -> list[dict]:
    """One row per generated mutant of the formulas check `cls` reads: check, formula, edit, name, result
    ("killed", "killed (error)", "equivalent", "survived"), closest criterion; observed once."""
    check = cls()
    d = cls.design.build(tier, **({"instances": 0} if "instances" in cls.design.keys() else {}))  # noqa: SIM118
    t0 = time.perf_counter()
    out = check.outcome(d)
    t_obs = time.perf_counter() - t0
    th, obs = out.theory, out.observed
    truth_failed = [c.name for c in out.criteria if c.passed is False]
    truth = {c.name: c for c in out.criteria}
    rec_th, logs = _recording(th)
    try:
        check.judge(d, rec_th, obs)
    except Exception:  # noqa: BLE001 (no recorded points: equivalence then rests on the prediction and criteria)
        logs = {k: [] for k in logs}
    of = {e.name: (key, e) for key, obj in vars(th).items() if isinstance(obj, Formula) for e in edits(obj)}
    rows = []
    for v in check.all_mutants(th, generated=True):
        if not v.why.startswith("generated") or v.name not in of:
            continue
        key, e = of[v.name]
        row = dict(check=cls.name, formula=e.formula_id, edit=e.edit, name=v.name, closest="")
        s = check.score_variant(v, d, th, obs, every_level=True)
        if check.killed(s, truth_failed):
            row["result"] = "killed" if s["scores"] else "killed (error)"
            row["closest"] = "; ".join(s["failed"])[:160]
        else:
            try:
                pred, crit = check.judge(d, v.apply(th), obs)
                same = (_same(out.predicted, pred) and _at_points(getattr(th, key), e.apply(getattr(th, key)),
                                                                  logs.get(key, []))
                        and all(c.name in truth and _same(truth[c.name].value, c.value)
                                and truth[c.name].passed == c.passed for c in crit))
                row["result"] = "equivalent" if same else "survived"
                row["closest"] = "" if same else _closest(truth, crit)
            except Exception as exc:  # noqa: BLE001 (judged FAIL/undecided elsewhere; say so)
                row["result"], row["closest"] = "survived", f"{type(exc).__name__}: {exc}"
        rows.append(row)
    if progress:
        print(f"  {cls.name}: observed in {t_obs:.1f} s, {len(rows)} generated mutants judged in "
              f"{time.perf_counter() - t0 - t_obs:.1f} s", file=sys.stderr, flush=True)
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per formula: generated, equivalent (not observable by any check), killed, survived, and the survivors.
    A mutant counts once per formula: killed if some check kills it."""
    per: dict = {}
    for r in rows:
        f = per.setdefault(r["formula"], {"checks": [], "mutants": {}})
        if r["check"] not in f["checks"]:
            f["checks"].append(r["check"])
        f["mutants"].setdefault(r["name"], []).append(r)
    out = {}
    for fid, f in sorted(per.items()):
        res = {"checks": f["checks"], "generated": 0, "equivalent": 0, "killed": 0, "survived": 0,
               "killed_by_error": 0, "survivors": [], "not_observable": [], "errors": []}
        for name, rs in f["mutants"].items():
            res["generated"] += 1
            kills = [r for r in rs if r["result"].startswith("killed")]
            if kills:
                res["killed"] += 1
                if all(r["result"] == "killed (error)" for r in kills):
                    res["killed_by_error"] += 1
                    res["errors"].append((name, kills[0]["closest"]))
            elif all(r["result"] == "equivalent" for r in rs):
                res["equivalent"] += 1
                res["not_observable"].append(name)
            else:
                res["survived"] += 1
                res["survivors"].append((name, [(r["check"], r["closest"]) for r in rs if r["result"] == "survived"]))
        out[fid] = res
    return out


def report(tier: str = "quick", only: str | None = None, progress: bool = True, stream=sys.stdout) -> int:
    """Print the per-formula table, the survivors and the unobservable mutants; 1 when a survivor remains."""
    t0 = time.perf_counter()
    rows = []
    for cls in api.discover(None, only):  # every check (its quick preset too), but only those that read a Formula
        if any(isinstance(obj, Formula) for obj in vars(cls().theory()).values()):
            rows += judge_check(cls, tier, progress)
    s = summarise(rows)
    w = max([len(k) for k in s] + [7])
    print(f"{'formula':{w}}  generated  equivalent  killed  survived  kill rate  checks", file=stream)
    for fid, r in s.items():
        n = r["generated"] - r["equivalent"]
        rate = f"{100 * r['killed'] / n:.0f}%" if n else "—"
        print(f"{fid:{w}}  {r['generated']:9d}  {r['equivalent']:10d}  {r['killed']:6d}  {r['survived']:8d}  "
              f"{rate:>9s}  {', '.join(r['checks'])}", file=stream)
    tot = {k: sum(r[k] for r in s.values()) for k in ("generated", "equivalent", "killed", "survived",
                                                       "killed_by_error")}
    n = tot["generated"] - tot["equivalent"]
    print(f"\n{tot['generated']} generated, {tot['equivalent']} not observable by any check, {tot['killed']} killed "
          f"({tot['killed_by_error']} only by an evaluation error), {tot['survived']} survived: kill rate "
          f"{100 * tot['killed'] / max(1, n):.1f}% of {n} observable; {time.perf_counter() - t0:.0f} s", file=stream)
    surv = [(fid, name, where) for fid, r in s.items() for name, where in r["survivors"]]
    if surv:
        print("\nSurvivors (the checks that read the formula, and the criterion nearest to failing):", file=stream)
        for fid, name, where in surv:
            print(f"  {name}", file=stream)
            for chk, closest in where:
                print(f"      {chk}: {closest}", file=stream)
    errors = [e for r in s.values() for e in r["errors"]]
    if errors:
        print("\nKilled only by an evaluation error (the check's theory refused the mutant):", file=stream)
        for name, why in errors:
            print(f"  {name}: {why}", file=stream)
    hidden = [name for r in s.values() for name in r["not_observable"]]
    if hidden:
        print("\nNot observable by any check (equal to the original wherever the checks evaluate it):", file=stream)
        for name in hidden:
            print(f"  {name}", file=stream)
    return 1 if surv else 0
