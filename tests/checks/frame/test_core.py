"""The check frame v2: designs and overrides, criteria → status, alternatives, families with shrinking, records."""
import json
from pathlib import Path
from dataclasses import dataclass
from typing import ClassVar

import jsonschema
import pytest
from hypothesis import strategies as st

import checks
from checks import FAIL, INCONCLUSIVE, PASS, Check, CheckError, Design, Variant
from checks.frame.criteria import at_most, holds, undecided, within
from checks.frame.design import parse_assignments


@dataclass(frozen=True)
class SumDesign(Design):
    """Toy experiment: sum 1..n by a loop (the 'run') against Gauss's formula (the 'theory')."""

    n: int = 10
    scale: float = 1.0
    instances: int = 6
    tags: tuple[int, ...] = (1, 2)
    presets: ClassVar = {"quick": dict(n=4, instances=4), "paper": dict(n=100)}

    def validate(self):
        if self.n < 1:
            raise CheckError(f"n={self.n}: must be ≥ 1")


def gauss():
    return lambda n: n * (n + 1) / 2


class SumCheck(Check):
    name = "toy.sum"
    paper = "GF"
    prediction_id = "MPG-P14"
    claim = "1 + … + n = n(n + 1)/2 for every n"
    provenance = "[V]"
    design = SumDesign
    uses = {"formula": gauss}
    alternatives = (Variant("n²/2", {"formula": lambda f: (lambda n: n * n / 2)}),)
    mutants = (Variant("off by one", {"formula": lambda f: (lambda n: f(n) + 1)}),)
    family = staticmethod(lambda d: st.fixed_dictionaries({"n": st.integers(1, 60)}))

    def predict(self, d, th):
        return {"total": th.formula(d.n)}

    def observe(self, d):
        return {"total": float(sum(range(1, d.n + 1)))}

    def criteria(self, d, pred, obs):
        return [within("sum", obs["total"], pred["total"], 1e-9, "exact integer identity")]


class PlantedWrong(SumCheck):
    """Theory planted wrong from n = 7 on: the family must find it and shrink to n = 7."""

    name = "toy.planted"
    uses = {"formula": lambda: (lambda n: n * (n + 1) / 2 + (n >= 7))}
    alternatives = ()


def test_design_tiers_overrides_and_errors():
    assert SumDesign.build("quick").n == 4 and SumDesign.build("standard").n == 10
    assert SumDesign.build("full").n == 10 and SumDesign.build("paper").n == 100  # paper → its own preset
    d = SumDesign.build("quick", **parse_assignments(["n=7", "scale=2", "tags=3,4"]))
    assert (d.n, d.scale, d.tags) == (7, 2.0, (3, 4))
    assert d.to_dict()["tags"] == [3, 4] and d.to_dict()["seed"] == 0
    with pytest.raises(CheckError, match="unknown setting 'm'.*valid settings: seed, device, n, scale"):
        SumDesign.build("quick", m=3)
    with pytest.raises(CheckError, match="n='abc'.*an integer"):
        SumDesign.build("quick", n="abc")
    with pytest.raises(CheckError, match="must be ≥ 1"):
        SumDesign.build("quick", n=0)
    with pytest.raises(CheckError, match="tier='huge'"):
        SumDesign.build("huge")
    with pytest.raises(CheckError, match="seed"):
        SumDesign.build("quick", seed=-1)
    with pytest.raises(CheckError, match="KEY=VALUE"):
        parse_assignments(["n"])
    with pytest.raises(CheckError, match="takes no user data"):
        SumDesign.build("quick", dataset=object())


def test_status_from_criteria_alternatives_and_family():
    v, = SumCheck().run(SumDesign.build("quick"), "quick")
    assert v.status == PASS, v
    assert [a["status"] for a in v.alternatives] == [FAIL]
    assert v.family["instances"] >= 1 and v.family["counterexample"] is None
    assert v.criteria[-1]["name"].startswith("family:")
    assert v.design["n"] == 4 and v.tier == "quick" and v.versions["numpy"] and v.prediction_id == "MPG-P14"


def test_planted_wrong_prediction_fails_with_a_shrunk_counterexample():
    d = SumDesign.build("quick", n=3, instances=30)     # the paper example n = 3 itself passes
    v, = PlantedWrong().run(d, "quick")
    assert v.status == FAIL
    assert v.failed == ["family: every drawn instance passes"]
    assert v.family["counterexample"] == {"n": 7}       # Hypothesis shrank it to the smallest failing n
    assert "sum" in v.family["failed_criteria"]


