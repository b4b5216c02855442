"""The OLS references of the threshold checks on the sweep's own samples: global OLS (F2.7), the two-half-space
OLS stationary point (F2.9) and their expected train/test MSE (F2.10), through the check's theory namespace."""
from __future__ import annotations

import numpy as np

from numerics import data
from theory import extremal
from theory import references as ref
from theory.references import mse

from checks.suites.threshold.points import sigma_ball, test_points


def references(n: int, seed: int, d: int, sigma: float, th, n_test: int = 0) -> dict:
    """OLS train/test MSE on the same sample (theory.references via `th.ols`, `th.train_loss`, `th.test_mse`).

    With `n_test` > 0 and `th.two_half_space`, `th.ascent` also the two-half-space OLS stationary point of F2.9 on
    the same sample, cut by the sample's positive extremal vector u₊ⁿ (`th.ascent`): its train MSE and its test
    MSE on the `n_test` fresh points of `test_points` (the points of the network's test MSE)."""
    ds = data.linear_teacher(n, d, sigma, seed=seed)
    b = th.ols(ds.X, ds.y)
    out = dict(ols_train=mse(th.train_loss(b, ds.X, ds.y)),
               ols_test=th.test_mse(b, ds.meta["beta"], sigma_ball(d), sigma), sigma2=sigma ** 2, beta_ols=b)
    if n_test and hasattr(th, "two_half_space"):
        u = th.ascent(ds.X, ds.y, 1.0)[0][0]
        hs = th.two_half_space(ds.X, ds.y, u)
        te = test_points(d, seed, n_test, sigma)
        # population test MSE of the two-half-space fit through `th.test_mse`: x is symmetric, so E[xxᵀ1{u·x > 0}] =
        # Σ/2 and each half carries half of its linear fit's risk (exact); the test points' value is kept beside it
        half = [th.test_mse(b_, ds.meta["beta"], sigma_ball(d), sigma) for b_ in (hs.beta_plus, hs.beta_minus)]
        out.update(hs_train=mse(hs.train_loss), hs_consistent=hs.consistent, u_plus=u, hs_test=0.5 * sum(half),
                   hs_test_points=float(np.mean((hs.predict(te.X) - te.X @ te.meta["beta"]) ** 2) + sigma ** 2))
    return out


def expected_gap(th, sigma: float, d: int, n: int) -> dict:
    """F2.10 (`th.expected`): the expected OLS and two-half-space train/test MSE at (σ, d, n), and the two gaps
    E[OLS train] − E[2hs train] and E[2hs test] − E[OLS test] (both σ²d/n: the d extra effective parameters)."""
    f = th.expected()
    v = {k: float(e.rhs.subs(dict(zip(e.args, (sigma, d, n))))) for k, e in f.items()}
    return dict(v, train_gap=v["F2.10-ols-train"] - v["F2.10-2hs-train"],
                test_gap=v["F2.10-2hs-test"] - v["F2.10-ols-test"])


REFERENCE_USES = {"ols": lambda: ref.ols, "train_loss": lambda: ref.train_loss, "test_mse": lambda: ref.test_mse}
# the two-half-space references of F2.9/F2.10 on top of REFERENCE_USES (the split needs u₊ⁿ: the projected ascent)
TWO_HALF_SPACE_USES = {**REFERENCE_USES, "two_half_space": lambda: ref.two_half_space_ols,
                       "ascent": lambda: extremal.ascent_extremal, "expected": lambda: ref.expected_mse}
