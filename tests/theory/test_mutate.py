"""Generated mutants (theory.mutate): deterministic, each a different expression, every edit class present on a
formula that has its node type, the cap rule; and one cheap check judged through the frame
(checks.runner.generated_mutants)."""
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import catalog
from theory.errors import TheoryError
from theory.formula import Formula
from theory.mutate import CLASSES, Edit, edits, kind_of

FORMULAS = catalog.all_formulas()


def _checked_formulas():
    from checks.runner import api

    found = {}
    for c in api.discover():
        for obj in vars(c().theory()).values():
            if isinstance(obj, Formula):
                found.setdefault(obj.id, obj)
    return found


READ = _checked_formulas()


def _has(f: Formula, cls: str) -> bool:
    """Whether f's right-hand side has a node of the type edit class `cls` works on."""
    rhs = f.rhs
    nodes = list(sp.preorder_traversal(rhs))
    if cls == "sign":
        return rhs != 0
    if cls == "exponent":
        return any(isinstance(n, sp.Pow) and n.exp.is_Rational for n in nodes)
    if cls == "constant":
        return any(isinstance(n, sp.Mul) and any(a.is_Number and abs(a) != 1 for a in n.args) for n in nodes)
    if cls == "drop-term":
        return any(isinstance(n, (sp.Add, sp.MatAdd)) and len(n.args) >= 2 for n in nodes)
    if cls == "drop-factor":
        return any(isinstance(n, sp.Mul) and len(n.args) >= 2 for n in nodes)
    if cls == "trig":
        return any(isinstance(n, (sp.sin, sp.cos, sp.tan)) for n in nodes)
    present = rhs.free_symbols | rhs.atoms(sp.MatrixSymbol)
    return any(kind_of(f, s) == "count" or any(o != s and kind_of(f, o) == kind_of(f, s) is not None
                                                and getattr(o, "shape", None) == getattr(s, "shape", None)
                                                for o in f.args) for s in f.args if s in present)


def _sig(es):
    return [(e.name, e.edit, sp.srepr(e.rhs)) for e in es]


@pytest.mark.parametrize("fid", sorted(READ))
def test_generator_is_deterministic_and_each_mutant_differs(fid):
    f = READ[fid]
    a, b = edits(f), edits(f)
    assert _sig(a) == _sig(b)
    assert len({e.name for e in a}) == len(a), "names are unique"
    assert len({sp.srepr(e.rhs) for e in a}) == len(a), "each mutant is a different expression"
    assert all(e.rhs != f.rhs and e.name.startswith(f"{fid}: ") for e in a)
    assert all(e.apply(f).rhs == e.rhs and e.apply(f).id == fid for e in a)


def test_every_formula_a_check_reads_has_generated_mutants():
    """Except those whose right-hand side is the constant 0 (a single-node edit of 0 is 0 again)."""
    bare = [fid for fid, f in READ.items() if not edits(f) and f.rhs != 0]
    assert not bare, f"formulas read by a check without generated mutants: {bare}"


@pytest.mark.parametrize("cls", CLASSES)
def test_each_edit_class_appears_on_a_formula_with_its_node_type(cls):
    pool = {**FORMULAS, **READ}
    # scalar formulas: in a matrix expression an edit may be dropped for its shapes (dropping U from UᵀU)
    having = [fid for fid, f in pool.items() if not isinstance(f.rhs, (sp.MatrixBase, sp.MatrixExpr)) and _has(f, cls)]
    assert having, f"no catalog formula has a node for {cls}"
    missing = [fid for fid in having if not any(e.edit == cls for e in edits(pool[fid], cap=None))]
    # missing only where each edit of the class gives an expression an earlier edit (or the original) gave
    unexplained = [fid for fid in missing if not _all_duplicates(pool[fid], cls)]
    assert not unexplained, f"{cls} edits missing on {unexplained}"
    assert len(missing) < len(having), f"{cls} edits appear on no formula"


