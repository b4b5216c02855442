"""The flows the conservation checks integrate, built on the engine's one gradient (no second hand-written one).

    X, y, W, a = linear_problem(n_out, m_in, r, seed)       # z = UVᵀ as the engine's linear two-layer net
    grad, k = engine_gradient(X, y, (W.shape, a.shape), "linear")
    theta_dot = -grad(theta)                                 # θ = (vec W, vec a), e.g. inside scipy's solve_ivp
"""
from __future__ import annotations

import numpy as np
import torch

import numerics

__all__ = ["engine_gradient", "linear_problem"]


def linear_problem(n_out: int, m_in: int, r: int, seed: int):
    """z = UVᵀ as the engine's linear two-layer net: W = Vᵀ (r × m_in), a = Uᵀ (r × n_out), X = I, y = Zᵀ (E8).

    Then L = (1/2m_in)‖z − Z‖², ∇_z L = G = (z − Z)/m_in, and S = UᵀU − VᵀV = a aᵀ − W Wᵀ.

    Arguments:
        n_out, m_in, r: the shape of z (n_out × m_in) and the inner width r.
        seed: U, V and Z are standard normal from this seed.
    Returns:
        (X, y, W, a) as float64 torch tensors.
    """
    rng = np.random.default_rng(seed)
    W, a = rng.standard_normal((r, m_in)), rng.standard_normal((r, n_out))
    return (torch.eye(m_in, dtype=torch.float64), torch.tensor(rng.standard_normal((n_out, m_in)).T),
            torch.tensor(W), torch.tensor(a))


def engine_gradient(X, y, shapes, activation: str = "relu"):
    """θ = (vec W, vec a) ↦ ∇L(θ) from `numerics.loss_and_grad`, as a flat numpy vector.

    Arguments:
        X, y: the data, as the engine takes it (torch tensors).
        shapes: (shape of W, shape of a).
        activation: "relu" or "linear".
    Returns:
        (grad, k): the gradient function and k = the number of entries of W (θ[:k] is vec W).
    """
    k = int(np.prod(shapes[0]))

    def grad(th):
        lg = numerics.loss_and_grad(torch.tensor(th[:k].reshape(shapes[0])), torch.tensor(th[k:].reshape(shapes[1])),
                                    X, y, activation=activation)
        return np.concatenate([lg.grad_W.numpy().ravel(), lg.grad_a.numpy().ravel()])

    return grad, k
