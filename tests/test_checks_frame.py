"""The check frame, the runner CLI, and the teeth of the conservation checks."""
import json

import pytest

from checks import FAIL, PASS, Context
from checks.all import main
from checks.suites.conservation import DriftOrder, GDStepExact
from theory.network import gd_defect_formula


@pytest.fixture
def ctx(tmp_path):
    return Context(tier="quick", out=tmp_path)


def test_gd_step_exact_passes_with_theory(ctx):
    v = GDStepExact().run(ctx)
    assert v.status == PASS, v
    assert v.provenance == "[R]" and v.prediction_id == "MPG-P1"


@pytest.mark.parametrize("wrong", [gd_defect_formula(eta_power=1),                     # η instead of η²
                                   gd_defect_formula().subs({gd_defect_formula().args[0]: 0.5}),  # η frozen
                                   gd_defect_formula(eta_power=3)])
def test_gd_step_exact_has_teeth(ctx, wrong):
    assert GDStepExact(defect=wrong).run(ctx).status == FAIL


def test_gd_step_exact_missing_factor_fails(ctx):
    f = gd_defect_formula()
    half = type(f)(f.id, f.name, f.tag, f.meaning, f.rhs / 2, f.args, f.lhs)
    assert GDStepExact(defect=half).run(ctx).status == FAIL


def test_drift_order_pass_and_teeth(ctx):
    assert DriftOrder().run(ctx).status == PASS
    assert DriftOrder(defect=gd_defect_formula(eta_power=3)).run(ctx).status == FAIL  # predicts slope 2
    assert DriftOrder(defect=gd_defect_formula(eta_power=1)).run(ctx).status == FAIL  # predicts slope 0


def test_error_becomes_verdict(ctx):
    class Broken(GDStepExact):
        def observe(self, ctx):
            raise RuntimeError("boom")

    v = Broken().run(ctx)
    assert v.status == "ERROR" and "boom" in v.message


def test_runner_writes_records_and_figures(tmp_path, capsys):
    rc = main(["--quick", "--only", "conservation.*", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "PASS" in out and "MPG-P3" in out
    rec = json.loads((tmp_path / "records" / "conservation.drift_order.json").read_text())
    assert rec["status"] == PASS and rec["provenance"] == "[R]"
    assert (tmp_path / "figures" / "conservation.drift_order.png").stat().st_size > 1000
    summary = json.loads((tmp_path / "summary.json").read_text())
    names = {v["check"] for v in summary["verdicts"]}
    assert {"conservation.drift_order", "conservation.gd_step_exact"} <= names
    assert all(n.startswith("conservation.") for n in names)
    assert not list(tmp_path.rglob("*.tmp"))


def test_runner_list_and_bad_pattern(tmp_path, capsys):
    assert main(["--list", "--quick"]) == 0
    assert "conservation.gd_step_exact" in capsys.readouterr().out
    assert main(["--only", "no-such-check", "--out", str(tmp_path)]) == 2
    assert "matches no check" in capsys.readouterr().err
    assert main(["--device", "tpu", "--out", str(tmp_path)]) == 2
