"""The two-layer network and its one hand-written gradient (formulas.md F1.1).

    h(x) = Σ_j a_j σ(w_j·x)            (a_j ∈ ℝ, or a_j ∈ ℝ^k for vector outputs)
    square:   L = (1/2n) Σ_k ‖h(x_k) − y_k‖²,         e_k = y_k − h(x_k)
    logistic: L = (1/n)  Σ_k ln(1 + exp(−y_k h(x_k))), e_k = y_k / (1 + exp(y_k h(x_k)))
    ∂L/∂a_j = −(1/n) Σ_k e_k σ(w_j·x_k)
    ∂L/∂w_j = −(1/n) Σ_k (a_j·e_k) σ'(w_j·x_k) x_k     with relu'(0) := 0

Shapes: X is (n, d) (append a constant column with `with_bias` for a hidden bias), W is (..., m, d),
a is (..., m) for scalar output or (..., m, k) for vector output; "..." is an optional leading seed axis.
This module is the only gradient of the engine: every optimiser calls `loss_and_grad`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

ACTIVATIONS = ("relu", "gelu", "linear")
LOSSES = ("square", "logistic")


def with_bias(X: torch.Tensor) -> torch.Tensor:
    """x̃ = (x, 1): the hidden bias as an appended constant input."""
    ones = torch.ones(*X.shape[:-1], 1, dtype=X.dtype, device=X.device)
    return torch.cat([X, ones], dim=-1)


def is_vector_output(W: torch.Tensor, a: torch.Tensor) -> bool:
    """a has one more trailing axis than W's (..., m) prefix when outputs are vectors."""
    return a.dim() == W.dim()


def _activate(Z: torch.Tensor, activation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """σ(Z) and σ'(Z); relu'(0) = 0 exactly (the selection ζ = 0 of F2.1)."""
    if activation == "relu":
        gate = Z > 0
        return Z.clamp_min(0), gate.to(Z.dtype)
    if activation == "linear":  # two-layer linear net z = aᵀW (= U Vᵀ with U = aᵀ, V = Wᵀ)
        return Z, torch.ones_like(Z)
    if activation == "gelu":
        cdf = 0.5 * (1.0 + torch.erf(Z / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * Z * Z) / math.sqrt(2.0 * math.pi)
        return Z * cdf, cdf + Z * pdf
    raise ValueError(f"activation={activation!r} is not supported; use one of {ACTIVATIONS}")


def forward(W: torch.Tensor, a: torch.Tensor, X: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """h(X): (..., n) for scalar output, (..., n, k) for vector output."""
    H, _ = _activate(X @ W.mT, activation)
    if is_vector_output(W, a):
        return H @ a
    return (H @ a.unsqueeze(-1)).squeeze(-1)


def error_signal(h: torch.Tensor, y: torch.Tensor, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, e) with e_k = −n ∂L/∂h(x_k); L has the leading (seed) shape of h."""
    n = y.shape[0]
    sample_axes = tuple(range(h.dim() - y.dim(), h.dim()))  # the n (and k) axes
    if loss == "square":
        r = h - y
        return 0.5 * (r * r).sum(dim=sample_axes) / n, -r
    if loss == "logistic":
        margin = y * h
        return torch.nn.functional.softplus(-margin).sum(dim=sample_axes) / n, y * torch.sigmoid(-margin)
    raise ValueError(f"loss={loss!r} is not supported; use one of {LOSSES}")


@dataclass(frozen=True)
class LossGrad:
    """Loss, gradients and the quantities the trajectory record reuses."""

    loss: torch.Tensor  # (...)
    grad_W: torch.Tensor  # like W
    grad_a: torch.Tensor  # like a
    preact: torch.Tensor  # (..., n, m) = X Wᵀ


def loss_and_grad(
    W: torch.Tensor,
    a: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    loss: str = "square",
    activation: str = "relu",
) -> LossGrad:
    """The single gradient implementation of the engine (F1.1)."""
    n = X.shape[0]
    Z = X @ W.mT
    H, dH = _activate(Z, activation)
    vector = is_vector_output(W, a)
    h = H @ a if vector else (H @ a.unsqueeze(-1)).squeeze(-1)
    if loss == "logistic" and vector:
        raise ValueError("loss='logistic' needs a scalar output (a of shape (m,)) and labels y in {±1}")
    L, e = error_signal(h, y, loss)
    if vector:
        grad_a = -(H.mT @ e) / n  # (..., m, k)
        dZ = -(e @ a.mT) * dH / n  # (..., n, m)
    else:
        grad_a = -(H.mT @ e.unsqueeze(-1)).squeeze(-1) / n
        dZ = -(e.unsqueeze(-1) * a.unsqueeze(-2)) * dH / n
    grad_W = dZ.mT @ X
    return LossGrad(L, grad_W, grad_a, Z)


def loss_value(W, a, X, y, loss: str = "square", activation: str = "relu") -> torch.Tensor:
    """L(θ) without gradients."""
    h = forward(W, a, X, activation)
    return error_signal(h, y, loss)[0]
