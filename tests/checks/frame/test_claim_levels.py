"""Claim levels, regime gates, protocol cards, the findings file and the report's first table (issue: faithful
verdicts): a refinement of ours that fails never reads as the paper's claim failing, and the report says which
level failed."""
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from checks.runner import api
from checks.frame import predictions as expected
from checks.frame.core import REGISTRY, Check
from checks.frame.criteria import (FAIL, INCONCLUSIVE, MEASURE, PASS, REFINEMENT, REGIME, at_least, at_most,
                             claim_status, gated, holds, measured, refinement_status, regime, status_of)
from checks.frame.design import TIERS, Design
from checks.frame.errors import CheckError
from checks.frame.protocol import Paper, card, deviations

ROOT = Path(__file__).resolve().parents[3]


def test_levels_judge_apart():
    ok, bad = at_least("claim", 1.0, 0.5), at_most("ours", 1.0, 0.5, level=REFINEMENT, tag="R")
    rep = measured("shown", 3.0, "not stated by the paper")
    crit = [regime("r (regime reached)", True, "-"), ok, bad, rep]
    assert claim_status(crit) == PASS and refinement_status(crit) == FAIL and status_of(crit) == FAIL
    assert claim_status([ok, rep]) == PASS and refinement_status([ok]) == ""
    assert rep.level == MEASURE and rep.passed is None and status_of([rep]) == INCONCLUSIVE  # nothing judged
    missed = gated(regime("r (regime reached)", False, "lower lam"), [ok, bad])
    assert missed[0].level == REGIME and claim_status(missed) == INCONCLUSIVE
    assert refinement_status(missed) == INCONCLUSIVE  # a regime gate guards the refinements too
    assert claim_status([c.to_dict() for c in missed]) == INCONCLUSIVE  # works on record dicts
    with pytest.raises(ValueError, match="level"):
        holds("x", True, level="paper")
    with pytest.raises(ValueError, match="tag"):
        holds("x", True, tag="Q")


@dataclass(frozen=True)
class ToyDesign(Design):
    n: int = 3
    protocol: ClassVar = {"n": Paper(3, "toy paper, eq. 1", why=lambda d: f"reduced to n = {d.n}"),
                          "loss": Paper("square", "toy paper", run=lambda d: "square"),
                          "horizon": Paper(None, "not stated")}


class ToyCheck(Check):
    name, paper, prediction_id, claim, provenance = "toy.levels", "GF", "MPG-P14", "toy", "[V]"
    design = ToyDesign

    def observe(self, d):
        return {}

    def criteria(self, d, pred, obs):
        return [holds("paper's claim", True, tag="V"),
                at_most("our refinement", 2.0, 1.0, level=REFINEMENT, tag="R"),
                measured("reported", 0.5)]


def test_refinement_failure_is_not_the_papers():
    v, = ToyCheck().run(ToyDesign.build("quick"), "quick")
    assert v.status == PASS and v.refinement_status == FAIL
    assert "our reconstruction did not hold" in v.message and v.refinements_failed == ["our refinement"]
    assert "our reconstruction did not hold" in v.headline()
    assert [c["name"] for c in v.deciding()] == ["paper's claim"]
    problems, _ = expected.compare([v], "quick", table={})
    assert problems and "our reconstruction FAILs" in problems[0]  # an unlisted refinement FAIL stops the run
    entry = {("toy.levels", "MPG-P14"): dict(check="toy.levels", id="MPG-P14", status="PASS", refinement="FAIL",
                                             level="our reconstruction", reason="toy")}
    assert expected.compare([v], "quick", table=entry) == ([], [])


def test_protocol_card_flags_deviations_with_reasons():
    rows = card(ToyDesign.build("quick", n=5))
    by = {r["setting"]: r for r in rows}
    assert by["n"]["same"] is False and by["n"]["why"] == "reduced to n = 5"
    assert by["loss"]["same"] is True and by["horizon"]["same"] is None and by["horizon"]["paper"] == "not stated"
    assert deviations(rows) == [by["n"]]
    assert card(ToyDesign.build("quick"))[0]["same"] is True


@pytest.mark.parametrize("tier", TIERS)
def test_every_declared_deviation_has_a_reason(tier):
    api.discover()
    for name, cls in sorted(REGISTRY.items()):
        if not cls.design.protocol:
            continue
        for row in deviations(cls.design.build(tier).protocol_card()):
            assert row["why"], f"{name} ({tier}): '{row['setting']}' differs from the paper without a reason"


def test_racing_lambda_is_the_specs_convention():
    """The racing checks take λ as per-weight std λ/√d (spec E6, PIN-8) and convert it in one place."""
    from checks.suites.racing.runs import engine_scale, racing_init

    m, d, lam = 4000, 10, 1e-2
    assert engine_scale(lam, m, d) == pytest.approx(lam * np.sqrt(m / d))
    W, _ = racing_init(m, d, lam, seed=0)
    assert float(W.std()) == pytest.approx(lam / np.sqrt(d), rel=0.03)


