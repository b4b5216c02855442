"""Layout rules of the design: theory ↛ torch/numerics/checks, numerics ↛ sympy/theory/checks, small modules."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"theory": {"torch", "numerics", "checks"}, "numerics": {"sympy", "theory", "checks"}}
MAX_LINES = 450  # module-size guide: one concept per module


def _modules_after_import(pkg: str) -> set:
    code = f"import sys, {pkg}; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def _imports(path: Path) -> set:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("pkg", sorted(FORBIDDEN))
def test_no_forbidden_import_anywhere_in_the_package(pkg):
    """Every import statement of every module, also inside functions (lazy imports count too)."""
    bad = {str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[pkg]) for p in (ROOT / pkg).rglob("*.py")}
    bad = {k: v for k, v in bad.items() if v}
    if pkg == "theory":  # theory may hand out torch functions: only through formula._torch(), loaded on request
        bad = {k: v for k, v in bad.items() if v != ["torch"]}
    assert not bad, bad


def test_theory_does_not_import_torch_at_load():
    assert not _modules_after_import("theory") & {"torch", "numerics", "checks"}


def test_numerics_does_not_import_sympy():
    assert not _modules_after_import("numerics") & {"sympy", "theory", "checks"}


def test_module_size_guide():
    big = {str(p.relative_to(ROOT)): n for pkg in ("theory", "numerics", "checks") for p in (ROOT / pkg).rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split by concept): {big}"


def test_public_packages_expose_their_submodules():
    code = ("import theory, numerics; "
            "[getattr(theory, m) for m in ('racing', 'extremal', 'lie', 'references', 'intrinsic', 'network')]; "
            "[getattr(numerics, m) for m in ('flow', 'fidelity', 'sweep', 'data')]; print('ok')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"
