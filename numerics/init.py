"""Initialisation at scale λ (experiments.md §0).

w_j(0) ~ N(0, λ²/m · I)  (per-weight std λ/√m, as in the BF-EA code), then
  balanced:  a_j = ±‖w_j‖ (random sign; a random unit direction times ‖w_j‖ for vector outputs)
  dominated: ã_j Rademacher, w̃_j uniform in the unit ball, times λ, so |a_j| ≥ ‖w_j‖
  gaussian:  a_j, w_j independent N(0, λ²/m) (the "unbalanced" init)
and, not at the std λ/√m of the others,
  uniform-default: every weight uniform, W_jl ~ U(−λ/√d, λ/√d) and a_j (or each entry a_jc) ~ U(−λ/√m, λ/√m):
             PyTorch's nn.Linear default (Kaiming-uniform with a = √5, bound 1/√fan_in; fan_in = d for W, m for a;
             no biases) at λ = 1. [C] The reconstruction of BF-ST's "default init scheme" (App. A.1, not given).
"""
from __future__ import annotations

import torch

from . import validate

SCHEMES = ("balanced", "dominated", "gaussian", "uniform-default")


def _unit_ball(gen, shape, dtype, device):
    g = torch.randn(*shape, generator=gen, dtype=dtype, device=device)
    g = g / g.norm(dim=-1, keepdim=True)
    u = torch.rand(*shape[:-1], 1, generator=gen, dtype=dtype, device=device)
    return g * u ** (1.0 / shape[-1])


def init_params(
    m: int,
    d: int,
    *,
    scale: float,
    scheme: str = "balanced",
    k: int | None = None,
    seed: int = 0,
    n_seeds: int | None = None,
    dtype=torch.float64,
    device="cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, a) with W (m, d) and a (m,) or (m, k); a leading seed axis of size n_seeds if given.

    With n_seeds, seed axis i uses the generator seeded by `seed + i`, so a batched run equals
    the loop of single runs over those seeds.

    Arguments:
        m, d: neurons and input dimension.  scale: λ > 0.
        scheme: "balanced", "dominated", "gaussian" or "uniform-default" (formulas in the module docstring).
        k: output dimension (None: scalar output).  seed: torch generator seed.
        n_seeds: optional leading seed axis.  dtype, device: of the returned tensors.

    Returns:
        (W, a): W (..., m, d), a (..., m) or (..., m, k).
    """
    lam = validate.positive("scale (λ)", scale)
    validate.choice("scheme", scheme, SCHEMES)
    if int(m) < 1 or int(d) < 1:
        raise validate.InputError(f"m and d must be ≥ 1, got m={m}, d={d}")
    if n_seeds is not None:
        pairs = [init_params(m, d, scale=lam, scheme=scheme, k=k, seed=seed + i, dtype=dtype, device="cpu")
                 for i in range(int(n_seeds))]
        return (torch.stack([p[0] for p in pairs]).to(device), torch.stack([p[1] for p in pairs]).to(device))
    gen = torch.Generator().manual_seed(int(seed))
    a_shape = (m,) if k is None else (m, k)
    if scheme == "dominated":
        W = lam * _unit_ball(gen, (m, d), dtype, "cpu")
        signs = torch.randint(0, 2, a_shape, generator=gen).to(dtype) * 2 - 1
        if k is None:
            a = lam * signs
        else:  # unit-norm random direction: ‖a_j‖ = λ ≥ ‖w_j‖
            a = lam * torch.nn.functional.normalize(torch.randn(a_shape, generator=gen, dtype=dtype), dim=-1)
        return W.to(device), a.to(device)
    if scheme == "uniform-default":  # U(−b, b) = b (2U[0, 1) − 1), b = λ/√fan_in
        W = lam / d ** 0.5 * (2 * torch.rand(m, d, generator=gen, dtype=dtype) - 1)
        a = lam / m ** 0.5 * (2 * torch.rand(a_shape, generator=gen, dtype=dtype) - 1)
        return W.to(device), a.to(device)
    std = lam / m ** 0.5
    W = std * torch.randn(m, d, generator=gen, dtype=dtype)
    if scheme == "gaussian":
        a = std * torch.randn(a_shape, generator=gen, dtype=dtype)
    else:
        norms = W.norm(dim=-1)
        if k is None:
            a = norms * (torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1)
        else:
            a = norms[:, None] * torch.nn.functional.normalize(torch.randn(m, k, generator=gen, dtype=dtype), dim=-1)
    return W.to(device), a.to(device)
