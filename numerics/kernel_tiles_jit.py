"""The register tiles of `numerics.kernel_fused_jit` (imports numba at load: import it only through the kernel).

For a scalar output and up to four samples per sweep, one loop over a block's neurons does a sample group's whole
work with the pre-activations in registers: `_tile_step` recomputes z at the old block, applies the pending update
and runs the next batch's forward on the new block in the same sweep; `_tile_fwd` is the forward alone and
`_tile_bwd` a backward into gradient rows (batches of 4 < b ≤ 16, `group_pass`); `_tile_step_z` (SGD, b ≤ 4) reads
the pending batch's z from the previous sweep instead of recomputing it (d multiply-adds per sample and neuron saved
for one store and one load). The sample count and the input
dimension are compile-time constants (tuple lengths: `grp`, and `dims` or the length of the input tuples), so the
inner loops unroll and the neuron loop vectorises; the sums over neurons use `reassoc` (vector lanes, a fixed order
for a given build). Each (d, group size) pair compiles once and is cached on disk.
"""
import numba
import numpy as np
from numba.np.unsafe.ndarray import to_fixed_tuple

from .kernel_jit import JIT, SOFTPLUS_THRESHOLD

JIT_FMA = dict(JIT, fastmath={"contract"})  # a·b + c may be one FMA (one rounding); no reassociation, IEEE NaN/inf
JIT_SUM = dict(JIT, fastmath={"contract", "reassoc"})  # also: the h sums in vector lanes (order fixed per build)


@numba.njit(**JIT)
def residual(h, yk, logistic, inv):
    """(loss term, residual with the factor inv = 1/batch) of one output h against its target yk."""
    if logistic:
        u = -yk * h  # softplus(u) as torch: u above the threshold returns u
        return (u if u > SOFTPLUS_THRESHOLD else np.log1p(np.exp(u))), -yk / (1.0 + np.exp(-u)) * inv
    res = h - yk
    return 0.5 * res * res, res * inv


@numba.njit(**JIT)
def _loss_h(h, Yn, Rn, logistic, bn):
    """`_loss` for a scalar output from the sums h (bn,)."""
    total = 0.0
    inv = 1.0 / bn
    for k in range(bn):
        term, Rn[k, 0] = residual(h[k], Yn[k, 0], logistic, inv)
        total += term
    return total * inv


@numba.njit(**JIT_FMA)
def _tile_bwd(wb, ab, gw, ga, xs, rs, lr, grp, direct):
    """Backward of up to four samples (len(grp), a compile-time count; xs their input tuples, rs their residuals) on
    one block in one sweep, z recomputed from the block: the gradient a_j Σ_k 1[z_kj > 0] r_k x_k,
    Σ_k relu(z_kj) r_k is added to gw, ga, or with len(direct) == 2 (compile time) the block is updated at once by it
    plus gw, ga (w_j −= lr·(gw_j + …), a_j −= lr·(ga_j + …))."""
    D = len(xs[0])
    G = len(grp)
    B = wb.shape[1]
    x0, x1, x2, x3 = xs
    r0, r1, r2, r3 = rs
    for j in range(B):
        z0 = z1 = z2 = z3 = 0.0
        for t in range(D):
            w = wb[t, j]
            z0 += x0[t] * w
            if G > 1:
                z1 += x1[t] * w
            if G > 2:
                z2 += x2[t] * w
            if G > 3:
                z3 += x3[t] * w
        p0 = r0 if z0 > 0.0 else 0.0  # relu'(0) = 0
        p1 = r1 if z1 > 0.0 else 0.0
        p2 = r2 if z2 > 0.0 else 0.0
        p3 = r3 if z3 > 0.0 else 0.0
        gaj = max(z0, 0.0) * r0
        if G > 1:
            gaj += max(z1, 0.0) * r1
        if G > 2:
            gaj += max(z2, 0.0) * r2
        if G > 3:
            gaj += max(z3, 0.0) * r3
        aj = ab[j]
        for t in range(D):
            s = x0[t] * p0
            if G > 1:
                s += x1[t] * p1
            if G > 2:
                s += x2[t] * p2
            if G > 3:
                s += x3[t] * p3
            if len(direct) == 2:
                wb[t, j] -= lr * (gw[t, j] + aj * s)
            else:
                gw[t, j] += aj * s
        if len(direct) == 2:
            ab[j] = aj - lr * (ga[j] + gaj)
        else:
            ga[j] += gaj


