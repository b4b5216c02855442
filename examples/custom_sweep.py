"""A custom sweep: BF-EA's spurious stationary point on its 1-D data (E2), across init scales λ.

Theory (docs/theory/bf-early-alignment.md, F2.7 / BF-P7 / BF-P11): at small λ, balanced GD ends at the affine
least-squares loss, which is positive although the network could fit the three points exactly. At λ ≥ 1 (the lazy
regime) the loss goes to 0. This script trains one small network per (λ, seed) with `numerics.sweep.run_sweep`
(cached, resumable, parallel with --workers) and prints the final loss next to theory's reference value.

    python examples/custom_sweep.py                       # ≈ 10–30 s on one core
    python examples/custom_sweep.py --lams 1e-4 1e-2 1 --seeds 3 --workers 2 --cache sweep-cache
"""
from __future__ import annotations

import argparse

import numpy as np


def final_loss(lam: float, seed: int, m: int, lr: float, horizon: float) -> dict:
    """One point of the sweep (module level, so that worker processes can import it): train, return the loss."""
    import torch

    import numerics
    from numerics.data import one_d_three_points

    ds = one_d_three_points()
    X = numerics.with_bias(torch.as_tensor(ds.X, dtype=torch.float64))
    y = torch.as_tensor(ds.y, dtype=torch.float64)
    W0, a0 = numerics.init_params(m, X.shape[1], scale=lam, scheme="balanced", seed=seed)
    traj = numerics.train(X, y, W0, a0, lr=lr, horizon=horizon, progress=False)
    return {"loss": float(traj.loss[-1]), "steps": int(traj.step[-1])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lams", type=float, nargs="+", default=[1e-3, 1e-2, 1.0], help="init scales λ")
    p.add_argument("--seeds", type=int, default=2, help="seeds per λ")
    p.add_argument("--m", type=int, default=100, help="width")
    p.add_argument("--lr", type=float, default=0.05, help="GD step on L")
    p.add_argument("--horizon", type=float, default=300.0, help="flow time of each run")
    p.add_argument("--workers", type=int, default=1, help="local processes")
    p.add_argument("--cache", default=None, help="folder of the per-point cache (resumable)")
    args = p.parse_args(argv)

    from numerics.data import one_d_three_points
    from numerics.sweep import run_sweep
    from theory.references import ols_loss

    ds = one_d_three_points()
    reference = ols_loss(np.c_[ds.X, np.ones(len(ds.X))], ds.y)   # affine least squares (F2.7)
    configs = [dict(lam=lam, seed=s, m=args.m, lr=args.lr, horizon=args.horizon)
               for lam in args.lams for s in range(args.seeds)]
    rows = run_sweep(final_loss, configs, cache=args.cache, workers=args.workers, progress=False)
    print(f"E2 data, balanced init, m = {args.m}, step {args.lr}, horizon {args.horizon:g}")
    print(f"theory: spurious loss = affine least squares = {reference:.6f}; interpolation = 0")
    print(f"{'lambda':>8} {'seed':>4} {'final L':>11}  outcome")
    for row in rows:
        c, loss = row["config"], row["result"]["loss"]
        outcome = ("stuck at the least-squares loss (BF-P7)" if abs(loss - reference) <= 1e-3 * reference
                   else "interpolates (BF-P11)" if loss < 1e-3 * reference else "in between")
        print(f"{c['lam']:>8.0e} {c['seed']:>4} {loss:>11.3e}  {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
