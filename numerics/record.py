"""The trajectory record: what a training run hands to the checks (numpy, float64)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def protected(W0: np.ndarray, a0: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Neurons whose sign(a_j) gradient flow freezes: a_j² ≥ ‖w_j‖² at init, up to round-off (balanced: equality)."""
    a2, w2 = np.asarray(a0) ** 2, (np.asarray(W0) ** 2).sum(-1)
    return a2 - w2 >= -rtol * (a2 + w2)


def sign_violations(Ws: np.ndarray, As: np.ndarray) -> int:
    """Neurons with a_j² ≥ ‖w_j‖² at the first checkpoint whose sign(a_j) changed at a later one (BF-P3).

    Ws (C, ..., m, d) and As (C, ..., m): checkpoints first. 0 for vector outputs (As of Ws's rank)."""
    if As.ndim == Ws.ndim:
        return 0
    flipped = (np.sign(As) != np.sign(As[0])).any(axis=0)
    return int(np.sum(protected(Ws[0], As[0]) & flipped))


@dataclass
class Trajectory:
    """Checkpointed state of one run (a leading seed axis after the checkpoint axis, if batched).

    time:     (C,) flow time t = lr · step
    step:     (C,) GD/SGD/Adam step index
    loss:     (C, ...) training loss L (not MSE)
    W, a:     (C, ..., m, d) and (C, ..., m[, k]) parameters
    w_norm:   (C, ..., m) ‖w_j‖;  a_norm: (C, ..., m) |a_j| (or ‖a_j‖)
    patterns: (C, ..., n, m) bool gating 1[w_j·x_k > 0], or None when not recorded
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

    def frozen_sign_violations(self) -> int:
        """Neurons with Δ_j(0) ≥ 0 (balanced/dominated) whose sign(a_j) changed at some checkpoint (BF-P3).

        Gradient flow forbids it (F3.1); under GD it signals a step too large for the O(η²) defect.
        Scalar outputs only (0 for vector outputs).
        """
        return sign_violations(self.W, self.a)

    def at_time(self, t: float) -> int:
        """Index of the checkpoint nearest to flow time t (requested times are rounded to whole steps)."""
        return int(np.argmin(np.abs(self.time - t)))

    def gating_flips(self) -> list[tuple[int, int]]:
        """(checkpoint, neuron) pairs where some w_j·x_k changed sign since the previous checkpoint (F1.9a)."""
        if self.patterns is None:
            raise ValueError("patterns were not recorded; train with record_patterns=True")
        changed = (self.patterns[1:] != self.patterns[:-1]).any(axis=-2)  # (C-1, ..., m)
        idx = np.argwhere(changed)
        return [(int(i[0]) + 1, int(i[-1])) for i in idx]