@numba.njit(**JIT_SUM)
def _tile_step(wb, ab, xs, rs, xn, lr, grp):
    """Pending update and next forward of up to four samples each (len(grp), compile-time) on one block in one sweep:
    z at the old block (recomputed), w_j −= lr·a_j Σ_k 1[z_kj > 0] r_k x_k, a_j −= lr Σ_k relu(z_kj) r_k, then the
    next batch's z at the new block; returns the block's four sums Σ_j a_j relu(z_kj) of the next batch."""
    D = len(xs[0])
    G = len(grp)
    B = wb.shape[1]
    x0, x1, x2, x3 = xs
    r0, r1, r2, r3 = rs
    y0, y1, y2, y3 = xn
    s0 = s1 = s2 = s3 = 0.0
    for j in range(B):
        z0 = z1 = z2 = z3 = 0.0
        for t in range(D):
            w = wb[t, j]
            z0 += x0[t] * w
            if G > 1:
                z1 += x1[t] * w
            if G > 2:
                z2 += x2[t] * w
            if G > 3:
                z3 += x3[t] * w
        p0 = r0 if z0 > 0.0 else 0.0  # relu'(0) = 0
        p1 = r1 if z1 > 0.0 else 0.0
        p2 = r2 if z2 > 0.0 else 0.0
        p3 = r3 if z3 > 0.0 else 0.0
        gaj = max(z0, 0.0) * r0
        if G > 1:
            gaj += max(z1, 0.0) * r1
        if G > 2:
            gaj += max(z2, 0.0) * r2
        if G > 3:
            gaj += max(z3, 0.0) * r3
        aj = ab[j]
        v0 = v1 = v2 = v3 = 0.0
        for t in range(D):
            s = x0[t] * p0
            if G > 1:
                s += x1[t] * p1
            if G > 2:
                s += x2[t] * p2
            if G > 3:
                s += x3[t] * p3
            w = wb[t, j] - lr * (aj * s)
            wb[t, j] = w
            v0 += y0[t] * w
            if G > 1:
                v1 += y1[t] * w
            if G > 2:
                v2 += y2[t] * w
            if G > 3:
                v3 += y3[t] * w
        an = aj - lr * gaj
        ab[j] = an
        s0 += an * max(v0, 0.0)
        if G > 1:
            s1 += an * max(v1, 0.0)
        if G > 2:
            s2 += an * max(v2, 0.0)
        if G > 3:
            s3 += an * max(v3, 0.0)
    return s0, s1, s2, s3


