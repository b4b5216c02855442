"""The check frame: a claim about a declared design, judged by named criteria against theory's prediction.

A check is a class with metadata (`name`, `paper`, `prediction_id`, `claim`, `provenance`), a `design` class
(`checks.frame.design.Design`), the theory objects its prediction is computed from (`uses`), and three methods:

    predict(design, th)        -> dict   # from theory only: `th.<key>` is the object `uses[key]()` built
    observe(design)            -> dict   # a real run; never sees the prediction
    criteria(design, pred, obs) -> list[Criterion]

plus, optionally, `numbers(...)` (extra record numbers), `figures(...)` (matplotlib figures, saved by the frame),
`alternatives` (near-miss predictions a referee would propose, judged on the same observation: the check PASSes
only if each is rejected) and `mutants` (wrong formulas a bug could introduce: the generic teeth test asserts each
makes the check FAIL), and `family(design)` (a Hypothesis strategy of instances, see `checks.frame.family`).
The frame derives every status, writes nothing itself (see `checks.runner`), and turns any exception into ERROR.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, ClassVar

from checks.frame.criteria import (ERROR, FAIL, INCONCLUSIVE, PASS, Criterion, claim_status, plain, refinement_status,
                                   status_of)
from checks.frame.design import TIERS, Design, describe_dataset
from checks.frame.errors import CheckError
from checks.frame.family import FamilyResult, run_family
from checks.frame.verdict import Verdict, commit, versions

__all__ = ["Check", "Outcome", "Variant", "REGISTRY", "register", "relative_slope", "ERROR", "FAIL", "INCONCLUSIVE",
           "PASS", "TIERS"]


@dataclass(frozen=True)
class Variant:
    """A changed prediction: some of the check's theory objects replaced (an alternative or a mutant).

    Arguments:
        name: what the variant claims instead ("p alone", "η instead of η²").
        replace: key of `Check.uses` → function(original object) → replacement object.
        against: the prediction ID whose criteria judge it ("" = the check's first ID, "*" = every criterion).
        why: for alternatives, the referee's reason to propose it.
        level: for alternatives, the claim level it competes at: "claim" (the paper's claim: judged on the regime
            and claim criteria; if it fits, the claim is INCONCLUSIVE) or "refinement" (a rival of one of our own
            refinements: judged on the regime and refinement criteria; if it fits, the refinement is INCONCLUSIVE).
            Mutants are judged on every judged criterion whatever their level.
    """

    name: str
    replace: dict
    against: str = ""
    why: str = ""
    level: str = "claim"

    def apply(self, th: SimpleNamespace) -> SimpleNamespace:
        new = SimpleNamespace(**vars(th))
        for key, change in self.replace.items():
            if not hasattr(th, key):
                raise CheckError(f"variant {self.name!r} replaces {key!r}, which the check does not use")
            setattr(new, key, change(getattr(th, key)))
        return new


@dataclass
class Outcome:
    """Everything one run of a check produced (before it is split into one Verdict per prediction ID)."""

    design: Design
    predicted: dict
    observed: dict
    criteria: list
    alternatives: list = field(default_factory=list)
    family: FamilyResult | None = None
    numbers: dict = field(default_factory=dict)
    theory: SimpleNamespace | None = None      # the theory objects of `uses`, built once for the run


class Check:
    """Base of every check; subclasses declare the class attributes below and implement observe/criteria."""

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    prediction_id: ClassVar[str] = ""
    also_judges: ClassVar[tuple] = ()          # further IDs some criteria name (one record each)
    claim: ClassVar[str] = ""
    claims: ClassVar[dict] = {}                # ID → claim, for also_judges
    provenance: ClassVar[str] = ""
    provenances: ClassVar[dict] = {}           # ID → provenance, for also_judges
    # ID → title, for an ID outside the specification (checks/frame/predictions.py)
    new_predictions: ClassVar[dict] = {}
    reference: ClassVar[tuple | None] = None   # (authors, year, title, arXiv id, venue) of a paper not in REFERENCES
    design: ClassVar[type[Design]] = Design
    tiers: ClassVar[tuple] = TIERS
    uses: ClassVar[dict[str, Callable[[], Any]]] = {}
    alternatives: ClassVar[tuple] = ()
    mutants: ClassVar[tuple] = ()

    # ------------------------------------------------------------------ what a check implements
    def predict(self, d: Design, th: SimpleNamespace) -> dict:
        """The prediction, computed from theory objects only (`th.<key>`); default: the objects themselves."""
        return dict(vars(th))

    def observe(self, d: Design) -> dict:
        raise NotImplementedError

    def criteria(self, d: Design, pred: dict, obs: dict) -> list[Criterion]:
        raise NotImplementedError

    def numbers(self, d: Design, pred: dict, obs: dict) -> dict:
        """Extra JSON-plain numbers for the record (per-run tables …)."""
        return {}

    def figures(self, d: Design, pred: dict, obs: dict, verdict: Verdict) -> dict:
        """Figures of the run: suffix ("" for the main one) → matplotlib Figure; the frame saves them."""
        return {}

    family: ClassVar[Callable | None] = None   # family(design) -> Hypothesis strategy of design changes

    # ------------------------------------------------------------------ what the frame does
    @classmethod
    def ids(cls) -> tuple:
        return (cls.prediction_id, *cls.also_judges)

    def theory(self) -> SimpleNamespace:
        """The theory objects of `uses`, built once per run."""
        return SimpleNamespace(**{k: f() for k, f in self.uses.items()})

    def all_mutants(self, th: SimpleNamespace | None = None, generated: bool = False) -> tuple:
        """The check's own mutants, then every mutant `theory` declares beside a Formula the check uses; with
        `generated`, then every single-node edit `theory.mutate.edits` generates of those formulas (their `why`
        names the edit class)."""
        from theory.formula import Formula
        from theory.mutants import mutants_of
        from theory.mutate import edits

        th = self.theory() if th is None else th
        found = list(self.mutants)
        for key, obj in vars(th).items():
            if isinstance(obj, Formula):
                found += [Variant(f"{obj.id}: {m.name}", {key: m.apply}, against="*") for m in mutants_of(obj.id)]
        if generated:
            found += [Variant(e.name, {key: e.apply}, against="*", why=f"generated: {e.edit}")
                      for key, obj in vars(th).items() if isinstance(obj, Formula) for e in edits(obj)]
        return tuple(found)

    def judge(self, d: Design, th: SimpleNamespace, obs: dict) -> tuple[dict, list[Criterion]]:
        """predict + criteria on a given observation (used for the prediction, alternatives and mutants)."""
        pred = self.predict(d, th)
        crit = list(self.criteria(d, pred, obs))
        for c in crit:
            if c.prediction_id and c.prediction_id not in self.ids():
                raise CheckError(f"{self.name}: criterion {c.name!r} names {c.prediction_id}, not one of {self.ids()}")
        return pred, crit

    def _of(self, crit, pid):
        return [c for c in crit if (c.prediction_id or self.prediction_id) == pid]

    def score_variant(self, variant: Variant, d: Design, th, obs, truth_failed=(), every_level: bool = False,
                      truth_undecided=()) -> dict:
        """Judge `variant` on the same observation: its status on the criteria of the ID it targets, at its level
        (regime + claim, or regime + refinement; every judged criterion with `every_level`, as for mutants). A
        criterion in `truth_failed` (one the prediction itself fails) cannot reject it; nor can one in
        `truth_undecided` (one the run left undecided for the prediction, e.g. gated by a regime it did not reach):
        the variant's failure there is undecided too, so an alternative is never "rejected" by a run that does not
        decide the claim."""
        pid = variant.against or self.prediction_id
        level = "refinement" if variant.level == "refinement" else "claim"
        try:
            _, crit = self.judge(d, variant.apply(th), obs)
            crit = crit if pid == "*" else self._of(crit, pid)
            judged = crit if every_level else [c for c in crit if c.level in ("regime", level)]
            judged = [c for c in judged if c.name not in set(truth_failed)]
            judged = [replace(c, passed=None) if c.passed is False and c.name in set(truth_undecided) else c
                      for c in judged]
            return dict(name=variant.name, against=pid, why=variant.why, level=level, status=status_of(judged),
                        failed=[c.name for c in judged if c.passed is False],
                        scores={c.name: c.value for c in crit})
        except Exception as exc:  # a variant the criteria cannot even evaluate is rejected, with the reason
            return dict(name=variant.name, against=pid, why=variant.why, level=level, status=FAIL,
                        failed=[f"{type(exc).__name__}: {exc}"], scores={})

    def kills(self, variant: Variant, d: Design, th, obs, truth_failed=()) -> bool:
        """Whether `variant` FAILs a criterion that theory's own prediction passes on the same observation
        (a mutant 'killed' only by a criterion the truth fails too shows nothing)."""
        return self.killed(self.score_variant(variant, d, th, obs, every_level=True), truth_failed)

    @staticmethod
    def killed(score: dict, truth_failed=()) -> bool:
        """Whether a `score_variant` result FAILs a criterion not in `truth_failed` (the rule of `kills`)."""
        return score["status"] == FAIL and bool(set(score["failed"]) - set(truth_failed))

    def outcome(self, d: Design) -> Outcome:
        """Predict, observe once, judge the prediction, every alternative and the family."""
        th = self.theory()
        obs = self.observe(d)
        pred, crit = self.judge(d, th, obs)
        failed = [c.name for c in crit if c.passed is False]  # cannot reject an alternative (see score_variant)
        undecided = [c.name for c in crit if c.passed is None and c.level != "measure"]  # nor can these
        alts = [self.score_variant(v, d, th, obs, truth_failed=failed, truth_undecided=undecided)
                for v in self.alternatives]
        fam = None
        n = int(getattr(d, "instances", 0) or 0)
        if type(self).family is not None and n > 0:
            fam = self.run_family(d, n, th)
            crit.append(fam.criterion(getattr(self, "family_id", "")))
        return Outcome(d, pred, obs, crit, alts, fam, self.numbers(d, pred, obs), th)

    def run_family(self, d: Design, n: int, th: SimpleNamespace) -> FamilyResult:
        strategy = type(self).family(d)

        def judge(changes: dict):
            try:
                di = d.replace(**changes)
                _, crit = self.judge(di, th, self.observe(di))
                return status_of(crit), [c.name for c in crit if c.passed is False]
            except Exception as exc:
                return FAIL, [f"error: {type(exc).__name__}: {exc}"]

        return run_family(strategy, judge, n, d.seed, describe_instance)

    def verdicts(self, out: Outcome, tier: str, seconds: float = 0.0, message: str = "") -> list[Verdict]:
        """One Verdict per prediction ID, its status derived from its criteria and its alternatives."""
        result = []
        for pid in self.ids():
            crit = self._of(out.criteria, pid)
            alts = [a for a in out.alternatives if a["against"] == pid]
            status, refined = claim_status(crit), refinement_status(crit)
            msg = message
            fits = [a["name"] for a in alts if a["status"] == PASS and a.get("level", "claim") == "claim"]
            if status == PASS and fits:
                status = INCONCLUSIVE
                msg = (msg + " " if msg else "") + "an alternative fits as well as the prediction: " + ", ".join(fits)
            rivals = [a["name"] for a in alts if a["status"] == PASS and a.get("level") == "refinement"]
            if refined == PASS and rivals:
                refined = INCONCLUSIVE
                msg = (msg + " " if msg else "") + "a rival fits our refinement as well: " + ", ".join(rivals)
            if refined == FAIL:
                failed = [c.name for c in crit if c.level == "refinement" and c.passed is False]
                msg = (msg + " " if msg else "") + ("our reconstruction did not hold (a refinement of ours, not the "
                                                    "paper's claim): " + ", ".join(failed))
            fam = out.family.to_dict() if out.family is not None and any(
                c.name.startswith("family:") for c in crit) else None
            result.append(Verdict(
                check=self.name, prediction_id=pid, paper=self.paper, claim=self.claims.get(pid, self.claim),
                provenance=self.provenances.get(pid, self.provenance), status=status, refinement_status=refined,
                criteria=tuple(c.to_dict() for c in crit), alternatives=tuple(alts),
                predicted=plain({c.name: c.predicted for c in crit if c.predicted is not None}),
                observed=plain({c.name: c.value for c in crit}), numbers=plain(out.numbers),
                tier=tier, seed=out.design.seed, design=out.design.to_dict(), family=fam, seconds=seconds,
                message=msg, protocol=tuple(out.design.protocol_card()), versions=versions(), commit=commit()))
        return result

    def error_verdicts(self, d: Design | None, tier: str, exc: BaseException, seconds: float) -> list[Verdict]:
        msg = f"{type(exc).__name__}: {exc}"
        return [Verdict(check=self.name, prediction_id=pid, paper=self.paper, claim=self.claims.get(pid, self.claim),
                        provenance=self.provenances.get(pid, self.provenance), status=ERROR, tier=tier,
                        seed=getattr(d, "seed", 0), design=d.to_dict() if d is not None else {}, seconds=seconds,
                        message=msg, numbers={"traceback": traceback.format_exc(limit=6)}, versions=versions(),
                        commit=commit()) for pid in self.ids()]

    @classmethod
    def paper_info(cls) -> tuple[str, str | None]:
        """(source of the paper preset, "cuda" when it needs a GPU, else None): see `Design.paper_info`."""
        return cls.design.paper_info()

    def not_run_verdicts(self, d: Design, tier: str, reason: str) -> list[Verdict]:
        """INCONCLUSIVE verdicts without criteria, saying why the design was not run."""
        return [Verdict(check=self.name, prediction_id=pid, paper=self.paper, claim=self.claims.get(pid, self.claim),
                        provenance=self.provenances.get(pid, self.provenance), status=INCONCLUSIVE, tier=tier,
                        seed=d.seed, design=d.to_dict(), message=reason, versions=versions(), commit=commit())
                for pid in self.ids()]

    def run(self, d: Design | None = None, tier: str = "standard", out: Path | None = None) -> list[Verdict]:
        """Run the check on design `d` (default: the tier's); figures go under `out/figures` when `out` is given.

        Arguments:
            d: a design of `self.design` (from `self.design.build(tier, **overrides)`).
            tier: recorded in the verdicts.
            out: output folder for figures (None: no figures).
        Returns:
            one Verdict per prediction ID; an exception anywhere gives ERROR verdicts with the reason.
        """
        start = time.perf_counter()
        try:
            d = self.design.build(tier) if d is None else d
            if not isinstance(d, self.design):
                raise CheckError(f"{self.name} needs a {self.design.__name__}, got {type(d).__name__}")
            reason = d.not_run_reason(tier)
            if reason:  # e.g. a GPU-sized paper preset on device=cpu: INCONCLUSIVE, nothing trained
                return self.not_run_verdicts(d, tier, reason)
            result = self.outcome(d)
        except Exception as exc:
            return self.error_verdicts(d if isinstance(d, Design) else None, tier, exc,
                                       round(time.perf_counter() - start, 3))
        verdicts = self.verdicts(result, tier, round(time.perf_counter() - start, 3))
        if out is not None:
            verdicts = self._save_figures(result, verdicts, Path(out))
        return verdicts

    def _save_figures(self, result: Outcome, verdicts: list[Verdict], out: Path) -> list[Verdict]:
        import dataclasses

        from checks.outputs.io import save_figure

        try:
            figs = self.figures(result.design, result.predicted, result.observed, verdicts[0]) or {}
            paths = tuple(save_figure(fig, out / "figures" / f"{self.name}{suffix}.png").relative_to(out).as_posix()
                          for suffix, fig in figs.items())
            return [dataclasses.replace(v, figures=paths) for v in verdicts]
        except Exception as exc:  # a broken figure must not hide the verdict
            import matplotlib.pyplot as plt

            plt.close("all")
            return [dataclasses.replace(v, message=(v.message + f" figure failed: {type(exc).__name__}: {exc}").strip())
                    for v in verdicts]


def describe_instance(changes: dict) -> dict:
    """A family instance for the record: settings as values, a drawn data set by name, shape and hash."""
    return {k: describe_dataset(v) if k == "dataset" and v is not None else plain(v) for k, v in changes.items()}


REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make a check discoverable by `python -m checks.all` (validates its declaration)."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"check name {cls.name!r} is empty or already registered")
    if not cls.prediction_id or not cls.claim or not cls.provenance or not cls.paper:
        raise ValueError(f"check {cls.name}: paper, prediction_id, claim and provenance are required")
    if not (isinstance(cls.design, type) and issubclass(cls.design, Design)):
        raise ValueError(f"check {cls.name}: design must be a Design subclass")
    from checks.frame.predictions import declare

    declare(cls)                                # an unknown ID or paper key: one error naming where to declare it
    REGISTRY[cls.name] = cls
    return cls


def relative_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    import numpy as np

    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def loglog_fit(x, y) -> tuple[float, float]:
    """(slope, standard error) of the least-squares line of log y against log x: se² = RSS/(N − 2)/Σ(log x − mean)²;
    nan for the slope with < 2 finite points, nan for se with < 3."""
    import numpy as np

    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if len(lx) < 2 or not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
        return float("nan"), float("nan")
    slope, icpt = np.polyfit(lx, ly, 1)
    if len(lx) < 3:
        return float(slope), float("nan")
    rss = float(np.sum((ly - (slope * lx + icpt)) ** 2))
    return float(slope), float(np.sqrt(rss / (len(lx) - 2) / np.sum((lx - lx.mean()) ** 2)))
