"""The runner: selection, --set/--config/keyword overrides for every check, outputs, report, own data, bad input."""
import html
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checks
from checks import CheckError
from checks.outputs import run_folder as outputs
from checks.runner import api
from checks import all as checks_all
from checks.runner import own_data as own
from numerics import data
from figure_overlap import drawn

ALL = api.discover()
ROOT = Path(checks.__file__).resolve().parent.parent


@pytest.mark.parametrize("cls", ALL, ids=[c.name for c in ALL])
def test_every_check_takes_overrides_and_rejects_bad_keys(cls, tmp_path):
    """--set, --config and keyword overrides build the design of every check; unknown keys name the valid ones."""
    key = next(k for k in cls.design.keys() if k not in ("seed", "device"))
    value = getattr(cls.design.build("quick"), key)
    text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    d, = api.designs_for([cls], "quick", {key: text, "seed": "3"})
    assert getattr(d, key) == value and d.seed == 3
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'seed = 5\n["{cls.name}"]\nseed = 4\n')
    d, = api.designs_for([cls], "quick", {}, api.load_config(cfg))
    assert d.seed == 4                                        # the check's table beats the top-level key
    with pytest.raises(CheckError, match=r"not a setting of .*valid settings"):
        api.designs_for([cls], "quick", {"no_such_key": 1})


