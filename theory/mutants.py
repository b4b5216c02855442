"""Mutants of the exported formulas: wrong versions a derivation or a typing slip could produce.

Each theory module declares its mutants right beside the formula they mutate:

    @mutant("F3.2", "η³ instead of η²")
    def _eta_cubed(f: Formula) -> Formula:
        eta = f.args[0]
        return f.with_rhs(f.rhs.subs(eta ** 2, eta ** 3))

A mutant is a function Formula → Formula (never an extra parameter of a public function). The check frame applies
every mutant of every Formula a check uses to that check's prediction, on the same observation, and the generic
test asserts each one makes some check FAIL (`python -m checks.mutants` prints the table).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Mutant", "MUTANTS", "mutant", "mutants_of", "catalog"]


@dataclass(frozen=True)
class Mutant:
    """A named wrong version of formula `formula_id`.

    Arguments:
        formula_id: the ID of the formula it mutates (e.g. "F3.2").
        name: what is wrong, in words.
        apply: Formula → the mutated Formula.
    """

    formula_id: str
    name: str
    apply: Callable

    def __post_init__(self):
        from . import validate as vd

        vd.text("formula_id", self.formula_id)
        vd.text("name", self.name)
        if not callable(self.apply):
            raise vd.TheoryError(f"apply must be a function Formula → Formula, got {self.apply!r}")


MUTANTS: dict[str, list[Mutant]] = {}


def mutant(formula_id: str, name: str):
    """Decorator: register the function as a mutant of formula `formula_id`."""
    from . import validate as vd

    vd.text("formula_id", formula_id)
    vd.text("name", name)

    def register(fn: Callable) -> Callable:
        if not callable(fn):
            raise vd.TheoryError(f"@mutant({formula_id!r}, …) decorates a function Formula → Formula, got {fn!r}")
        MUTANTS.setdefault(formula_id, []).append(Mutant(formula_id, name, fn))
        return fn

    return register


def mutants_of(formula_id: str) -> list[Mutant]:
    """The mutants declared for `formula_id` (empty if none).

    Arguments:
        formula_id: a formula ID string, e.g. "F3.2".
    """
    from . import validate as vd

    vd.text("formula_id", formula_id)
    return list(MUTANTS.get(formula_id, []))


def catalog() -> dict[str, list[Mutant]]:
    """Every declared mutant, by formula ID (imports every theory module so that all are registered)."""
    import importlib
    import pkgutil
    from pathlib import Path

    for mod in pkgutil.iter_modules([str(Path(__file__).parent)]):   # every module of theory, by its file
        if mod.name.startswith("__"):      # __main__: the command line, not a formula module
            continue
        importlib.import_module(f"theory.{mod.name}")
    return {k: list(v) for k, v in MUTANTS.items()}
