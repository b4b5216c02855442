"""BF-P1's rival directions, the alternatives of early_alignment.alignment: positive neurons align to the mean input
direction, the nearest data direction or the top principal direction of XᵀX instead of the positive extremal vectors
of G_n (scored by `direction_instead`; `RIVALS` also drives the separating data's angle criteria)."""
from __future__ import annotations

import numpy as np

from theory import extremal


def direction_instead(direction):
    """Alternative: positive neurons align to `direction(X, y)` instead of the positive extremal vectors."""
    def change(f):
        def ext(X, y, **kw):
            u = direction(np.asarray(X, float), np.asarray(y, float))
            u = np.atleast_2d(u / np.linalg.norm(u, axis=-1, keepdims=True))
            return [*(extremal.Extremal(v, "min", 0.0, 0.0, ()) for v in u), *(e for e in f(X, y, **kw)
                                                                              if e.kind == "max")]
        return ext
    return change


def top_principal(X, y):
    """Leading eigenvector of XᵀX, signed towards the labels' side (the lazy / linear-regime direction)."""
    v = np.linalg.eigh(X.T @ X)[1][:, -1]
    return v if (X @ v) @ y >= 0 else -v


RIVALS = {"mean input direction": lambda X, y: X.mean(0), "nearest data direction": lambda X, y: X,
          "top principal direction": top_principal}
