"""Reference estimators (formulas.md F2.7, F2.9, F2.10): OLS, the two-half-space OLS stationary point, their losses;
and the E5 alignment time T_λ (F2.5 with F2.8), the time unit of the threshold runs.

X is (n, d) with rows x_k (the text's X is its transpose): β̂ = (XᵀX)⁻¹Xᵀy.
L = (1/2n) Σ (β·x_k − y_k)² is the loss; MSE = 2L. Test risk on symmetric data: (β̂ − β*)ᵀΣ(β̂ − β*) + σ².
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .formula import Formula


def ols(X, y) -> np.ndarray:
    """β̂ = argmin_β Σ (β·x_k − y_k)² (least squares, minimum norm if rank-deficient)."""
    return np.linalg.lstsq(np.asarray(X, float), np.asarray(y, float), rcond=None)[0]


def train_loss(beta, X, y) -> float:
    """L = (1/2n) Σ (β·x_k − y_k)² (the loss, not the MSE)."""
    r = np.asarray(X, float) @ beta - np.asarray(y, float)
    return float(0.5 * np.mean(r * r))


def mse(loss):
    """MSE = 2L: the loss L = (1/2n) Σ r² of `train_loss` and of the training engine, in the MSE convention of
    F2.10 (the one helper every MSE of the threshold checks goes through)."""
    return 2 * np.asarray(loss, float) if np.ndim(loss) else 2 * float(loss)


def ols_loss(X, y) -> float:
    """min_β L(β): the spurious stationary value of F2.7 when every alive neuron is active on every point."""
    return train_loss(ols(X, y), X, y)


def test_mse(beta, beta_star, Sigma, sigma) -> float:
    """E(β·x − y)² = (β − β*)ᵀΣ(β − β*) + σ² on fresh data."""
    d = np.asarray(beta, float) - np.asarray(beta_star, float)
    return float(d @ np.asarray(Sigma, float) @ d + sigma ** 2)


@dataclass(frozen=True)
class TwoHalfSpace:
    """h(x) = β₊·x on S₊ = {u·x > 0}, β₋·x on S₋ (F2.9); `consistent` iff S₊ = {β₊·x > 0}, S₋ = {β₋·x < 0}."""

    beta_plus: np.ndarray
    beta_minus: np.ndarray
    split: np.ndarray
    train_loss: float
    consistent: bool

    def predict(self, X) -> np.ndarray:
        X = np.asarray(X, float)
        return np.where(X @ self.split > 0, X @ self.beta_plus, X @ self.beta_minus)


def two_half_space_ols(X, y, u) -> TwoHalfSpace:
    """OLS separately on the two half-spaces cut by the direction u (the positive cluster's direction)."""
    X, y, u = np.asarray(X, float), np.asarray(y, float), np.asarray(u, float)
    plus = X @ u > 0
    bp, bm = ols(X[plus], y[plus]), ols(X[~plus], y[~plus])
    ref = TwoHalfSpace(bp, bm, u, 0.0, False)
    loss = 0.5 * float(np.mean((ref.predict(X) - y) ** 2))
    consistent = bool(np.all((X[plus] @ bp) > 0) and np.all((X[~plus] @ bm) < 0))
    return TwoHalfSpace(bp, bm, u, loss, consistent)


def expected_mse() -> dict[str, Formula]:
    """F2.10 [R]: expected train/test MSE above n* (global OLS, d parameters; two-half-space, 2d)."""
    sig, d, n = sp.symbols("sigma d n", positive=True)
    mk = lambda fid, name, expr, meaning: Formula(fid, name, "[R]", meaning, expr, (sig, d, n),  # noqa: E731
                                                  sp.Symbol(name.replace(" ", "_")))
    return {
        "F2.10-ols-train": mk("F2.10-ols-train", "OLS train MSE", sig ** 2 * (1 - d / n), "E train MSE of OLS"),
        "F2.10-ols-test": mk("F2.10-ols-test", "OLS test MSE", sig ** 2 * (1 + d / n), "E test MSE of OLS (≈)"),
        "F2.10-2hs-train": mk("F2.10-2hs-train", "two-half-space train MSE", sig ** 2 * (1 - 2 * d / n),
                              "two halves of n/2 points and d parameters"),
        "F2.10-2hs-test": mk("F2.10-2hs-test", "two-half-space test MSE", sig ** 2 * (1 + 2 * d / n),
                             "two halves of n/2 points and d parameters (≈)"),
    }


def sufficient_threshold() -> Formula:
    """F2.10 threshold [V: review thread, authors' replies]: the theorem's sufficient n* grows faster than d³ and does
    not involve m (Theorem 2) nor, once n is large, λ. Written n_suff = c·d³ with c unknown; the bound may be loose,
    so only the direction of each dependence is a prediction for the observed n*."""
    c, d, m, lam = sp.symbols("c d m lambda", positive=True)
    return Formula("F2.10-threshold", "sufficient threshold", "[V]",
                   "sample size beyond which the theorem guarantees no interpolation (constant unknown)",
                   c * d ** 3, (d, m, lam, c), sp.Symbol("n_suff"))


def alignment_time() -> Formula:
    """T_λ of E5 (F2.5 with F2.8) [R]: T_λ = ln(1/λ_eff)/g*, with g* = ½‖Σβ*‖ = ‖β*‖/(2(d + 2)) (Σ = I/(d + 2) in the
    unit ball) and λ_eff = λ√(d/m) (init std λ/√m per coordinate, so ‖w_j(0)‖ ≈ λ√(d/m)). Every gradient of the
    early phase carries a factor Σ, so T_λ is also the time unit of the runs: a protocol that compares dimensions
    keeps the horizon fixed in units of T_λ."""
    d, m, lam, b = sp.symbols("d m lambda beta_norm", positive=True)
    return Formula("F2.5-E5", "alignment time", "[R]", "T_λ = ln(1/λ_eff)/g* on E5 data (the runs' time unit)",
                   2 * (d + 2) / b * sp.log(sp.sqrt(m) / (lam * sp.sqrt(d))), (d, m, lam, b), sp.Symbol("T_lambda"))


def evaluate(formula: Formula, **values) -> float:
    """The formula's right-hand side at the named argument values (every argument named)."""
    missing = [a.name for a in formula.args if a.name not in values]
    if missing:
        raise ValueError(f"{formula.id}: give {missing}")
    return float(formula.rhs.subs({a: values[a.name] for a in formula.args}))


def elasticity(formula: Formula, var: str) -> sp.Expr:
    """∂ ln n / ∂ ln v, the exponent of the dependence on the argument named `var` (3 for d, 0 for m and λ here)."""
    v = next((a for a in formula.args if a.name == var), None)
    if v is None:
        raise ValueError(f"{var!r} is not an argument of {formula.id}; use one of {[a.name for a in formula.args]}")
    return sp.simplify(v * sp.diff(formula.rhs, v) / formula.rhs)


def formulas() -> dict[str, Formula]:
    return {**expected_mse(), "F2.10-threshold": sufficient_threshold(), "F2.5-E5": alignment_time()}
