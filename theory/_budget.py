"""Cost estimates and refusals for the exact algorithms of `theory.lie` and `theory.law_search` (issue #17 item 3).

Each costly public function estimates its peak memory (bytes) and time (seconds, from a per-unit rate measured on
the 2-core development machine, OMP_NUM_THREADS=1) from sizes known before it allocates (D, the number of generators,
monomials or system rows), and calls `require`, which raises `TheoryError` with the estimate and the fix when either
exceeds the caller's `max_bytes` / `budget_s`. The defaults suit a 24 GiB, 2-core machine.
"""
from __future__ import annotations

import numpy as np

from . import validate as vd
from .errors import TheoryError

__all__ = ["MAX_BYTES", "BUDGET_S", "limits", "require", "closure_cost", "quadratic_cost", "quadratic_forms",
           "components"]

MAX_BYTES = 4 * 2 ** 30  # default memory budget of one exact computation
BUDGET_S = 180.0  # default time budget (a few minutes)

# measured per-unit rates (seconds per unit, OMP_NUM_THREADS=1; see the notes of the functions using them)
FLOP_S = 1.0e-10  # dense LAPACK/BLAS work (SVD, matmul) per floating-point operation, incl. overheads
BRACKET_S = 4.0e-5  # Python-level cost of one commutator + projection on small matrices
SYMPY_OP_S = 2.0e-6  # one exact rational operation of SymPy's nullspace
INT_OP_S = 3.0e-9  # one vectorised int64 operation of the GF(p) elimination


def limits(budget_s, max_bytes) -> tuple[float, float]:
    """The validated budgets (None: the module defaults).

    Arguments:
        budget_s: seconds > 0 or None.  max_bytes: bytes > 0 or None.
    """
    b = BUDGET_S if budget_s is None else vd.positive("budget_s", budget_s)
    m = MAX_BYTES if max_bytes is None else vd.positive("max_bytes", max_bytes)
    return b, m


def require(what: str, *, nbytes: float, seconds: float, budget_s, max_bytes, fix: str) -> dict:
    """Raise TheoryError when the estimate exceeds a budget; else return the estimate.

    Arguments:
        what: the computation, for the message.  nbytes, seconds: its estimated peak memory and time.
        budget_s, max_bytes: the caller's budgets (None: defaults).  fix: what to do instead.
    """
    budget_s, max_bytes = limits(budget_s, max_bytes)
    over = []
    if nbytes > max_bytes:
        over.append(f"≈ {_gib(nbytes)} of memory > max_bytes = {_gib(max_bytes)}")
    if seconds > budget_s:
        over.append(f"≈ {seconds:.3g} s > budget_s = {budget_s:.3g} s")
    if over:
        raise TheoryError(f"{what} would need {' and '.join(over)} (estimated before allocating); {fix}, or raise "
                          "budget_s / max_bytes if this machine can afford it")
    return {"bytes": float(nbytes), "seconds": float(seconds)}


def _gib(n: float) -> str:
    return f"{n / 2 ** 30:.3g} GiB" if n >= 2 ** 26 else f"{n / 2 ** 20:.3g} MiB"


def closure_cost(block_sizes, n_generators) -> dict:
    """Estimated peak bytes and a lower bound of the seconds of `lie_closure` on blocks of these sizes.

    Memory: the orthonormal basis is preallocated at its bound D_c² vectors of length D_c² per block (8 bytes an
    entry), plus the kept matrices. Time: the first bracket round alone evaluates G_c² commutators per block, each
    ≈ `BRACKET_S` + 4·D_c³ flops (measured: linear (6, 6, 5) 1.2 s, ReLU (6, 6, 3) one block 18.7 s).

    Arguments:
        block_sizes: D_c of each independent block.  n_generators: generators G_c in each block.
    """
    sizes, gens = [int(x) for x in block_sizes], [int(x) for x in n_generators]
    nbytes = max(2 * 8.0 * c ** 4 for c in sizes) + 64 * 2 ** 20
    seconds = sum(g * g * (BRACKET_S + 4 * c ** 3 * FLOP_S) for c, g in zip(sizes, gens))
    return {"bytes": nbytes, "seconds": seconds}


