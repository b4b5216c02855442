"""Early-alignment checks beyond the generic teeth test: figures, own data, the drawn family, the design."""
import numpy as np
import pytest
from hypothesis import given, settings

from checks.frame.errors import CheckError
from checks.strategies import small_datasets
from checks.suites.early_alignment import Alignment, ExtremalFixedPoints
from checks.suites.early_alignment.fixed_points import ring_data
from numerics import data
from theory import extremal
from figure_overlap import drawn


def test_alignment_figures_written(tmp_path):
    vs = Alignment().run(Alignment.design.build("quick", instances=0), "quick", out=tmp_path)
    assert [v.prediction_id for v in vs] == ["BF-P1", "BF-P2", "BF-P4"]
    assert all(v.status == "PASS" for v in vs), [(v.prediction_id, v.failed, v.message) for v in vs]
    figs = vs[0].figures
    assert len(figs) == 2 and all(drawn(tmp_path / f) for f in figs)  # curve + polar view (d = 2)


def test_alignment_on_user_data_in_five_dimensions(tmp_path):
    """Own data (d = 5, labels of both signs): positives align to positive extremal vectors, negatives to negative
    ones (BF-P1); BF-P4 assumes positive labels, so it is INCONCLUSIVE; no polar view for d ≠ 2."""
    ds = data.linear_teacher(40, 5, 0.1, seed=0)
    d = Alignment.design.build("quick", dataset=ds, m=200, lam=1e-3, instances=0)
    vs = {v.prediction_id: v for v in Alignment().run(d, "quick", out=tmp_path)}
    assert vs["BF-P1"].status == "PASS", (vs["BF-P1"].criteria, vs["BF-P1"].message)
    assert any("negative extremal" in c["name"] and c["passed"] for c in vs["BF-P1"].criteria)
    assert vs["BF-P4"].status == "INCONCLUSIVE"
    assert len(vs["BF-P1"].figures) == 1 and vs["BF-P1"].design["dataset"]["d"] == 5


def test_alignment_design_validation():
    with pytest.raises(CheckError, match="eps_judged"):
        Alignment.design.build("quick", eps_judged=0.4)
    with pytest.raises(CheckError, match="lam_factors"):
        Alignment.design.build("quick", lam_factors=(1e-2, 1.0))
    with pytest.raises(CheckError, match="steps"):
        Alignment.design.build("quick", steps=0)
    with pytest.raises(CheckError, match="takes no user data"):
        ExtremalFixedPoints.design.build("quick", dataset=data.one_d_three_points())
    with pytest.raises(CheckError, match="labels"):
        ExtremalFixedPoints.design.build("quick", labels=(1.0, 0.5))
    with pytest.raises(CheckError, match="widths"):
        ExtremalFixedPoints.design.build("quick", widths=(1000, 100))


def test_fixed_points_data_have_several_interior_extremal_vectors():
    """The reviewer's point: on E3 G_n has one extremal vector, so '≤ #extremal clusters' is '≤ 1'. The ring with
    labels (1, −0.95, 0.9) has four, three minima and one maximum (so a negative cluster is judged, issue #25),
    interior to their cells (res = 0, ≥ 20° from every kink), rates within 10 % of g*."""
    e3 = data.stewart(40, seed=0)
    assert len(extremal.enumerate_extremal(e3.inputs, e3.y)) == 1
    ds = ring_data(ExtremalFixedPoints.design.build("standard").labels)
    ext = extremal.enumerate_extremal(ds.X, ds.y)
    assert len(ext) == 4 and sorted(e.kind for e in ext) == ["max", "min", "min", "min"]
    U = np.array([e.u for e in ext])
    assert np.all(extremal.residual(U, ds.X, ds.y) < 1e-12)
    assert np.all(np.abs(U @ ds.X.T) > np.sin(np.radians(20)))
    rates = np.array([e.rate for e in ext])
    assert rates.min() >= 0.9 * rates.max() - 1e-12


