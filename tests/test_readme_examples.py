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
