"""The fixed-gating linearity of the racing flow (PIN-2) and its growth rate (PIN-5): under a fixed activation pattern
the neuron flow is linear, checked against theory.racing over fixed gatings drawn by Hypothesis."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from numerics import data
from theory import racing

from checks.frame.core import Check, Variant, register
from checks.frame.criteria import at_least, at_most
from checks.frame.design import Design, positive
from checks.frame.errors import CheckError
from checks.strategies.racing import fixed_gatings
from checks.suites.racing.runs import drop_index, race_run, train_race

# --------------------------------------------------------------------------- PIN-2, PIN-5
# built-in data sets: (data of a seed, the race run's GD step, its steps) — as `race_run` builds them
BUILTIN = {"xor": (lambda seed: data.xor_clusters((1.0, 1.4, 1.8, 2.2), 50, 10, 0.05, seed=seed), 0.1, 600),
           "digits": (lambda seed: data.digits_binary((3, 8), 200, seed=seed), 0.05, 1500)}
OWN_DATA_LR, OWN_DATA_STEPS = 0.05, 1500


@dataclass(frozen=True)
class FixedGatingDesign(Design):
    """Balanced init at scale λ, full-batch GD; the state judged for PIN-2 is the one half-way to the first loss
    drop (gating has moved, residual ≠ y), the one for PIN-5 is t = 0 (exactly balanced).

    Arguments:
        datasets: built-in data sets run when no user data is given: "xor" (E6 race run, norms 1, 1.4, 1.8, 2.2)
            and "digits" (3 vs 8, 200 samples).
        lam: init scale λ.
        m: hidden width.
        lr: GD step (None: the race run's, xor 0.1 and digits 0.05; 0.05 on a user's data set).
        steps: GD steps (None: xor 600, digits 1500; 1500 on a user's data set).
        instances: drawn instances of the "any fixed gating" family (`checks.strategies.fixed_gatings`).
    """

    datasets: tuple[str, ...] = ("xor", "digits")
    lam: float = 1e-3
    m: int = 300
    lr: float | None = None
    steps: int | None = None
    instances: int = 20
    presets: ClassVar = {"quick": dict(instances=3), "full": dict(instances=100)}
    accepts_data: ClassVar[bool] = True

    def validate(self):
        positive(self, "lam", "m", "lr", "steps")
        if self.instances < 0:
            raise CheckError(f"instances={self.instances!r} must be ≥ 0")
        bad = [n for n in self.datasets if n not in BUILTIN]
        if bad or (not self.datasets and self.dataset is None):
            raise CheckError(f"datasets={self.datasets!r}: use one or more of {', '.join(BUILTIN)}")
        if self.dataset is not None and np.asarray(self.dataset.y).ndim != 1:
            raise CheckError("racing.fixed_gating needs scalar targets y of shape (n,); the growth-rate law "
                             "(PIN-5) is stated for a scalar output")


def _ungated(correlation):
    """M_j with every gate open (g ≡ 1): the linearisation that ignores the ReLU."""
    return lambda X, e, gates: correlation(X, e, np.ones_like(np.asarray(gates, float)))


def _mean_over_active(correlation):
    """Normalised by the active samples n_j instead of n (a plausible bug)."""
    def f(X, e, gates):
        g = np.asarray(gates, float)
        return correlation(X, e, g) * len(g) / np.maximum(g.sum(0), 1.0)[:, None]
    return f


def _rate(change):
    """Alternative helper: the growth-rate formula with its right-hand side changed."""
    return lambda f: dataclasses.replace(f, rhs=change(f.rhs, *f.args))


@register
class FixedGatingLinearity(Check):
    name = "racing.fixed_gating"
    paper = "Pinson"
    prediction_id = "PIN-2"
    also_judges = ("PIN-5",)
    claim = ("With its gating g_j and the residual e frozen, neuron j follows the linear system (w_j; a_j)' = "
             "[[0, M_jᵀ], [M_j, 0]](w_j; a_j), M_j = (1/n) Σ_k g_jk e_k x_k")
    claims = {"PIN-5": "A balanced neuron's log-norm grows at d ln p_j/dt = 2 s_j cos(δ_j), s_j = ‖M_j‖: "
                       "neurons pointing away from their target (cos δ_j < 0) shrink"}
    provenance = "[R]"
    design = FixedGatingDesign
    uses = {"system": lambda: racing.fixed_gating_system, "correlation": lambda: racing.gated_correlation,
            "rate": racing.growth_rate}
    alternatives = (
        Variant("ungated linearisation M = (1/n) Σ_k e_k x_k (g ≡ 1)", {"correlation": _ungated},
                why="the small-init linearisation of a linear net; it ignores which samples activate neuron j"),
        Variant("every neuron grows at the top rate, d ln p/dt = 2 s", {"rate": _rate(lambda r, s, d: 2 * s)},
                against="PIN-5", why="the top eigenvalue s of K_j read as the growth rate of every neuron"))
    mutants = (
        Variant("K negated (gradient ascent)", {"system": lambda f: (lambda M: -f(M))}),
        Variant("K doubled", {"system": lambda f: (lambda M: 2 * f(M))}),
        Variant("ȧ_j = 0 (lower block dropped)", {"system": lambda f: (lambda M: np.triu(f(M)))}),
        Variant("M_j averaged over the active samples only", {"correlation": _mean_over_active}),
        Variant("M_j ungated", {"correlation": _ungated}))  # theory.racing declares F1.5-rate's mutants
    family = staticmethod(lambda d: fixed_gatings())

    def predict(self, d, th):
        return {"system": th.system, "correlation": th.correlation, "rate": th.rate.numeric("numpy")}

    def _runs(self, d):
        if d.dataset is not None:
            return [train_race(d.dataset, d.seed, d.lam, d.m, d.lr or OWN_DATA_LR, d.steps or OWN_DATA_STEPS)]
        runs = []
        for name in d.datasets:
            build, lr0, steps0 = BUILTIN[name]
            lr, steps = d.lr or lr0, d.steps or steps0
            runs.append(race_run(name, d.seed, d.lam, d.m) if (lr, steps) == (lr0, steps0)
                        else train_race(build(d.seed), d.seed, d.lam, d.m, lr, steps))
        return runs

    def observe(self, d):
        states = []
        for ds, tr in self._runs(d):
            # linearity at a pre-drop state (residual ≠ y, gating has moved); the balanced rate law at t = 0,
            # where |a_j| = ‖w_j‖ exactly (GD keeps balance only to O(η²) per step)
            for i, what in ((drop_index(tr.loss) // 2, "linear"), (0, "rate")):
                W, a, X = tr.W[i], tr.a[i], ds.inputs
                st = dict(data=ds.name, what=what, t=float(tr.time[i]), W=W, a=a, X=X, e=ds.y - tr.outputs[i],
                          gates=(X @ W.T > 0).astype(float), dW=-tr.grad_W[i], da=-tr.grad_a[i])
                if what == "rate":  # observed d ln p_j/dt of p_j = |a_j|‖w_j‖ from the engine's gradient
                    r = np.linalg.norm(W, axis=1)
                    st.update(r=r, p=np.abs(a) * r,
                              pdot=np.sign(a) * st["da"] * r + np.abs(a) * np.sum(W * st["dW"], 1) / r)
                states.append(st)
        return {"states": states}

    @staticmethod
    def _rel(diff, scale):
        s = float(np.abs(scale).max())
        return float(np.abs(diff).max() / s) if s > 0 else float(np.abs(diff).max())

    def criteria(self, d, pred, obs):
        out = []
        for st in obs["states"]:
            W, a = st["W"], st["a"]
            M = pred["correlation"](st["X"], st["e"], st["gates"])  # (m, d)
            if st["what"] == "linear":
                lin = np.array([pred["system"](M[j]) @ np.append(W[j], a[j]) for j in range(len(a))])
                eng = np.concatenate([st["dW"], st["da"][:, None]], axis=1)
                out.append(at_most(
                    f"{st['data']}: max rel. error of −∇(w_j, a_j)L against K_j(w_j; a_j) at t = {st['t']:.3g}",
                    self._rel(lin - eng, eng), 1e-9,
                    "An exact identity evaluated in float64 (round-off ~1e-14) at a pre-drop state whose gating has "
                    "moved and whose residual is no longer y; relative to max|∇|, so a wrong sign, transpose, "
                    "factor, normalisation or gating of M_j gives an O(1) error (PIN-2)."))
                continue
            target, s_j = racing.target_direction(M, np.sign(a), on_zero="zero")
            cos_d = np.sum(W * target, 1) / st["r"]
            rate = pred["rate"](s_j, np.arccos(np.clip(cos_d, -1, 1))) * np.ones_like(s_j)
            out.append(at_most(
                f"{st['data']}: max rel. error of d ln p_j/dt against the growth-rate law at t = 0",
                self._rel(st["pdot"] / st["p"] - rate, rate), 1e-9,
                "Exact for a balanced neuron (|a_j| = ‖w_j‖ holds exactly at the balanced init, t = 0): float64 "
                "round-off only, relative to the largest predicted rate max_j 2 s_j|cos δ_j|; a wrong factor, sign, "
                "power of s or cos → sin is off by O(1) (PIN-5).", prediction_id="PIN-5"))
            away = cos_d < -1e-6
            if away.any():  # vacuous (no criterion) when every neuron points towards its target
                out.append(at_least(
                    f"{st['data']}: fraction of the {int(away.sum())} neurons with cos δ_j < 0 whose p_j shrinks",
                    float(np.mean(st["pdot"][away] < 0)), 1.0,
                    "The claim is qualitative (every neuron pointing away from its target shrinks), so every one "
                    "must; |cos δ_j| ≤ 1e-6 is left out as round-off could flip its sign (PIN-5).",
                    prediction_id="PIN-5"))
        return out

    def numbers(self, d, pred, obs):
        return {"states": [dict(data=st["data"], what=st["what"], t=st["t"], m=len(st["a"]), n=len(st["X"]))
                           for st in obs["states"]]}


# --------------------------------------------------------------------------- PIN-3, PIN-4 (+ convergence to target)
