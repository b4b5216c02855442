"""The compiled mini-batch (SGD) step of `numerics.kernel` (imports numba at load: import it only through the kernel).

Layout: the neurons in blocks of B (`block_size`), each block's Wᵀ (d, B) and aᵀ (k, B) contiguous, so that one block
stays in L1 while every sample of the batch passes over it. Two passes per step (forward for the residuals, then
backward and update per block); see `sgd_step`.
"""
import numba
import numpy as np

from .kernel_jit import JIT, SOFTPLUS_THRESHOLD, dot

# the mini-batch step may fuse a·b + c into one FMA (one rounding instead of two; no reassociation, IEEE NaN/inf)
JIT_FMA = dict(JIT, fastmath={"contract"})


@numba.njit(**JIT)
def block_size(d):
    """Neurons per block of `sgd_advance`: the block's Wᵀ and ∂Wᵀ (2·d·B doubles) stay within ~24 KB of L1."""
    b = 1536 // (d + 1)
    b = max(32, min(512, b))
    return b - b % 8


@numba.njit(**JIT_FMA)
def _block_z(X, k, WB, Z, relu):
    """Z = Σ_t X[k, t] WB[t] on one neuron block WB (d, B), summed four inputs per sweep over Z (as `grad`); with
    `relu`, relu(Z) in the last sweep."""
    d, B = WB.shape
    t = 0
    while t < d:
        w = min(4, d - t)
        cut = relu and t + w == d
        lo = 0.0 if cut else -np.inf
        xa = X[k, t]
        wa = WB[t]
        if w == 1:
            for j in range(B):
                Z[j] = max(xa * wa[j] + (Z[j] if t else 0.0), lo)
        elif w == 2:
            xb, wb = X[k, t + 1], WB[t + 1]
            for j in range(B):
                Z[j] = max((xa * wa[j] + xb * wb[j]) + (Z[j] if t else 0.0), lo)
        elif w == 3:
            xb, wb, xc, wc = X[k, t + 1], WB[t + 1], X[k, t + 2], WB[t + 2]
            for j in range(B):
                Z[j] = max(((xa * wa[j] + xb * wb[j]) + xc * wc[j]) + (Z[j] if t else 0.0), lo)
        else:
            xb, wb, xc, wc, xd, wd = X[k, t + 1], WB[t + 1], X[k, t + 2], WB[t + 2], X[k, t + 3], WB[t + 3]
            for j in range(B):
                Z[j] = max(((xa * wa[j] + xb * wb[j]) + (xc * wc[j] + xd * wd[j])) + (Z[j] if t else 0.0), lo)
        t += w


@numba.njit(**JIT_FMA)
def _grouped_backward(X, k0, RB, wb, ab, Z4, P4, GW, GA):
    """Pass 2 of `sgd_step` for four samples k0 … k0 + 3 at once (scalar output): one sweep per row of ∂Wᵀ and one
    for ∂a serve the four samples (a quarter of the stores of one sample at a time)."""
    d, B = wb.shape
    for g in range(4):
        _block_z(X, k0 + g, wb, Z4[g], False)
    r0, r1, r2, r3 = RB[k0, 0], RB[k0 + 1, 0], RB[k0 + 2, 0], RB[k0 + 3, 0]
    a0, ga0 = ab[0], GA[0]
    z0, z1, z2, z3 = Z4[0], Z4[1], Z4[2], Z4[3]
    p0, p1, p2, p3 = P4[0], P4[1], P4[2], P4[3]
    for j in range(B):
        u0, u1, u2, u3 = z0[j], z1[j], z2[j], z3[j]
        aj = a0[j]
        ga0[j] += (max(u0, 0.0) * r0 + max(u1, 0.0) * r1) + (max(u2, 0.0) * r2 + max(u3, 0.0) * r3)
        p0[j] = aj * r0 if u0 > 0.0 else 0.0  # relu'(0) = 0
        p1[j] = aj * r1 if u1 > 0.0 else 0.0
        p2[j] = aj * r2 if u2 > 0.0 else 0.0
        p3[j] = aj * r3 if u3 > 0.0 else 0.0
    for t in range(d):
        x0, x1, x2, x3 = X[k0, t], X[k0 + 1, t], X[k0 + 2, t], X[k0 + 3, t]
        gt = GW[t]
        for j in range(B):
            gt[j] += (x0 * p0[j] + x1 * p1[j]) + (x2 * p2[j] + x3 * p3[j])


