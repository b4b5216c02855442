"""The two-layer network and its one hand-written gradient (formulas.md F1.1).

    h(x) = Σ_j a_j σ(w_j·x)            (a_j ∈ ℝ, or a_j ∈ ℝ^k for vector outputs)
    square:   L = (1/2n) Σ_k ‖h(x_k) − y_k‖²,         e_k = y_k − h(x_k)
    logistic: L = (1/n)  Σ_k ln(1 + exp(−y_k h(x_k))), e_k = y_k / (1 + exp(y_k h(x_k)))
    ∂L/∂a_j = −(1/n) Σ_k e_k σ(w_j·x_k)
    ∂L/∂w_j = −(1/n) Σ_k (a_j·e_k) σ'(w_j·x_k) x_k     with relu'(0) := 0
            = −(a_j/n) [σ'(Z)ᵀ (e ⊙ X)]_j                (scalar output: a_j factors out of the sum)

Shapes: X is (n, d) (append a constant column with `with_bias` for a hidden bias), W is (..., m, d),
a is (..., m) for scalar output or (..., m, k) for vector output; "..." is an optional leading seed axis.
Each seed may have its own data set: X (S, n, d) with y (S, n) or (S, n, k) beside W (S, m, d).
This module is the only gradient of the engine: every optimiser and integrator calls `loss_and_grad`.

The step is fused: the samples are processed in row blocks whose (rows × m) pre-activation block stays in cache;
the ReLU and its derivative are applied in place on that block, and ∂L/∂W is accumulated in the (d, m) layout,
the fast GEMM shape. No n × m array is ever held; the loss is additive over samples, so blocks are independent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

ACTIVATIONS = ("relu", "gelu", "linear")
LOSSES = ("square", "logistic")
BLOCK_ELEMENTS = 1 << 19  # pre-activation entries per row block (4 MiB in float64; the best of 2^17…2^19 measured)
MIN_BLOCK_ROWS = 64
#: n × (S·m) above which S seed networks on a CPU step one after another (`_per_seed`) rather than as one wide
#: layer: measured 2026-12-02, one thread: the batched block took 6.7 ms at (1280, 200, 5)×4 against 2.8 ms for 4
#: single steps, 94.6 vs 21.5 ms at (320, 10000, 5)×3, 0.83× the single steps at (160, 200, 5)×8 (2.6e5), while at
#: (100, 100, 64)×8 (8e4) it is 1.36× faster. With the loop above 2¹⁷ every seeded shape measured is ≥ 0.9×.
SEED_LOOP_ELEMENTS = 1 << 17


def with_bias(X: torch.Tensor) -> torch.Tensor:
    """x̃ = (x, 1): the hidden bias as an appended constant input.

    Arguments:
        X: (..., n, d) inputs.

    Returns:
        (..., n, d + 1) tensor.
    """
    ones = torch.ones(*X.shape[:-1], 1, dtype=X.dtype, device=X.device)
    return torch.cat([X, ones], dim=-1)


def is_vector_output(W: torch.Tensor, a: torch.Tensor) -> bool:
    """a has one more trailing axis than W's (..., m) prefix when outputs are vectors.

    Arguments:
        W, a: the parameters.

    Returns:
        True for vector outputs (a of shape (..., m, k)).
    """
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


def _output(H: torch.Tensor, a: torch.Tensor, vector: bool) -> torch.Tensor:
    return H @ a if vector else (H @ a.unsqueeze(-1)).squeeze(-1)


def preactivation(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Z = X Wᵀ, (..., n, m): the gating pattern is Z > 0.

    Arguments:
        W: (..., m, d).  X: (n, d) or (..., n, d).

    Returns:
        Z of shape (..., n, m).
    """
    return X @ W.mT


