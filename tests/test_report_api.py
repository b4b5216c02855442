"""Report (rendered in headless Chromium), the own-data API, a fuzz test of bad input, and determinism."""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checks
import numerics
from checks import all as checks_all
from checks import run as own
from numerics import data
from numerics.validate import InputError


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert checks_all.main(["--quick", "--only", "racing.race", "--out", str(out)]) == 0
    return out


def test_report_files_list_every_check_with_figures(report_dir):
    md = (report_dir / "report.md").read_text()
    assert "| check | paper | prediction | provenance | predicted | observed | tolerance | verdict |" in md
    assert "## racing.race" in md and "![racing.race](figures/racing.race.png)" in md
    page = (report_dir / "report.html").read_text()
    assert page.count("<img ") == 4 and "PASS" in page  # race and race_digits, two figures each


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_without_broken_images(report_dir):
    dom = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", (report_dir / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-images="4"' in body and 'data-broken-images="0"' in body, body
    (report_dir / "figures" / "racing.race.png").unlink()  # the test can see a broken image
    dom = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", (report_dir / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'data-broken-images="1"' in re.search(r"<body[^>]*>", dom).group(0)


def test_own_data_api_and_cli_on_a_saved_npz(tmp_path, capsys):
    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=0)
    path = tmp_path / "mine.npz"
    np.savez(path, X=ds.X, y=ds.y)
    v = checks.run("racing.race", ds.X, ds.y, lr=0.1, steps=600, out=tmp_path / "api")
    assert v.status == "PASS" and "user data" in v.message
    assert (tmp_path / "api" / "records" / "racing.race.json").is_file()
    assert own.main(["racing.fixed_gating", "--data", str(path), "--out", str(tmp_path / "cli")]) == 0
    assert own.main(["racing.race", "--data", str(tmp_path / "missing.npz")]) == 2
    np.savez(tmp_path / "bad.npz", X=ds.X)
    assert own.main(["racing.race", "--data", str(tmp_path / "bad.npz")]) == 2
    assert "lacks array" in capsys.readouterr().err


_bad_arrays = st.one_of(
    st.just(np.zeros((0, 3))), st.just(np.zeros(5)), st.just(np.full((4, 2), np.nan)), st.just(np.full((4, 2), np.inf)),
    st.just([["a", "b"]]), st.just(None), st.integers(1, 5).map(lambda n: np.ones((n, 2, 2))))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=_bad_arrays, name=st.sampled_from(["racing.race", "racing.merge_prune", "nope", "early_alignment.alignment"]))
def test_fuzz_own_data_api_raises_only_our_error(tmp_path, X, name):
    with pytest.raises(InputError):
        checks.run(name, X, np.ones(4), out=tmp_path)


@settings(max_examples=25)
@given(bad=st.sampled_from([("lam", 0.0), ("lam", -1.0), ("lam", float("nan")), ("lr", 0.0), ("lr", float("inf")),
                            ("m", 0), ("steps", -3), ("m", 2.5), ("colour", 1)]))
def test_fuzz_bad_config_is_named(bad):
    key, value = bad
    X, y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(InputError, match=key.split("_")[0]):
        checks.run("racing.race", X, y, **{key: value})


@settings(max_examples=30)
@given(n=st.integers(1, 6), d=st.integers(1, 4), m=st.integers(1, 4),
       mutation=st.sampled_from(["y_len", "nan_X", "W_shape", "a_len", "lr", "scale", "horizon"]))
def test_fuzz_engine_boundary_raises_only_our_error(n, d, m, mutation):
    import torch

    X, y = np.ones((n, d)), np.ones(n)
    W, a = numerics.init_params(m, d, scale=1e-2)
    kw = dict(lr=0.1, steps=2)
    if mutation == "y_len":
        y = np.ones(n + 1)
    elif mutation == "nan_X":
        X[0, 0] = np.nan
    elif mutation == "W_shape":
        W = torch.ones(m, d + 1, dtype=torch.float64)
    elif mutation == "a_len":
        a = torch.ones(m + 1, dtype=torch.float64)
    elif mutation == "lr":
        kw["lr"] = -0.1
    elif mutation == "horizon":
        kw = dict(lr=0.1, horizon=-1.0)
    else:
        with pytest.raises(InputError, match="scale"):
            numerics.init_params(m, d, scale=0.0)
        return
    with pytest.raises(InputError):
        numerics.train(X, y, W, a, progress=False, **kw)


def test_same_seed_gives_identical_verdicts_and_records(tmp_path):
    def once(out):
        assert checks_all.main(["--quick", "--only", "racing.angle_norm_laws", "--out", str(out)]) == 0
        rec = json.loads((out / "records" / "racing.angle_norm_laws.json").read_text())
        rec.pop("seconds")
        rec["figures"] = [f.replace(str(out), "") for f in rec["figures"]]
        return rec

    assert once(tmp_path / "a") == once(tmp_path / "b")
