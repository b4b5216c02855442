"""PIN-12: gradients in polar form at init (F1.6, `theory.polar`): ratios O(λ), angular speed O(1), Fig. 3."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp
import torch

import numerics
from numerics import data
from theory import polar, racing

from checks.frame.core import Check, Variant, register, relative_slope
from checks.frame.criteria import at_most, gated, measured, regime, within
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.frame.protocol import Paper
from checks.suites.racing.runs import racing_init

RHO, THETA = polar.rho, polar.theta


def _rhs(change):
    """Variant helper: a polar formula with its right-hand side changed."""
    return lambda f: dataclasses.replace(f, rhs=change(f.rhs))


@dataclass(frozen=True)
class RatioDesign(Design):
    """E6 race data (4 XOR clusters), balanced init at several scales λ; the engine's gradient at t = 0.

    Arguments:
        norms, n_per, dim, noise: the E6 race construction (cluster norms, points per cluster, d, noise std).
        m: hidden neurons.
        lams: init scales λ of the λ-exponent fit (one init each, seed `seed`).
        fig3_lam: init scale of the two-output net of the Fig. 3 reproduction.
    """

    norms: tuple[float, ...] = (1.0, 1.4, 1.8, 2.2)
    n_per: int = 50
    dim: int = 10
    noise: float = 0.05
    m: int = 1000
    lams: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
    fig3_lam: float = 1e-3
    presets: ClassVar = {"quick": dict(lams=(1e-3, 1e-2, 1e-1)), "paper": dict(dim=2, m=1000)}
    protocol: ClassVar = {
        "dim": Paper(2, "Pinson Figs. 2–5 [R: drawn in 2-D]", why="the E6 prior construction (d = 10); the paper "
                     "tier runs d = 2"),
        "m": Paper(1000, "Pinson Fig. 3 caption: 1000 hidden neurons at t = 0"),
        "init": Paper("balanced, per-weight std λ/√d, a = ±‖w‖", "spec E6 and PIN-8 convention",
                      run=lambda d: "balanced, per-weight std λ/√d, a = ±‖w‖"),
        "judged at": Paper("t = 0", "Pinson Fig. 3 caption", run=lambda d: "t = 0 (the engine's gradient at init)",
                           compare=False)}
    paper_source: ClassVar = ("Pinson Fig. 3 (caption; docs/theory/pinson-racing.md#e6, PIN-12): 1000 hidden neurons "
                              "at t = 0 on the paper-like XOR construction, d = 2 "
                              "(two-output net for the Fig. 3 ratio)")
    sources: ClassVar = {"m": "paper: Fig. 3 uses 1000 hidden neurons at t = 0 (docs/theory/pinson-racing.md#pin-12)",
                         "norms": "E6 prior construction, race run (docs/theory/pinson-racing.md#e6)"}

    def validate(self):
        positive(self, "norms", "n_per", "dim", "noise", "m", "lams", "fig3_lam")
        if len(self.norms) != 4 or self.dim < 2:
            raise CheckError(f"norms={self.norms!r}, dim={self.dim!r}: E6 needs 4 norms and dim ≥ 2")
        if len(self.lams) < 2:
            raise CheckError(f"lams={self.lams!r}: the λ-exponent fit needs at least two init scales")


def _data(d):
    return data.xor_clusters(d.norms, d.n_per, d.dim, d.noise, seed=d.seed)


def _polar_state(ds, d, lam):
    """Per neuron at t = 0: (a, ρ, s, θ) from data, gating and residual, and the engine's gradient in polar form."""
    X, y = torch.tensor(ds.inputs), torch.tensor(ds.y)
    W, a = racing_init(d.m, X.shape[1], lam, d.seed)
    lg = numerics.loss_and_grad(W, a, X, y)
    h = numerics.forward(W, a, X).numpy()
    e = ds.y - h
    Wn, an = W.numpy(), a.numpy()
    M = racing.gated_correlation(ds.inputs, e, ds.inputs @ Wn.T > 0)  # (m, d): m_j of F1.1
    rho, s = np.linalg.norm(Wn, axis=1), np.linalg.norm(M, axis=1)
    theta = racing.angle_to(Wn, M, on_zero="nan")
    gw, ga = lg.grad_W.numpy(), lg.grad_a.numpy()
    w_hat = Wn / rho[:, None]
    g_rho = np.sum(gw * w_hat, 1)
    g_phi = rho * np.linalg.norm(gw - g_rho[:, None] * w_hat, axis=1)  # |∂L/∂φ|, φ the angle in span(w, ∂L/∂w)
    alive = s > 0  # a neuron active on no sample has no gradient (0/0 ratios)
    h_over_y = float(np.abs(h).max() / np.abs(ds.y).max())  # the init's output against the target
    return dict(lam=lam, h_over_y=h_over_y, a=an[alive], rho=rho[alive], s=s[alive], theta=theta[alive],
                dead=int((~alive).sum()),
                ratio_a=np.abs(g_phi / ga)[alive], ratio_rho=np.abs(g_phi / g_rho)[alive],
                speed=(g_phi / rho ** 2)[alive])


