"""Mutants of `theory.extremal`'s extremal vectors, read by early_alignment.alignment: mirrored directions, minima
and maxima swapped, G_n of the negated labels."""
from __future__ import annotations

import numpy as np

from theory import extremal


def mirrored(f):
    """Mutant: every extremal vector with the wrong sign (−u)."""
    return lambda X, y, **kw: [extremal.Extremal(-e.u, e.kind, e.G, e.rate, e.pattern) for e in f(X, y, **kw)]


def kinds_swapped(f):
    """Mutant: minima and maxima of G_n swapped (positive neurons sent to the negative extremal vectors)."""
    swap = {"min": "max", "max": "min"}
    return lambda X, y, **kw: [extremal.Extremal(e.u, swap[e.kind], e.G, e.rate, e.pattern) for e in f(X, y, **kw)]


def labels_negated(f):
    """Mutant: the function evaluated on −y (G_n / g_n with a wrong sign)."""
    return lambda X, y, *a, **kw: f(X, -np.asarray(y, float), *a, **kw)
