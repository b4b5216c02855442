"""BF-P14, P16, P17, P18: the threshold sweep over n: interpolation below n*, OLS-like train and test MSE above."""
from __future__ import annotations

import numpy as np

from ...core import Check, Variant, register
from ...criteria import at_least, at_most, holds, undecided, within
from .common import INTERPOLATING, TWO_HALF_SPACE_USES, SweepDesign, locate_threshold, references, sweep_rows


def _missing_noise_floor(f):
    return lambda b, bs, S, s: f(b, bs, S, s) - s ** 2


def _no_split(f):
    """Mutant: the two-half-space estimator without its cut (global OLS on both sides: d, not 2d, parameters)."""
    def two(X, y, u):
        hs = f(X, y, u)
        b = np.linalg.lstsq(np.asarray(X, float), np.asarray(y, float), rcond=None)[0]
        r = np.asarray(X, float) @ b - np.asarray(y, float)
        return type(hs)(b, b, hs.split, 0.5 * float(np.mean(r * r)), hs.consistent)
    return two


def _interpolates(f):
    """Alternative: above n* the network still interpolates (the reference train loss is 0)."""
    return lambda b, X, y: 0.0


def _copies_noise(f):
    """Alternative: test MSE = σ² + an interpolation variance σ² (a fit that copies each label's noise)."""
    return lambda b, bs, S, s: 2.0 * s ** 2


def _two_half_space_fit(f):
    """Alternative: the reference is the two-half-space OLS (F2.9, 2d parameters), cut at the OLS direction."""
    from theory.references import two_half_space_ols

    def fit(X, y):
        b = f(X, y)
        return two_half_space_ols(X, y, b / np.linalg.norm(b))
    return fit


def _two_half_space_loss(f):
    return lambda b, X, y: b.train_loss if hasattr(b, "beta_plus") else f(b, X, y)


def _two_half_space_risk(f):
    """Test MSE of a two-half-space fit: x is symmetric, so E[xxᵀ1{u·x > 0}] = Σ/2 and each half carries half."""
    return lambda b, bs, S, s: (0.5 * (f(b.beta_plus, bs, S, s) + f(b.beta_minus, bs, S, s))
                                if hasattr(b, "beta_plus") else f(b, bs, S, s))


ALTERNATIVES = (
    Variant("the network interpolates above n* too (train MSE → 0)", {"train_loss": _interpolates},
            why="a wide network (m·d ≫ n parameters) can fit any sample; the threshold would be an artefact"),
    Variant("test MSE = σ² + interpolation variance σ² (noise copied into the fit)", {"test_mse": _copies_noise},
            why="an interpolating or near-interpolating fit carries its label noise into fresh points"),
    Variant("lands at the two-half-space OLS (2d parameters), not at global OLS",
            {"ols": _two_half_space_fit, "train_loss": _two_half_space_loss, "test_mse": _two_half_space_risk},
            why="the plateau of BF-P15 is the two-half-space stationary point (F2.9): training might stop there"))


def excess_ratio(test, ols_test, sigma2):
    """(test MSE − σ²)/(OLS test MSE − σ²): the excess risk in units of the OLS excess risk (BF-P14)."""
    return (test - sigma2) / (ols_test - sigma2)


RATIO_TOL = 1.0  # the excess-risk ratio may exceed the two-half-space ratio by one OLS excess risk (rationale below)
RATIO_WHY = ("Upper bound = the two-half-space ratio of the same samples (F2.9: the two-direction model, ≤ 2d effective "
             "parameters; F2.10 expects 2) + 1. The tolerance is in units of the OLS excess risk σ²d/n, the effect size "
             "the ratio measures: each further d effective parameters adds about one OLS excess (F2.10: d → ratio 1, "
             "2d → 2), so +1 admits the two-direction model plus its seed scatter (the per-seed two-half-space ratios "
             "spread by ≈ 0.2–0.5 in calibration) and rejects a network with ≥ 4 linear pieces' worth of fitted "
             "parameters. The old 10% band on the test MSE allowed ≈ 14 OLS excesses.")