def _fig3_state(ds, d):
    """Two outputs, residual e = onehot − (½, ½) (softmax cross-entropy at h = 0; the square loss on that target has
    the same gradient at h = 0 up to O(h)): the outgoing angle φ_a and the ratio (∂L/∂φ_a)/(∂L/∂‖a‖) per neuron."""
    Y = np.where(ds.y[:, None] > 0, [0.5, -0.5], [-0.5, 0.5])
    X = torch.tensor(ds.inputs)
    W, a = racing_init(d.m, X.shape[1], d.fig3_lam, d.seed, k=2)
    lg = numerics.loss_and_grad(W, a, X, torch.tensor(Y))
    h = numerics.forward(W, a, X).numpy()
    an, ga, Wn = a.numpy(), lg.grad_a.numpy(), W.numpy()
    M = racing.gated_correlation(ds.inputs, Y - h, ds.inputs @ Wn.T > 0)  # (m, 2, d): M_j of F1.1, actual residual
    v = np.einsum("jkd,jd->jk", M, Wn)  # −∂L/∂a_j = M_j w_j
    r = np.linalg.norm(an, axis=1)
    phi = np.arctan2(an[:, 1], an[:, 0])
    g_r = np.sum(ga * an, 1) / r
    g_phi = np.sum(ga * np.stack([-an[:, 1], an[:, 0]], 1), 1)  # ∂a/∂φ_a = r(−sin φ, cos φ)
    ok = np.abs(g_r) > 0
    return dict(r=r[ok], phi=phi[ok], psi=np.arctan2(v[:, 1], v[:, 0])[ok], ratio=(g_phi / g_r)[ok],
                h_over_e=float(np.abs(h).max() / 0.5))


# The λ-exponent is the homogeneity degree only while the init's output is small against the target (s and θ move
# through h = O(λ²)): judged over the init scales with max|h(0)| ≤ 1e-2 · max|y|, at least two of them.
SMALL_OUTPUT = 1e-2


def _rel(obs, pred):
    return float(np.max(np.abs(obs - pred) / np.maximum(np.abs(pred), 1e-300)))


