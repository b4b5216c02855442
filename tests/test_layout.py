"""Layout rules of the design: theory imports no torch at load, numerics imports no sympy."""
import subprocess
import sys


def _modules_after_import(pkg: str) -> set:
    code = f"import sys, {pkg}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def test_theory_does_not_import_torch():
    assert "torch" not in _modules_after_import("theory")


def test_numerics_does_not_import_sympy():
    assert "sympy" not in _modules_after_import("numerics")