def test_fixed_points_negative_labels_give_negative_clusters():
    """Negated labels turn the six minima into maxima: the clusters are negative neurons, the sign rule's other
    half (BF-P6), and the alternatives are still rejected."""
    c = ExtremalFixedPoints()
    d = ExtremalFixedPoints.design.build("quick", labels=(-1.0, -0.95, -0.9))
    out = c.outcome(d)
    vs = {v.prediction_id: v for v in c.verdicts(out, "quick")}
    assert vs["BF-P5"].status == "PASS" and vs["BF-P6"].status == "PASS", [v.criteria for v in vs.values()]
    assert all(a["status"] == "FAIL" for a in out.alternatives)
    signs = {cl["sign"] for run in out.observed["runs"] for cl in run["clusters"]}
    assert signs == {-1.0}


def test_fixed_points_single_extremal_vector_is_undecided():
    """With < 2 extremal vectors the bound has no teeth: that criterion is undecided, never passed."""
    c = ExtremalFixedPoints()
    d = ExtremalFixedPoints.design.build("quick", widths=(50, 100))
    obs = c.observe(d)
    th = c.theory()
    th.extremals = lambda X, y: extremal.enumerate_extremal(X, y)[:1]
    _, crit = c.judge(d, th, obs)
    first = next(k for k in crit if k.name.startswith("extremal vectors"))
    assert first.passed is None


def test_steps_cap_makes_alignment_undecided():
    d = Alignment.design.build("quick", steps=10, instances=0)
    vs = Alignment().run(d, "quick")
    assert {v.status for v in vs} == {"INCONCLUSIVE"}


@settings(max_examples=30)
@given(small_datasets())
def test_small_datasets_satisfy_the_hypotheses(ds):
    """Positive labels, pairwise positive correlation with a margin, general position, d ∈ {2, 3}, n ≤ 8; exactly
    one positive extremal vector, every point active, strictly inside its cell."""
    X, y = ds.X, ds.y
    assert 2 <= len(y) <= 8 and X.shape[1] in (2, 3) and ds.meta["seed"] >= 0
    assert np.all(y >= 0.1)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    C = U @ U.T
    assert np.all(C > 0.15) and np.all(C[~np.eye(len(y), dtype=bool)] < np.cos(np.radians(2.0)) + 1e-12)
    mins = [e for e in extremal.enumerate_extremal(X, y) if e.kind == "min"]
    assert len(mins) == 1 and all(mins[0].pattern) and np.all(X @ mins[0].u > 0)


def test_fixed_points_with_positive_labels_cannot_judge_the_maxima():
    """All labels positive: G_n has no maximum, no negative cluster forms, so the sign rule's negative half and the
    'negative cluster at a maximum' criterion are vacuous: INCONCLUSIVE, never PASS."""
    c = ExtremalFixedPoints()
    out = c.outcome(ExtremalFixedPoints.design.build("quick", labels=(1.0, 0.95, 0.9)))
    vs = {v.prediction_id: v for v in c.verdicts(out, "quick")}
    assert vs["BF-P5"].status == "INCONCLUSIVE", vs["BF-P5"].criteria


def test_separating_data_put_every_rival_direction_at_least_ten_degrees_from_the_extremal_vector():
    """Issue #25: on E2 the mean input, the nearest point and the top principal direction lie within 1 − cos ≤ 5e-3
    of ĝ; on the separating data each is ≥ 10° away (24°–32°), so BF-P1's alternatives are rejected by angle."""
    from checks.suites.early_alignment import rivals, separation

    ds = separation.separating_data()
    ext = extremal.enumerate_extremal(ds.X, ds.y)
    assert [e.kind for e in ext] == ["min"]
    angles = separation.referee_angles(ext[0].u, ds.X, ds.y, rivals.RIVALS)
    assert set(angles) == set(rivals.RIVALS) and min(angles.values()) >= 10.0, angles
