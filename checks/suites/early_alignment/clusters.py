"""Agglomerative clusters of neuron directions (`direction_clusters`): the fixed points the early-alignment checks
count (BF-P5/P6), also used by the threshold suite."""
from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage


def direction_clusters(W, a, mass, angle: float = 1e-2, min_mass: float = 1e-3):
    """Agglomerative clusters of neuron directions (angle threshold), mass-weighted means; sign kept apart."""
    keep = mass >= min_mass * mass.max()
    out = []
    for sgn in (1.0, -1.0):
        idx = np.where(keep & (np.sign(a) == sgn))[0]
        if len(idx) == 0:
            continue
        U = W[idx] / np.linalg.norm(W[idx], axis=1, keepdims=True)
        if len(idx) == 1:
            labels = np.array([1])
        else:
            # the condensed angle matrix row by row (pdist's order), not a Python metric called per pair (O(m²) calls)
            dist = np.concatenate([np.arccos(np.clip(U[i + 1:] @ U[i], -1, 1)) for i in range(len(idx) - 1)])
            labels = fcluster(linkage(dist, method="average"), t=angle, criterion="distance")
        for c in np.unique(labels):
            sel = labels == c
            u = (mass[idx][sel, None] * U[sel]).sum(0)
            out.append(dict(sign=sgn, u=u / np.linalg.norm(u), mass=float(mass[idx][sel].sum()), size=int(sel.sum())))
    return out