@register
class GradientRatios(Check):
    name = "racing.gradient_ratios"
    paper = "Pinson"
    prediction_id = "PIN-12"
    claim = ("At init, |dL/dφ|/|dL/da| = |a||tan θ| and |dL/dφ|/|dL/dρ| = ρ|tan θ| are O(λ), "
             "the angular speed s|sin θ| is O(1); the Fig. 3 outgoing-angle ratio is |a| tan(3pi/4 − phi_a)")
    provenance = "[V: Fig. 3 caption; R]"
    design = RatioDesign
    uses = {"ratio_a": polar.ratio_a, "ratio_rho": polar.ratio_rho, "speed": polar.angular_speed,
            "outgoing": polar.outgoing_ratio, "target_angle": polar.fig3_target_angle,
            "exponent": lambda: polar.scale_exponent}
    alternatives = (
        Variant("ratios O(1): |tan θ| (exponent 0)", {"ratio_a": _rhs(lambda e: sp.Abs(sp.tan(THETA))),
                                                      "ratio_rho": _rhs(lambda e: sp.Abs(sp.tan(THETA)))},
                why="the angular and radial gradients read as comparable, as for a neuron of unit scale"),
        Variant("ratios O(λ²): |a|ρ|tan θ|", {"ratio_a": _rhs(lambda e: e * RHO), "ratio_rho": _rhs(lambda e: e * RHO)},
                why="the raw angular gradient ∂L/∂φ = aρs sin θ is O(λ²); its ratio read at the same order"),
        Variant("angular speed O(λ): |a| s |sin θ|", {"speed": _rhs(lambda e: e * RHO)},
                why="the tiny angular gradient read as a slow rotation (the caption's small y-axis values)"))
    # theory.polar declares the mutants of F1.6-ratio-a, -ratio-rho, -speed and -out; the Fig. 3 target angle is a
    # plain SymPy expression, not a Formula, so its mutant is here
    # no mutant of the Fig. 3 target angle: with centred one-hot targets ψ_a = 3π/4 for every neuron whatever the
    # dynamics, so the angle is reported (a `measured` criterion), not judged, and no wrong angle could be caught
    mutants = ()

    def predict(self, d, th):
        f = lambda k: getattr(th, k).numeric("numpy")  # noqa: E731
        return dict(ratio_a=f("ratio_a"), ratio_rho=f("ratio_rho"), speed=f("speed"), outgoing=f("outgoing"),
                    target_angle=float(th.target_angle),
                    exponents={k: float(th.exponent(getattr(th, k))) for k in ("ratio_a", "ratio_rho", "speed")})

    def observe(self, d):
        ds = _data(d)
        return {"states": [_polar_state(ds, d, lam) for lam in d.lams], "fig3": _fig3_state(ds, d)}

    @staticmethod
    def _errors(pred, obs, key):
        return max(_rel(st[key], pred[key](st["a"], st["rho"], st["s"], st["theta"])) for st in obs["states"])

    @staticmethod
    def _small(obs):
        """The states whose init output is small against the target (the regime of the λ-exponent)."""
        return [st for st in obs["states"] if st["h_over_y"] <= SMALL_OUTPUT]

    @staticmethod
    def _slope(states, key):
        """Log-log slope of the median `key` against λ over `states` (NaN with fewer than two)."""
        if len(states) < 2:
            return float("nan")
        return relative_slope([st["lam"] for st in states], [np.median(st[key]) for st in states])

    @staticmethod
    def _angle_miss(pred, obs):
        """|ψ_a,j − predicted target angle| (mod π) per neuron."""
        x = obs["fig3"]["psi"] - pred["target_angle"]
        return np.abs(np.mod(x + np.pi / 2, np.pi) - np.pi / 2)

    def criteria(self, d, pred, obs):
        ident = ("The engine's gradient is −a m_j, −w·m_j exactly (F1.1), so per neuron the chain rule to (ρ, φ) "
                 "leaves float64 round-off only, amplified near cos θ = 0; ≤ 1e-8 relative is ~1e6× round-off, while a "
                 "missing factor |a| or ρ (O(λ) = 1e-4…1e-1 here) or tan↔sin (off by 1/|cos θ|) misses by ≥ 1e-2.")
        out = [at_most(f"max rel. error per neuron of {label}", self._errors(pred, obs, key), 1e-8, ident)
               for key, label in (("ratio_a", "|∂L/∂φ|/|∂L/∂a| vs |a||tan θ|"),
                                  ("ratio_rho", "|∂L/∂φ|/|∂L/∂ρ| vs ρ|tan θ|"),
                                  ("speed", "|φ̇| = ρ⁻²|∂L/∂φ| vs (|a|/ρ) s|sin θ|"))]
        small = self._small(obs)
        ratios = {st["lam"]: st["h_over_y"] for st in obs["states"]}
        left_out = [lam for lam, r in ratios.items() if r > SMALL_OUTPUT]
        exponents = [within(f"λ-exponent of the median {label}", self._slope(small, key), pred["exponents"][key], 0.05,
                            "Log-log slope over the init scales of the small-output regime; a, ρ ∝ λ exactly (same "
                            "seed), and s, θ move only through h = O(λ²) ≤ 1e-2 relative to y, so the slope is the "
                            "homogeneity degree to ≲ 1e-2; ±0.05 separates it from the alternatives one unit away "
                            "(O(1), O(λ²)).")
                     for key, label in (("ratio_a", "|∂L/∂φ|/|∂L/∂a|"), ("ratio_rho", "|∂L/∂φ|/|∂L/∂ρ|"),
                                        ("speed", "|φ̇|"))]
        out += gated(regime(f"≥ 2 init scales with max|h(0)| ≤ {SMALL_OUTPUT:g}·max|y| (regime reached)",
                            len(small) >= 2,
                            f"{len(small)} init scale(s) with a small init output (max|h(0)|/max|y| by λ: "
                            + ", ".join(f"{lam:g}: {r:.2g}" for lam, r in ratios.items())
                            + "); add smaller lams",
                            "PIN-12's orders in λ are those of the small-init regime (λ → 0): at an init scale whose "
                            "output is a sizable fraction of the target, s and θ move with λ and the slope is not the "
                            "homogeneity degree. Init scales above the cut are shown, not fitted"
                            + (f" (here: λ = {', '.join(f'{lam:g}' for lam in left_out)})" if left_out else "") + ".",
                            value=len(small), details={"h_over_y": {f"{k:g}": v for k, v in ratios.items()}}),
                     exponents)
        f3 = obs["fig3"]
        out.append(at_most("Fig. 3: max rel. error of (∂L/∂φ_a)/(∂L/∂‖a‖) vs ‖a‖ tan(ψ_a − φ_a)",
                           _rel(f3["ratio"], pred["outgoing"](f3["r"], f3["phi"], f3["psi"])), 1e-8,
                           "Signed per-neuron identity on the two-output net at t = 0, ψ_a the angle of M_j w_j "
                           "(= −∂L/∂a_j by F1.1): only round-off is left, ≤ 1e-8 relative; a wrong sign or tan↔cot "
                           "misses by O(1) relative."))
        out.append(measured("Fig. 3: median over neurons of |ψ_a − 3π/4| (mod π)",
                            float(np.median(self._angle_miss(pred, obs))),
                            "Reported, not judged: with centred one-hot targets e = ±(½, −½), M_j w_j ∥ (1, −1) for "
                            "every neuron, so ψ_a = 3π/4 (mod π) whatever the theory (a property of the target "
                            "encoding, up to the O(λ²) output); Fig. 3's content is judged by the per-neuron ratio "
                            "identity above.", details={"bound_O(lambda^2)": 10 * f3["h_over_e"]}))
        return out

    def numbers(self, d, pred, obs):
        return {"per_lambda": [dict(lam=st["lam"], dead=st["dead"], h_over_y=st["h_over_y"],
                                    median_ratio_a=float(np.median(st["ratio_a"])),
                                    median_ratio_rho=float(np.median(st["ratio_rho"])),
                                    median_speed=float(np.median(st["speed"])),
                                    min_abs_cos_theta=float(np.min(np.abs(np.cos(st["theta"])))))
                               for st in obs["states"]],
                "fig3_max_abs_ratio": float(np.max(np.abs(obs["fig3"]["ratio"]))),
                "fig3_max_angle_miss": float(np.max(self._angle_miss(pred, obs))),
                "fig3_h_over_e": obs["fig3"]["h_over_e"]}

    def figures(self, d, pred, obs, verdict):
        import matplotlib.pyplot as plt

        f3 = obs["fig3"]
        x = np.mod(pred["target_angle"] - f3["phi"] + np.pi / 2, np.pi) - np.pi / 2  # 3π/4 − φ_a, mod π (Fig. 3's axis)
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.plot(x, f3["ratio"], ".", ms=3, label="engine gradient (observed)")
        xs = np.linspace(-1.45, 1.45, 200)
        ax.plot(xs, np.median(f3["r"]) * np.tan(xs), "k-", lw=1, label="median ‖a‖ · tan(3π/4 − φ_a)")
        ax.set(xlabel=r"$3\pi/4 - \varphi_a$ (mod π)",
               ylabel=r"$\partial L/\partial\varphi_a \,/\, \partial L/\partial\|a\|$",
               title=f"Fig. 3 at t = 0, m = {d.m}, λ = {d.fig3_lam:g} (PIN-12)", ylim=(-20 * np.median(f3["r"]),
                                                                                     20 * np.median(f3["r"])))
        ax.legend(fontsize=8)
        fig2, ax2 = plt.subplots(figsize=(5, 3.6))
        lams = np.array([st["lam"] for st in obs["states"]])
        for key, label in (("ratio_a", "|∂L/∂φ|/|∂L/∂a|"), ("ratio_rho", "|∂L/∂φ|/|∂L/∂ρ|"), ("speed", "|φ̇|")):
            ax2.loglog(lams, [np.median(st[key]) for st in obs["states"]], "o-",
                       label=f"{label} (pred. exponent {pred['exponents'][key]:g})")
        ax2.set(xlabel="init scale λ", ylabel="median over neurons", title="Polar gradients at init (F1.6)")
        ax2.legend(fontsize=8)
        return {"": fig, ".scaling": fig2}
