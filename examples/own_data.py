"""Own data: run toolkit checks on a data set of yours and read the verdicts.

The data here is a 2-D set of three Gaussian clusters with labels +1, −1, +1 (replace `make_data` by loading
yours: X of shape (n, d), y of shape (n,)). Theory first: the extremal vectors of the early-phase objective G_n
(docs/theory/bf-early-alignment.md, F2.4) are the directions small-init neurons head for. Then two own-data checks
run on it through `checks.run`, each writing its record, figures and report under --out:

- racing.fixed_gating (PIN-2, PIN-5): the gradient equals the fixed-gating linear system, d ln p/dt = 2 s cos δ;
- racing.race (PIN-7): within a cluster, the head start p·cos⁴(δ/2) ranks the final norms.

    python examples/own_data.py                  # ≈ 10–40 s on one core
    python examples/own_data.py --out results/my-data --check racing.fixed_gating
"""
from __future__ import annotations

import argparse
import tempfile

import numpy as np


def make_data(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three clusters in the plane: centres (−2, 1), (0, 2), (2, 1), labels +1, −1, +1, spread 0.15."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 1.0], [0.0, 2.0], [2.0, 1.0]])
    X = np.concatenate([c + 0.15 * rng.standard_normal((n_per, 2)) for c in centres])
    y = np.repeat([1.0, -1.0, 1.0], n_per)
    return X, y


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=None, help="output folder (default: a temporary folder)")
    p.add_argument("--check", nargs="+", default=["racing.fixed_gating", "racing.race"],
                   help="own-data checks to run (see docs/checks.md: 'accepts your data')")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of the runs")
    args = p.parse_args(argv)

    import checks
    from theory.extremal import extremal_vectors

    X, y = make_data(seed=args.seed)
    ext = extremal_vectors(X, y)
    print(f"data: n = {len(y)}, d = {X.shape[1]}; extremal vectors of G_n (F2.4):")
    for e in ext:
        print(f"  u = {np.round(e.u, 3)}  {e.kind}  (attracts {'positive' if e.kind == 'min' else 'negative'} "
              f"neurons, rate {e.rate:.3g})")

    out = args.out or tempfile.mkdtemp(prefix="own-data-")
    for name in args.check:
        verdicts = checks.run(name, X, y, tier="quick", seed=args.seed, out=f"{out}/{name}")
        for v in verdicts if isinstance(verdicts, list) else [verdicts]:
            print(f"\n{v.check} · {v.prediction_id}: {v.status}  ({v.citation})")
            for c in v.criteria:
                pred = "" if c.get("predicted") is None else f", predicted {c['predicted']:.4g}"
                value = f"{c['value']:.4g}" if isinstance(c["value"], float) else c["value"]
                print(f"  {c['name']}: {value}{pred}  [{c['tolerance']}] -> {c['passed']}")
            if v.message:
                print(f"  note: {v.message}")
    print(f"\nrecords, figures and report.html under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
