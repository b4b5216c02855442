"""The fused one-pass step of `numerics.kernel` for small batches (imports numba at load: import it only through
the kernel).

A step needs every neuron's forward pass before any residual r_k is known, so forward and update cannot share one
sweep over W within a step. They can across steps: one sweep per step over the neuron blocks applies the *pending*
update of step i (whose residuals the previous sweep finished) to a block, and at once runs step i + 1's forward on
the updated block while it is still in L1. W and a are then read and written once per step (the least any step
moves), and step i's gradient is still taken at θ_i (a block is updated from its own z at θ_i, recomputed or stored,
and the residuals came from the forward over all blocks at θ_i).

Layout: neurons in blocks of B (`fused_block`), a block's Wᵀ (d, B), aᵀ (k, B) contiguous; padding neurons are zero
and stay zero. Every inner loop is a plain elementwise sweep over a block (vectorised); the forward sums
h_k = Σ_j a_j relu(z_kj) into B lanes per sample (HS), reduced once per step with eight partial sums. The
pre-activation is summed four inputs per sweep as in `kernel_jit.grad`. Per sample the backward is
∂a_j += relu(z_kj) r_k, ∂w_j += 1[z_kj > 0] (Σ_c a_cj r_kc) x_k (relu'(0) = 0), four samples per sweep of ∂Wᵀ.
"""
import numba
import numpy as np

from .kernel_jit import JIT, dot
from .kernel_tiles_jit import group_pass, residual, tile_pass, tile_pass_z

JIT_FMA = dict(JIT, fastmath={"contract"})  # a·b + c may be one FMA (one rounding); no reassociation, IEEE NaN/inf