@register
class ThresholdSweep(Check):
    name = "threshold.sweep"
    paper = "BF-ST"
    prediction_id = "BF-P14"
    also_judges = ("BF-P16", "BF-P17", "BF-P18")
    claim = ("Above the threshold (n >> n*) the network stops interpolating: final train MSE ~ OLS train MSE on the "
             "same sample, test MSE ~ OLS test MSE = sigma² + O(sigma² d/n)")
    claims = {"BF-P16": "Below the threshold (n << n*) the network interpolates (train MSE → 0) and its test MSE "
                        "exceeds sigma²",
              "BF-P17": "For a fixed protocol the threshold n* (smallest n whose train MSE stays ≥ a stated fraction "
                        "of sigma²) is finite",
              "BF-P18": "The test MSE drops across n*: lower just above n* than just below it"}
    provenance = "[R] references, [C] tolerances"
    design = SweepDesign
    uses = dict(TWO_HALF_SPACE_USES)
    alternatives = ALTERNATIVES
    mutants = (Variant("σ instead of σ² in the test risk", {"test_mse": lambda f: (lambda b, bs, S, s: f(b, bs, S, s)
                                                                                   - s ** 2 + s)}),
               Variant("test risk without the noise floor σ²", {"test_mse": _missing_noise_floor}),
               Variant("loss L instead of MSE 2L (missing factor 2)",
                       {"train_loss": lambda f: (lambda b, X, y: f(b, X, y) / 2)}),
               Variant("OLS on the wrong sign of y", {"ols": lambda f: (lambda X, y: f(X, -np.asarray(y)))}))
    # The "two-half-space reference without its cut" mutant (_no_split) is judged by threshold.two_directions: here
    # the only criterion reading that reference is BF-P14's excess-risk bound, which the theory itself fails (a
    # finding, expected-status.toml), so a kill by it would show nothing.

    def predict(self, d, th):
        seeds = [d.seed + s for s in range(d.seeds)]
        hi = d.ns[-1]  # the two-half-space references are judged at the largest n only (the ascent is not free)
        return {"refs": {(n, s): references(n, s, d.d, d.sigma, th, d.n_test if n == hi else 0)
                         for n in d.ns for s in seeds}, "sigma2": d.sigma ** 2}

    def observe(self, d):
        return {"rows": sweep_rows(d, d.ns, m=d.m, lam=d.lam, d=d.d)}

    def _table(self, d, pred, obs):
        refs, per = pred["refs"], []
        for n in d.ns:
            rs = [r for r in obs["rows"] if r["n"] == n]
            rf = [refs[(n, r["seed"])] for r in rs]
            per.append(dict(n=n, train=float(np.median([r["end"]["train_mse"] for r in rs])),
                            test=float(np.median([r["end"]["test_mse"] for r in rs])),
                            ols_train=float(np.median([f["ols_train"] for f in rf])),
                            ols_test=float(np.median([f["ols_test"] for f in rf])),
                            seeds_train=[r["end"]["train_mse"] for r in rs],
                            seeds_test=[r["end"]["test_mse"] for r in rs],
                            sign_flips=int(sum(r["sign_flips"] for r in rs)),
                            sign_flips_first=int(sum(r.get("sign_flips_first", r["sign_flips"]) for r in rs)),
                            lr_used=[r.get("lr_used", d.lr) for r in rs]))
            if "hs_test" in rf[0]:
                per[-1].update(hs_train=float(np.median([f["hs_train"] for f in rf])),
                               hs_test=float(np.median([f["hs_test"] for f in rf])),
                               hs_consistent=[bool(f["hs_consistent"]) for f in rf])
        n_star, below = locate_threshold(list(d.ns), [p["train"] for p in per], pred["sigma2"], d.fraction)
        return per, n_star, below

    def criteria(self, d, pred, obs):
        per, n_star, below = self._table(d, pred, obs)
        s2, lo, hi = pred["sigma2"], per[0], per[-1]
        ten = ("10% of the OLS value ([C]; the paper's constant is unknown): at the largest n (≥ 640) 10% is larger "
               "than the O(σ²d/n) gap between the network's two-direction model and global OLS (F2.10: 2d vs d "
               "parameters, ≈ σ²d/n ≈ 0.8% of σ²), and the mutants (σ for σ², no noise floor, L for 2L) miss by ≥ 50%.")
        out = [within(f"final train MSE at the largest n = {hi['n']} (median)", hi["train"], hi["ols_train"],
                      0.10 * hi["ols_train"], "Relative to the OLS train MSE on the same samples: " + ten),
               within(f"final test MSE at the largest n = {hi['n']} (median)", hi["test"], hi["ols_test"],
                      0.10 * hi["ols_test"], "Relative to the OLS test MSE of the same samples: " + ten),
               at_most(f"excess-risk ratio (test MSE − σ²)/(OLS test MSE − σ²) at the largest n = {hi['n']} (medians)",
                       excess_ratio(hi["test"], hi["ols_test"], s2),
                       excess_ratio(hi["hs_test"], hi["ols_test"], s2) + RATIO_TOL, RATIO_WHY),
               at_most(f"final train MSE at the smallest n = {lo['n']} (median)", lo["train"], INTERPOLATING * s2,
                       "Interpolation = train MSE ≤ 0.1 σ² (a stated fraction; a non-interpolating fit sits near "
                       "σ²(1 − d/n)); BF-P16.", prediction_id="BF-P16"),
               at_least(f"final test MSE at the smallest n = {lo['n']} (median)", lo["test"], s2,
                        "BF-P16/F2.10: below n* the test MSE exceeds the noise floor σ² (of the same design).",
                        prediction_id="BF-P16")]
        if n_star is None or n_star == d.ns[0]:
            out.append(holds("finite n* inside the grid", False,
                             f"n* = smallest grid n from which the median train MSE stays ≥ {d.fraction:g}·σ²; it "
                             "must exist and lie above the smallest n (known to one grid step).",
                             value=str(n_star), prediction_id="BF-P17"))
            out.append(undecided("test MSE drops across n*", "no n* inside the grid", prediction_id="BF-P18"))
        else:
            i = list(d.ns).index(n_star)
            flips = per[i]["sign_flips"] + per[i - 1]["sign_flips"]
            why = (f"The points n = {below} and n* = {n_star} decide n* and the drop; a GD run that flips a protected "
                   f"sign(a_j) (a_j² ≥ ‖w_j‖² at init: gradient flow cannot, BF-P3) is not tracking the flow, so its "
                   f"train MSE says nothing about the theorem. Such points were rerun at half the step up to "
                   f"{d.refine} times; flips left after that make the location undecided.")
            for pid in (("BF-P17", "BF-P18") if d.optimizer == "gd" else ()):  # SGD does not track the flow (no count)
                name = f"no protected sign flips at the deciding points n = {below}, {n_star} (after refinement)"
                out.append(holds(name, True, why, value=flips, prediction_id=pid) if flips == 0 else
                           undecided(name, f"{flips} protected sign flips remain after {d.refine} halvings", value=flips,
                                     prediction_id=pid))
            out.append(holds("finite n* inside the grid", True,
                             f"n* = smallest grid n from which the median train MSE stays ≥ {d.fraction:g}·σ² (the "
                             f"stated fraction); its uncertainty is the grid bracket ({below}, {n_star}].",
                             value=n_star, prediction_id="BF-P17"))
            out.append(at_most(f"test MSE at n* = {n_star} minus test MSE at {below}", per[i]["test"] - per[i - 1]["test"],
                               0.0, "BF-P18: the test MSE just above n* is below the one just under it (a drop; "
                               "medians over seeds, no margin: the claim is the sign).", prediction_id="BF-P18"))
        return out

    def numbers(self, d, pred, obs):
        per, n_star, below = self._table(d, pred, obs)
        hi, s2 = per[-1], pred["sigma2"]
        plateau = [r["plateau"]["test_mse"] for r in obs["rows"] if r["n"] == hi["n"]]
        return dict(n_star=n_star, n_star_bracket=[below, n_star], sigma2=s2, per_n=per,
                    excess_risk_ratio=excess_ratio(hi["test"], hi["ols_test"], s2),
                    excess_risk_ratio_plateau=excess_ratio(float(np.median(plateau)), hi["ols_test"], s2),
                    two_half_space_ratio=excess_ratio(hi["hs_test"], hi["ols_test"], s2),
                    excess_over_ols=(hi["test"] - hi["ols_test"]) / (hi["ols_test"] - s2),
                    sign_flips_before=[p["sign_flips_first"] for p in per], sign_flips_after=[p["sign_flips"] for p in per])

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        per, n_star, _ = self._table(d, pred, obs)
        sigma2, ns = pred["sigma2"], [p["n"] for p in per]
        fig, ax = plt.subplots(figsize=(8.4, 4.2))
        for key, color, label in (("train", "tab:blue", "train MSE"), ("test", "tab:red", "test MSE")):
            for p in per:
                ax.scatter([p["n"]] * len(p[f"seeds_{key}"]), p[f"seeds_{key}"], s=12, color=color, alpha=0.5)
            ax.plot(ns, [p[key] for p in per], "-", color=color, label=f"{label} (median, seeds as points)")
            ax.plot(ns, [p[f"ols_{key}"] for p in per], "--", color=color, lw=1, label=f"OLS {key}")
        ax.axhline(sigma2, color="k", ls=":", lw=1, label="σ²")
        if n_star:
            ax.axvline(n_star, color="grey", ls="-.", lw=1, label=f"n* = {n_star}")
        ax.set(xscale="log", yscale="log", xlabel="sample size n", ylabel="MSE",
               title="Optimization threshold (BF-ST Fig. 1 analogue)")
        ax.xaxis.set_minor_formatter(plt.NullFormatter())  # labelled minor ticks collide on a narrow n-range
        floor = min(min(p["seeds_train"]) for p in per)
        ax.set_ylim(max(1e-6, floor / 3), None)
        ax.text(ns[0], sigma2 * 1.15, f"σ² = {sigma2:g}", fontsize=8)
        ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
        return {"": fig}