@numba.njit(**JIT_SUM)
def _tile_step_z(wb, ab, Z, xs, rs, xn, lr, grp):
    """`_tile_step` with z of the pending batch read from Z (4, B) (the previous sweep's forward) instead of
    recomputed, and the next batch's z written there.

    Pending update and next forward of up to four samples each (len(grp), compile-time) on one block in one sweep:
    z at the old block (recomputed), w_j −= lr·a_j Σ_k 1[z_kj > 0] r_k x_k, a_j −= lr Σ_k relu(z_kj) r_k, then the
    next batch's z at the new block; returns the block's four sums Σ_j a_j relu(z_kj) of the next batch."""
    D = len(xs[0])
    G = len(grp)
    B = wb.shape[1]
    x0, x1, x2, x3 = xs
    r0, r1, r2, r3 = rs
    y0, y1, y2, y3 = xn
    s0 = s1 = s2 = s3 = 0.0
    for j in range(B):
        z0 = Z[0, j]
        z1 = Z[1, j] if G > 1 else 0.0
        z2 = Z[2, j] if G > 2 else 0.0
        z3 = Z[3, j] if G > 3 else 0.0
        p0 = r0 if z0 > 0.0 else 0.0  # relu'(0) = 0
        p1 = r1 if z1 > 0.0 else 0.0
        p2 = r2 if z2 > 0.0 else 0.0
        p3 = r3 if z3 > 0.0 else 0.0
        gaj = max(z0, 0.0) * r0
        if G > 1:
            gaj += max(z1, 0.0) * r1
        if G > 2:
            gaj += max(z2, 0.0) * r2
        if G > 3:
            gaj += max(z3, 0.0) * r3
        aj = ab[j]
        v0 = v1 = v2 = v3 = 0.0
        for t in range(D):
            s = x0[t] * p0
            if G > 1:
                s += x1[t] * p1
            if G > 2:
                s += x2[t] * p2
            if G > 3:
                s += x3[t] * p3
            w = wb[t, j] - lr * (aj * s)
            wb[t, j] = w
            v0 += y0[t] * w
            if G > 1:
                v1 += y1[t] * w
            if G > 2:
                v2 += y2[t] * w
            if G > 3:
                v3 += y3[t] * w
        an = aj - lr * gaj
        ab[j] = an
        Z[0, j] = v0
        if G > 1:
            Z[1, j] = v1
        if G > 2:
            Z[2, j] = v2
        if G > 3:
            Z[3, j] = v3
        s0 += an * max(v0, 0.0)
        if G > 1:
            s1 += an * max(v1, 0.0)
        if G > 2:
            s2 += an * max(v2, 0.0)
        if G > 3:
            s3 += an * max(v3, 0.0)
    return s0, s1, s2, s3


@numba.njit(**JIT_SUM)
def _tile_fwd(wb, ab, xs, grp):
    """Forward of up to four samples (len(grp), inputs xs) on one block in one sweep: their sums Σ_j a_j relu(z_kj)."""
    D = len(xs[0])
    G = len(grp)
    B = wb.shape[1]
    x0, x1, x2, x3 = xs
    s0 = s1 = s2 = s3 = 0.0
    for j in range(B):
        z0 = z1 = z2 = z3 = 0.0
        for t in range(D):
            w = wb[t, j]
            z0 += x0[t] * w
            if G > 1:
                z1 += x1[t] * w
            if G > 2:
                z2 += x2[t] * w
            if G > 3:
                z3 += x3[t] * w
        aj = ab[j]
        s0 += aj * max(z0, 0.0)
        if G > 1:
            s1 += aj * max(z1, 0.0)
        if G > 2:
            s2 += aj * max(z2, 0.0)
        if G > 3:
            s3 += aj * max(z3, 0.0)
    return s0, s1, s2, s3


@numba.njit(**JIT)
def _rows(X, k0, b, dims, zero):
    """The inputs of samples k0 … k0 + 3 as four tuples of len(dims) (zeros past b)."""
    D = len(dims)
    return (to_fixed_tuple(X[k0] if k0 < b else zero, D), to_fixed_tuple(X[k0 + 1] if k0 + 1 < b else zero, D),
            to_fixed_tuple(X[k0 + 2] if k0 + 2 < b else zero, D), to_fixed_tuple(X[k0 + 3] if k0 + 3 < b else zero, D))


@numba.njit(**JIT)
def _res(R, k0, b):
    """The residuals of samples k0 … k0 + 3 (zeros past b)."""
    return (R[k0, 0] if k0 < b else 0.0, R[k0 + 1, 0] if k0 + 1 < b else 0.0, R[k0 + 2, 0] if k0 + 2 < b else 0.0,
            R[k0 + 3, 0] if k0 + 3 < b else 0.0)


