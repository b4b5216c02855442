"""Every exported formula by its ID of formulas.md (F1.x racing, F2.x early alignment, F3.x conservation)."""
from __future__ import annotations

from .formula import Formula

__all__ = ["GENERAL", "all_formulas", "general_latex"]

# The general symbolic form of the formulas the catalog holds as a small worked instance (a 2-D network, three data
# points, 1×1 factors: what SymPy computes with), with every index of formulas.md. `python -m theory --latex` prints
# these; every other formula's own SymPy form is already general.
GENERAL = {
    "F1.1": r"\frac{\partial L}{\partial w_j} = -a_j m_j,\quad \frac{\partial L}{\partial a_j} = -w_j \cdot m_j,"
            r"\quad m_j = \frac{1}{n}\sum_{k=1}^{n} g_{jk} e_k x_k",
    "F1.2": r"\frac{d}{dt} w_j = a_j m_j,\quad \frac{d}{dt} a_j = m_j^{T} w_j"
            r"\quad \mathrm{(gating\ and\ residual\ fixed)}",
    "F1.3": r"t_j = \mathrm{sign}(a_j)\,\frac{m_j}{\Vert m_j \Vert},\quad s_j = \Vert m_j \Vert",
    "F2.2": r"G_n(w) = -\frac{1}{n}\sum_{k=1}^{n} y_k\,\mathrm{relu}(w \cdot x_k)",
    "F3.1": r"\Delta_j = a_j^{2} - \Vert w_j \Vert^{2}",
    "F3.2": r"\Delta_j(\theta_{i+1}) - \Delta_j(\theta_i) = \eta^{2}\,(g_{a_j}^{2} - \Vert g_{w_j} \Vert^{2})",
    "F3.4": r"S = U^{T} U - V^{T} V",
}


def general_latex(fid: str, formula: Formula | None = None) -> str:
    """The LaTeX (math mode, no delimiters) of formula `fid` in its general form: `GENERAL[fid]` where the catalog
    holds a worked instance, else the formula's own `latex()`.

    Arguments:
        fid: a formula ID of `all_formulas()`.  formula: that Formula, if already built.
    """
    from .validate import TheoryError

    if not isinstance(fid, str):
        raise TheoryError(f"fid must be a formula ID string such as 'F3.4', got {fid!r}")
    if fid in GENERAL:
        return GENERAL[fid]
    if formula is None:
        found = all_formulas()
        if fid not in found:
            raise TheoryError(f"fid={fid!r} is not a formula ID of the catalog; use one of {', '.join(found)}")
        formula = found[fid]
    if not isinstance(formula, Formula):
        raise TheoryError(f"formula must be the Formula of {fid!r} (or None), got {type(formula).__name__}")
    return formula.latex()


def all_formulas() -> dict[str, Formula]:
    """ID → Formula, in formulas.md order."""
    from . import network

    found: dict[str, Formula] = {}
    found.update(network.TwoLayerNetwork(d=2, n=2).formulas())
    for mod in _families():
        found.update(mod.formulas())
    return dict(sorted(found.items(), key=lambda kv: _id_key(kv[0])))


def _id_key(fid: str) -> list:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in fid[1:].replace("-", ".").split(".")]


def _families():
    import importlib

    mods = []
    for name in ("racing", "extremal", "references", "conservation", "lie", "decay", "momentum", "intrinsic_dim",
                 "law_search", "polar", "return_time"):
        try:
            mods.append(importlib.import_module(f"theory.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"theory.{name}":
                raise
    return mods
