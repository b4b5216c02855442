"""PIN-11 with two outputs (racing.target_direction_vector): the F1.3 vector target on hand examples, the design's
validation, and one quick run producing a verdict with its named criteria and every alternative rejected."""
import numpy as np
import pytest

from checks.runner import api
from checks.frame.core import REGISTRY
from checks.frame.errors import CheckError
from theory import racing
from theory.errors import TheoryError


def _rot(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def test_vector_target_hand_example_known_svd():
    R, Q = _rot(0.3), _rot(-1.1)  # M = R diag(3, 1) Qᵀ: u₁ = R[:, 0], v₁ = Q[:, 0], σ₁ = 3
    M = R @ np.diag([3.0, 1.0]) @ Q.T
    u1, v1 = R[:, 0], Q[:, 0]
    v, u, s = racing.vector_target(M, v1, u1)                       # c₁⁺ = 1 > 0
    assert np.allclose(v, v1) and np.allclose(u, u1) and np.isclose(s, 3.0)
    v, u, _ = racing.vector_target(M, -v1 + Q[:, 1], -0.5 * u1)     # c₁⁺ = −0.75 < 0: the pair flips together
    assert np.allclose(v, -v1) and np.allclose(u, -u1)
    # batched (2, k, d) with per-matrix w, a; and k = 1: sign(c⁺) m̂ with u = ±1
    V, U, S = racing.vector_target(np.stack([M, -M]), np.stack([v1, v1]), np.stack([u1, 0.5 * u1]))
    assert np.allclose(V, [v1, v1]) and np.allclose(U, [u1, -u1]) and np.allclose(S, 3.0)
    v, u, s = racing.vector_target(np.array([[3.0, 4.0]]), np.array([-1.0, 0.0]), np.array([0.1]))
    assert np.allclose(v, [-0.6, -0.8]) and np.allclose(u, [-1.0]) and np.isclose(s, 5.0)


def test_vector_target_refuses_degenerate_and_bad_input():
    with pytest.raises(TheoryError, match="no unique leading pair"):
        racing.vector_target(np.eye(2), [1.0, 0.0], [1.0, 0.0])       # σ₁ = σ₂
    with pytest.raises(TheoryError, match="c₁⁺ = 0"):
        racing.vector_target(np.diag([2.0, 1.0]), [0.0, 1.0], [0.0, 1.0])  # no component on the leading mode
    v, u, s = racing.vector_target(np.zeros((2, 2)), [1.0, 0.0], [1.0, 0.0], on_zero="nan")
    assert np.isnan(v).all() and np.isnan(u).all() and s == 0
    v, _, _ = racing.vector_target(np.eye(2), [1.0, 0.0], [1.0, 0.0], on_zero="zero")
    assert not v.any()
    with pytest.raises(TheoryError, match="w has shape"):
        racing.vector_target(np.eye(2), [1.0, 0.0, 0.0], [1.0, 0.0])
    with pytest.raises(TheoryError, match="M must be"):
        racing.vector_target(np.ones(3), [1.0], [1.0])
    with pytest.raises(TheoryError, match="gap"):
        racing.vector_target(np.diag([2.0, 1.0]), [1.0, 0.0], [1.0, 0.0], gap=2.0)


def _design():
    api.discover()
    return REGISTRY["racing.target_direction_vector"].design


@pytest.mark.parametrize("bad, match", [(dict(min_mass=1.5), "share"), (dict(early_residual=1.0), "share"),
                                        (dict(escape_share=0.0), "escape_share"), (dict(dim=1), "dim ≥ 2"),
                                        (dict(m=0), "m")])
def test_design_rejects_bad_values(bad, match):
    with pytest.raises(CheckError, match=match):
        _design().build("quick", **bad)


def test_design_tiers_and_paper_preset():
    cls = _design()
    assert (cls.build("quick").m, cls.build("standard").m) == (200, 300)
    d = cls.build("paper")
    assert (d.dim, d.m) == (2, 1000)
    source, needs = cls.paper_info()
    assert needs is None and "Figs. 2–5" in source and "two outputs" in source and "d = 2" in source


def test_quick_run_gives_a_verdict_with_the_named_criteria():
    from quick_outcomes import quick_outcome

    check, d, out = quick_outcome("racing.target_direction_vector")
    names = [c.name for c in out.criteria]
    assert any(n.startswith("the loss dropped") for n in names)
    assert any(n.startswith("incoming at escape: min cos(ŵ, sign(c₁⁺)v₁)") for n in names)
    assert any(n.startswith("outgoing at escape: min cos(â, sign(c₁⁺)u₁)") for n in names)
    (verdict,) = check.verdicts(out, "quick")
    assert verdict.prediction_id == "PIN-11" and verdict.status in ("PASS", "FAIL", "INCONCLUSIVE")
    assert len(out.alternatives) == 3 and all(a["status"] != "PASS" for a in out.alternatives)
    rows = out.numbers["clusters"]
    assert rows and all({"e_Y", "e_escape", "r_escape", "early"} <= set(r) for r in rows)
