"""Every ```python block of the README runs as written (in order, one namespace, in a scratch folder that holds the
`mydata.npz` the own-data example loads)."""
import os
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_examples():
    assert len(blocks()) >= 3


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    from numerics import data

    ds = data.xor_clusters((1.0, 1.4, 1.8, 2.2), 20, 10, 0.05, seed=0)
    np.savez(tmp_path / "mydata.npz", X=ds.X, y=ds.y)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    for i, code in enumerate(blocks()):
        exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
    assert os.listdir(tmp_path)


def test_readme_checks_all_command_lines_parse_and_build_their_designs(tmp_path, monkeypatch, capsys):
    """Each `python -m checks.all …` line of the README's bash blocks is valid: its selection, tier and settings
    build every design (`--list-settings` stops before training); the TOML example is the `my.toml` it reads."""
    import shlex

    import torch

    from checks import all as checks_all

    text = README.read_text(encoding="utf-8")
    toml = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "my.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    lines = [ln.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)
             for ln in block.splitlines() if ln.strip().startswith("python -m checks.all")]
    assert len(lines) >= 5
    for line in lines:
        args = shlex.split(line)[3:]
        if "--device" in args and not torch.cuda.is_available():
            continue
        assert checks_all.main(args + ["--list-settings"]) == 0, line
    assert re.search(r"^racing\.race\b", capsys.readouterr().out, re.M)
