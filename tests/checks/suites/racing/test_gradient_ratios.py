"""racing.gradient_ratios (PIN-12): the λ-exponent is judged only over init scales of the small-output regime.

Teeth (every mutant FAILs) are tested for every check by tests/checks/suites/test_teeth.py.
"""
from checks.suites.racing.gradient_ratios import SMALL_OUTPUT, GradientRatios


def _exponent_criteria(v):
    return [c for c in v.criteria if c["name"].startswith("λ-exponent")]


def test_an_init_scale_with_a_large_output_is_shown_not_fitted(tmp_path):
    """Paper tier (d = 2, m = 1000): at λ = 0.1 the init's output is ≈ 0.94 of the target, so the ratio's slope
    there is not the homogeneity degree (the paper tier's former FAIL: 0.949 over 1e-4 … 1e-1). The fit keeps
    λ ≤ 1e-2 and PASSes; λ = 0.1 is named in the regime's rationale with its output ratio."""
    C = GradientRatios
    [v] = C().run(C.design.build("paper"), "paper", out=tmp_path)
    assert v.status == "PASS", v.criteria
    gate = next(c for c in v.criteria if "regime reached" in c["name"])
    assert gate["value"] == 3 and "λ = 0.1" in gate["rationale"]
    assert gate["details"]["h_over_y"]["0.1"] > 0.5 > SMALL_OUTPUT >= gate["details"]["h_over_y"]["0.01"]
    assert all(abs(c["value"] - c["predicted"]) <= 0.05 for c in _exponent_criteria(v))


def test_only_large_init_scales_leave_the_exponent_undecided(tmp_path):
    """With no two init scales in the small-output regime the exponents judge nothing: INCONCLUSIVE, naming the fix;
    the per-neuron identities are still judged."""
    C = GradientRatios
    [v] = C().run(C.design.build("quick", lams=(0.1, 0.3)), "quick", out=tmp_path)
    assert v.status == "INCONCLUSIVE", v.criteria
    gate = next(c for c in v.criteria if "regime reached" in c["name"])
    assert gate["passed"] is None and gate["value"] == 0 and "add smaller lams" in gate["details"]["why"]
    assert all(c["passed"] is None for c in _exponent_criteria(v))
    assert all(c["passed"] for c in v.criteria if c["name"].startswith("max rel. error"))