def quadratic_cost(D: int, support_sizes) -> dict:
    """Estimated peak bytes and seconds of the degree-2 law system: rows (p ≤ q) that meet a generator's support.

    System: Σ_i rows_i × C columns (C = D(D+1)/2, rows_i ≈ s_i·D for support size s_i), 8 bytes an entry, held with
    the blocks, their concatenation and QR's copy (≈ 4 copies, measured 3.9 at linear (6, 6, 5)), plus one C × D × D
    scratch block; time 2·rows·C² + 10·C³ flops (rate `FLOP_S`).

    Arguments:
        D: parameters.  support_sizes: the number of indices each generator touches.
    """
    C = D * (D + 1) // 2
    rows = sum(min(C, s * D) for s in support_sizes)
    return {"bytes": 8.0 * (4 * rows * C + 2 * C * D * D + 2 * C * C),
            "seconds": (2.0 * rows * C * C + 10.0 * C ** 3) * FLOP_S, "rows": rows, "columns": C}


def quadratic_forms(gens: list, name: str, rtol: float, budget_s, max_bytes) -> list:
    """Kernel basis (symmetric Q) of QA_i + A_iQ = 0 over the generators A_i, after `quadratic_cost` is checked.

    Arguments:
        gens: the symmetric D×D generators.  name: for messages.  rtol: rank threshold.  budget_s, max_bytes: budgets.
    """
    D = gens[0].shape[0]
    supports = [np.nonzero(np.any(A != 0, axis=0))[0] for A in gens]
    cost = quadratic_cost(D, [len(s) for s in supports])
    require(f"quadratic_laws({name}): the {cost['rows']} × {cost['columns']} degree-2 law system",
            nbytes=cost["bytes"], seconds=cost["seconds"], budget_s=budget_s, max_bytes=max_bytes,
            fix="use a smaller architecture")
    ia, ib = np.triu_indices(D)
    C, cols, off = len(ia), np.arange(len(ia)), ia != ib
    blocks = []
    for A in gens:  # column (a, b): E_ab A + A E_ab with E_ab = e_a e_bᵀ + e_b e_aᵀ (e_a e_aᵀ on the diagonal)
        M = np.zeros((C, D, D))
        M[cols, ia, :] += A[ib, :]
        M[cols[off], ib[off], :] += A[ia[off], :]
        M[cols, :, ib] += A[:, ia].T
        M[cols[off], :, ia[off]] += A[:, ib[off]].T
        B = M[:, ia, ib].T  # rows p ≤ q (the system is symmetric)
        blocks.append(B[np.any(B != 0, axis=1)])
    system = np.concatenate(blocks, axis=0) if blocks else np.zeros((0, C))
    R = np.linalg.qr(system, mode="r") if system.shape[0] > C else system
    if R.size == 0:
        null = np.eye(C)
    else:
        _, s, Vt = np.linalg.svd(R, full_matrices=True)
        k = int(np.sum(s > rtol * s[0])) if s[0] > 0 else 0
        null = Vt[k:]
    out = []
    for v in null:
        Q = np.zeros((D, D))
        Q[ia, ib] = v
        Q[ib, ia] = v
        out.append(Q)
    return out


def components(gens: list) -> list:
    """Index sets of the connected blocks of the generators' supports (each generator lies in one block).

    Arguments:
        gens: square matrices of one shape.
    """
    D = gens[0].shape[0]
    parent = list(range(D))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for A in gens:
        idx = np.nonzero(np.any(A != 0, axis=0) | np.any(A != 0, axis=1))[0]
        for j in idx[1:]:
            parent[find(j)] = find(idx[0])
    roots = np.array([find(i) for i in range(D)])
    return [np.nonzero(roots == r)[0] for r in dict.fromkeys(roots)]
