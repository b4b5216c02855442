"""The compiled functions of `numerics.kernel` (imports numba at load: import this module only through the kernel).

Kept in its own module so that numba's on-disk cache (`cache=True`) keys on a stable file of top-level functions.
Layout: the neuron axis j is the contiguous one everywhere (Wᵀ (d, m), aᵀ (k, m), the pre-activation row Z_k (m,)),
so every inner loop runs over j; the two reductions over j (h_k = Σ_j H_kj a_j and the convergence norms) use
eight independent partial sums, a fixed summation order (fastmath stays off). Branch-free ReLU gates.
"""
import numba
import numpy as np

SOFTPLUS_THRESHOLD = 20.0  # torch.nn.functional.softplus: x above it returns x (kept for agreement to 1e-12)
JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")


@numba.njit(**JIT)
def dot(u, v):
    """Σ_j u_j v_j with eight partial sums (a fixed order; the compiler may not reassociate under fastmath=False).

    Arguments:
        u, v: 1-d float64 arrays of one length.
    """
    m = u.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    top = m - m % 8
    for j in range(0, top, 8):
        s0 += u[j] * v[j]
        s1 += u[j + 1] * v[j + 1]
        s2 += u[j + 2] * v[j + 2]
        s3 += u[j + 3] * v[j + 3]
        s4 += u[j + 4] * v[j + 4]
        s5 += u[j + 5] * v[j + 5]
        s6 += u[j + 6] * v[j + 6]
        s7 += u[j + 7] * v[j + 7]
    for j in range(top, m):
        s0 += u[j] * v[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@numba.njit(**JIT)
def grad(X, Y, WT, AT, logistic, H, R, S, GWT, GAT):
    """L(θ) and ∂L/∂Wᵀ, ∂L/∂aᵀ into GWT (d, m), GAT (k, m), one sample at a time.

    Sample k's residual needs only its own row (h_k = relu(W x_k)·a), so its forward and backward pass run together
    on one pre-activation row: no n × m block is ever stored, and the accumulators GWT, GAT (d·m and k·m) stay in
    cache. The pre-activation is summed over inputs in groups of four (((x₀w₀ + x₁w₁) + (x₂w₂ + x₃w₃)) + the groups
    before), so it may differ from torch's GEMM in the last bits, as any two GEMMs do (the tests hold it to 1e-12).

    Arguments:
        X (n, d), Y (n, k): data.  WT (d, m), AT (k, m): parameters, transposed.  logistic: the loss.
        H (m,), R (k,), S (m,): work buffers (H ends as relu(z) of the last sample).  GWT, GAT: outputs.
    """
    n, d = X.shape
    m = WT.shape[1]
    kout = AT.shape[0]
    inv_n = 1.0 / n
    total = 0.0
    GAT[:, :] = 0.0
    GWT[:, :] = 0.0
    for k in range(n):
        # forward: z_k = W x_k in passes of up to four inputs each (fewer sweeps over the row), relu in the last
        t = 0
        while t < d:
            w = min(4, d - t)
            last = t + w == d
            xa = X[k, t]
            if w == 1:
                for j in range(m):
                    v = xa * WT[t, j] + (H[j] if t else 0.0)
                    H[j] = max(v, 0.0) if last else v
            elif w == 2:
                xb = X[k, t + 1]
                for j in range(m):
                    v = (xa * WT[t, j] + xb * WT[t + 1, j]) + (H[j] if t else 0.0)
                    H[j] = max(v, 0.0) if last else v
            elif w == 3:
                xb, xc = X[k, t + 1], X[k, t + 2]
                for j in range(m):
                    v = (xa * WT[t, j] + xb * WT[t + 1, j]) + xc * WT[t + 2, j] + (H[j] if t else 0.0)
                    H[j] = max(v, 0.0) if last else v
            else:
                xb, xc, xd = X[k, t + 1], X[k, t + 2], X[k, t + 3]
                for j in range(m):
                    v = ((xa * WT[t, j] + xb * WT[t + 1, j]) + (xc * WT[t + 2, j] + xd * WT[t + 3, j])
                         + (H[j] if t else 0.0))
                    H[j] = max(v, 0.0) if last else v
            t += w
        for c in range(kout):
            h = dot(H, AT[c])
            yk = Y[k, c]
            if logistic:
                u = -yk * h  # softplus(u) as torch: u above the threshold returns u
                total += u if u > SOFTPLUS_THRESHOLD else np.log1p(np.exp(u))
                R[c] = -yk / (1.0 + np.exp(-u)) * inv_n
            else:
                res = h - yk
                total += 0.5 * res * res
                R[c] = res * inv_n
        # backward: ∂a_j += relu(z_kj) r_k, ∂w_j += 1[z_kj > 0] (a_j·r_k) x_k, the first output fused with S
        r0 = R[0]
        ga0 = GAT[0]
        if kout == 1:
            for j in range(m):
                hj = H[j]
                ga0[j] += hj * r0
                S[j] = AT[0, j] * r0 if hj > 0.0 else 0.0  # relu'(0) = 0
        else:
            for c in range(kout):
                rc = R[c]
                gac = GAT[c]
                for j in range(m):
                    gac[j] += H[j] * rc
            for j in range(m):
                S[j] = AT[0, j] * r0
            for c in range(1, kout):
                rc = R[c]
                for j in range(m):
                    S[j] += AT[c, j] * rc
            for j in range(m):
                S[j] = S[j] if H[j] > 0.0 else 0.0  # relu'(0) = 0
        t = 0
        while t < d:  # up to four rows of ∂Wᵀ per sweep over S
            if t + 3 < d:
                xa, xb, xc, xd = X[k, t], X[k, t + 1], X[k, t + 2], X[k, t + 3]
                ga, gb, gc, gd = GWT[t], GWT[t + 1], GWT[t + 2], GWT[t + 3]
                for j in range(m):
                    sj = S[j]
                    ga[j] += xa * sj
                    gb[j] += xb * sj
                    gc[j] += xc * sj
                    gd[j] += xd * sj
                t += 4
            elif t + 1 < d:
                xa, xb = X[k, t], X[k, t + 1]
                ga, gb = GWT[t], GWT[t + 1]
                for j in range(m):
                    sj = S[j]
                    ga[j] += xa * sj
                    gb[j] += xb * sj
                t += 2
            else:
                xa = X[k, t]
                ga = GWT[t]
                for j in range(m):
                    ga[j] += xa * S[j]
                t += 1
    return total * inv_n


@numba.njit(**JIT)
def advance(X, Y, W, A, lr, i0, i1, logistic, stop_tol, check_every):
    """GD steps i0 … i1 − 1 in place on the S networks W (S, m, d), A (S, m, k), in lock-step; returns
    (status, step reached).

    The seeds step together as in the torch loop of `numerics.train`: at a test step (i % check_every == 0) every
    seed's loss must be finite (else status 2, no seed updated at that step), and the run stops (status 1) once every
    seed's relative update is within stop_tol.

    Arguments:
        X (SX, n, d), Y (SX, n, k): data, SX = S (one data set per seed) or 1 (shared).  W (S, m, d), A (S, m, k):
        parameters (updated).  lr: step size.  i0, i1: step range.  logistic: the loss.
        stop_tol, check_every: the tests of `numerics.train`.
    """
    S, m, d = W.shape
    SX = X.shape[0]
    kout = A.shape[2]
    WT = np.empty((S, d, m))
    AT = np.empty((S, kout, m))
    for s in range(S):
        WT[s] = W[s].T
        AT[s] = A[s].T
    H = np.empty(m)
    R = np.empty(kout)
    Sj = np.empty(m)
    GWT = np.empty((S, d, m))
    GAT = np.empty((S, kout, m))
    status = 0
    i = i0
    while i < i1:
        test = i % check_every == 0
        finite = True
        for s in range(S):
            xs = s if SX > 1 else 0
            L = grad(X[xs], Y[xs], WT[s], AT[s], logistic, H, R, Sj, GWT[s], GAT[s])
            if test and not np.isfinite(L):
                finite = False
                break
        if not finite:
            status = 2
            break
        for s in range(S):
            for t in range(d):
                wt, gt = WT[s, t], GWT[s, t]
                for j in range(m):
                    wt[j] -= lr * gt[j]
            for c in range(kout):
                ac, gc = AT[s, c], GAT[s, c]
                for j in range(m):
                    ac[j] -= lr * gc[j]
        i += 1
        if stop_tol > 0.0 and test:
            done = True
            for s in range(S):
                upd = 0.0
                size = 0.0
                for t in range(d):
                    upd += dot(GWT[s, t], GWT[s, t])
                    size += dot(WT[s, t], WT[s, t])
                for c in range(kout):
                    upd += dot(GAT[s, c], GAT[s, c])
                    size += dot(AT[s, c], AT[s, c])
                if not lr * lr * upd <= stop_tol * stop_tol * size:
                    done = False
                    break
            if done:
                status = 1
                break
    for s in range(S):
        W[s] = WT[s].T
        A[s] = AT[s].T
    return status, i


@numba.njit(**JIT)
def empty_loop(steps):
    """The per-step floor of a compiled loop: `steps` iterations doing (almost) nothing.

    Arguments:
        steps: iterations.
    """
    acc = 0.0
    for i in range(steps):
        acc += i * 1e-300
    return acc


@numba.njit(**JIT)
def copy_loop(src, dst, reps):
    """dst[:] = src, `reps` times (the copy bandwidth of the cache level the two buffers fit in).

    Arguments:
        src, dst: 1-d float64 arrays of one length.  reps: copies.
    """
    n = src.shape[0]
    for r in range(reps):
        for j in range(n):
            dst[j] = src[j]
        src, dst = dst, src
    return dst[0]
