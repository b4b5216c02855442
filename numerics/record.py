"""The trajectory record: what a training run hands to the checks (numpy, float64)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def protected(W0: np.ndarray, a0: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Neurons whose sign(a_j) gradient flow freezes: a_j² ≥ ‖w_j‖² at init, up to round-off (balanced: equality).

    The rule's home is `theory.network.sign_frozen` (F3.1, BF-P3); this is its fast numeric twin for the engine
    (no sympy here), pinned to it by a property test (tests/numerics/test_sign_freezing_twin.py).

    Arguments:
        W0, a0: (..., m, d) and (..., m) initial parameters (scalar output).
        rtol: relative round-off allowed in a_j² − ‖w_j‖² ≥ 0.

    Returns:
        (..., m) bool mask of the protected neurons.
    """
    a2, w2 = np.asarray(a0) ** 2, (np.asarray(W0) ** 2).sum(-1)
    return a2 - w2 >= -rtol * (a2 + w2)


def sign_violations(Ws: np.ndarray, As: np.ndarray) -> int:
    """Neurons with a_j² ≥ ‖w_j‖² at the first checkpoint whose sign(a_j) changed at a later one (BF-P3).

    Arguments:
        Ws, As: (C, ..., m, d) and (C, ..., m) parameters, checkpoints first.

    Returns:
        the count (0 for vector outputs, As of Ws's rank).
    """
    if As.ndim == Ws.ndim:
        return 0
    flipped = (np.sign(As) != np.sign(As[0])).any(axis=0)
    return int(np.sum(protected(Ws[0], As[0]) & flipped))


RECORDABLE = ("grads", "outputs")  # optional per-checkpoint records of `numerics.train(..., record=...)`


@dataclass
class Trajectory:
    """Checkpointed state of one run (a leading seed axis after the checkpoint axis, if batched).

    The one record of the engine: `numerics.train` (GD/SGD/Adam) and `numerics.flow.event_flow` (the gradient flow
    by event-located Runge–Kutta) both return it.

    time:     (C,) flow time (t = lr · step for a training run)
    step:     (C,) GD/SGD/Adam step index, or the integrator's cumulative step count for `event_flow`
    loss:     (C, ...) training loss L (not MSE)
    W, a:     (C, ..., m, d) and (C, ..., m[, k]) parameters
    w_norm:   (C, ..., m) ‖w_j‖;  a_norm: (C, ..., m) |a_j| (or ‖a_j‖)
    patterns: (C, ..., n, m) bool gating 1[w_j·x_k > 0], or None when not recorded
    config:   the run's settings (step size, loss, optimiser or tableau, ...)
    stopped_early: the run stopped before its last step because the parameters stopped moving
    grad_W, grad_a: (C, ..., m, d) and (C, ..., m[, k]) the engine's gradient ∂L/∂W, ∂L/∂a (full batch) at each
              checkpoint's parameters (`record=("grads",)`), else None
    outputs:  (C, ..., n[, k]) network outputs h(x_k) at each checkpoint (`record=("outputs",)`), else None
    events:   `event_flow` only: every located gating flip as (t, sample k, neuron j, new gate), in time order;
              None for training runs
    """

    time: np.ndarray
    step: np.ndarray
    loss: np.ndarray
    W: np.ndarray
    a: np.ndarray
    w_norm: np.ndarray
    a_norm: np.ndarray
    patterns: np.ndarray | None
    config: dict = field(default_factory=dict)
    stopped_early: bool = False
    grad_W: np.ndarray | None = None
    grad_a: np.ndarray | None = None
    outputs: np.ndarray | None = None
    events: list | None = None

    def __len__(self) -> int:
        return len(self.time)

    @property
    def norm_product(self) -> np.ndarray:
        """p_j = |a_j| ‖w_j‖ at every checkpoint."""
        return self.a_norm * self.w_norm

    @property
    def conserved(self) -> np.ndarray:
        """Δ_j = ‖a_j‖² − ‖w_j‖² (F3.1); with bias the last input column is the bias b_j."""
        return self.a_norm ** 2 - self.w_norm ** 2

    def frozen_sign_violations(self, seed: int | None = None) -> int:
        """Neurons with Δ_j(0) ≥ 0 (balanced/dominated) whose sign(a_j) changed at some checkpoint (BF-P3).

        Gradient flow forbids it (F3.1); under GD it signals a step too large for the O(η²) defect.
        Scalar outputs only (0 for vector outputs). The one way checks count them (the rule: `protected`).

        Arguments:
            seed: for a run batched over seeds, count only this seed (index on the seed axis); None: all seeds.

        Returns:
            the number of such neurons (summed over seeds).
        """
        if seed is None:
            return sign_violations(self.W, self.a)
        return sign_violations(self.W[:, seed], self.a[:, seed])

    def at_time(self, t: float) -> int:
        """Index of the checkpoint nearest to flow time t (requested times are rounded to whole steps).

        Arguments:
            t: a flow time.

        Returns:
            the checkpoint index i minimising |time[i] − t|.
        """
        return int(np.argmin(np.abs(self.time - t)))


def from_states(time, step, loss, W, a, patterns=None, **extra) -> Trajectory:
    """A Trajectory from stacked states (checkpoints first), with the norms derived.

    Arguments:
        time, step, loss: (C,) / (C, ...) arrays as in `Trajectory`.
        W, a: (C, ..., m, d) and (C, ..., m[, k]) parameters.
        patterns: optional (C, ..., n, m) gating.
        **extra: the other Trajectory fields (config, stopped_early, grad_W, grad_a, outputs, events).

    Returns:
        the Trajectory.
    """
    W, a = np.asarray(W), np.asarray(a)
    vector = a.ndim == W.ndim
    return Trajectory(time=np.asarray(time), step=np.asarray(step), loss=np.asarray(loss), W=W, a=a,
                      w_norm=np.linalg.norm(W, axis=-1), a_norm=np.linalg.norm(a, axis=-1) if vector else np.abs(a),
                      patterns=patterns, **extra)