def test_cli_selection_and_bad_arguments(tmp_path, capsys):
    assert checks_all.main(["--list", "--quick", "--only", "racing.race"]) == 0
    listed = capsys.readouterr().out
    assert "racing.race " in listed and "racing.race_digits" not in listed      # exact name, not a substring
    assert checks_all.main(["--list", "--only", "PIN-7"]) == 0 and "racing.race" in capsys.readouterr().out
    assert checks_all.main(["--only", "no-such-check", "--out", str(tmp_path)]) == 2
    assert "matches no check" in capsys.readouterr().err
    assert checks_all.main(["--quick", "--only", "threshold.dependence", "--out", str(tmp_path)]) == 2
    assert "runs in" in capsys.readouterr().err                             # 0 checks is an error, not a green run
    assert checks_all.main(["--only", "conservation.drift_order", "--set", "lrz=1", "--out", str(tmp_path)]) == 2
    assert "valid settings" in capsys.readouterr().err
    assert checks_all.main(["--only", "conservation.drift_order", "--set", "horizon=x", "--out", str(tmp_path)]) == 2
    assert "must be a number" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("")
    assert checks_all.main(["--only", "conservation.drift_order", "--out", str(afile)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert checks_all.main(["--device", "tpu", "--out", str(tmp_path)]) == 2
    assert checks_all.main(["--seed", "-1", "--out", str(tmp_path)]) == 2 and "--seed" in capsys.readouterr().err


def test_cli_run_writes_records_csv_report_and_removes_stale_records(tmp_path, capsys):
    stale = tmp_path / "records" / "old.check.PIN-1.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    rc = checks_all.main(["--quick", "--only", "conservation.drift_order,conservation.gd_step_exact",
                          "--set", "seed=1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "PASS" in out and "MPG-P3" in out and "verdicts:" in out
    assert "coverage: 2/45 prediction IDs judged" in out
    rec = json.loads((tmp_path / "records" / "conservation.drift_order.MPG-P3.json").read_text())
    assert rec["status"] == "PASS" and rec["provenance"] == "[V: SGD bound; R; C]" and rec["design"]["seed"] == 1
    assert rec["figures"] == ["figures/conservation.drift_order.png"] and rec["tier"] == "quick"
    assert drawn(tmp_path / rec["figures"][0])
    assert not stale.exists() and not list(tmp_path.rglob("*.tmp"))
    assert (tmp_path / "results.csv").read_text().count("conservation.") >= 2
    md = (tmp_path / "report.md").read_text()
    assert re.search(r"\| \[?MPG-P3\b", md) and "not run" in md and "![conservation.drift_order](figures/" in md
    assert 'src="data:image/png;base64,' in (tmp_path / "report.html").read_text()   # the page travels alone


def test_outputs_honour_the_umask(tmp_path, capsys):
    """Every file and folder of a run gets the mode the umask allows (not a temporary file's 0600): a run folder
    can be shared on a shared file system."""
    import os
    import stat

    old = os.umask(0o027)
    try:
        assert checks_all.main(["--quick", "--only", "conservation.drift_order", "--out", str(tmp_path / "r")]) == 0
        write_json = __import__("checks.outputs.io", fromlist=["write_json"]).write_json
        write_json(tmp_path / "r" / "extra" / "x.json", {"a": 1})           # the atomic writer, folders included
    finally:
        os.umask(old)
    capsys.readouterr()
    made = [p for p in (tmp_path / "r").rglob("*") if not p.is_symlink()]
    assert any(p.suffix == ".png" for p in made) and any(p.name == "report.html" for p in made)
    for p in made:
        want = 0o750 if p.is_dir() else 0o640
        assert stat.S_IMODE(p.stat().st_mode) == want, (p, oct(p.stat().st_mode))


def test_config_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("m = [")
    with pytest.raises(CheckError, match="not valid TOML"):
        api.load_config(bad)
    bad.write_text("[nosuch.check]\nm = 1\n")
    with pytest.raises(CheckError, match="is not a check"):
        api.load_config(bad)
    with pytest.raises(CheckError, match="is not a file"):
        api.load_config(tmp_path / "missing.toml")


@pytest.fixture(scope="module")
def moved_run(tmp_path_factory):
    """One quick run written over an earlier run's leftovers, then moved (as a results folder is shared)."""
    base = tmp_path_factory.mktemp("run")
    stale = base / "orig" / "theory" / "stale-page.md"        # a digest copy an earlier run left
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    (base / "orig" / outputs.MARKER).touch()                    # … in the folder it wrote
    assert checks_all.main(["--quick", "--only", "conservation.drift_order", "--set", "seed=2",
                            "--out", str(base / "orig")]) == 0
    (base / "elsewhere").mkdir()
    return Path(shutil.move(base / "orig", base / "elsewhere" / "shared run")), base / "orig"


def _targets(text: str) -> list[str]:
    """The link and image targets of a report (Markdown and HTML), data URIs and web addresses left out."""
    found = re.findall(r"\]\(([^)\s]+)\)", text)
    found += [html.unescape(t) for t in re.findall(r'(?:href|src)="([^"]*)"', text)]
    return [t for t in found if not re.match(r"(data|https?|mailto):", t)]


def _resolves(folder: Path, doc: Path, target: str) -> bool:
    """Whether `target` (relative to `doc`) names a file inside `folder`, and its anchor exists there."""
    path, _, anchor = target.partition("#")
    file = (doc.parent / path).resolve() if path else doc
    if not file.is_file() or folder.resolve() not in (file.parents if path else [folder.resolve()]):
        return False
    return not anchor or f'id="{anchor}"' in file.read_text(encoding="utf-8")


def test_moved_run_folder_keeps_every_link(moved_run):
    """After a move, every relative link of report.md, report.html and the digest copies resolves inside the run
    folder (anchors included), the figures are relative, and an earlier run's digest copy is gone."""
    folder, old = moved_run
    assert not old.exists() and not (folder / "theory" / "stale-page.md").exists()
    md, page = folder / "report.md", folder / "report.html"
    docs = [md, page, *sorted((folder / "theory").glob("*.md"))]
    assert {p.name for p in docs[2:]} >= {"index.md", "mpg-conservation.md"}
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        assert str(old) not in text and str(ROOT) not in text, doc              # no absolute path
        assert not re.search(r'(\]\(|href="|src=")(\.\./|/|file:)', text), doc     # nothing outside the folder
        broken = [t for t in _targets(text) if not _resolves(folder, doc, t)]
        assert not broken, f"{doc.name}: {broken}"
    md_text = md.read_text(encoding="utf-8")
    assert "](theory/mpg-conservation.md#mpg-p3)" in md_text and "](theory/index.md)" in md_text
    assert re.search(r"!\[conservation\.drift_order\]\(figures/[\w.-]+\.png\)", md_text)
    assert 'href="theory/mpg-conservation.md#mpg-p3"' in page.read_text(encoding="utf-8")


def test_report_header_and_citations_in_both_formats(moved_run):
    """commit, date, versions, tier, seeds and machine, and the full citation, are in report.md and report.html."""
    from checks.frame.verdict import REFERENCES, commit

    folder, _ = moved_run
    authors, year, title, arxiv, venue = REFERENCES["ABIDE"]
    for name in ("report.md", "report.html"):
        text = html.unescape((folder / name).read_text(encoding="utf-8"))
        for key in ("commit", "date", "versions", "tier", "seeds", "machine"):
            assert re.search(rf"(\| {key} \||<th>{key}</th>)", text), (name, key)
        assert (commit() or "unknown") in text and "quick" in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
        assert re.search(r"(\| seeds \| 2 \||<th>seeds</th><td>2</td>)", text), name
        assert "numpy " in text and "torch " in text and "Python " in text
        assert title in text and str(arxiv) in text and str(year) in text, name


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (.ci/run installs it)")
def test_moved_report_renders_in_headless_chromium(moved_run):
    """The moved report.html shows every figure (naturalWidth > 0) and every digest link it has names a file."""
    folder, _ = moved_run
    page = folder / "report.html"
    dom = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    n_figs = len(json.loads(next((folder / "records").glob("*.json")).read_text())["figures"])
    assert n_figs >= 1 and f'data-images="{n_figs}"' in body and 'data-broken-images="0"' in body, body
    links = {html.unescape(h) for h in re.findall(r'<a href="([^"#][^"]*)"', dom)}
    digest = {h for h in links if h.startswith("theory/")}
    assert digest and all(_resolves(folder, page, h) for h in digest), sorted(digest)
    for h in digest:                        # resolved as the browser does, against the moved page's address
        path = Path(urllib.request.url2pathname(urllib.parse.urlparse(urllib.parse.urljoin(page.as_uri(), h)).path))
        assert path.is_file() and folder in path.parents, h


def test_own_data_api_and_cli(tmp_path, capsys):
    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 20, 10, 0.05, seed=0)
    path = tmp_path / "mine.npz"
    np.savez(path, X=ds.X, y=ds.y)
    v = checks.run("racing.fixed_gating", ds.X, ds.y, tier="quick", out=tmp_path / "api")
    v = v[0] if isinstance(v, list) else v
    assert v.status in ("PASS", "FAIL", "INCONCLUSIVE") and v.design["dataset"]["name"] == "user"
    assert own.main(["racing.fixed_gating", "--quick", "--data", str(path), "--out", str(tmp_path / "cli")]) in (0, 1)
    capsys.readouterr()
    for bad, msg in [("missing.npz", "is not a file"), ("empty.npz", "is empty"), ("x.npy", "--labels y.npy"),
                     ("bad.npz", "has no array y")]:
        p = tmp_path / bad
        if bad == "empty.npz":
            p.write_bytes(b"")
        elif bad == "x.npy":
            np.save(p, ds.X)
        elif bad == "bad.npz":
            np.savez(p, X=ds.X)
        assert own.main(["racing.fixed_gating", "--data", str(p)]) == 2
        assert msg in capsys.readouterr().err
    with pytest.raises(CheckError, match="paper's data only"):
        checks.run("conservation.drift_order", ds.X, ds.y)


_bad_arrays = st.one_of(
    st.just(np.zeros((0, 3))), st.just(np.zeros(5)), st.just(np.full((4, 2), np.nan)), st.just(np.full((4, 2), np.inf)),
    st.just([["a", "b"]]), st.integers(1, 5).map(lambda n: np.ones((n, 2, 2))))


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=_bad_arrays, name=st.sampled_from(["racing.race", "racing.merge_prune", "nope", "early_alignment.alignment"]))
def test_fuzz_own_data_api_raises_only_our_error(tmp_path, X, name):
    with pytest.raises(CheckError):
        checks.run(name, X, np.ones(4), out=tmp_path)


@settings(max_examples=20)
@given(bad=st.sampled_from([("lam", 0.0), ("lam", -1.0), ("lam", float("nan")), ("lr", 0.0), ("lr", float("inf")),
                            ("m", 0), ("steps", -3), ("m", 2.5), ("colour", 1)]))
def test_fuzz_bad_setting_is_named(bad):
    key, value = bad
    with pytest.raises(CheckError, match=key):
        checks.run("racing.race", np.ones((4, 2)), np.ones(4), **{key: value})


def test_same_seed_gives_identical_records(tmp_path):
    def once(out):
        assert checks_all.main(["--quick", "--only", "conservation.drift_order", "--out", str(out)]) == 0
        rec = json.loads((out / "records" / "conservation.drift_order.MPG-P3.json").read_text())
        rec.pop("seconds")
        return rec

    assert once(tmp_path / "a") == once(tmp_path / "b")