def test_an_alternative_that_fits_makes_it_inconclusive():
    class Blunt(SumCheck):
        name = "toy.blunt"
        alternatives = (Variant("same formula, rewritten", {"formula": lambda f: (lambda n: (n * n + n) / 2)}),)
        family = None

    v, = Blunt().run(SumDesign.build("quick"), "quick")
    assert v.status == INCONCLUSIVE and "alternative fits" in v.message


def test_mutant_is_judged_on_the_same_observation():
    c, d = SumCheck(), SumDesign.build("quick", instances=0)
    out = c.outcome(d)
    assert out.family is None
    assert c.score_variant(SumCheck.mutants[0], d, c.theory(), out.observed)["status"] == FAIL


def test_criterion_helpers():
    assert within("x", 1.0, 1.05, 0.1).passed and not within("x", float("nan"), 1.0, 1.0).passed
    assert within("x", 110.0, 100.0, 0.2, relative=True).passed
    assert at_most("e", 1e-13, 1e-12).passed and not at_most("e", 1e-11, 1e-12).passed
    assert holds("h", True).passed and undecided("u", "nothing pruned").passed is None


def test_several_ids_give_one_record_each():
    class Two(SumCheck):
        name = "toy.two"
        also_judges = ("MPG-P13",)
        family = None
        alternatives = ()

        def criteria(self, d, pred, obs):
            return [within("sum", obs["total"], pred["total"], 1e-9),
                    undecided("size", "the toy has no second claim", prediction_id="MPG-P13")]

    vs = Two().run(SumDesign.build("quick"), "quick")
    assert [(v.prediction_id, v.status) for v in vs] == [("MPG-P14", PASS), ("MPG-P13", INCONCLUSIVE)]


def test_error_becomes_verdict():
    class Broken(SumCheck):
        name = "toy.broken"

        def observe(self, d):
            raise RuntimeError("boom")

    v, = Broken().run(SumDesign.build("quick"), "quick")
    assert v.status == "ERROR" and "boom" in v.message and "traceback" in v.numbers


def test_records_match_the_json_schema(tmp_path):
    from checks.outputs import run_folder as outputs
    from checks.frame.verdict import Verdict

    schema = json.loads((Path(checks.__file__).with_name("verdict.schema.json")).read_text())
    vs = SumCheck().run(SumDesign.build("quick"), "quick", out=tmp_path)
    outputs.write_all(vs, tmp_path, "quick", 0.1)
    rec = json.loads((tmp_path / "records" / "toy.sum.MPG-P14.json").read_text())
    jsonschema.validate(rec, schema)
    assert Verdict(**{k: v for k, v in rec.items() if k != "citation"}).status == PASS
    csv = (tmp_path / "results.csv").read_text().splitlines()
    assert csv[0].startswith("check,prediction_id") and len(csv) == 1 + len(rec["criteria"])
    assert "The papers' claims, by prediction ID" in (tmp_path / "report.md").read_text()


class GatedSum(SumCheck):
    """The sum claim behind a regime the run does not reach (n ≥ 1000): the prediction is INCONCLUSIVE."""

    name = "toy.gated_sum"
    family = None

    def criteria(self, d, pred, obs):
        from checks.frame.criteria import gated, regime

        return gated(regime("n ≥ 1000 (regime reached)", d.n >= 1000, f"n = {d.n}: set n ≥ 1000"),
                     [within("sum", obs["total"], pred["total"], 1e-9, "exact integer identity")])


def test_a_run_that_does_not_decide_the_claim_rejects_no_alternative():
    """The n²/2 alternative misses the sum, but where the prediction's own criterion is gated (undecided) the run
    rejects nothing: the alternative is INCONCLUSIVE, not FAIL (referee: a capacity alternative 'rejected' beside an
    INCONCLUSIVE threshold claim). In the regime, the same alternative FAILs."""
    c = GatedSum()
    out = c.outcome(SumDesign.build("quick"))
    (v,) = c.verdicts(out, "quick")
    assert v.status == "INCONCLUSIVE" and [a["status"] for a in v.alternatives] == ["INCONCLUSIVE"]
    out = c.outcome(SumDesign.build("quick", n=1000))
    (v,) = c.verdicts(out, "quick")
    assert v.status == "PASS" and [a["status"] for a in v.alternatives] == ["FAIL"]
