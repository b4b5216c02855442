"""The paper tier: every check resolves a paper design with a quoted source; a GPU-sized preset on device=cpu is
reported INCONCLUSIVE ("paper preset needs a GPU (--device cuda); not run") without training, and the run exits 0."""
import pickle
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from checks import INCONCLUSIVE, Check, CheckError, Design
from checks.runner import api
from checks import all as checks_all
from checks.frame.core import REGISTRY
from numerics import data
from numerics.validate import InputError

NOT_RUN = "paper preset needs a GPU (--device cuda); not run"


def _registry():
    api._import_suites()
    return sorted(REGISTRY.items())


@pytest.mark.parametrize("name,cls", _registry(), ids=[n for n, _ in _registry()])
def test_every_check_resolves_a_paper_design_with_a_source(name, cls, monkeypatch):
    monkeypatch.delenv(data.CIFAR_ENV, raising=False)
    d = cls.design.build("paper")
    assert isinstance(d, cls.design)
    source, needs = cls.paper_info()
    assert isinstance(source, str) and len(source) > 10, name
    assert needs in (None, "cuda"), name
    if "paper" in cls.design.presets:  # an own preset quotes where its values come from
        assert not source.startswith("no paper setting"), name
    else:
        assert source.startswith("no paper setting") or cls.design.paper_source, name


@dataclass(frozen=True)
class BigDesign(Design):
    m: int = 10
    steps: int = 5
    presets: ClassVar = {"quick": dict(m=2), "paper": dict(m=10 ** 6, steps=10 ** 9)}
    paper_source: ClassVar = "toy paper: m = 10⁶, 10⁹ steps"
    paper_needs: ClassVar = "cuda"


class BigCheck(Check):
    name = "toy.big"
    paper = "GF"
    prediction_id = "MPG-P14"
    claim = "a GPU-sized toy"
    provenance = "[V]"
    design = BigDesign

    def observe(self, d):
        raise AssertionError("a GPU-needing paper preset must not train on the CPU")

    def criteria(self, d, pred, obs):
        return []


def test_gpu_preset_on_cpu_is_not_run():
    (v,) = BigCheck().run(BigDesign.build("paper"), "paper")
    assert v.status == INCONCLUSIVE and v.message.startswith(NOT_RUN) and v.criteria == ()
    assert v.design["m"] == 10 ** 6 and v.tier == "paper"
    # other tiers, a changed preset value (the user's own scale) or a cuda device are run as usual
    assert BigDesign.build("standard").not_run_reason("standard") == ""
    assert BigDesign.build("paper", m=100).not_run_reason("paper") == ""
    assert BigDesign.build("paper", seed=3).not_run_reason("paper").startswith(NOT_RUN)
    assert BigDesign.build("paper").replace(device="cuda").not_run_reason("paper") == ""
    assert BigDesign.paper_info() == ("toy paper: m = 10⁶, 10⁹ steps", "cuda")
    assert Design.paper_info() == ("no paper setting; standard design", None)


def test_registered_gpu_presets_are_not_run_on_cpu(monkeypatch):
    """Every registered GPU-needing paper preset: INCONCLUSIVE without training (observe is never called)."""
    monkeypatch.delenv(data.CIFAR_ENV, raising=False)
    gpu = [c for _, c in _registry() if c.paper_info()[1] == "cuda"]
    assert [c.name for c in gpu if not c.name.startswith("racing.")] == ["threshold.dependence"]  # issue #27
    for cls in gpu:
        monkeypatch.setattr(cls, "observe", lambda self, d: pytest.fail(f"{self.name} trained"))
        vs = cls().run(cls.design.build("paper"), "paper")
        assert {v.status for v in vs} == {INCONCLUSIVE} and all(v.message.startswith(NOT_RUN) for v in vs)


def test_paper_list_names_sources_and_needs(capsys, monkeypatch):
    monkeypatch.delenv(data.CIFAR_ENV, raising=False)
    assert checks_all.main(["--tier", "paper", "--list"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n    paper: ") == len(api.discover("paper")) and "— needs cuda" in out
    assert "BF-EA code defaults" in out and "no paper setting" in out
    for name in ("early_alignment.failure_rate", "early_alignment.spurious_stationary",
                 "early_alignment.not_a_minimum", "threshold.sweep", "threshold.two_directions"):
        rows = out.split("\n" + name + " ", 1)[1].split("\n")[1:]   # its paper and estimate lines, wrapped
        block = "\n".join(rows[:next((i for i, r in enumerate(rows) if not r.startswith(" ")), len(rows))])
        paper, _, estimate = block.partition("\n    cpu estimate: ")
        assert "needs cuda" not in paper and estimate.startswith("≈ ") and "CPU core" in " ".join(estimate.split())


def test_paper_run_of_a_gpu_preset_exits_zero(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(data.CIFAR_ENV, raising=False)
    monkeypatch.setattr(REGISTRY["threshold.dependence"], "observe", lambda self, d: pytest.fail("trained"))
    rc = checks_all.main(["--tier", "paper", "--only", "threshold.dependence", "--out", str(tmp_path)])
    assert rc == 0 and "INCONCLUSIVE" in capsys.readouterr().out


def _fake_cifar(folder, n=400):
    folder.mkdir()
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [3, 5] * (n // 2)}
    with open(folder / "data_batch_1", "wb") as fh:
        pickle.dump(batch, fh)


def test_cifar_from_env(tmp_path, monkeypatch):
    monkeypatch.delenv(data.CIFAR_ENV, raising=False)
    assert data.cifar10_dir() is None and data.cifar10_from_env() is None
    monkeypatch.setenv(data.CIFAR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="CIFAR10_DIR"):
        data.cifar10_from_env()
    _fake_cifar(tmp_path / "c10")
    monkeypatch.setenv(data.CIFAR_ENV, str(tmp_path / "c10"))
    ds = data.cifar10_from_env(n=20)
    assert ds.name == "cifar10" and ds.X.shape == (20, 3072)
    # the Fig. 1 preset then runs on CIFAR-10 with its step scaled, and is GPU-sized
    cls = REGISTRY["racing.race_digits"]
    d = cls.design.build("paper")
    assert d.dataset.name == "cifar10" and d.m == 300 and d.lr < 0.05 and cls.paper_info()[1] == "cuda"
    monkeypatch.delenv(data.CIFAR_ENV)
    d = cls.design.build("paper")
    assert d.dataset is None and d.data == "digits" and cls.paper_info()[1] is None


def test_callable_presets_and_bad_values():
    @dataclass(frozen=True)
    class LazyDesign(Design):
        m: int = 1
        presets: ClassVar = {"paper": dict(m=lambda: 7)}

    assert LazyDesign.build("paper").m == 7 and LazyDesign.tier_values("paper") == {"m": 7}
    with pytest.raises(CheckError, match="tier"):
        LazyDesign.tier_values("huge")


def test_cpu_estimate_spreads_runs_over_the_workers():
    from checks.frame.design import cpu_estimate

    assert cpu_estimate([(600, 1.0)] * 4, 2).startswith("≈ 20 min on 2 CPU cores")  # 2 rounds of 10 min
    assert cpu_estimate([(600, 1.0), (60, 1.0)], 1, "x") == "≈ 11 min on 1 CPU core (x)"
    assert cpu_estimate([(36_000, 1.0)], 2).startswith("≈ 10.0 h")

