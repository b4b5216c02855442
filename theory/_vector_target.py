"""Vector-output target of F1.3 (internal; re-exported as `theory.racing.vector_target`).

Under fixed gating and residual, (w; a) solves d/dt (w; a) = K (w; a), K = [[0, Mᵀ], [M, 0]] (F1.2). With the SVD
M = Σ σ_i u_i v_iᵀ, the mode (v₁; u₁) grows fastest, at rate σ₁, with amplitude c₁⁺ = (v₁·w(0) + u₁·a(0))/2, so
(ŵ, â) → sign(c₁⁺)(v₁, u₁) when σ₁ > σ₂ and c₁⁺ ≠ 0 (F1.3, vector output). The SVD's own sign of (v₁, u₁) is
arbitrary; sign(c₁⁺) fixes it. For k = 1 this is the scalar target sign(c⁺) m̂ (= sign(a) m̂ under dominated init).
"""
from __future__ import annotations

import numpy as np

from . import validate as vd
from .errors import TheoryError

__all__ = ["vector_target"]


def vector_target(M, w, a, *, gap: float = 1e-9, on_zero: str = "raise") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F1.3 vector output: the target pair sign(c₁⁺)(v₁, u₁) of M = Σ σ_i u_i v_iᵀ and its rate σ₁, rowwise.

    A row has no target when σ₁ = 0 (M = 0), when σ₁ − σ₂ ≤ gap·σ₁ (no unique leading pair: the growing mode is a
    whole subspace) or when c₁⁺ = (v₁·w + u₁·a)/2 = 0 (no sign): TheoryError by default; on_zero="nan" gives NaN
    targets there, on_zero="zero" zero vectors (σ₁ is returned as computed): a sentinel only when asked for.

    Arguments:
        M: correlation matrices (..., k, d), k ≥ 1 outputs, finite (e.g. `racing.gated_correlation` of an (n, k)
            residual).
        w: incoming weights (..., d) that fix the sign (a neuron's w(0), or a cluster's Σ_j p_j w_j(0)).
        a: outgoing weights (..., k), paired with w.
        gap: relative singular gap below which σ₁ and σ₂ count as equal (≥ 0).
        on_zero: "raise" (default), "nan" or "zero", for rows without a target.
    Returns:
        (incoming target (..., d), outgoing target (..., k), σ₁ (...)): unit vectors sign(c₁⁺) v₁ and sign(c₁⁺) u₁.
    """
    vd.choice("on_zero", on_zero, vd.ON_ZERO)
    M = vd.array("M", M, ndim=tuple(range(2, 8)))
    k, d = M.shape[-2:]
    lead = M.shape[:-2]
    w = vd.broadcast("w", w, lead + (d,), f"incoming weights of shape {lead + (d,)} (one per matrix, d = {d})")
    a = vd.broadcast("a", a, lead + (k,), f"outgoing weights of shape {lead + (k,)} (one per matrix, k = {k})")
    gap = vd.positive("gap", gap, allow_zero=True)
    if gap >= 1:
        raise TheoryError(f"gap={gap!r} must be < 1 (a relative singular gap); the default 1e-9 suits float64")
    U, S, Vt = np.linalg.svd(M)
    u1, s1, v1 = U[..., :, 0], S[..., 0], Vt[..., 0, :]
    s2 = S[..., 1] if S.shape[-1] > 1 else np.zeros_like(s1)
    c = (np.sum(v1 * w, -1) + np.sum(u1 * a, -1)) / 2
    scale = np.maximum(np.linalg.norm(w, axis=-1) + np.linalg.norm(a, axis=-1), np.finfo(float).tiny)
    bad = (s1 == 0) | (s1 - s2 <= gap * s1) | (np.abs(c) <= 1e-12 * scale)
    vd.zero_rows("vector_target", bad, on_zero, "σ₁ = 0, σ₁ = σ₂ (no unique leading pair) or c₁⁺ = 0")
    sg = np.sign(c)[..., None]
    fill = 0.0 if on_zero == "zero" else np.nan
    return (np.where(bad[..., None], fill, sg * v1), np.where(bad[..., None], fill, sg * u1), s1)
