"""Argv fuzz (#30 item 2): argument lists for `python -m checks.all` and `python -m checks.run`, built from the
options their real parsers declare (`checks.all.parser()`, `checks.run.parser()`), with values of every kind:
empty, unicode, undecodable bytes, huge numbers, NaN, negative, paths that do not exist or are files, repeated
flags, malformed `--set` pairs, broken config and data files. Each invocation either works or exits 2 with exactly
one line on stderr and no traceback, before any training.

Bounded: the CLIs run in-process and `checks.runner.api.execute` (where training starts) is replaced by a stop, so an
invocation whose arguments all pass ends there ("works"), as do `--list`, `--list-settings` and `--help` on their
own. Examples: 4 × the Hypothesis profile's max_examples per test (ci: 60, dev: 240), a few ms each.
"""
import contextlib
import io
import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checks.runner import api
from checks import all as checks_all
from checks.runner import own_data as own
from checks.frame.design import TIERS

N = 4 * settings().max_examples
FUZZ = settings(max_examples=N, deadline=None, suppress_health_check=list(HealthCheck))


class Trains(Exception):
    """Raised where training would start: every argument passed."""


def _stop(*args, **kwargs):
    raise Trains


@pytest.fixture(scope="module", autouse=True)
def workdir(tmp_path_factory):
    """A folder with files of every kind, as the working directory; training replaced by a stop."""
    root = tmp_path_factory.mktemp("argv")
    X, y = np.random.default_rng(0).normal(size=(8, 2)), np.sign(np.arange(8) - 3.5)
    np.savez(root / "good.npz", X=X, y=y)
    np.save(root / "X.npy", X)
    np.save(root / "y.npy", y)
    np.save(root / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(root / "nox.npz", y=y)
    (root / "good.csv").write_text("\n".join(",".join(map(str, [*x, t])) for x, t in zip(X, y)))
    (root / "hole.csv").write_text("1,2,1\n3,,1\n")
    (root / "empty.npz").write_bytes(b"")
    (root / "junk.npz").write_bytes(b"PK\x03\x04 not a zip")
    (root / "junk.npy").write_bytes(b"\x93NUMPY\x01\x00{'descr': garbage")
    (root / "pickled.npz").write_bytes(pickle.dumps({"X": 1}))
    (root / "afile").write_text("x")
    (root / "adir").mkdir()
    configs = {"good.toml": "seed = 1\n", "bad.toml": "m = [", "key.toml": "nosuch = 1\n",
               "table.toml": "[nosuch.check]\nm = 1\n", "huge.toml": "seed = 99999999999999999999\n",
               "neg.toml": "seed = -1\n", "nan.toml": "seed = nan\n", "date.toml": "seed = 2024-01-01\n",
               "deep.toml": '["racing.race".extra]\nm = 1\n', "list.toml": "seed = [1, 2]\n"}
    for name, text in configs.items():
        (root / name).write_text(text)
    (root / "latin1.toml").write_bytes(b"seed = 1 # caf\xe9\n")
    old = os.getcwd()
    os.chdir(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api, "execute", _stop)
        yield root
    os.chdir(old)


api._import_suites()
NAMES = sorted(api.REGISTRY)
IDS = sorted({i for c in api.REGISTRY.values() for i in c.ids()})
KEYS = sorted({k for c in api.REGISTRY.values() for k in c.design.keys()})
JUNK = st.sampled_from(["", " ", "-1", "0", "1", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "9" * 40,
                        "-" + "9" * 40, "4294967296", "1.5", "0x10", "true", "None", "=", "==", ",", ";", "*", "[",
                        "--", "-", "é", "日本語", "caf\udce9", "a\nb", "\t", "-h"]) | st.text(max_size=10).filter(
    lambda s: "\x00" not in s)
PATHS = st.sampled_from(["nothing/here", "afile", "afile/sub", "adir", "", ".", "é/ü", "caf\udce9", "new/out"])
DATA = st.sampled_from(["good.npz", "X.npy", "y.npy", "obj.npy", "nox.npz", "good.csv", "hole.csv", "empty.npz",
                        "junk.npz", "junk.npy", "pickled.npz", "good.toml"]) | PATHS
CONFIGS = st.sampled_from(["good.toml", "bad.toml", "key.toml", "table.toml", "huge.toml", "neg.toml", "nan.toml",
                           "date.toml", "deep.toml", "list.toml", "latin1.toml", "good.npz"]) | PATHS
EDGE = st.sampled_from(["0", "-1", "1", "2", "0.5", "-0", "1e-400", "1e400", "nan", "inf", "", ",", "1,2", "0,0",
                        "-1,2", "a", "true", "none", "9" * 30, "1e9", "cpu"])
SETTING = st.builds(lambda k, v: f"{k}={v}", st.sampled_from([*KEYS, "", "nosuch", "m m", "seed "]), EDGE | JUNK)
SELECT = st.lists(st.sampled_from([*NAMES, *IDS, "racing", "racing.*", "conservation", "*", "zz"]) | JUNK,
                  min_size=1, max_size=3).map(",".join)
VALUES = {"only": SELECT, "assignments": SETTING | JUNK, "tier": st.sampled_from(TIERS) | JUNK,
          "config": CONFIGS, "seed": st.sampled_from(["0", "3", "-1", "4294967295", "4294967296", "9" * 30]) | JUNK,
          "device": st.sampled_from(["cpu", "cuda", "cuda:0", "cuda:x", "gpu", ""]) | JUNK, "out": PATHS,
          "data": DATA, "labels": DATA}


def options(parser):
    """(option string, dest, nargs) of every optional argument the parser declares."""
    return [(s, a.dest, a.nargs) for a in parser._actions if a.option_strings for s in a.option_strings]


@st.composite
def argv(draw, parser, positional=None):
    out = []
    for flag, dest, nargs in draw(st.lists(st.sampled_from(options(parser)), max_size=6)):   # repeats allowed
        if flag in ("-h", "--help") and draw(st.integers(0, 3)):
            continue                                   # help is valid but ends the run: keep it rare
        values = VALUES.get(dest, JUNK)
        count = 0 if nargs == 0 else draw(st.integers(1, 3)) if nargs == "+" else 1
        out += [flag, *(draw(values) for _ in range(count))]
    if positional is not None and draw(st.integers(0, 5)):
        out.insert(draw(st.integers(0, len(out))) if draw(st.booleans()) else 0, draw(positional))
    return out


def invoke(main, args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(args)
        except SystemExit as exc:                      # argparse: --help (0) or a bad option (2)
            rc = exc.code
        except Trains:
            rc = "trains"
    return rc, out.getvalue(), err.getvalue()


def judge(main, args):
    rc, out, err = invoke(main, args)
    assert "Traceback" not in out + err, (args, err)
    assert rc in (0, 2, "trains"), (args, rc, err)
    if rc == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
    else:
        assert "error" not in err, (args, err)


@FUZZ
@given(argv(checks_all.parser()))
@example(["--seed", "99999999999999999999", "--only", "racing.race"])   # was: ERROR verdicts after starting
@example(["--tier", "nope"])                                            # was: argparse's usage block + error
@example(["--set", "=1", "--set"])
def test_checks_all_argv_works_or_fails_with_one_line(args):
    judge(checks_all.main, args)


OWN = sorted(n for n, c in api.REGISTRY.items() if c.design.accepts_data)


@FUZZ
@given(argv(own.parser(), positional=st.sampled_from(NAMES) | JUNK), st.sampled_from(OWN), DATA, st.integers(0, 4))
@example(["--seed", "4294967296"], "racing.race", "good.npz", 0)
@example(["--labels", "y.npy"], "racing.race", "junk.npy", 0)
@example([], "racing.race", "good.csv", 0)
def test_checks_run_argv_works_or_fails_with_one_line(args, name, data, form):
    """Mostly `NAME --data FILE [options]` (a real own-data check, so that runs get past the data), else the raw
    argument list."""
    judge(own.main, [name, "--data", data, *args] if form < 3 else args)


@FUZZ
@given(st.sampled_from(NAMES), st.lists(EDGE, min_size=1, max_size=2), st.data())
def test_every_setting_of_every_check_takes_any_value_or_one_line(name, values, data):
    """`--only CHECK --set KEY=VALUE` with the check's own keys and edge values: each design's validation either
    accepts the value or says why in one line (a bare exception from a validate() would be a traceback)."""
    keys = api.REGISTRY[name].design.keys()
    sets = [f"{data.draw(st.sampled_from(keys))}={v}" for v in values]
    judge(checks_all.main, ["--quick", "--only", name, "--set", *sets, "--list-settings"])
