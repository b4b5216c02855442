"""A criterion's terminal and report text is computed from its result (held / FAILED / undecided with the value and,
undecided, the fix), never a fixed label or a template with a hole; checks.run and checks.all share one exit rule."""
import re

import numpy as np
import pytest
from quick_outcomes import quick_outcome

from checks import all as checks_all
from checks.runner import cli
from checks.runner import own_data as own
from checks.frame.criteria import at_most, describe, gated, label, regime, undecided, within
from checks.suites.racing.runs import loss_drop_regime
from checks.frame.verdict import Verdict

# Cheap checks (a few seconds each at the quick tier) whose criteria include regimes, gated criteria and
# predictions; the outcomes are shared with the teeth and figure tests (computed once per session).
CHEAP = ("conservation.drift_order", "racing.race", "early_alignment.alignment", "racing.fixed_gating")
HOLES = [r"\(\s*\)", r"\(\s*,", r",\s*\)", r"\bin\s+\(", r"\bin\s*[;,.]", r":\s*[;,]", r"\s{2,}", r"\bNone\b",
         r"\{\w*\}", r"^\s*:", r":\s*$", r"\bnan\b.*\bnan\b"]


def _holes(text: str) -> list[str]:
    return [h for h in HOLES if re.search(h, text)]


def test_held_failed_and_undecided_read_from_the_result():
    ok = within("slope", 1.02, 1, 0.1).to_dict()
    bad = at_most("error", 0.5, 1e-3).to_dict()
    assert describe(ok) == "held: slope: 1.02 (pred 1, |obs − pred| ≤ 0.1)"
    assert describe(bad).startswith("FAILED: error: 0.5 (≤ 0.001)")
    why = undecided("pruned fraction", "nothing was pruned; raise lam").to_dict()
    assert describe(why) == "undecided: pruned fraction: nothing was pruned; raise lam"


def test_a_regime_not_reached_never_reads_as_reached_and_names_the_fix():
    flat = loss_drop_regime([("seed 0", np.ones(50))])
    text = describe(flat.to_dict())
    assert flat.passed is None and "(regime not reached)" in text and "(regime reached)" not in text
    assert text.startswith("undecided: ") and "raise steps or lr, or lower lam" in text and not _holes(text)
    drop = loss_drop_regime([("seed 0", np.linspace(1, 0.01, 50))])
    assert drop.passed is True and "why" not in drop.details               # no "… in  (min L/L(0) …" template
    assert describe(drop.to_dict()).startswith("held: ") and not _holes(describe(drop.to_dict()))
    g = gated(regime("early phase (regime reached)", False, "the output already fits; lower lam", value=0.7),
              [within("slope", 1.0, 1, 0.1)])
    assert [c.passed for c in g] == [None, None]
    assert "not judged: 'early phase (regime reached)' does not hold (0.7)" in describe(g[1].to_dict())
    assert label(g[0].to_dict()) == "early phase (regime not reached)"


@pytest.mark.parametrize("name", CHEAP)
def test_every_criterion_of_a_quick_run_renders_without_holes(name):
    check, d, out = quick_outcome(name)
    texts = [c.text() for c in out.criteria]
    texts += [c.text() for a in out.alternatives for c in getattr(a, "criteria", ())]
    v = Verdict(check=name, prediction_id=check.prediction_id, paper=check.paper, claim=check.claim,
                provenance=check.provenance, status="PASS", criteria=tuple(c.to_dict() for c in out.criteria))
    texts.append(v.headline())
    assert texts
    for c, t in zip(out.criteria, texts):
        want = ("reported: " if c.level == "measure"
                else {True: "held: ", False: "FAILED: ", None: "undecided: "}[c.passed])
        assert t.startswith(want), t
    bad = {t: _holes(t) for t in texts if _holes(t)}
    assert not bad, bad


def test_both_commands_share_the_exit_rule(capsys):
    """checks.all and checks.run document the same rule and return it through one function."""
    assert "checks.runner.cli.finish" in checks_all.__doc__ and "checks.runner.cli.finish" in own.__doc__
    v = dict(check="racing.race", prediction_id="PIN-7", paper="Pinson", claim="c", provenance="[R]")
    fail = Verdict(status="FAIL", criteria=(within("x", 2, 1, 0.1).to_dict(),), **{**v, "check": "x.y"})
    assert cli.finish([fail], "quick") == 1                  # an unlisted FAIL
    assert cli.finish([Verdict(status="INCONCLUSIVE", **v)], "quick") == 0
    from checks.frame import predictions as expected

    listed = [(c, i) for (c, i), e in expected.load().items() if expected.expected_status(e, "quick") == "FAIL"]
    assert listed, "the test needs a claim FAIL listed at the quick tier"
    for check, pid in listed[:1]:  # a listed finding does not fail the run
        assert cli.finish([Verdict(status="FAIL", **{**v, "check": check, "prediction_id": pid})], "quick") == 0
    assert cli.finish([Verdict(status="ERROR", message="boom", **v)], "quick") == 1
    capsys.readouterr()