@numba.njit(**JIT)
def fused_block(m, d, kout, n, cap):
    """Neurons per block: the block's Wᵀ, aᵀ, ∂Wᵀ, ∂aᵀ, four z and P rows and the n·k lanes of h in at most `cap`
    doubles (at least 64 neurons), the m neurons split into equal blocks (a multiple of 8: little padding)."""
    per = 2 * (d + kout) + 8 + n * kout
    bmax = max(64, cap // per)
    nb = (m + bmax - 1) // bmax
    b = (m + nb - 1) // nb
    return b + (-b) % 8


@numba.njit(**JIT_FMA)
def _zrow(X, k, wb, Z, relu):
    """Z = Σ_t X[k, t] wb[t] over one block (four inputs per sweep), relu(Z) in the last sweep if `relu`."""
    d, B = wb.shape
    t = 0
    while t < d:
        w = min(4, d - t)
        last = relu and t + w == d
        xa = X[k, t]
        wa = wb[t]
        if w == 1:
            for j in range(B):
                v = xa * wa[j] + (Z[j] if t else 0.0)
                Z[j] = max(v, 0.0) if last else v
        elif w == 2:
            xb, wbb = X[k, t + 1], wb[t + 1]
            for j in range(B):
                v = (xa * wa[j] + xb * wbb[j]) + (Z[j] if t else 0.0)
                Z[j] = max(v, 0.0) if last else v
        elif w == 3:
            xb, wbb, xc, wc = X[k, t + 1], wb[t + 1], X[k, t + 2], wb[t + 2]
            for j in range(B):
                v = ((xa * wa[j] + xb * wbb[j]) + xc * wc[j]) + (Z[j] if t else 0.0)
                Z[j] = max(v, 0.0) if last else v
        else:
            xb, wbb, xc, wc, xd, wd = X[k, t + 1], wb[t + 1], X[k, t + 2], wb[t + 2], X[k, t + 3], wb[t + 3]
            for j in range(B):
                v = ((xa * wa[j] + xb * wbb[j]) + (xc * wc[j] + xd * wd[j])) + (Z[j] if t else 0.0)
                Z[j] = max(v, 0.0) if last else v
        t += w


@numba.njit(**JIT_FMA)
def _backward_group(X, k0, g, R, ab, H4, P4, G, GA):
    """Backward of samples k0 … k0 + g − 1 (g ≤ 4) on one block from their relu rows H4[0:g]: ∂aᵀ in GA, and the
    rows of ∂Wᵀ in G, one sweep per row for the g samples."""
    kout, B = ab.shape
    for u in range(g):
        h, p = H4[u], P4[u]
        k = k0 + u
        if kout == 1:
            r0 = R[k, 0]
            a0, ga0 = ab[0], GA[0]
            for j in range(B):
                hj = h[j]
                ga0[j] += hj * r0
                p[j] = a0[j] * r0 if hj > 0.0 else 0.0  # relu'(0) = 0
        else:
            for c in range(kout):
                rc = R[k, c]
                ac, gac = ab[c], GA[c]
                if c == 0:
                    for j in range(B):
                        gac[j] += h[j] * rc
                        p[j] = ac[j] * rc
                else:
                    for j in range(B):
                        gac[j] += h[j] * rc
                        p[j] += ac[j] * rc
            for j in range(B):
                p[j] = p[j] if h[j] > 0.0 else 0.0
    d = G.shape[0]
    p0, p1, p2, p3 = P4[0], P4[1], P4[2], P4[3]
    for t in range(d):
        gt = G[t]
        x0 = X[k0, t]
        if g == 4:
            x1, x2, x3 = X[k0 + 1, t], X[k0 + 2, t], X[k0 + 3, t]
            for j in range(B):
                gt[j] += (x0 * p0[j] + x1 * p1[j]) + (x2 * p2[j] + x3 * p3[j])
        elif g == 3:
            x1, x2 = X[k0 + 1, t], X[k0 + 2, t]
            for j in range(B):
                gt[j] += (x0 * p0[j] + x1 * p1[j]) + x2 * p2[j]
        elif g == 2:
            x1 = X[k0 + 1, t]
            for j in range(B):
                gt[j] += x0 * p0[j] + x1 * p1[j]
        else:
            for j in range(B):
                gt[j] += x0 * p0[j]


@numba.njit(**JIT)
def _lanesum(v):
    """Σ_j v_j with eight partial sums (fixed order)."""
    m = v.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    top = m - m % 8
    for j in range(0, top, 8):
        s0 += v[j]
        s1 += v[j + 1]
        s2 += v[j + 2]
        s3 += v[j + 3]
        s4 += v[j + 4]
        s5 += v[j + 5]
        s6 += v[j + 6]
        s7 += v[j + 7]
    for j in range(top, m):
        s0 += v[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@numba.njit(**JIT)
def _loss(HS, Yn, Rn, logistic, bn):
    """The batch loss from the lanes HS (bn, k, B) of h, and the residuals r_k (with 1/bn) into Rn."""
    total = 0.0
    inv = 1.0 / bn
    for k in range(bn):
        for c in range(HS.shape[1]):
            term, Rn[k, c] = residual(_lanesum(HS[k, c]), Yn[k, c], logistic, inv)
            total += term
    return total * inv


@numba.njit(**JIT_FMA)
def fused_pass(Xp, Rp, Xn, Yn, Rn, WB, AB, lr, bwd, fwd, norms, logistic, HS, H4, P4, G, GA, out):
    """One sweep over the blocks of one network: with `bwd`, the pending update of the batch Xp (bp, d) with
    residuals Rp (bp, k); then with `fwd`, the forward of the batch Xn (bn, d), Yn (bn, k) at the updated
    parameters, its residuals into Rn (may be Rp: written after the sweep).

    Arguments:
        WB (nb, d, B), AB (nb, k, B): the network, blocked (updated); the backward recomputes z from the block.
        lr: step.  norms: also ‖∇θ‖² and ‖θ after the update‖² (the convergence test).  logistic: the loss.
        HS (bn, k, B), H4, P4 (4, B), G (d, B), GA (k, B): work buffers.
        out (3,): receives (loss at the forward's parameters, ‖∇θ‖², ‖θ‖²).
    """
    nb, kout, B = AB.shape
    d = WB.shape[1]
    bp, bn = Xp.shape[0], Xn.shape[0]
    upd = size = 0.0
    if fwd:
        HS[:, :, :] = 0.0
    for q in range(nb):
        wb, ab = WB[q], AB[q]
        if bwd:
            G[:, :] = 0.0
            GA[:, :] = 0.0
            k0 = 0
            while k0 < bp:
                g = min(4, bp - k0)
                for u in range(g):
                    _zrow(Xp, k0 + u, wb, H4[u], True)
                _backward_group(Xp, k0, g, Rp, ab, H4, P4, G, GA)
                k0 += g
            for t in range(d):
                wt, gt = wb[t], G[t]
                for j in range(B):
                    wt[j] -= lr * gt[j]
            for c in range(kout):
                ac, gc = ab[c], GA[c]
                for j in range(B):
                    ac[j] -= lr * gc[j]
            if norms:
                for t in range(d):
                    upd += dot(G[t], G[t])
                    size += dot(wb[t], wb[t])
                for c in range(kout):
                    upd += dot(GA[c], GA[c])
                    size += dot(ab[c], ab[c])
        if fwd:
            for k in range(bn):
                z = H4[0]
                _zrow(Xn, k, wb, z, True)
                for c in range(kout):
                    ac, hs = ab[c], HS[k, c]
                    for j in range(B):
                        hs[j] += ac[j] * z[j]
    out[0] = _loss(HS, Yn, Rn, logistic, bn) if fwd else 0.0
    out[1] = upd
    out[2] = size


@numba.njit(**JIT)
def to_blocks(W, A, B):
    """W (S, m, d), A (S, m, k) → blocked WB (S, nb, d, B), AB (S, nb, k, B), padding neurons zero."""
    S, m, d = W.shape
    kout = A.shape[2]
    nb = (m + B - 1) // B
    WB = np.zeros((S, nb, d, B))
    AB = np.zeros((S, nb, kout, B))
    for s in range(S):
        for j in range(m):
            for t in range(d):
                WB[s, j // B, t, j % B] = W[s, j, t]
            for c in range(kout):
                AB[s, j // B, c, j % B] = A[s, j, c]
    return WB, AB


@numba.njit(**JIT)
def from_blocks(WB, AB, W, A):
    """The inverse of `to_blocks`, into W, A (in place)."""
    S, m, d = W.shape
    kout = A.shape[2]
    B = WB.shape[3]
    for s in range(S):
        for j in range(m):
            for t in range(d):
                W[s, j, t] = WB[s, j // B, t, j % B]
            for c in range(kout):
                A[s, j, c] = AB[s, j // B, c, j % B]


@numba.njit(**JIT)
def fused_advance(X, Y, W, A, lr, i0, i1, logistic, stop_tol, check_every, dims, cap):
    """`kernel_jit.advance` (GD steps i0 … i1 − 1 on S networks in lock-step, same tests, same returns) by one fused
    sweep per step, for a scalar output and n ≤ 4 samples (dims: a tuple of length d, the compile-time input count).
    Between two test steps each seed runs alone (its blocks stay in cache); at a test step every seed's loss is known
    before any seed takes that step's update, and with stop_tol > 0 every seed takes that one update (and its norms)
    before any goes on. The last step's sweep also runs a forward that is not used (one sweep fewer to compile). The
    pending step's z is the previous sweep's forward (the same X), kept per seed in ZB instead of recomputed; a test
    step's sweep (the norms, by `fused_pass`) refills it.
    """
    S, m, d = W.shape
    SX, n = X.shape[0], X.shape[1]
    kout = A.shape[2]
    B = fused_block(m, d, kout, n, cap)
    WB, AB = to_blocks(W, A, B)
    R = np.empty((S, n, kout))
    L = np.empty(S)
    HS = np.empty((n, kout, B))
    H4, P4 = np.zeros((4, B)), np.zeros((4, B))
    G, GA = np.empty((d, B)), np.empty((kout, B))
    out = np.empty(3)
    zero = np.zeros(d)
    HSUM = np.zeros(n)
    ZB = np.empty((S, WB.shape[1], 4, B))  # z of each seed's pending step (the forward of the previous sweep)
    status = 0
    i = i0
    if i0 < i1:
        for s in range(S):
            xs = s if SX > 1 else 0
            tile_pass_z(X[xs], R[s], X[xs], Y[xs], R[s], WB[s], AB[s], ZB[s], lr, False, logistic, HSUM, dims, zero,
                        out)
            L[s] = out[0]
    while i < i1:
        test = i % check_every == 0
        if test:
            finite = True
            for s in range(S):
                if not np.isfinite(L[s]):
                    finite = False
            if not finite:
                status = 2
                break
        check = test and stop_tol > 0.0
        nxt = i + 1 if check else min((i // check_every + 1) * check_every, i1)
        done = True
        for s in range(S):
            xs = s if SX > 1 else 0
            for j in range(i, nxt):
                if check:
                    fused_pass(X[xs], R[s], X[xs], Y[xs], R[s], WB[s], AB[s], lr, True, j + 1 < i1, True, logistic,
                               HS, H4, P4, G, GA, out)
                    if not lr * lr * out[1] <= stop_tol * stop_tol * out[2]:
                        done = False
                    tile_pass_z(X[xs], R[s], X[xs], Y[xs], R[s], WB[s], AB[s], ZB[s], lr, False, logistic, HSUM, dims,
                                zero, out)  # z of the next step into ZB (the same loss and residuals)
                else:
                    tile_pass_z(X[xs], R[s], X[xs], Y[xs], R[s], WB[s], AB[s], ZB[s], lr, True, logistic, HSUM, dims,
                                zero, out)
                L[s] = out[0]
        i = nxt
        if check and done:
            status = 1
            break
    from_blocks(WB, AB, W, A)
    return status, i


@numba.njit(**JIT)
def fused_sgd_advance(X, Y, W, A, lr, IDX, logistic, dims, cap):
    """`kernel_sgd_jit.sgd_advance` (mini-batch steps on the batches IDX (K, b) of the shared data, every seed on the
    same batches) by one fused sweep per step, for a scalar output and b ≤ 16 (dims as in `fused_advance`); the
    seeds run one after the other (SGD has no test between checkpoints)."""
    S, m, d = W.shape
    kout = A.shape[2]
    K, b = IDX.shape
    B = fused_block(m, d, kout, b, cap)
    WB, AB = to_blocks(W, A, B)
    XB = np.empty((K, b, d))
    YB = np.empty((K, b, kout))
    for q in range(K):
        for k in range(b):
            XB[q, k] = X[IDX[q, k]]
            YB[q, k] = Y[IDX[q, k]]
    R = np.empty((b, kout))
    G, GA = np.empty((d, B)), np.empty((kout, B))
    out = np.empty(3)
    zero = np.zeros(d)
    HSUM = np.zeros(b)
    ZB = np.empty((WB.shape[1], 4, B)) if b <= 4 else np.empty((1, 4, B))
    for s in range(S):
        if K == 0:
            break
        if b <= 4:
            tile_pass_z(XB[0], R, XB[0], YB[0], R, WB[s], AB[s], ZB, lr, False, logistic, HSUM, dims, zero, out)
        else:
            tile_pass(XB[0], R, XB[0], YB[0], R, WB[s], AB[s], lr, False, True, logistic, HSUM, dims, zero, out)
        for q in range(K):
            nq = min(q + 1, K - 1)  # the last sweep's forward is not used
            if b <= 4:
                tile_pass_z(XB[q], R, XB[nq], YB[nq], R, WB[s], AB[s], ZB, lr, True, logistic, HSUM, dims, zero, out)
            else:
                group_pass(XB[q], R, XB[nq], YB[nq], R, WB[s], AB[s], lr, logistic, HSUM, G, GA, dims, zero, out)
    from_blocks(WB, AB, W, A)
