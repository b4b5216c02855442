"""The command line (#18 items 2, 3, 5; #17 item 4): run folders, exact selection, the live view, own-data files,
--out/--seed checked first, resume matching, figure paths that survive moving a results folder."""
import json
import os
import pickle
import shutil

import numpy as np
import pytest

from checks import CheckError
from checks.runner import api, live, resume
from checks.outputs import run_folder as outputs
from checks import all as checks_all
from checks.runner import own_data as own
from checks.outputs.table import format_table
from numerics import data, progress

CHEAP, OTHER = "conservation.gd_step_exact", "conservation.linear_gd_step_exact"


def test_each_run_gets_its_own_folder_and_latest_points_at_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert checks_all.main(["--quick", "--only", CHEAP]) == 0
    assert checks_all.main(["--quick", "--only", OTHER]) == 0
    out = capsys.readouterr().out
    runs = sorted(p for p in (tmp_path / "results").iterdir() if p.name != "latest")
    assert len(runs) == 2 and all(p.name.endswith(("-quick", "-quick-2")) for p in runs)
    latest = outputs.RunFolder("results").latest("quick")
    assert latest is not None and latest.resolve() == runs[-1].resolve() and str(runs[-1].name) in out
    for run, check in zip(runs, (CHEAP, OTHER)):     # records of different runs never mix
        assert [p.name.split(".MPG")[0] for p in (run / "records").glob("*.json")] == [check]
        assert [v["check"] for v in json.loads((run / "summary.json").read_text())["verdicts"]] == [check]
    assert outputs.RunFolder("results").latest("standard") is None


def test_run_folders_are_unique_within_a_second_and_latest_falls_back_to_a_text_file(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs.time, "strftime", lambda fmt: "20260101-120000")
    rf = outputs.RunFolder(str(tmp_path / "res"))
    a, b = rf.create("quick"), rf.create("quick")
    assert (a.name, b.name) == ("20260101-120000-quick", "20260101-120000-quick-2")
    assert rf.latest() == b and rf.runs("quick") == [b, a]

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(outputs.os, "symlink", no_symlinks)
    c = rf.create("quick")
    assert (tmp_path / "res" / "latest").read_text().strip() == c.name and rf.latest("quick") == c


