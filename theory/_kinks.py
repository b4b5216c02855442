"""Extremal vectors on a kink (a cell boundary) for the exact enumeration (internal; F2.1, F2.4).

On a boundary some samples lie on the neuron's hyperplane: K = {k : u·x_k = 0} ≠ ∅ (zero rows never count). With
V_k = y_k x_k / n and the strict pattern S = {k : u·x_k > 0}, the set-valued derivative of F2.1 (relu′(0) ∈ [0, 1],
ζ_k for each sample on the hyperplane) at u is

  𝔇_n(u) = { g_S + Σ_{k∈K} ζ_k V_k : ζ ∈ [0, 1]^K },   g_S = Σ_{k∈S} V_k,   every V_k (k ∈ K) tangent at u.

With the tangent projection T = I − uuᵀ, p = T g_S and the zonotopes Z_± = Σ_{k∈K, ±y_k>0} [0, 1]·V_k, the one-sided
derivative of G_n along a unit tangent t is G_n′(u; t) = −t·p − (1/n) Σ_{k∈K} y_k relu(t·x_k), and exactly
G_n(cos s·u + sin s·t) = cos s·G_n(u) + sin s·G_n′(u; t) for small s > 0. Hence (F2.4 with the sign rule):

  kind 'min' (positive neurons):  G_n(u) < 0 and G_n′(u; t) ≥ 0 ∀ t ⊥ u   ⇔  G_n(u) < 0 and  −p − Z_+ ⊆ Z_−;
  kind 'max' (negative neurons):  G_n(u) > 0 and G_n′(u; t) ≤ 0 ∀ t ⊥ u   ⇔  G_n(u) > 0 and  −p − Z_− ⊆ Z_+;

each a strict local minimum (maximum) of G_n on the sphere, rate |G_n(u)| = |u·g_S|. Both imply the KKT condition of
F2.4 for the set-valued derivative, 0 ∈ T𝔇_n(u) (take z = 0 in the inclusion). The converse fails: a KKT point of
the Clarke set can be a concave corner of G_n with G_n(u) < 0 (always so on all-positive labels), which repels the
positive neurons the sign rule would send there, so those are not listed. For K = ∅ both conditions read p = 0,
u = ±ĝ_S: the interior extremal vectors, which are never saddles either.

The inclusions are decided with support functions, h_Z(w) = Σ_i max(0, w·v_i): A ⊆ B ⇔ h_A(w) ≤ h_B(w) for the
facet normals w of B (for a segment or a point, its normals and directions), with a slack of `SLACK`·Σ_k ‖V_k‖.
"""
from __future__ import annotations

import numpy as np

SLACK = 1e-10  # relative slack of the inclusions (a candidate exactly at a cell's corner is kept once, not lost)
SCREEN = 1e-8  # looser slack of the in-sweep screens, so that they pass a superset of what `decide` accepts


def tangent_basis(u: np.ndarray) -> np.ndarray:
    """Orthonormal rows (d − 1, d) spanning u^⊥, for a unit u of d = 2 or 3."""
    if len(u) == 2:
        return np.array([[-u[1], u[0]]])
    a = np.eye(3)[np.argmin(np.abs(u))]
    e1 = np.cross(u, a)
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(u, e1)])


def _directions(B: np.ndarray) -> np.ndarray:
    """Unit directions whose half-planes cut out the zonotope spanned by the rows of B (tangent coordinates)."""
    if B.shape[1] == 1:
        return np.array([[1.0], [-1.0]])
    nb = np.linalg.norm(B, axis=1)
    b = B[nb > 0] / nb[nb > 0, None]
    W = np.concatenate([b, b[:, ::-1] * [-1.0, 1.0], np.eye(2)])
    return np.concatenate([W, -W])


def _inside(p: np.ndarray, A: np.ndarray, B: np.ndarray, eps: float) -> bool:
    """−p − Z(A) ⊆ Z(B), Z(M) = Σ_rows [0, 1]·row (all in tangent coordinates)."""
    W = _directions(B)
    left = -W @ p + np.maximum(0.0, -W @ A.T).sum(axis=1)
    return bool(np.all(left <= np.maximum(0.0, W @ B.T).sum(axis=1) + eps))


