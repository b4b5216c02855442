"""Neuron groups of a trained network: clusters of total parameter vectors, merging and pruning (PIN-6/8/9).

Clusters: average-linkage hierarchical clustering (scipy) on the cosine distance of θ_j = (w_j; a_j), cut at
1 − 0.99 (docs/theory/index.md#protocol, the paper's v2 criterion). Merge (F1.8): a cluster becomes one neuron. The
merge coefficient `coefficient(a_i, w_i)` is theory's F1.8 rule applied per neuron and summed over the cluster:

* evaluated on the weight *vectors* (F1.8 is linear in r_i = ‖w_i‖, and on samples where the cluster shares its
  gating a_i relu(w_i·x) = a_i w_i·x), it gives v = Σ_i a_i w_i = sign(a) Σ_i p_i ŵ_i: the merged neuron is
  c = sign(a)‖v‖ along û = v / (sign(a)‖v‖), exact on every shared-gating sample;
* evaluated on the norms (a scalar per neuron), it gives the plain coefficient c = Σ_i a_i‖w_i‖ along the
  p-weighted mean direction û ∝ Σ_i p_i ŵ_i, which is exact only when every ŵ_i = û.

Either way the merged neuron is written balanced: w = √|c| û, a = sign(c)√|c|.
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
    """One neuron per cluster from the merge coefficient `coefficient(a_i, w_i)` (see the module docstring).

    `coefficient` is called with a (k, 1) and W (k, d); a (k, d) result is the vector rule, a (k,) or (k, 1)
    result a scalar rule (it was evaluated on something else than the vectors). Returns (W', a', û).
    """
    W, a = np.asarray(W, float), np.asarray(a, float)
    r = np.linalg.norm(W, axis=1)
    Wm, am, U = [], [], []
    for c in np.unique(labels):
        sel = labels == c
        out = np.asarray(coefficient(a[sel][:, None], W[sel]), float)
        sgn = np.sign(a[sel].sum()) or 1.0
        if out.shape == W[sel].shape:  # the vector rule: c û = Σ_i coefficient(a_i, w_i)
            v = out.sum(0)
            coef = sgn * float(np.linalg.norm(v))
            u = v / coef if coef != 0 else v
        else:  # a scalar rule along the p-weighted mean direction
            k = int(sel.sum())
            coef = float(np.sum(out.reshape(-1) if out.size == k else np.broadcast_to(out.reshape(-1)[:1], (k,))))
            u = ((np.abs(a[sel]) * r[sel])[:, None] * W[sel] / np.maximum(r[sel], 1e-300)[:, None]).sum(0)
            u = u / max(np.linalg.norm(u), 1e-300)
        Wm.append(np.sqrt(abs(coef)) * u)
        am.append(np.sign(coef) * np.sqrt(abs(coef)))
        U.append(u)
    return np.array(Wm), np.array(am), np.array(U)


def shared_gating(W, labels, X) -> np.ndarray:
    """Per sample: True where, in every cluster, all members have the same gate 1[w_i·x > 0] (no wedge)."""
    G = np.asarray(X, float) @ np.asarray(W, float).T > 0  # (n, m)
    ok = np.ones(len(G), dtype=bool)
    for c in np.unique(labels):
        g = G[:, labels == c]
        ok &= g.all(1) | ~g.any(1)
    return ok


def merge_error_bound(W, a, labels, U, X) -> np.ndarray:
    """|Δh(x)| ≤ Σ_i p_i ‖ŵ_i − û_c(i)‖ |x|: ReLU is 1-Lipschitz and positively homogeneous (per sample)."""
    W, a, X = np.asarray(W, float), np.asarray(a, float), np.asarray(X, float)
    r = np.linalg.norm(W, axis=1)
    idx = np.searchsorted(np.unique(labels), labels)
    dev = np.linalg.norm(W / np.maximum(r, 1e-300)[:, None] - U[idx], axis=1)
    return np.sum(np.abs(a) * r * dev) * np.linalg.norm(X, axis=1)


def prune_loss_bound(pruned_mass: float, X, residual) -> float:
    """|ΔL| ≤ mean(B|e|) + ½ mean(B²), B_k = P‖x_k‖, P = Σ_pruned p_j: |a_j relu(w_j·x)| ≤ p_j‖x‖ (square loss)."""
    B = pruned_mass * np.linalg.norm(np.asarray(X, float), axis=1)
    return float(np.mean(B * np.abs(residual)) + 0.5 * np.mean(B ** 2))


def predict(W, a, X) -> np.ndarray:
    """h(x) = Σ_j a_j relu(w_j·x) in numpy float64 (for merged/pruned networks)."""
    return np.maximum(np.asarray(X, float) @ np.asarray(W, float).T, 0.0) @ np.asarray(a, float)