def forward(W: torch.Tensor, a: torch.Tensor, X: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """h(X) = Σ_j a_j σ(w_j·x) at every input.

    Arguments:
        W, a: (..., m, d) and (..., m) or (..., m, k).  X: (n, d) or (..., n, d).
        activation: "relu", "gelu" or "linear".

    Returns:
        (..., n) for scalar output, (..., n, k) for vector output.
    """
    H, _ = _activate(preactivation(W, X), activation)
    return _output(H, a, is_vector_output(W, a))


def _summed_error(h: torch.Tensor, y: torch.Tensor, loss: str, sample_dims: int | None = None):
    """(Σ_k ℓ_k, e) over the samples, with e_k = −∂ℓ_k/∂h(x_k); the sum has the leading (seed) shape of h.

    `sample_dims`: 1 for scalar outputs (the n axis), 2 for vector outputs (n and k); default y.dim() (no seed axis
    on y)."""
    sample_dims = y.dim() if sample_dims is None else sample_dims
    sample_axes = tuple(range(h.dim() - sample_dims, h.dim()))
    if loss == "square":
        r = h - y
        return 0.5 * (r * r).sum(dim=sample_axes), -r
    if loss == "logistic":
        margin = y * h
        return torch.nn.functional.softplus(-margin).sum(dim=sample_axes), y * torch.sigmoid(-margin)
    raise ValueError(f"loss={loss!r} is not supported; use one of {LOSSES}")


def error_signal(h: torch.Tensor, y: torch.Tensor, loss: str, sample_dims: int | None = None):
    """(L, e) with e_k = −n ∂L/∂h(x_k); L has the leading (seed) shape of h.

    Arguments:
        h: outputs (..., n[, k]).  y: targets.  loss: "square" or "logistic".
        sample_dims: 1 for scalar outputs, 2 for vector outputs (default y.dim()).

    Returns:
        (L, e): the loss and the error signal, e of h's shape.
    """
    sample_dims = y.dim() if sample_dims is None else sample_dims
    total, e = _summed_error(h, y, loss, sample_dims)
    return total / y.shape[y.dim() - sample_dims], e


@dataclass(frozen=True)
class LossGrad:
    """Loss and gradients at θ = (W, a)."""

    loss: torch.Tensor  # (...)
    grad_W: torch.Tensor  # like W (often a transposed view of the (d, m) product: .contiguous() before .view)
    grad_a: torch.Tensor  # like a


def row_blocks(n: int, width: int, block_rows: int | None = None) -> list[slice]:
    """Row slices of the n samples so that rows × width (m × seeds) ≈ BLOCK_ELEMENTS; one slice when it all fits.

    Arguments:
        n: samples.  width: neurons × seeds.  block_rows: a fixed block size instead.

    Returns:
        list of slices covering range(n).
    """
    rows = int(block_rows) if block_rows else max(MIN_BLOCK_ROWS, BLOCK_ELEMENTS // max(width, 1))
    if rows < 1:
        raise ValueError(f"block_rows must be ≥ 1, got {block_rows}")
    return [slice(s, min(n, s + rows)) for s in range(0, n, rows)]


def loss_and_grad(
    W: torch.Tensor,
    a: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    loss: str = "square",
    activation: str = "relu",
    *,
    gates: torch.Tensor | None = None,
    block_rows: int | None = None,
) -> LossGrad:
    """The single gradient implementation of the engine (F1.1), fused over row blocks.

    `gates` (n, m) or (..., n, m), optional: a fixed ReLU gating pattern D (σ(z) = D·z, σ'(z) = D), i.e. the smooth
    vector field of one gating region, used by the event-driven integrator. `block_rows` overrides the block size.

    Arguments:
        W, a: (..., m, d) and (..., m) or (..., m, k).  X, y: (n, d) / (..., n, d) and matching targets.
        loss: "square" or "logistic".  activation: "relu", "gelu" or "linear".
        gates: optional fixed gating (ReLU only).  block_rows: optional block size.

    Returns:
        LossGrad(loss (...), grad_W like W, grad_a like a).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not supported; use one of {ACTIVATIONS}")
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not supported; use one of {LOSSES}")
    vector = is_vector_output(W, a)
    if loss == "logistic" and vector:
        raise ValueError("loss='logistic' needs a scalar output (a of shape (m,)) and labels y in {±1}")
    if gates is not None and activation != "relu":
        raise ValueError("gates= fixes a ReLU gating pattern; use activation='relu'")
    n = X.shape[-2]
    if n == 0:
        raise ValueError("X has no rows (n = 0): the loss is an average over samples")
    width = W.shape[-2] * math.prod(W.shape[:-2])
    if W.dim() == 3 and W.shape[0] > 1 and gates is None and W.device.type == "cpu" and n * width > SEED_LOOP_ELEMENTS:
        return _per_seed(W, a, X, y, loss, activation, block_rows)
    simple = X.dim() == 2 and not vector and activation == "relu" and gates is None
    plain = simple and W.dim() == 2 and loss == "square"
    block = _plain_block if plain else _seeds_block if simple and W.dim() == 3 else _general_block
    if block_rows is None and n * width <= BLOCK_ELEMENTS:  # one block: no slicing, fewest dispatches
        L, grad_a, grad_Wt = block(W, a, X, y, loss, activation, gates, slice(None), n)
    else:
        L = grad_Wt = grad_a = None
        for rows in row_blocks(n, width, block_rows):
            yb = y[..., rows, :] if vector else y[..., rows]
            Lb, ga, gWt = block(W, a, X[..., rows, :], yb, loss, activation, gates, rows, n)
            if L is None:
                L, grad_a, grad_Wt = Lb, ga, gWt
            else:
                L, grad_a, grad_Wt = L + Lb, grad_a.add_(ga), grad_Wt.add_(gWt)
    grad_W = grad_Wt.mT if vector else grad_Wt.mul_(a if plain else a.unsqueeze(-2)).mT
    return LossGrad(L, grad_W, grad_a)


def _per_seed(W, a, X, y, loss, activation, block_rows) -> LossGrad:
    """The S networks of W (S, m, d) one after another (shared X (n, d) or per-seed X (S, n, d)), stacked: on a CPU
    above SEED_LOOP_ELEMENTS the batched blocks are memory-bound and 2–4× slower per seed than S single steps."""
    shared = X.dim() == 2
    parts = [loss_and_grad(W[s], a[s], X if shared else X[s], y if shared else y[s], loss, activation,
                           block_rows=block_rows) for s in range(W.shape[0])]
    return LossGrad(torch.stack([p.loss for p in parts]), torch.stack([p.grad_W for p in parts]),
                    torch.stack([p.grad_a for p in parts]))


def _plain_block(W, a, Xb, yb, loss, activation, gates, rows, n):
    """One block of the common case (one network, scalar output, square loss, ReLU) in the fewest dispatches.

    With r̃ = (h − y)/n:  L_b = (n/2) r̃·r̃,  ∂L/∂a = Hᵀ r̃,  (∂L/∂W)ᵀ before the a_j factor = (X ⊙ r̃)ᵀ σ'(Z).
    """
    H = torch.mm(Xb, W.T).clamp_min_(0)
    r = torch.addmv(yb, H, a, beta=-1.0 / n, alpha=1.0 / n)
    Lb = torch.dot(r, r).mul_(0.5 * n)
    ga = torch.mv(H.T, r)
    return Lb, ga, torch.mm(Xb.T * r, H.gt_(0))  # 1.0 where z > 0, else 0.0: relu'(0) = 0


def _seeds_block(W, a, Xb, yb, loss, activation, gates, rows, n):
    """One block of S networks W (S, m, d) on one data set with scalar output and ReLU: the S·m neurons as one
    wide layer, so both products are single GEMMs, (b, d)·(d, S·m) and (d, b)·(b, S·m), instead of S small ones."""
    S, m, d = W.shape
    H = torch.mm(Xb, W.reshape(S * m, d).T).clamp_min_(0)  # (b, S·m)
    H3 = H.view(-1, S, m).transpose(0, 1)  # (S, b, m), a strided view: bmm reads it in place
    Lb, e = _summed_error(torch.bmm(H3, a.unsqueeze(-1)).squeeze(-1), yb, loss, 1)  # h as (S, b)
    r = e.mul_(-1.0 / n)  # (S, b): r̃ of _plain_block, per seed
    ga = torch.bmm(r.unsqueeze(1), H3).squeeze(1)  # (S, m)
    M = H.gt_(0).view(-1, S, m).mul_(r.T.unsqueeze(-1)).view(-1, S * m)  # σ'(z)·r̃: relu'(0) = 0
    return Lb / n, ga, torch.mm(Xb.T, M).view(d, S, m).permute(1, 0, 2)


def _general_block(W, a, Xb, yb, loss, activation, gates, rows, n):
    """One block with seed axes, vector outputs, any loss/activation or a fixed gating; the same formulas."""
    vector = is_vector_output(W, a)
    Z = Xb @ W.mT  # (..., b, m), a fresh block: safe to overwrite
    if gates is not None:
        dH = gates[..., rows, :].to(Z.dtype)
        H = Z.mul_(dH)
    elif activation == "relu":
        H, dH = Z.clamp_min_(0), None  # σ'(Z) is taken from H below, after H is used
    else:
        H, dH = _activate(Z, activation)
    Lb, e = _summed_error(_output(H, a, vector), yb, loss, 2 if vector else 1)
    e = e.mul_(-1.0 / n)  # −∂L/∂h · (−1): the residual-like factor r̃ of _plain_block
    ga = H.mT @ e if vector else (H.mT @ e.unsqueeze(-1)).squeeze(-1)
    if dH is None:
        dH = H.gt_(0)  # 1.0 where z > 0, 0.0 where z ≤ 0: relu'(0) = 0
    if vector:
        gWt = Xb.mT @ (e @ a.mT).mul_(dH)  # (..., d, m)
    else:
        gWt = (e.unsqueeze(-1) * Xb).mT @ dH  # (..., d, m); a_j is applied once, after the sum
    return Lb / n, ga, gWt


def loss_value(W, a, X, y, loss: str = "square", activation: str = "relu") -> torch.Tensor:
    """L(θ) without gradients.

    Arguments:
        W, a, X, y, loss, activation: as in `loss_and_grad`.

    Returns:
        the loss, of the leading (seed) shape.
    """
    return error_signal(forward(W, a, X, activation), y, loss, 2 if is_vector_output(W, a) else 1)[0]