def decide(U: np.ndarray, X: np.ndarray, y: np.ndarray, tol: float) -> list[tuple]:
    """The kink extremal vectors among candidate unit vectors U (m, d), d = 2 or 3, by the conditions above.

    Arguments:
        U: candidate unit directions (m, d).  X: inputs (n, d).  y: labels (n,).
        tol: |u·x_k| ≤ tol‖x_k‖ puts x_k on the kink; |G_n(u)| ≤ tol is dead.

    Returns:
        [(u, kind, G_n(u), rate, strict pattern (tuple of 0/1), kink samples (tuple of indices))] for the accepted.
    """
    n = len(y)
    V = y[:, None] * X / n
    xn = np.linalg.norm(X, axis=1)
    live = xn > 0
    eps = SLACK * float(np.linalg.norm(V, axis=1).sum())
    out = []
    for lo in range(0, len(U), 4096):
        Z = U[lo:lo + 4096] @ X.T
        onK = live & (np.abs(Z) <= tol * xn)
        for u, z, K in zip(U[lo:lo + 4096], Z, onK):
            if not K.any():
                continue  # an interior point: the cells' own test decides it
            S = (z > 0) & ~K
            gS = S @ V
            r = float(u @ gS)
            if abs(r) <= tol:
                continue
            T = tangent_basis(u)
            p, Vp, Vm = T @ gS, V[K & (y > 0)] @ T.T, V[K & (y < 0)] @ T.T
            if _inside(p, Vp, Vm, eps) if r > 0 else _inside(p, Vm, Vp, eps):
                out.append((u, "min" if r > 0 else "max", -r, abs(r), tuple(S.view(np.uint8).tolist()),
                            tuple(np.flatnonzero(K).tolist())))
    return out


def distance(u: np.ndarray, X: np.ndarray, y: np.ndarray, tol: float, sweeps: int = 200) -> float | None:
    """dist(0, T𝔇_n(u)) for a unit u on a kink (None when no sample lies within tol of its hyperplane): 0 when
    0 ∈ T𝔇_n(u) (the support test), else the box-constrained least squares min_ζ ‖p + Σ ζ_k T V_k‖ by coordinate
    descent (convex, so it converges; `sweeps` passes)."""
    n = len(y)
    V = y[:, None] * X / n
    xn = np.linalg.norm(X, axis=1)
    z = X @ u
    K = (xn > 0) & (np.abs(z) <= tol * xn)
    if not K.any() or len(u) == 1:
        return None
    T = tangent_basis(u)
    p, M = T @ (((z > 0) & ~K) @ V), V[K] @ T.T
    if _inside(p, np.zeros((0, len(p))), M, SLACK * float(np.linalg.norm(V, axis=1).sum())):
        return 0.0
    zeta, sq = np.zeros(len(M)), np.einsum("kd,kd->k", M, M)
    res = p.copy()
    for _ in range(sweeps):
        for k in np.flatnonzero(sq > 0):
            new = min(1.0, max(0.0, zeta[k] - float(M[k] @ res) / sq[k]))
            res += (new - zeta[k]) * M[k]
            zeta[k] = new
    return float(np.linalg.norm(res))