def test_findings_file_requires_a_level(tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text('[[expected]]\ncheck = "a.b"\nid = "PIN-1"\nstatus = "FAIL"\nreason = "r"\n')
    with pytest.raises(CheckError, match="level"):
        expected.load(bad)
    table = expected.load()
    assert table and all(e["level"] in expected.LEVELS for e in table.values())


def test_findings_file_takes_one_entry_per_tier(tmp_path):
    """One (check, id) may be FAIL at some tiers and INCONCLUSIVE at others, each with its reason; two entries for
    one tier are refused."""
    entry = '[[expected]]\ncheck = "a.b"\nid = "PIN-1"\nstatus = "{}"\nlevel = "regime"\nreason = "{}"\n{}'
    two = tmp_path / "two.toml"
    two.write_text(entry.format("FAIL", "small", 'tiers = ["quick"]\n')
                   + entry.format("INCONCLUSIVE", "paper", 'tiers = ["paper"]\n'))
    e = expected.load(two)[("a.b", "PIN-1")]
    assert [expected.expected_status(e, t) for t in ("quick", "standard", "paper")] == ["FAIL", "PASS", "INCONCLUSIVE"]
    assert expected.at_tier(e, "paper")["reason"] == "paper" and len(expected.entries(e)) == 2
    clash = tmp_path / "clash.toml"
    clash.write_text(entry.format("FAIL", "x", "") + entry.format("INCONCLUSIVE", "y", 'tiers = ["paper"]\n'))
    with pytest.raises(CheckError, match="disjoint"):
        expected.load(clash)


def test_readme_findings_come_from_the_findings_file():
    from checks import docs

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.readme_with_findings(text) == text, "README findings are stale: run `python -m checks.docs`"
    for (check, pid) in expected.load():
        assert f"`{check}`" in text


def test_first_table_names_the_deciding_criterion_and_the_finding():
    from checks.outputs.report import coverage

    v, = ToyCheck().run(ToyDesign.build("quick"), "quick")
    row = next(r for r in coverage([v]) if r["check"] == "toy.levels")
    assert row["status"] == PASS and row["refinement"] == FAIL and row["score"].startswith("held: paper's claim")


def test_fail_headline_is_the_failed_criterion():
    class Bad(ToyCheck):
        name = "toy.bad"

        def criteria(self, d, pred, obs):
            return [regime("in regime (regime reached)", True, "-"), holds("first, passes", True),
                    at_most("the failing one", 2.0, 1.0)]

    v, = Bad().run(ToyDesign.build("quick"), "quick")
    assert v.status == FAIL and [c["name"] for c in v.deciding()] == ["the failing one"]
    assert v.headline().startswith("FAILED: the failing one")


def test_status_table_is_generated_from_runs(tmp_path):
    """The README's status table comes from two runs' summary.json: every registered (check, ID) has one row."""
    import json

    from checks import status_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(status_table.START):text.index(status_table.END)]
    api.discover()
    pairs = {(cls.name, pid) for cls in REGISTRY.values() for pid in cls.ids()
             if cls.__module__.startswith("checks.suites")}
    for name, pid in pairs:
        assert f"| {pid} |" in block and f"`{name}`" in block, (name, pid)
    run = tmp_path / "q"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"verdicts": [
        {"check": "racing.race", "prediction_id": "PIN-7", "status": "PASS", "refinement_status": "FAIL"}]}))
    rows = status_table.rows(status_table._statuses(run), {})
    assert any("`racing.race`" in r and "| PASS / refinement FAIL | — |" in r for r in rows)
    with pytest.raises(CheckError, match="summary.json"):
        status_table._statuses(tmp_path / "nothing")


def test_alternatives_compete_at_their_level():
    """A rival of our refinement that fits makes the refinement INCONCLUSIVE, never the paper's claim; a claim-level
    alternative that fits makes the claim INCONCLUSIVE; a criterion the prediction fails rejects no alternative."""
    from checks.frame.core import Variant

    class Levels(Check):
        name, paper, prediction_id, claim, provenance = "toy.rivals", "GF", "MPG-P14", "toy", "[V]"
        design = ToyDesign
        uses = {"k": lambda: 1.0}
        alternatives = (Variant("k = 2 (ours)", {"k": lambda k: 2.0}, level="refinement"),)

        def observe(self, d):
            return {}

        def criteria(self, d, pred, obs):
            return [holds("claim", True), at_most("refinement uses k", pred["k"], 5.0, level=REFINEMENT)]

    v, = Levels().run(ToyDesign.build("quick"), "quick")
    assert v.status == PASS and v.refinement_status == INCONCLUSIVE and "rival" in v.message
    assert "a rival fits our refinement as well: k = 2 (ours)" in v.headline()

    class ClaimAlt(Levels):
        name = "toy.claim_alt"
        alternatives = (Variant("k = 2", {"k": lambda k: 2.0}),)

        def criteria(self, d, pred, obs):
            return [at_most("claim uses k", pred["k"], 5.0), at_most("truth fails this", 9.0, 5.0)]

    v, = ClaimAlt().run(ToyDesign.build("quick"), "quick")
    assert v.status == FAIL and v.alternatives[0]["status"] == PASS  # the failed criterion did not reject it
