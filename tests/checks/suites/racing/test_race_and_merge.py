"""Racing race/merge checks: figures, own data, the merge and prune helpers, design validation (teeth:
test_teeth.py)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.observe import neurons
from checks.frame.errors import CheckError
from checks.suites.racing import MergePruneXor, RaceXor
from checks.suites.racing.merge_prune import OnNorms, merge_formula
from numerics import data
from figure_overlap import drawn


def test_race_figures_written(tmp_path):
    vs = RaceXor().run(RaceXor.design.build("quick"), "quick", out=tmp_path)
    assert [v.prediction_id for v in vs] == ["PIN-7", "PIN-5"]
    figs = vs[0].figures
    assert len(figs) == 2 and all(drawn(tmp_path / f) for f in figs), vs[0].message


def test_race_and_merge_on_own_data(tmp_path):
    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 20, 6, 0.05, seed=3)
    d = RaceXor.design.build("quick", m=60, steps=300, dataset=ds)
    v = RaceXor().run(d, "quick", out=tmp_path)[0]
    assert v.status in ("PASS", "FAIL", "INCONCLUSIVE") and {c["name"] for c in v.criteria}
    d = MergePruneXor.design.build("quick", m=60, steps=300, lams=(1e-4, 1e-1), dataset=ds)
    vs = MergePruneXor().run(d, "quick", out=tmp_path)
    assert [v.prediction_id for v in vs] == ["PIN-6", "PIN-8", "PIN-9"]
    assert vs[0].status == "PASS", vs[0].criteria


@pytest.mark.parametrize("bad", [dict(data="cifar"), dict(lams=(1e-1, 1e-3)), dict(cluster_cos=1.5), dict(m=0)])
def test_merge_design_rejects_bad_settings(bad):
    with pytest.raises(CheckError):
        MergePruneXor.design.build("quick", **bad)


@given(seed=st.integers(0, 10 ** 6), k=st.integers(2, 6), d=st.integers(2, 5), spread=st.sampled_from([1e-3, 1e-1]))
def test_vector_merge_exact_on_shared_gating(seed, k, d, spread):
    """F1.8 on the vectors: one merged neuron reproduces a same-sign group on every shared-gating sample."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    W = (u + spread * rng.standard_normal((k, d))) * rng.uniform(0.5, 2, (k, 1))
    a = np.sign(rng.standard_normal()) * rng.uniform(0.5, 2, k)
    X = rng.standard_normal((50, d))
    labels = np.ones(k, dtype=int)
    fn = merge_formula().numeric("numpy")
    Wm, am, _ = neurons.merge(W, a, labels, lambda ai, wi: fn(ai, wi, 0.0, 0.0))
    shared = neurons.shared_gating(W, labels, X)
    h, hm = neurons.predict(W, a, X), neurons.predict(Wm, am, X)
    np.testing.assert_allclose(hm[shared], h[shared], atol=1e-12 * max(1.0, np.abs(h).max()))
    plain = OnNorms(merge_formula()).numeric("numpy")
    Wp, ap, _ = neurons.merge(W, a, labels, lambda ai, wi: plain(ai, wi, 0.0, 0.0))
    assert np.isclose(ap[0] * np.linalg.norm(Wp[0]), np.sum(a * np.linalg.norm(W, axis=1)))


def test_prune_bound_holds():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    W, a = rng.standard_normal((10, 4)), rng.standard_normal(10)
    h = neurons.predict(W, a, X)
    p = np.abs(a) * np.linalg.norm(W, axis=1)
    drop = np.argsort(p)[:3]
    keep = np.setdiff1d(np.arange(10), drop)
    dL = abs(0.5 * np.mean((neurons.predict(W[keep], a[keep], X) - y) ** 2) - 0.5 * np.mean((h - y) ** 2))
    assert dL <= neurons.prune_loss_bound(p[drop].sum(), X, h - y)


def test_digits_and_cifar_loaders(tmp_path):
    import pickle

    from numerics.validate import InputError

    ds = data.digits_binary((3, 8), 40, seed=1)
    assert ds.X.shape == (40, 64) and set(np.unique(ds.y)) == {-1.0, 1.0} and np.isfinite(ds.X).all()
    rng = np.random.default_rng(0)
    for b in (1, 2):
        batch = {b"data": rng.integers(0, 256, (30, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, 30))}
        with open(tmp_path / f"data_batch_{b}", "wb") as fh:
            pickle.dump(batch, fh)
    labels = np.concatenate([pickle.load(open(tmp_path / f"data_batch_{b}", "rb"))[b"labels"] for b in (1, 2)])
    c0, c1 = np.bincount(labels, minlength=10).argsort()[::-1][:2]
    ds = data.cifar10_binary(tmp_path, classes=(int(c0), int(c1)), n=8, seed=0)
    assert ds.X.shape == (8, 3072) and abs(ds.X.mean()) < 1e-12
    with pytest.raises(InputError, match="path"):
        data.cifar10_binary(tmp_path / "missing")
    with pytest.raises(InputError, match="fewer"):
        data.cifar10_binary(tmp_path, classes=(int(c0), int(c1)), n=10 ** 4)


# --------------------------------------------------------------------------- the XOR designs' input dimension
XOR_CHECKS = ("racing.race", "racing.merge_prune", "racing.target_direction")


