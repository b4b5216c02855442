"""The kill -9 soak (#30 item 1), small: `python -m checks.soak` with 3 kills (one inside a record write, one inside
a figure save, one inside the report) on two cheap checks, one of them drawing a figure; plus the teeth of its
comparison and of the write hook it relies on. The full soak (20 kills on the quick tier) runs on demand: see the
README's "Progress and interruptions"."""
import json
import shutil
from pathlib import Path

from checks import soak
from checks.outputs import atomic

CHECKS = "conservation.momentum,conservation.gd_step_exact"


def test_three_kills_inside_writes_are_survived_with_no_difference(tmp_path, capsys):
    rc = soak.main(["--kills", "3", "--only", CHECKS, "--work", str(tmp_path), "--verbose"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert out.startswith("soak: 3/3 kills survived (0 at a random moment, 1 in a record write, 1 in a figure save, "
                          "1 in the report), 0 differences"), out
    ref, run = tmp_path / "ref" / "run", tmp_path / "soak" / "run"
    assert soak.differences(ref, run) == []
    assert (len(list((run / "records").glob("*.json"))) == 2
            and (run / "figures" / "conservation.momentum.png").is_file())

    bad = tmp_path / "bad"                                    # the comparison has teeth
    shutil.copytree(run, bad)
    rec = bad / "records" / "conservation.momentum.MPG-P12.json"
    r = json.loads(rec.read_text())
    r["criteria"][0]["value"] = r["criteria"][0]["value"] + 1e-12 if isinstance(r["criteria"][0]["value"], float) \
        else "changed"
    r["seconds"] = 123.0                                      # wall time may differ, the value may not
    rec.write_text(json.dumps(r))
    (bad / "records" / ".x.json.abc.tmp").write_text("{")
    (bad / "figures" / "conservation.momentum.png").write_bytes(b"png")
    md = bad / "report.md"
    md.write_text(md.read_text().replace("### conservation.gd_step_exact · MPG-P1", "### (lost)"))
    found = soak.differences(ref, bad)
    assert any("MPG-P12.json: differs in criteria" in d for d in found), found
    assert any("temporary file left: records/.x.json.abc.tmp" in d for d in found)
    assert any("figures/conservation.momentum.png: differs" in d for d in found)
    assert any("report.md: sections" in d for d in found) and not any("seconds" in d for d in found)


def test_the_write_hook_holds_the_chosen_write_half_done(tmp_path, monkeypatch, capsys):
    seen = []

    def sleep(_):
        tmp = Path(capsys.readouterr().err.split()[-1])
        seen.append((tmp.read_text(), (tmp_path / "r" / "b.json").exists()))

    monkeypatch.setattr(atomic.time, "sleep", sleep)
    monkeypatch.setenv(atomic.PAUSE_ENV, f"{tmp_path.as_posix()}/r/*.json@2")
    monkeypatch.setattr(atomic, "_seen", {})
    for name in ("a.json", "x.txt", "b.json", "c.json"):
        atomic.write_text(tmp_path / "r" / name, "0123456789")
    assert seen == [("01234", False)]                         # only the 2nd match, half written, target absent
    assert all((tmp_path / "r" / n).read_text() == "0123456789" for n in ("a.json", "x.txt", "b.json", "c.json"))
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["a.json", "b.json", "c.json", "x.txt"]


def test_a_family_draws_the_same_instances_whatever_modules_are_loaded(tmp_path, monkeypatch):
    """Found while building the soak: Hypothesis mixed constants of the loaded local modules into a family's draws,
    so a check drew other instances after a `--resume` (or `--only`) had left other modules unimported."""
    import sys

    from hypothesis import strategies as st

    from checks.frame.family import run_family

    def draw():
        seen = []
        run_family(st.fixed_dictionaries({"m": st.integers(1, 10 ** 6), "x": st.floats(1e-3, 1e3)}),
                   lambda inst: seen.append(inst) or ("PASS", []), 40, 0, lambda inst: inst)
        return seen

    before = draw()
    (tmp_path / "many_constants.py").write_text(
        "C = [" + ", ".join(f"{k * 1.37:.6f}, {k * 7919}" for k in range(1, 300)) + "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("many_constants")
    try:
        assert draw() == before
    finally:
        sys.modules.pop("many_constants", None)


def test_a_resume_removes_every_temporary_file_a_kill_can_leave(tmp_path):
    from checks.outputs import run_folder as outputs

    run = outputs.prepare(tmp_path / "run")
    kept = run / "records" / "a.X-1.json"
    left = [run / "records" / ".a.X-1.json.k2j3.tmp", run / "figures" / ".a.q8w.png", run / ".report.md.x1.tmp",
            run / "theory" / ".pin.md.z9.tmp", run / ".write-test.abc123"]      # the last: prepare()'s probe
    for p in (kept, *left):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("{")
    outputs.clean(run, keep_records=True)
    assert kept.is_file() and not any(p.exists() for p in left)


def test_a_reused_record_is_the_verdict_that_was_written_key_order_included(tmp_path):
    """The soak's first finding: records were written with sorted keys, so after --resume the report printed a
    reused check's design (and any counterexample) in another order than an uninterrupted run did."""
    from checks.runner import api, resume
    from checks.outputs import run_folder as outputs

    vs = api.run_all("quick", "conservation.gd_step_exact", None, progress=False)
    outputs.write_records(vs, tmp_path)
    cls, = api.discover("quick", "conservation.gd_step_exact")
    d, = api.designs_for([cls], "quick")
    reused = resume.reusable(cls, d, "quick", tmp_path)
    assert [json.dumps(v.to_dict()) for v in reused] == [json.dumps(v.to_dict()) for v in vs]
    assert list(reused[0].design) == list(vs[0].design) and list(vs[0].design)[0] == "seed"
