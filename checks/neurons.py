"""Neuron groups of a trained network: clusters of total parameter vectors, merging and pruning (PIN-6/8/9).

Clusters: average-linkage hierarchical clustering (scipy) on the cosine distance of θ_j = (w_j; a_j), cut at
1 − 0.99 (experiments.md §0, the paper's v2 criterion). Merge (F1.8): a group with common direction û becomes one
neuron with coefficient c = Σ a_i‖w_i‖, written balanced as w = √|c| û, a = sign(c)√|c|.
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

COS_CLUSTER = 0.99


def parameter_clusters(W, a, cos: float = COS_CLUSTER) -> np.ndarray:
    """Cluster label (1…K) of each neuron: cos(θ_i, θ_j) > `cos` links, θ_j = (w_j; a_j)."""
    W, a = np.asarray(W, float), np.asarray(a, float)
    theta = np.concatenate([W, a.reshape(len(a), -1)], axis=1)
    norms = np.linalg.norm(theta, axis=1, keepdims=True)
    theta = theta / np.where(norms > 0, norms, 1.0)
    if len(theta) == 1:
        return np.ones(1, dtype=int)
    return fcluster(linkage(theta, method="average", metric="cosine"), t=1.0 - cos, criterion="distance")


def cluster_mass(p, labels) -> np.ndarray:
    """Σ_j p_j per cluster, largest first."""
    return np.sort(np.bincount(labels, weights=p)[1:])[::-1]


def merge(W, a, labels, coefficient) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One neuron per cluster: û = p-weighted mean of ŵ_i, c = coefficient(a_i, ‖w_i‖) summed (F1.8).

    `coefficient(a, r)` is the numeric merge formula, a_i·r_i for F1.8. Returns (W', a', û).
    """
    W, a = np.asarray(W, float), np.asarray(a, float)
    r = np.linalg.norm(W, axis=1)
    Wm, am, U = [], [], []
    for c in np.unique(labels):
        sel = labels == c
        u = ((np.abs(a[sel]) * r[sel])[:, None] * W[sel] / np.maximum(r[sel], 1e-300)[:, None]).sum(0)
        u = u / max(np.linalg.norm(u), 1e-300)
        coef = float(np.sum(coefficient(a[sel], r[sel])))
        Wm.append(np.sqrt(abs(coef)) * u)
        am.append(np.sign(coef) * np.sqrt(abs(coef)))
        U.append(u)
    return np.array(Wm), np.array(am), np.array(U)


def merge_error_bound(W, a, labels, U, X) -> np.ndarray:
    """|Δh(x)| ≤ Σ_i p_i ‖ŵ_i − û_c(i)‖ |x|: ReLU is 1-Lipschitz and positively homogeneous (per sample)."""
    W, a, X = np.asarray(W, float), np.asarray(a, float), np.asarray(X, float)
    r = np.linalg.norm(W, axis=1)
    idx = np.searchsorted(np.unique(labels), labels)
    dev = np.linalg.norm(W / np.maximum(r, 1e-300)[:, None] - U[idx], axis=1)
    return np.sum(np.abs(a) * r * dev) * np.linalg.norm(X, axis=1)


def predict(W, a, X) -> np.ndarray:
    """h(x) = Σ_j a_j relu(w_j·x) in numpy float64 (for merged/pruned networks)."""
    return np.maximum(np.asarray(X, float) @ np.asarray(W, float).T, 0.0) @ np.asarray(a, float)