def _xor_design(name):
    from checks.frame.core import REGISTRY

    return REGISTRY[name].design


@pytest.mark.parametrize("name", XOR_CHECKS)
def test_xor_designs_dim_default_and_paper_preset(name):
    """dim = 10 (E6 prior) on quick/standard/full; the paper preset is Pinson's d = 2, m = 1000, with its source."""
    cls = _xor_design(name)
    for tier in ("quick", "standard", "full"):
        assert cls.build(tier).dim == 10, tier
    d = cls.build("paper")
    assert (d.dim, d.m) == (2, 1000)
    source, needs = cls.paper_info()
    assert needs is None and "d = 2" in source and "pinson-racing.md#e6" in source
    assert "sign(a_j)" in source and "PIN-1" in source and "racing.gradient_ratios" in source  # outgoing scope
    assert "d = 2" in cls.sources["dim"] and "pinson-racing.md#e6" in cls.sources["dim"]
    assert cls.build("standard", dim="3").dim == 3


@pytest.mark.parametrize("name", XOR_CHECKS)
@pytest.mark.parametrize("bad, match", [(dict(dim=1), "dim ≥ 2"), (dict(dim=0), "dim ≥ 2"),
                                        (dict(dim="two"), "integer")])
def test_xor_designs_reject_bad_dim(name, bad, match):
    with pytest.raises(CheckError, match=match):
        _xor_design(name).build("standard", **bad)


def test_dim_does_not_apply_to_digits():
    from checks.suites.racing import race_dataset
    from checks.suites.racing.merge_prune import MergeDigitsDesign
    from checks.suites.racing.race import RaceDigitsDesign

    for cls in (RaceXor.design, MergePruneXor.design):
        with pytest.raises(CheckError, match="does not apply to data='digits'.*default 10"):
            cls.build("standard", data="digits", dim=2)
    assert RaceDigitsDesign.build("quick").dim == 10 and MergeDigitsDesign.build("quick").dim == 10
    with pytest.raises(CheckError, match="does not apply"):
        race_dataset("digits", 0, 2)
    with pytest.raises(CheckError, match="'xor' or 'digits'"):
        race_dataset("cifar", 0)
    # a user's data set keeps its own dimension: the paper preset's dim (like `data`) is not used
    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 5, 6, 0.05, seed=0)
    assert RaceXor.design.build("paper", dataset=ds).dim == 2


def test_race_run_dim_is_part_of_the_run_and_its_cache_key():
    from checks.suites.racing import race_dataset, race_run

    assert race_dataset("xor", 0).inputs.shape == (200, 10) and race_dataset("xor", 0, 2).inputs.shape == (200, 2)
    ds2, tr2 = race_run("xor", 0, m=8, steps=10, dim=2)
    ds3, tr3 = race_run("xor", 0, m=8, steps=10, dim=3)
    assert tr2.W[-1].shape == (8, 2) and tr3.W[-1].shape == (8, 3) and ds2.inputs.shape[1] == 2
    assert race_run("xor", 0, m=8, steps=10, dim=2)[1] is tr2  # cached per dim


def test_merge_at_dim_2_judges_no_merging_against_the_init():
    """d = 2: m directions on a circle already form fewer than m clusters at init, so PIN-8's 'about m at large
    λ' is judged against the init's own count (= m in d = 10)."""
    d = MergePruneXor.design.build("quick", dim=2, m=60, steps=300, lams=(1e-3, 1e-1))
    vs = {v.prediction_id: v for v in MergePruneXor().run(d, "quick")}
    crit = next(c for c in vs["PIN-8"].criteria if c["name"].startswith("clusters / clusters at init"))
    init = crit["details"]["init_clusters"]
    assert init and all(0 < k < 60 for k in init), crit
    assert vs["PIN-6"].status == "PASS", vs["PIN-6"].criteria


def test_target_direction_records_escape_diagnostics():
    """PIN-11 (scalar): judged per neuron, from the start of its last fixed-gating interval to its cluster's escape
    (a prediction from an unaligned state on the tetrahedral data; not testable on E6, where every neuron is
    aligned before its gating settles: reported); every cluster's escape and the escape-state and final-direction
    diagnostics are recorded and finite."""
    from quick_outcomes import quick_outcome

    check, d, out = quick_outcome("racing.target_direction")
    runs = out.numbers["runs"]
    assert [r["data"] for r in runs] == ["xor", "simplex"]
    for run in runs:
        esc, n = run["escape"], len(run["cos_final"])
        assert n and esc["cos_e_y"] == run["cos_final"] and len(run["cos_escape"]) == len(run["cos_start"]) > 0
        for key in ("t_escape", "r_escape", "cos_e_y", "cos_e_escape", "cos_escape_state"):
            v = np.asarray(esc[key], float)
            assert v.shape == (n,) and np.isfinite(v).all(), (run["data"], key, esc[key])
        assert len(esc["early"]) == n and sum(g["n"] for g in esc["groups"].values()) == n
    simplex = runs[1]
    turning = np.asarray(simplex["cos_start"]) < 0.95
    assert turning.sum() > 100 and np.percentile(np.asarray(simplex["cos_escape"])[turning], 5) > 0.99
    levels = {c.name.split(":")[0] + ":" + c.level for c in out.criteria}
    assert {"E6:measure", "simplex:claim", "simplex:measure"} <= levels and "E6:claim" not in levels