def test_out_is_checked_before_any_training_and_names_the_option(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for bad in (afile, afile / "sub"):
        assert checks_all.main(["--quick", "--only", CHEAP, "--out", str(bad)]) == 2
        err = capsys.readouterr().err
        assert "--out" in err and str(bad) in err and ("is a file" in err or "cannot be written" in err)
    assert own.main(["racing.race", "--data", str(tmp_path / "none.npz"), "--out", str(afile)]) == 2
    assert "--out" in capsys.readouterr().err                     # --out comes before the data are even read
    assert own.main(["racing.race", "--data", str(tmp_path / "none.npz"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
    with pytest.raises(CheckError, match="--resume"):
        api.resolve_out(outputs.RunFolder(str(tmp_path / "nothing")), "quick", resume=True)


def test_only_is_exact_and_a_miss_lists_close_names(capsys):
    assert [c.name for c in api.discover("quick", "racing.race")] == ["racing.race"]
    assert "racing.race_digits" in [c.name for c in api.discover("quick", "racing.race*")]
    with pytest.raises(CheckError, match=r"close names: .*racing\.race"):
        api.discover("quick", "racing.rac")
    assert checks_all.main(["--only", "conservaton.drift_order"]) == 2
    assert "close names: conservation.drift_order" in capsys.readouterr().err


def test_resume_reuses_only_matching_records_and_figure_paths_survive_a_move(tmp_path):
    vs = api.run_all("quick", "conservation.drift_order", tmp_path / "a", progress=False)
    cls, = api.discover("quick", "conservation.drift_order")
    d, = api.designs_for([cls], "quick")
    assert resume.reusable(cls, d, "quick", tmp_path / "a") == vs
    assert resume.reusable(cls, d.replace(seed=1), "quick", tmp_path / "a") is None
    assert resume.reusable(cls, d, "standard", tmp_path / "a") is None
    shutil.move(tmp_path / "a", tmp_path / "moved")                 # a results folder can be moved or shared
    rec = json.loads(next((tmp_path / "moved" / "records").glob("*.json")).read_text())
    assert rec["figures"] and all(not os.path.isabs(f) and (tmp_path / "moved" / f).is_file() for f in rec["figures"])
    md = (tmp_path / "moved" / "report.md").read_text()
    assert f"]({rec['figures'][0]})" in md and str(tmp_path) not in md
    (tmp_path / "moved" / rec["figures"][0]).unlink()               # a missing figure: run again
    assert resume.reusable(cls, d, "quick", tmp_path / "moved") is None


def test_live_view_plain_lines_rich_listener_and_eta(tmp_path, capsys):
    folder = tmp_path / "r"
    outputs.write_records(api.run_all("quick", CHEAP, None, progress=False), folder)
    rec = live.recorded_seconds([folder], "quick")
    assert set(rec) == {CHEAP} and live.recorded_seconds([folder], "standard") == {}
    vs = [resume.verdict_of(json.loads(p.read_text())) for p in (folder / "records").glob("*.json")]
    with live.Live(["x.one", "x.two"], {"x.one": 10.0}, mode="plain") as view:
        view.begin(1, "x.one")
        assert "ETA" in view.lines(view.t_check + 4)[0] and view.check_eta(view.t_check + 4) == pytest.approx(6)
        view.end(vs, 3.2)
        view.begin(2, "x.two")
        view.update("train", 25, 100)
        assert view.check_eta(view.phase[3] + 5) == pytest.approx(15)      # 25 steps in 5 s, 75 to go
        assert "25/100 steps" in view.lines()[1]
        view.end(vs, 0.0, reused=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("[1/2] x.one: MPG-P1 PASS (3 s)") and "reused" in err[1]
    os.environ.pop("NUMERICS_PROGRESS", None)
    with live.Live(["x.one"], mode="rich") as view:
        assert progress.listening() and os.environ["NUMERICS_PROGRESS"] == "0"   # tqdm off, the view listens
        view.begin(1, "x.one")
        progress.notify("phase A", 3, 9)
        assert view.phase[:3] == ("phase A", 3, 9)
    assert not progress.listening() and "NUMERICS_PROGRESS" not in os.environ
    assert live.duration(5) == "5 s" and live.duration(185) == "3 min 05 s" and live.duration(3720) == "1 h 02 min"


def test_table_fits_100_columns_and_wraps_on_words(tmp_path):
    vs = api.run_all("quick", "conservation.drift_order", None, progress=False)
    text = format_table(vs, width=100)
    assert max(map(len, text.splitlines())) <= 100 and text.rstrip().endswith("1 PASS")
    words = set(vs[0].headline().split())
    body = [ln.split("PASS", 1)[-1] for ln in text.splitlines()[2:-2]]
    assert all(w in words for ln in body for w in ln.split())      # every piece is a whole word of the criterion


def _write(tmp_path, name, payload):
    p = tmp_path / name
    if isinstance(payload, bytes):
        p.write_bytes(payload)
    else:
        p.write_text(payload)
    return p


def test_own_data_files_load_or_fail_with_one_clear_error(tmp_path, capsys):
    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 5, 10, 0.05, seed=0)
    np.save(tmp_path / "X.npy", ds.X)
    np.save(tmp_path / "y.npy", ds.y)
    X, y = own.load_data(tmp_path / "X.npy", tmp_path / "y.npy")
    assert np.array_equal(X, ds.X) and np.array_equal(y, ds.y)
    rows = "\n".join(",".join(map(str, [*x, t])) for x, t in zip(ds.X, ds.y))
    header = ",".join([f"x{i}" for i in range(ds.X.shape[1])] + ["y"])
    for text in (rows, header + "\n" + rows):                             # header optional
        X, y = own.load_data(_write(tmp_path, "d.csv", text))
        assert np.allclose(X, ds.X) and np.allclose(y, ds.y)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "obj.npz", X=np.array([None, 1], dtype=object), y=np.ones(2))
    np.savez(tmp_path / "str.npz", X=np.array([["a", "b"]]), y=np.ones(1))
    _write(tmp_path, "pickled.npz", pickle.dumps({"X": 1}))
    cases = [(("X.npy",), "--labels y.npy"), (("e.npz",), "is empty"), (("obj.npy", "y.npy"), "pickled"),
             (("obj.npz",), "pickled"), (("str.npz",), "not numbers"), (("pickled.npz",), "pickled"),
             (("d.csv", "y.npy"), "--labels goes with"), (("hole.csv",), "row 2 column 2"),
             (("head.csv",), "≥ 1 row"), (("x.txt",), "use an .npz")]
    _write(tmp_path, "e.npz", b"")
    _write(tmp_path, "hole.csv", "1,2,1\n3,,1\n")
    _write(tmp_path, "head.csv", "a,b,y\n")
    _write(tmp_path, "x.txt", "1,2")
    for files, msg in cases:
        with pytest.raises(CheckError, match=msg) as info:
            own.load_data(tmp_path / files[0], *(tmp_path / f for f in files[1:]))
        assert files[0] in str(info.value)
    out = tmp_path / "exact"
    assert own.main(["racing.race", "--quick", "--data", str(tmp_path / "X.npy"), "--labels",
                     str(tmp_path / "y.npy"), "--out", str(out)]) in (0, 1)
    rec = json.loads(next((out / "records").glob("*.json")).read_text())
    assert rec["design"]["dataset"]["name"] == "user" and rec["design"]["dataset"]["n"] == len(ds.y)
    capsys.readouterr()
    assert own.main(["racing.merge_prune", "--data", str(tmp_path / "d.csv"), "--set", "lam=1e-3"]) == 2
    assert "not a setting of racing.merge_prune" in capsys.readouterr().err   # it has lams, small_lam, large_lam
    cls, = api.discover("quick", "early_alignment.alignment")
    d, = api.designs_for([cls], "quick", {"steps": 50})
    assert d.steps == 50                                              # and observe() caps the run at steps·lr


def test_out_refuses_a_users_folder_and_touches_nothing(tmp_path):
    """--out on a non-empty folder no run wrote (a user's figures/ and notes) is refused before any training, and
    every file in it survives; an empty folder or an earlier run's folder is accepted."""
    mine = tmp_path / "paper"
    (mine / "figures").mkdir(parents=True)
    (mine / "figures" / "fig1.png").write_bytes(b"png")
    (mine / "notes.md").write_text("mine")
    assert checks_all.main(["--quick", "--only", "conservation.gd_step_exact", "--out", str(mine)]) == 2
    assert sorted(p.name for p in mine.rglob("*")) == ["fig1.png", "figures", "notes.md"]
    with pytest.raises(CheckError, match="non-empty folder that no run wrote"):
        api.resolve_out(mine, "quick")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert api.resolve_out(empty, "quick") == empty and (empty / outputs.MARKER).is_file()
    assert api.resolve_out(empty, "quick") == empty          # now an earlier run's folder: accepted again
