"""Layout rules of the design: theory ↛ torch/numerics/checks, numerics ↛ sympy/theory/checks, no import cycle,
`checks` grouped by role, one folder per check-name prefix, and modules named after the one concept they hold."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"theory": {"torch", "numerics", "checks"}, "numerics": {"sympy", "theory", "checks"}}
# The folders of `checks`, each one role (a module of a role folder holds one concept of that role, named after it).
CHECKS_ROLES = {
    "frame": "what a check is and returns: Check, criteria, designs, protocol cards, families, verdicts, registry",
    "runner": "selecting, running and resuming checks; the command-line pieces; own data",
    "outputs": "what a run writes and shows: run folder, report, terminal table, atomic files",
    "observe": "observables several suites read from a trained network",
    "strategies": "the public Hypothesis strategies, one module per suite",
    "suites": "the checks: one folder per check-name prefix, one module per check or tight group",
}
COMMANDS = {"__init__", "all", "run", "docs", "mutants", "soak", "status_table"}   # python -m checks.<command>
VAGUE = ("common", "misc", "utils", "helpers", "more", "stuff")   # names that say nothing about the concept


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


def test_checks_is_grouped_by_role():
    """Top level: the commands only; everything else lives in a role folder (CHECKS_ROLES)."""
    top = {p.stem for p in (ROOT / "checks").glob("*.py")}
    assert top == COMMANDS, f"modules at the top of checks/ that are not commands: {sorted(top - COMMANDS)}"
    folders = {p.name for p in (ROOT / "checks").iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders == set(CHECKS_ROLES), f"role folders {sorted(folders)} ≠ the declared {sorted(CHECKS_ROLES)}"


def test_modules_are_named_after_their_concept():
    """No `common`, `*_more`, `misc`…: a module's name says what it holds; every module opens with a docstring."""
    vague, undocumented = [], []
    for pkg in ("theory", "numerics", "checks"):
        for p in (ROOT / pkg).rglob("*.py"):
            words = p.stem.split("_")
            if any(w in VAGUE for w in words):
                vague.append(str(p.relative_to(ROOT)))
            if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None:
                undocumented.append(str(p.relative_to(ROOT)))
    assert not vague, f"vague module names (name the concept instead): {vague}"
    assert not undocumented, f"modules without a docstring stating their concept: {undocumented}"


def test_each_check_lives_under_its_prefix_in_a_module_named_after_it():
    """`racing.merge_prune_digits` is in checks/suites/racing/, in a module whose name is the check's short name or
    part of it (merge_prune.py): a newcomer finds any check's code from its name alone."""
    import checks

    wrong = []
    for cls in checks.discover():
        prefix, short = cls.name.split(".", 1)
        package, _, module = cls.__module__.rpartition(".")
        if package != f"checks.suites.{prefix}" or module not in short:
            wrong.append(f"{cls.name} in {cls.__module__}")
    assert not wrong, wrong


def test_tests_mirror_the_packages():
    """Every folder of tests/ mirrors a package folder (tests/checks/suites/racing ↔ checks/suites/racing); at the top
    of tests/ stay only the tests of the whole project (README, layout, docs, the add-a-check recipe) and helpers."""
    tests = ROOT / "tests"
    folders = {p.relative_to(tests) for p in tests.rglob("*") if p.is_dir() and p.name != "__pycache__"}
    unmirrored = sorted(str(f) for f in folders if not (ROOT / f).is_dir())
    assert not unmirrored, f"test folders with no package folder of the same path: {unmirrored}"
    top = {p.name for p in tests.glob("test_*.py")}
    assert top <= {"test_readme.py", "test_readme_examples.py", "test_layout.py", "test_docs.py",
                   "test_adding_a_check.py"}, \
        f"tests at the top of tests/ that belong in a package folder: {sorted(top)}"


def _module_graph() -> dict:
    """module → the modules it imports (every import statement, also inside functions), within the three packages."""
    files = {}
    for pkg in ("theory", "numerics", "checks"):
        for p in (ROOT / pkg).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph = {}
    for name, p in files.items():
        package = name if p.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for a in node.names:       # `from pkg import submodule` is an edge to the submodule
                    edges.add(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base)
        graph[name] = {e for e in edges if e in files and e != name}
    return graph


def _cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    import sys as _sys
    _sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    """The module import graph (function-level imports included) has no cycle."""
    cycles = _cycles(_module_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_public_packages_expose_their_submodules():
    code = ("import theory, numerics; "
            "[getattr(theory, m) for m in ('racing', 'extremal', 'lie', 'references', 'intrinsic', 'network')]; "
            "[getattr(numerics, m) for m in ('flow', 'fidelity', 'sweep', 'data')]; print('ok')")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"


@pytest.mark.parametrize("pkg", ["theory", "numerics", "checks"])
def test_tests_import_the_real_packages_not_their_mirror_folders(pkg):
    """tests/<pkg> mirrors <pkg> without an __init__.py: a test session must still import <pkg> from the repository
    (a regression of CI run 32, where an editable install let tests/theory shadow theory)."""
    import importlib

    module = importlib.import_module(pkg)
    assert module.__file__ is not None, f"{pkg} resolved to a namespace folder: {list(module.__path__)}"
    assert Path(module.__file__).resolve() == ROOT / pkg / "__init__.py"
