"""Every exported formula by its ID of formulas.md (F1.x racing, F2.x early alignment, F3.x conservation)."""
from __future__ import annotations

from .formula import Formula

__all__ = ["all_formulas"]


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