def _all_duplicates(f, cls):
    from theory.mutate import _raw

    raw = _raw(f, f.rhs)
    return all(any(sp.expand(new - f.rhs) == 0 or sp.expand(new - prev) == 0 for _, _, prev in raw[:i])
               or sp.expand(new - f.rhs) == 0 for i, (c, _, new) in enumerate(raw) if c == cls)


def test_named_examples():
    names = {e.name for f in READ.values() for e in edits(f)}
    for want in ("F1.5-head-start: exponent of cos(δ_0/2) 4 → 3", "F1.5-rate: cos → sin in cos(δ)",
                 "F2.10-threshold: d → d + 2", "F1.8: a_i → a_j", "F3.11-dim-relu: term -H dropped",
                 "F1.5-growth: factor s of 2⋅s dropped", "F3.2: sign of the whole side flipped"):
        assert want in names, want


def test_cap_keeps_every_class_round_robin():
    f = READ["F3.4-rate"]
    full = edits(f, cap=None)
    assert len(full) > 20
    for cap in (1, 4, 7, 20):
        kept = edits(f, cap=cap)
        assert len(kept) == cap
        order = [e.name for e in full]
        assert [order.index(e.name) for e in kept] == sorted(order.index(e.name) for e in kept)
        classes = [c for c in CLASSES if any(e.edit == c for e in full)]  # the first edit of each, in class order
        assert {e.edit for e in kept} == set(classes[:cap])


def test_bad_input_is_one_clear_error():
    with pytest.raises(TheoryError, match="Formula"):
        edits("F1.5")
    with pytest.raises(TheoryError, match="cap"):
        edits(READ["F1.5"], cap=0)
    e = edits(READ["F1.5-rate"])[0]
    with pytest.raises(TheoryError, match="generated from F1.5-rate"):
        e.apply(READ["F1.5"])
    with pytest.raises(TheoryError, match="edit="):
        Edit("F1", "nonsense", "F1: x", sp.S(1), sp.S(2))


X, Y, Z = sp.symbols("d n s", positive=True)
LEAVES = st.sampled_from([X, Y, Z, sp.Integer(2), sp.Rational(1, 2), sp.pi])


def _tree(children):
    return st.one_of(st.builds(lambda a, b: a + b, children, children),
                     st.builds(lambda a, b: a * b, children, children),
                     st.builds(lambda a, e: a ** e, children, st.sampled_from([2, 3, -1, sp.Rational(1, 2)])),
                     st.builds(lambda g, a: g(a), st.sampled_from([sp.sin, sp.cos, sp.tan, sp.exp]), children))


@settings(max_examples=40, deadline=None)
@given(st.recursive(LEAVES, _tree, max_leaves=6))
def test_random_expressions_give_distinct_deterministic_edits(rhs):
    f = Formula("T1", "test", "[R]", "a test formula", sp.sympify(rhs), (X, Y, Z))
    a = edits(f, cap=None)
    assert _sig(a) == _sig(edits(f, cap=None))
    assert len({sp.srepr(e.rhs) for e in a}) == len(a) and all(e.rhs != f.rhs for e in a)
    assert all(e.edit in CLASSES for e in a)


def test_a_check_judges_generated_mutants_on_its_own_run():
    """racing.gradient_ratios: every generated mutant killed but |a| → ρ, which balancedness (|a| = ρ at the
    check's points) makes equal to the original: reported as equivalent, not as a survivor."""
    from checks.runner import api
    from checks.frame.core import REGISTRY
    from checks.runner.generated_mutants import judge_check, summarise

    api.discover()
    rows = judge_check(REGISTRY["racing.gradient_ratios"], "quick", progress=False)
    assert rows and {r["formula"] for r in rows} == {"F1.6-ratio-a", "F1.6-ratio-rho", "F1.6-speed", "F1.6-out"}
    s = summarise(rows)
    assert all(r["survived"] == 0 for r in s.values()), s
    assert "F1.6-ratio-a: a → ρ" in s["F1.6-ratio-a"]["not_observable"]
    assert sum(r["killed"] for r in s.values()) >= 30