@numba.njit(**JIT_FMA)
def _bwd_group(wb, ab, gw, ga, xs, rs, lr, g, mode):
    """`_tile_bwd` for a run-time count g ≤ 4 and mode 0 (accumulate) or 2 (update with gw, ga)."""
    if mode == 0:
        dm = ()
        if g == 4:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0, 0, 0), dm)
        elif g == 3:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0, 0), dm)
        elif g == 2:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0), dm)
        else:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0,), dm)
    else:
        d2 = (0, 0)
        if g == 4:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0, 0, 0), d2)
        elif g == 3:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0, 0), d2)
        elif g == 2:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0, 0), d2)
        else:
            _tile_bwd(wb, ab, gw, ga, xs, rs, lr, (0,), d2)


@numba.njit(**JIT_FMA)
def _fwd_group(wb, ab, xs, g):
    """`_tile_fwd` for a run-time count g ≤ 4."""
    if g == 4:
        return _tile_fwd(wb, ab, xs, (0, 0, 0, 0))
    if g == 3:
        return _tile_fwd(wb, ab, xs, (0, 0, 0))
    if g == 2:
        return _tile_fwd(wb, ab, xs, (0, 0))
    return _tile_fwd(wb, ab, xs, (0,))


@numba.njit(**JIT_FMA)
def _step_group(wb, ab, xs, rs, xn, lr, g):
    """`_tile_step` for a run-time count g ≤ 4."""
    if g == 4:
        return _tile_step(wb, ab, xs, rs, xn, lr, (0, 0, 0, 0))
    if g == 3:
        return _tile_step(wb, ab, xs, rs, xn, lr, (0, 0, 0))
    if g == 2:
        return _tile_step(wb, ab, xs, rs, xn, lr, (0, 0))
    return _tile_step(wb, ab, xs, rs, xn, lr, (0,))


@numba.njit(**JIT_FMA)
def _step_group_z(wb, ab, Z, xs, rs, xn, lr, g):
    """`_tile_step_z` for a run-time count g ≤ 4."""
    if g == 4:
        return _tile_step_z(wb, ab, Z, xs, rs, xn, lr, (0, 0, 0, 0))
    if g == 3:
        return _tile_step_z(wb, ab, Z, xs, rs, xn, lr, (0, 0, 0))
    if g == 2:
        return _tile_step_z(wb, ab, Z, xs, rs, xn, lr, (0, 0))
    return _tile_step_z(wb, ab, Z, xs, rs, xn, lr, (0,))


@numba.njit(**JIT_FMA)
def _zrows(wb, Z, xs, g):
    """Z[k] = the block's z of the samples xs (k < g ≤ 4), for `_tile_step_z`."""
    B = wb.shape[1]
    for k in range(g):
        x = xs[k]
        for j in range(B):
            v = 0.0
            for t in range(len(x)):
                v += x[t] * wb[t, j]
            Z[k, j] = v


@numba.njit(**JIT_FMA)
def tile_pass(Xp, Rp, Xn, Yn, Rn, WB, AB, lr, bwd, fwd, logistic, HSUM, dims, zero, out):
    """One sweep over the blocks of one network with a scalar output: with `bwd`, for batches of b ≤ 4 (Xp, Xn
    (b, d)), the pending update of Xp with residuals Rp and the forward of Xn in one register tile per block
    (`_tile_step`); else the forward of Xn alone (`_tile_fwd`, any b ≤ 16). Xn's residuals into Rn (may be Rp), its
    loss into out[0].

    Arguments:
        WB (nb, d, B), AB (nb, 1, B): the network, blocked (updated).  lr: step.  logistic: the loss.
        HSUM (≥ b,): work buffer.  dims: a tuple of length d.  zero (d,): zeros.  out (3,): receives the loss.
    """
    nb = AB.shape[0]
    b = Xn.shape[0]
    xp, rp, xn = _rows(Xp, 0, b, dims, zero), _res(Rp, 0, b), _rows(Xn, 0, b, dims, zero)
    HSUM[:] = 0.0
    for q in range(nb):
        if bwd:
            h = _step_group(WB[q], AB[q, 0], xp, rp, xn, lr, b)
            for k in range(b):
                HSUM[k] += h[k]
        else:
            for k0 in range(0, b, 4):
                g = min(4, b - k0)
                h = _fwd_group(WB[q], AB[q, 0], _rows(Xn, k0, b, dims, zero), g)
                for k in range(g):
                    HSUM[k0 + k] += h[k]
    out[0] = _loss_h(HSUM, Yn, Rn, logistic, b)


