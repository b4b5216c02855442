"""Optimisers over the parameter pair (W, a); all use `model.loss_and_grad`.

GD:   θ ← θ − η ∇L(θ)                  (full batch; the gradient-flow proxy, t = η · steps)
SGD:  θ ← θ − η ∇L_B(θ)                (mini-batch B)
Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − η m̂/(√v̂ + ε)
"""
from __future__ import annotations

import torch

OPTIMIZERS = ("gd", "sgd", "adam")


class Plain:
    """GD and SGD share the plain update; they differ only in which samples the gradient sees."""

    def __init__(self, lr: float):
        self.lr = lr

    def update(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        for p, g in zip(params, grads):
            p.add_(g, alpha=-self.lr)


class Adam:
    def __init__(self, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t = 0
        self.m: list[torch.Tensor] | None = None
        self.v: list[torch.Tensor] | None = None

    def update(self, params, grads) -> None:
        b1, b2 = self.betas
        if self.m is None:
            self.m = [torch.zeros_like(p) for p in params]
            self.v = [torch.zeros_like(p) for p in params]
        self.t += 1
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            mhat = m / (1 - b1 ** self.t)
            vhat = v / (1 - b2 ** self.t)
            p.sub_(self.lr * mhat / (vhat.sqrt() + self.eps))


def make(name: str, lr: float):
    """The optimiser object of `train`.

    Arguments:
        name: "gd", "sgd" or "adam".  lr: step size.

    Returns:
        an object with `update(params, grads)` that updates the params in place.
    """
    if name in ("gd", "sgd"):
        return Plain(lr)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"optimizer={name!r} is not supported; use one of {OPTIMIZERS}")
