"""A final cluster's escape (PIN-11 diagnostics): the checkpoint where its mass first reaches a share of its final
mass, and the residual on its gated samples there (F1.9b: a cluster that escapes after an earlier group fitted part
of its samples grows on that residual, not on e = y). Shared by `racing.target_direction` and
`racing.target_direction_vector`."""
from __future__ import annotations

import numpy as np

#: share of its final mass that marks a cluster's escape
ESCAPE_SHARE = 0.1
#: largest ‖e(t_esc) − y‖/‖y‖ on a cluster's gated samples for it to count as escaping on the early residual
#: e = y
EARLY_RESIDUAL = 0.25


def mass_trajectory(W, a) -> np.ndarray:
    """p_j(t) = ‖a_j(t)‖‖w_j(t)‖ at every checkpoint, shape (T, m).

    Arguments:
        W: incoming weights over the checkpoints, (T, m, d).
        a: outgoing weights, (T, m) for a scalar output or (T, m, k) for k outputs.
    """
    W, a = np.asarray(W, float), np.asarray(a, float)
    na = np.abs(a) if a.ndim == 2 else np.linalg.norm(a, axis=2)
    return na * np.linalg.norm(W, axis=2)


def mean_direction(p, W, members) -> np.ndarray:
    """A cluster's direction: the unit vector along Σ_{j∈c} p_j ŵ_j (its members' unit directions weighted by mass).

    Arguments:
        p: per-neuron mass at one checkpoint, (m,).  W: weights at that checkpoint, (m, d) (incoming or outgoing).
        members: boolean mask (m,) of the cluster's neurons.
    """
    sel = np.asarray(members, bool)
    Wc = np.asarray(W, float)[sel]
    u = (np.asarray(p, float)[sel][:, None] * Wc / np.linalg.norm(Wc, axis=1)[:, None]).sum(0)
    return u / np.linalg.norm(u)


def escape(P, members, y, outputs, gates, share: float = ESCAPE_SHARE) -> dict:
    """A cluster's escape: the first checkpoint where its mass Σ_{j∈c} p_j(t) reaches `share` of its final mass,
    the residual e(t_esc) = y − h(t_esc) there and its relative distance from y on the cluster's gated samples.

    Arguments:
        P: per-neuron mass over the checkpoints, (T, m) (`mass_trajectory`).
        members: boolean mask (m,) of the cluster's neurons.
        y: targets, (n,) or (n, k).
        outputs: network outputs h at the checkpoints, (T, n) or (T, n, k).
        gates: the cluster's gating (n,), > 0 on its active samples.
        share: share of the final mass that marks the escape, in (0, 1).

    Returns:
        dict(index=checkpoint, e_escape=y − h(t_esc), r_escape=‖e(t_esc) − y‖/‖y‖ on the gated samples (inf
        when none is gated)).
    """
    pc = np.asarray(P, float)[:, np.asarray(members, bool)].sum(1)
    i = int(np.argmax(pc >= share * pc[-1]))
    y = np.asarray(y, float)
    e = y - np.asarray(outputs, float)[i]
    on = np.asarray(gates) > 0
    r = float(np.linalg.norm((e - y)[on]) / np.linalg.norm(y[on])) if on.any() else np.inf
    return dict(index=i, e_escape=e, r_escape=r)
