"""Shared pieces of the intrinsic suite: the engine-gradient linear flow, design helpers, rule variants."""
from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp

import numerics

from checks.frame.errors import CheckError

def same_length(design, *names):
    lengths = {len(getattr(design, k)) for k in names}
    if len(lengths) != 1 or 0 in lengths:
        raise CheckError(f"settings {', '.join(names)} of {type(design).__name__} must be non-empty lists of the same "
                         f"length (one entry per configuration); got {[getattr(design, k) for k in names]}")


def flow(U0, V0, Z, T, rtol, samples):
    """θ-flow of f = ½‖UVᵀ − Z‖² through the engine's gradient, DOP853 at rtol = atol; `samples` times in [0, T].

    z = UVᵀ is the engine's linear two-layer net with W = Vᵀ, a = Uᵀ, X = I_m, y = Zᵀ (as in
    `checks.suites.conservation.flows.linear_problem`), whose loss is L = (1/2m)‖z − Z‖²; so ∇f = m·∇L and θ̇ = −m·∇L.
    """
    (n, r), m = U0.shape, V0.shape[0]
    X, y = torch.eye(m, dtype=torch.float64), torch.tensor(np.asarray(Z, float).T.copy())
    k = n * r

    def rhs(t, th):
        U, V = th[:k].reshape(n, r), th[k:].reshape(m, r)
        lg = numerics.loss_and_grad(torch.tensor(V.T.copy()), torch.tensor(U.T.copy()), X, y, activation="linear")
        return -m * np.concatenate([lg.grad_a.numpy().T.ravel(), lg.grad_W.numpy().T.ravel()])

    sol = solve_ivp(rhs, (0, T), np.concatenate([U0.ravel(), V0.ravel()]), method="DOP853", rtol=rtol, atol=rtol,
                    t_eval=np.linspace(0, T, samples))
    if not sol.success:
        raise RuntimeError(f"DOP853 failed on the linear flow: {sol.message}")
    return sol.t, [(th[:k].reshape(n, r), th[k:].reshape(m, r)) for th in sol.y.T]


def configs(d, *names):
    return list(zip(*(getattr(d, k) for k in names)))



def never(f):
    return lambda *a: False


def always(f):
    return lambda *a: True


def shape_only(f):
    """'Every full-rank init with r ≤ min(n, m) is intrinsic': no balance condition."""
    return lambda U, V: U.shape[1] <= min(U.shape[0], V.shape[0])


def balanced_only(f):
    """'Only exact balance S = 0 is intrinsic' (κ = 0)."""
    return lambda U, V: bool(f(U, V)) and np.abs(U.T @ U - V.T @ V).max() <= 1e-8 * max(1.0, np.abs(U).max() ** 2)