class Screen:
    """In-sweep screens for the kink candidates of one `sweep._Arrangement` built with V_k = y_k x_k / n.

    Per hyperplane h (normal n_h, members M_h): B_h = β_h n_h (the members active on its − side), W_h = w_h n_h
    (all members), and the
    intervals [lo, hi] of n_h·Σ ζ_k V_k over ζ ∈ [0, 1] for the members with y > 0 (Z_+) and with y < 0 (Z_−): every
    member's V_k is parallel to n_h, so on a kink of h alone (an edge, d = 3) the inclusions above are interval
    inclusions along n_h, and at a vertex of two hyperplanes (d = 3) box inclusions in the coordinates (n_h, n_l).
    d = 2: a vertex ±x_k^⊥ is a candidate where the derivative along the circle changes sign (1-D inclusions).
    """

    def __init__(self, arr, y: np.ndarray):
        self.arr, hp = arr, arr.hp
        V = y[:, None] * arr.X / len(y)
        self.slack = SCREEN * float(np.linalg.norm(V, axis=1).sum())
        live = hp.of >= 0
        c = np.zeros(len(y))
        c[live] = np.einsum("kd,kd->k", V[live], hp.normals[hp.of[live]])
        self.w, self.beta = np.zeros(arr.H), np.einsum("hd,hd->h", arr.A - arr.D, hp.normals)  # W_h, B_h along n_h
        np.add.at(self.w, hp.of[live], c[live])
        self.box = np.zeros((4, arr.H))  # Z_+ lo, hi; Z_− lo, hi (along n_h)
        for i, (sel, f) in enumerate([(y > 0, np.minimum), (y > 0, np.maximum), (y < 0, np.minimum),
                                      (y < 0, np.maximum)]):
            np.add.at(self.box[i], hp.of[live & sel], f(0.0, c[live & sel]))

    def _ok(self, a, box, r, slack):
        """Interval inclusions along n_h (a = −n_h·p, box = (Z_+ lo, hi, Z_− lo, hi) of h) for the kind given by the
        sign of r = u·g_S."""
        Plo, Phi, Mlo, Mhi = box
        mins = (r > self.arr.tol) & (a - Phi >= Mlo - slack) & (a - Plo <= Mhi + slack)
        maxs = (r < -self.arr.tol) & (a - Mhi >= Plo - slack) & (a - Mlo <= Phi + slack)
        return mins | maxs

    def __call__(self, I, sw) -> np.ndarray:
        """Candidate unit vectors (m, d) on the kinks of one batch of the sweep (a superset of `decide`'s)."""
        arr, s, t = self.arr, self.slack, sw.lo
        if arr.d == 2:
            u = np.stack([np.cos(t), np.sin(t)], axis=-1)
            e = np.stack([-np.sin(t), np.cos(t)], axis=-1)
            a, b = np.einsum("ced,ced->ce", e, np.roll(sw.g, 1, axis=1)), np.einsum("ced,ced->ce", e, sw.g)
            r = np.einsum("ced,ced->ce", u, sw.g)
            hit = ((r > arr.tol) & (a >= -s) & (b <= s)) | ((r < -arr.tol) & (a <= s) & (b >= -s))
            return u[hit]
        out = []
        E1, E2, nh = sw.E1[:, None, :], sw.E2[:, None, :], arr.N[I][:, None, :]
        px, py, nhg = (np.einsum("ced,ced->ce", sw.g, v) for v in (E1, E2, nh))  # g on each arc, circle coordinates
        beta = self.beta[I][:, None]  # B_h = β_h n_h: the own members active on the − side
        an, rate = beta - nhg, np.hypot(px, py)  # −n_h·g_S with g_S strict on the circle (own members left out)
        box = self.box[:, I][:, :, None]
        for sgn in (1.0, -1.0):  # edges: u = ±(the in-plane part of g_S), inside its own arc
            r, q = np.nonzero(sw.usable & self._ok(an, box, sgn * rate, s))
            ang = np.arctan2(sgn * py[r, q], sgn * px[r, q])
            delta = (ang - t[r, q]) % (2 * np.pi)
            r, q, ang = r[(delta > 0) & (delta < sw.gap[r, q])], q[(delta > 0) & (delta < sw.gap[r, q])], \
                ang[(delta > 0) & (delta < sw.gap[r, q])]
            out.append(np.cos(ang)[:, None] * sw.E1[r] + np.sin(ang)[:, None] * sw.E2[r])
        # vertices: event q on circle h crosses hyperplane l between arcs q − 1 and q; with c = n_h·n_l,
        # n_l = ±√(1 − c²)·e(t) + c·n_h (+ when entering l), W_l = w_l n_l, so all is in circle coordinates
        ln = sw.ev % arr.H
        cos_t, sin_t = np.cos(t), np.sin(t)
        c = np.take_along_axis(arr.N[I] @ arr.N.T, ln, axis=1)
        rho = np.sqrt(np.maximum(1 - c * c, 0.0)) * np.where(sw.ev < arr.H, 1.0, -1.0)
        w = self.w[ln]
        prev = [np.roll(v, 1, axis=1) for v in (px, py, nhg)]
        nlg = [rho * (cos_t * Y - sin_t * Xc) + c * Nc for Xc, Y, Nc in ((px, py, nhg), prev)]
        a = (prev[2] + nhg - c * w) / 2 - beta  # n_h·g_v, g_v strict at the vertex (h and l left out)
        b = (nlg[0] + nlg[1] - w) / 2 - c * beta  # n_l·g_v
        den = np.maximum(1 - c * c, 1e-300)
        rr = cos_t * px + sin_t * py  # u·g_v = u·g on either arc
        proper = (sw.gap > arr.tol) & (np.roll(sw.gap, 1, axis=1) > arr.tol)
        ok = self._ok((c * b - a) / den, box, rr, s / np.sqrt(den)) & \
            self._ok((c * a - b) / den, self.box[:, ln], rr, s / np.sqrt(den))  # −T g_v = α n_h + β n_l
        lone = sw.usable.any(axis=1)[:, None]  # below: several hyperplanes meet, left to `decide`
        r, q = np.nonzero(lone & ((proper & (I[:, None] < ln) & ok) | (~proper & (np.abs(rr) > arr.tol))))
        out.append(cos_t[r, q][:, None] * sw.E1[r] + sin_t[r, q][:, None] * sw.E2[r])
        return np.concatenate(out)
