"""Messages name the user's object (file, entry, setting, check), never an internal class or parameter name, and say
the fix once; the predicted column is filled where a criterion has a prediction; README examples write under
results/ (ignored by git)."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from quick_outcomes import quick_outcome

import checks
from checks import CheckError
from checks.runner import api
from checks.runner import own_data as own

ROOT = Path(__file__).resolve().parents[3]
ALL = api.discover()


def test_npz_with_other_array_names_says_what_it_has_and_the_fix_once(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, inputs=np.ones((4, 2)), labels=np.ones(4))
    with pytest.raises(CheckError) as exc:
        own.load_data(p)
    msg = str(exc.value)
    assert str(p) in msg and "has no array X or y (it has inputs, labels)" in msg
    assert "not a readable" not in msg and msg.count("np.savez") == 1, msg


@pytest.mark.parametrize("kind", ["npz", "npy"])
def test_a_nan_names_the_file_and_the_entry(tmp_path, kind):
    X = np.ones((6, 3))
    X[4, 1] = np.nan
    if kind == "npz":
        np.savez(tmp_path / "d.npz", X=X, y=np.ones(6))
        args = (tmp_path / "d.npz",)
    else:
        np.save(tmp_path / "X.npy", X)
        np.save(tmp_path / "y.npy", np.ones(6))
        args = (tmp_path / "X.npy", tmp_path / "y.npy")
    with pytest.raises(CheckError, match=re.escape(f"--data {str(args[0])!r}: X[4, 1] = nan")):
        own.load_data(*args)
    y = np.ones(6)
    y[2] = np.inf
    with pytest.raises(CheckError, match=r"y\[2\] = inf \(sample 2, counted from 0\)"):
        checks.run("racing.race", np.ones((6, 3)), y, out=None)


def test_settings_and_checks_are_named_as_the_user_wrote_them():
    with pytest.raises(CheckError) as exc:
        checks.run("racing.race", out=None, lam=-0.001)
    assert str(exc.value) == "racing.race: setting lam=-0.001 must be > 0"
    with pytest.raises(CheckError) as exc:
        checks.run("racing.rase", out=None)
    assert str(exc.value).startswith("check 'racing.rase' is unknown; close names: racing.race")


@pytest.mark.parametrize("cls", ALL, ids=[c.name for c in ALL])
def test_an_ill_typed_setting_names_the_check_not_its_design_class(cls):
    key = next(k for k in cls.design.keys() if k not in ("seed", "device")
               and isinstance(getattr(cls.design.build("quick"), k), (int, float, tuple)))
    with pytest.raises(CheckError) as exc:
        api.designs_for([cls], "quick", {key: "not-a-number"})
    msg = str(exc.value)
    assert msg.startswith(f"{cls.name}: ") and f"{key}=" in msg, msg
    assert "Design" not in msg and cls.design.__name__ not in msg, msg


def test_the_predicted_column_is_filled_where_a_criterion_has_a_prediction():
    _, _, out = quick_outcome("racing.race")
    by_name = {c.name: c for c in out.criteria}
    for name in ("median Spearman of the predictor with the final norm at the judging time",
                 "median ratio residual std(log p_end − log π)/std(log p_end) at the judging time"):
        assert by_name[name].predicted and "cos" in str(by_name[name].predicted), by_name[name]


def test_readme_examples_write_under_the_ignored_results_folder():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```(?:python|bash)\n(.*?)```", text, re.S)) + "\n" + text
    outs = re.findall(r"""out=["']([^"']+)["']""", code) + re.findall(r"--out\s+([^\s`#]+)", code)
    outs = [o for o in outs if o not in ("DIR",)]
    assert outs and all(o.startswith("results/") for o in outs), outs
    ignored = subprocess.run(["git", "check-ignore", "-q", "results/my-run/report.html"], cwd=ROOT)
    assert ignored.returncode == 0                        # results/ is in .gitignore