@numba.njit(**JIT_FMA)
def tile_pass_z(Xp, Rp, Xn, Yn, Rn, WB, AB, ZB, lr, bwd, logistic, HSUM, dims, zero, out):
    """`tile_pass` for b ≤ 4 with the pending batch's z kept in ZB (nb, 4, B) between sweeps (`_tile_step_z`): the
    forward alone (not `bwd`) also fills ZB."""
    nb = AB.shape[0]
    b = Xn.shape[0]
    xp, rp, xn = _rows(Xp, 0, b, dims, zero), _res(Rp, 0, b), _rows(Xn, 0, b, dims, zero)
    HSUM[:] = 0.0
    for q in range(nb):
        if bwd:
            h = _step_group_z(WB[q], AB[q, 0], ZB[q], xp, rp, xn, lr, b)
        else:
            h = _fwd_group(WB[q], AB[q, 0], xn, b)
            _zrows(WB[q], ZB[q], xn, b)
        for k in range(b):
            HSUM[k] += h[k]
    out[0] = _loss_h(HSUM, Yn, Rn, logistic, b)


@numba.njit(**JIT_FMA)
def group_pass(Xp, Rp, Xn, Yn, Rn, WB, AB, lr, logistic, HSUM, G, GA, dims, zero, out):
    """`tile_pass` with `bwd` for batches of 4 < b ≤ 16: per block one sweep per four pending samples (∂θ into
    G (d, B), GA (1, B); the last sweep updates the block) and one per four samples of the next batch."""
    nb = AB.shape[0]
    b = Xn.shape[0]
    ng = (b + 3) // 4
    xp0, xp1, xp2, xp3 = (_rows(Xp, 0, b, dims, zero), _rows(Xp, 4, b, dims, zero), _rows(Xp, 8, b, dims, zero),
                          _rows(Xp, 12, b, dims, zero))
    rp0, rp1, rp2, rp3 = _res(Rp, 0, b), _res(Rp, 4, b), _res(Rp, 8, b), _res(Rp, 12, b)
    xn0, xn1, xn2, xn3 = (_rows(Xn, 0, b, dims, zero), _rows(Xn, 4, b, dims, zero), _rows(Xn, 8, b, dims, zero),
                          _rows(Xn, 12, b, dims, zero))
    HSUM[:] = 0.0
    for q in range(nb):
        wb, ab = WB[q], AB[q, 0]
        G[:, :] = 0.0
        GA[0, :] = 0.0
        for u in range(ng):
            xs = xp0 if u == 0 else (xp1 if u == 1 else (xp2 if u == 2 else xp3))
            rs = rp0 if u == 0 else (rp1 if u == 1 else (rp2 if u == 2 else rp3))
            _bwd_group(wb, ab, G, GA[0], xs, rs, lr, min(4, b - 4 * u), 0 if u < ng - 1 else 2)
        for u in range(ng):
            xs = xn0 if u == 0 else (xn1 if u == 1 else (xn2 if u == 2 else xn3))
            g = min(4, b - 4 * u)
            h = _fwd_group(wb, ab, xs, g)
            for k in range(g):
                HSUM[4 * u + k] += h[k]
    out[0] = _loss_h(HSUM, Yn, Rn, logistic, b)