@numba.njit(**JIT_FMA)
def sgd_step(X, Y, WB, AB, lr, logistic, HB, RB, Z4, P4, GW, GA):
    """One mini-batch step on the samples X (b, d), Y (b, k), in place on the blocked parameters WB (nb, d, B),
    AB (nb, k, B) (neuron j = block·B + column; padding neurons are zero and stay zero), in two passes over W.

    Pass 1 (forward) accumulates h_k = Σ_blocks Σ_j a_j relu(z_kj) block by block (a block's Wᵀ stays in L1 for all
    b samples) and turns it into the residuals r_k of F1.1 with 1/b. Pass 2 recomputes z on each block, accumulates
    the block's ∂Wᵀ, ∂Aᵀ over the b samples, and updates the block at once (every block's gradient is taken at the
    parameters before the step: a block is updated only after its own samples, and pass 1 has seen all blocks).

    Arguments:
        X (b, d), Y (b, k): the batch.  WB, AB: parameters (updated).  lr: step.  logistic: the loss.
        HB (b, k), RB (b, k), Z4 (4, B), P4 (4, B), GW (d, B), GA (k, B): work buffers.

    Returns:
        the batch loss L_B at the parameters before the step.
    """
    b, d = X.shape
    nb, kout, B = AB.shape
    inv_b = 1.0 / b
    Z, P = Z4[0], P4[0]
    HB[:, :] = 0.0
    for q in range(nb):
        for k in range(b):
            _block_z(X, k, WB[q], Z, True)
            for c in range(kout):
                HB[k, c] += dot(Z, AB[q, c])
    total = 0.0
    for k in range(b):
        for c in range(kout):
            h = HB[k, c]
            yk = Y[k, c]
            if logistic:
                u = -yk * h
                total += u if u > SOFTPLUS_THRESHOLD else np.log1p(np.exp(u))
                RB[k, c] = -yk / (1.0 + np.exp(-u)) * inv_b
            else:
                res = h - yk
                total += 0.5 * res * res
                RB[k, c] = res * inv_b
    for q in range(nb):
        wb, ab = WB[q], AB[q]
        GW[:, :] = 0.0
        GA[:, :] = 0.0
        k0 = 0
        if kout == 1:
            while k0 + 4 <= b:
                _grouped_backward(X, k0, RB, wb, ab, Z4, P4, GW, GA)
                k0 += 4
        for k in range(k0, b):
            _block_z(X, k, wb, Z, False)
            r0 = RB[k, 0]
            a0 = ab[0]
            ga0 = GA[0]
            if kout == 1:
                for j in range(B):
                    zj = Z[j]
                    ga0[j] += max(zj, 0.0) * r0
                    P[j] = a0[j] * r0 if zj > 0.0 else 0.0  # relu'(0) = 0
            else:
                for j in range(B):
                    ga0[j] += max(Z[j], 0.0) * r0
                    P[j] = a0[j] * r0
                for c in range(1, kout):
                    rc = RB[k, c]
                    ac = ab[c]
                    gac = GA[c]
                    for j in range(B):
                        gac[j] += max(Z[j], 0.0) * rc
                        P[j] += ac[j] * rc
                for j in range(B):
                    P[j] = P[j] if Z[j] > 0.0 else 0.0  # relu'(0) = 0
            t = 0
            while t < d:  # up to four rows of ∂Wᵀ per sweep over P
                if t + 3 < d:
                    xa, xb, xc, xd = X[k, t], X[k, t + 1], X[k, t + 2], X[k, t + 3]
                    ga, gb, gc, gd = GW[t], GW[t + 1], GW[t + 2], GW[t + 3]
                    for j in range(B):
                        pj = P[j]
                        ga[j] += xa * pj
                        gb[j] += xb * pj
                        gc[j] += xc * pj
                        gd[j] += xd * pj
                    t += 4
                elif t + 1 < d:
                    xa, xb = X[k, t], X[k, t + 1]
                    ga, gb = GW[t], GW[t + 1]
                    for j in range(B):
                        pj = P[j]
                        ga[j] += xa * pj
                        gb[j] += xb * pj
                    t += 2
                else:
                    xa = X[k, t]
                    ga = GW[t]
                    for j in range(B):
                        ga[j] += xa * P[j]
                    t += 1
        for t in range(d):
            wt, gt = wb[t], GW[t]
            for j in range(B):
                wt[j] -= lr * gt[j]
        for c in range(kout):
            ac, gc = ab[c], GA[c]
            for j in range(B):
                ac[j] -= lr * gc[j]
    return total * inv_b


@numba.njit(**JIT)
def sgd_advance(X, Y, W, A, lr, IDX, logistic):
    """Mini-batch steps in place on the S networks W (S, m, d), A (S, m, k): step q uses the samples IDX[q] (K, b) of
    the shared data X (n, d), Y (n, k), the same batch for every seed (as the torch loop's X[idx] on a seed axis).

    Arguments:
        X (n, d), Y (n, k): data.  W, A: parameters (updated).  lr: step.  IDX (K, b): sample indices per step.
        logistic: the loss.
    """
    S, m, d = W.shape
    kout = A.shape[2]
    K, b = IDX.shape
    B = block_size(d)
    nb = (m + B - 1) // B
    WB = np.zeros((S, nb, d, B))  # blocked, neuron-contiguous layout; the padding neurons stay zero
    AB = np.zeros((S, nb, kout, B))
    for s in range(S):
        for j in range(m):
            for t in range(d):
                WB[s, j // B, t, j % B] = W[s, j, t]
            for c in range(kout):
                AB[s, j // B, c, j % B] = A[s, j, c]
    XB = np.empty((b, d))
    YB = np.empty((b, kout))
    HB = np.empty((b, kout))
    RB = np.empty((b, kout))
    Z4 = np.empty((4, B))
    P4 = np.empty((4, B))
    GW = np.empty((d, B))
    GA = np.empty((kout, B))
    for q in range(K):
        for k in range(b):
            XB[k] = X[IDX[q, k]]
            YB[k] = Y[IDX[q, k]]
        for s in range(S):
            sgd_step(XB, YB, WB[s], AB[s], lr, logistic, HB, RB, Z4, P4, GW, GA)
    for s in range(S):
        for j in range(m):
            for t in range(d):
                W[s, j, t] = WB[s, j // B, t, j % B]
            for c in range(kout):
                A[s, j, c] = AB[s, j // B, c, j % B]
