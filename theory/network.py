"""Symbolic two-layer network: one neuron j inside h(x) = a_j relu(w_j·x) + c(x) (formulas.md F1.1, F1.2, F3.1, F3.2).

Like sympy.physics.mechanics.KanesMethod, the object holds its symbols and the equations it derives:
the loss is differentiated directly, and every closed form of formulas.md is a *claim* that
`verify()` proves equal to the derivation (`simplify(derived − claimed) == 0`).

  ∂L/∂a_j = −w_j·m_j,  ∂L/∂w_j = −a_j m_j,  m_j = (1/n) Σ_k 1[w_j·x_k > 0] e_k x_k          (F1.1)
  vector output:  ∂L/∂a_j = −M_j w_j,  ∂L/∂w_j = −M_jᵀ a_j,  M_j = (1/n) Σ_k g_k e_k x_kᵀ
  fixed gating:  d/dt (w; a) = K (w; a),  K = [[0, Mᵀ], [M, 0]]                                  (F1.2)
  Δ_j = ‖a_j‖² − ‖w_j‖² (b_j included in w̃_j):  dΔ_j/dt = 0 under gradient flow                 (F3.1)
  one GD step:  Δ_j(θ − η∇L) − Δ_j(θ) = η² (‖∂L/∂a_j‖² − ‖∂L/∂w_j‖²)                             (F3.2)

The other neurons enter only through c(x_k) (symbols c_k): neurons interact only through the residual.
"""
from __future__ import annotations

from functools import cached_property

import sympy as sp

import numpy as np

from . import validate as vd
from .errors import TheoryError
from .formula import Formula, checked_formula, relu, relu_as_gate, step
from .mutants import mutant

__all__ = ["LOSSES", "is_zero", "TwoLayerNetwork", "gd_defect_formula", "with_eta_power", "drift_order",
           "sign_frozen", "flow_rate", "sgd_bound_formula", "law_hessian_norm"]

LOSSES = ("square", "logistic")


def is_zero(expr) -> bool:
    """Exact symbolic zero test: expand with relu(u) = u·step(u), then simplify if needed.

    Arguments:
        expr: a SymPy expression or matrix (or a number).
    """
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    e = sp.expand(relu_as_gate(vd.expression("expr", expr) if not isinstance(expr, sp.Basic) else expr))
    return e == 0 or sp.simplify(e) == 0


class TwoLayerNetwork:
    """Derived equations of one neuron of a two-layer ReLU net on n symbolic samples in ℝ^d."""

    def __init__(self, d: int = 2, n: int = 3, k: int = 1, bias: bool = False, loss: str = "square"):
        """Arguments:
            d: input dimension ≥ 1.  n: number of symbolic samples ≥ 1.  k: output dimension ≥ 1.
            bias: whether w includes a bias b.  loss: "square" or "logistic" (k = 1 only).
        """
        loss = vd.choice("loss", loss, LOSSES)
        d, n, k = (vd.integer(name, x, minimum=1, maximum=64) for name, x in (("d", d), ("n", n), ("k", k)))
        bias = vd.boolean("bias", bias)
        if loss == "logistic" and k != 1:
            raise TheoryError("loss='logistic' needs a scalar output (k=1)")
        self.d, self.n, self.k, self.bias, self.loss_name = d, n, k, bias, loss
        dd = d + int(bias)
        self.w = sp.Matrix(sp.symbols(f"w1:{d + 1}", real=True) + ((sp.Symbol("b", real=True),) if bias else ()))
        self.a = sp.Matrix(sp.symbols(f"a1:{k + 1}", real=True)) if k > 1 else sp.Matrix([sp.Symbol("a", real=True)])
        xs = sp.Matrix(n, d, lambda i, j: sp.Symbol(f"x{i + 1}_{j + 1}", real=True))
        self.X = xs.row_join(sp.ones(n, 1)) if bias else xs  # rows x̃_k
        self.y = sp.Matrix(n, k, lambda i, j: sp.Symbol(f"y{i + 1}" + (f"_{j + 1}" if k > 1 else ""), real=True))
        self.c = sp.Matrix(n, k, lambda i, j: sp.Symbol(f"c{i + 1}" + (f"_{j + 1}" if k > 1 else ""), real=True))
        self.eta = sp.Symbol("eta", positive=True)
        self.t = sp.Symbol("t", real=True)
        self.dim = dd

    # ---------------------------------------------------------------- the model
    def preact(self, i: int) -> sp.Expr:
        return (self.X[i, :] * self.w)[0]

    @cached_property
    def outputs(self) -> sp.Matrix:
        """h(x_k) = a relu(w·x_k) + c_k, as an n×k matrix."""
        return sp.Matrix(self.n, self.k, lambda i, j: self.a[j] * relu(self.preact(i)) + self.c[i, j])

    @cached_property
    def loss(self) -> sp.Expr:
        h, y, n = self.outputs, self.y, self.n
        if self.loss_name == "square":
            return sum(((h[i, j] - y[i, j]) ** 2 for i in range(n) for j in range(self.k)), sp.S.Zero) / (2 * n)
        return sum((sp.log(1 + sp.exp(-y[i, 0] * h[i, 0])) for i in range(n)), sp.S.Zero) / n

    @cached_property
    def errors(self) -> sp.Matrix:
        """e_k = −n ∂L/∂h(x_k), derived by differentiating L with respect to c_k."""
        return sp.Matrix(self.n, self.k, lambda i, j: sp.simplify(-self.n * sp.diff(self.loss, self.c[i, j])))

    # ---------------------------------------------------------------- derived gradients
    @cached_property
    def grad_a(self) -> sp.Matrix:
        return sp.Matrix([sp.diff(self.loss, ai) for ai in self.a])

    @cached_property
    def grad_w(self) -> sp.Matrix:
        return sp.Matrix([sp.diff(self.loss, wi) for wi in self.w])

    # ---------------------------------------------------------------- closed forms (claims)
    def gates(self) -> list[sp.Expr]:
        return [step(self.preact(i)) for i in range(self.n)]

    def correlation(self, gates=None, errors=None) -> sp.Matrix:
        """M = (1/n) Σ_k g_k e_k x_kᵀ (k × d̃); for scalar output its single row is m_jᵀ."""
        g = self.gates() if gates is None else gates
        e = self.errors if errors is None else errors
        M = sp.zeros(self.k, self.dim)
        for i in range(self.n):
            M += g[i] * e[i, :].T * self.X[i, :]
        return M / self.n

    def claimed_grad_a(self, M=None) -> sp.Matrix:
        return -(self.correlation() if M is None else M) * self.w

    def claimed_grad_w(self, M=None) -> sp.Matrix:
        return -(self.correlation() if M is None else M).T * self.a

    def linear_system(self, M: sp.Matrix) -> sp.Matrix:
        """K = [[0, Mᵀ], [M, 0]] acting on (w; a) (F1.2)."""
        return sp.BlockMatrix([[sp.zeros(self.dim, self.dim), M.T], [M, sp.zeros(self.k, self.k)]]).as_explicit()

    @cached_property
    def conserved(self) -> sp.Expr:
        """Δ = ‖a‖² − ‖w̃‖² (F3.1)."""
        return (self.a.T * self.a)[0] - (self.w.T * self.w)[0]

    def conserved_rate(self) -> sp.Expr:
        """dΔ/dt along ẇ = −∂L/∂w, ȧ = −∂L/∂a."""
        grad = lambda s: sp.diff(self.conserved, s)  # noqa: E731
        rate = sum((grad(ai) * -ga for ai, ga in zip(self.a, self.grad_a)), sp.S.Zero)
        return rate + sum((grad(wi) * -gw for wi, gw in zip(self.w, self.grad_w)), sp.S.Zero)

    def gd_step_change(self) -> sp.Expr:
        """Δ(θ − η∇L) − Δ(θ), with the gradients taken at θ (exact, no expansion in η)."""
        sub = {ai: ai - self.eta * ga for ai, ga in zip(self.a, self.grad_a)}
        sub.update({wi: wi - self.eta * gw for wi, gw in zip(self.w, self.grad_w)})
        return self.conserved.xreplace(sub) - self.conserved

    def gd_defect_claim(self) -> sp.Expr:
        """The exported F3.2 formula evaluated at this neuron's gradients."""
        f = gd_defect_formula()
        eta, ga2, gw2 = f.args
        return f.rhs.subs({eta: self.eta, ga2: (self.grad_a.T * self.grad_a)[0],
                           gw2: (self.grad_w.T * self.grad_w)[0]})

    # ---------------------------------------------------------------- verification
    def verify(self) -> dict[str, bool]:
        """Each closed form of this family against the direct derivation."""
        M = self.correlation()
        out = {
            "F1.1 grad_a = -M w": is_zero(self.grad_a - self.claimed_grad_a(M)),
            "F1.1 grad_w = -M^T a": is_zero(self.grad_w - self.claimed_grad_w(M)),
            "F3.1 dDelta/dt = 0": is_zero(self.conserved_rate()),
            "F3.2 GD defect": is_zero(self.gd_step_change() - self.gd_defect_claim()),
        }
        theta = sp.Matrix([*self.w, *self.a])
        flow = -sp.Matrix([*self.grad_w, *self.grad_a])
        out["F1.2 flow = K theta"] = is_zero(flow - self.linear_system(M) * theta)
        return out

    # ---------------------------------------------------------------- exported formulas
    def formulas(self) -> dict[str, Formula]:
        m = sp.Matrix(sp.symbols(f"m1:{self.dim + 1}", real=True))
        a = self.a[0]
        s = sp.sqrt((m.T * m)[0])
        return {
            "F1.1": Formula("F1.1", "gradient equations (scalar output)", "[R]",
                            "dL/dw_j = -a_j m_j and dL/da_j = -w_j.m_j, m_j = (1/n) sum_k g_jk e_k x_k",
                            (-a * m).col_join(sp.Matrix([-(self.w.T * m)[0]])), (*self.w, a, *m),
                            sp.Symbol("nabla_theta L")),
            "F1.2": Formula("F1.2", "fixed-gating linear system", "[R]",
                            "d/dt (w; a) = K (w; a) while gating and residual are fixed",
                            self.linear_system(m.T), tuple(m), sp.Symbol("K")),
            "F1.3": Formula("F1.3", "target direction and growth rate", "[R]",
                            "t_j = sign(a_j) m_j/|m_j| attracts w_j; rate s_j = |m_j|",
                            (sp.sign(a) * m / s).col_join(sp.Matrix([s])), (a, *m), sp.Symbol("(t, s)")),
            "F3.1": Formula("F3.1", "conserved quantity", "[V: ABIDE; proof R]",
                            "a_j^2 - |w_j|^2 is constant under gradient flow", self.conserved,
                            (*self.w, *self.a), sp.Symbol("Delta_j")),
            "F3.2": gd_defect_formula(),
            "F3.2-SGD": sgd_bound_formula(),
        }


def gd_defect_formula() -> Formula:
    """Δ_j(θ_{i+1}) − Δ_j(θ_i) = η^p (g_a² − ‖g_w‖²), p = 2 (F3.2); args (η, g_a², ‖g_w‖²)."""
    eta, ga2, gw2 = sp.symbols("eta g_a2 g_w2", nonnegative=True)
    return Formula("F3.2", "exact per-step GD change of a_j^2 - |w_j|^2", "[R]",
                   "one GD step changes the law by eta^2 (g_a^2 - |g_w|^2); the O(eta) terms cancel",
                   eta ** 2 * (ga2 - gw2), (eta, ga2, gw2), sp.Symbol("DeltaDelta_j"))


# Mutants of F3.2 that every check reading it sees (conservation.gd_step_exact and racing.balancedness judge the
# value, conservation.drift_order only the order in η): a wrong power of η. A wrong sign, factor or dropped term
# keeps the η-order, so those mutants live in the checks that judge the value.
def with_eta_power(f: Formula, power) -> Formula:
    """F3.2 (or its linear twin, η first in args) with η^power in place of η²: the mutants below and the checks'
    first-order alternatives are this one substitution.

    Arguments:
        f: F3.2 (args (η, …)) or a variant.  power: the new power of η, a finite number (or SymPy expression).
    """
    checked_formula("f", f, min_args=1)
    power = vd.expression("power", power)
    eta = f.args[0]
    return f.with_rhs(f.rhs.subs(eta ** 2, eta ** power))


@mutant("F3.2", "η³ instead of η²")
def _defect_eta_cubed(f: Formula) -> Formula:
    return with_eta_power(f, 3)


@mutant("F3.2", "η instead of η² (a first-order step expansion)")
def _defect_eta_first(f: Formula) -> Formula:
    return with_eta_power(f, 1)


@mutant("F3.2", "η frozen at 0.5 (no η-dependence left)")
def _defect_eta_frozen(f: Formula) -> Formula:
    return f.subs({f.args[0]: 0.5})


def sgd_bound_formula() -> Formula:
    """F3.2-SGD [V: arXiv 2506.06194, Prop. 5.1]: E|h(θ_i) − h(θ_0)| ≤ (C_h C_L/2) Σ_{l<i} η_l², here with a constant
    step (Σ η_l² = i η²); args (η, i, C_h, C_L): C_h ≥ ‖∂²h‖, C_L ≥ E‖∇L_batch‖² along the run."""
    eta, i, ch, cl = sp.symbols("eta i C_h C_L", nonnegative=True)
    return Formula("F3.2-SGD", "SGD drift bound of a conservation law", "[V: arXiv 2506.06194, Prop. 5.1]",
                   "E|h(theta_i) - h(theta_0)| <= (C_h C_L / 2) sum_l eta_l^2", ch * cl / 2 * i * eta ** 2,
                   (eta, i, ch, cl), sp.Symbol("drift_bound"))


@mutant("F3.2-SGD", "Σ η_l³ instead of Σ η_l²")
def _sgd_eta_cubed(f: Formula) -> Formula:
    eta = f.args[0]
    return f.with_rhs(f.rhs * eta)


@mutant("F3.2-SGD", "one step's bound (the sum over steps dropped)")
def _sgd_one_step(f: Formula) -> Formula:
    return f.subs({f.args[1]: 1})


def law_hessian_norm(d: int) -> float:
    """‖∂²h‖ (operator norm) of h = a² − ‖w‖² for one neuron with w ∈ ℝ^d: the constant Hessian diag(2, −2, …), so 2.

    Arguments:
        d: input dimension, integer ≥ 1.
    """
    d = vd.integer("d", d, minimum=1)
    a, w = sp.Symbol("a", real=True), sp.symbols(f"w1:{d + 1}", real=True)
    H = sp.hessian(a ** 2 - sum(x ** 2 for x in w), (a, *w))
    return float(max(abs(ev) for ev in H.eigenvals()))


def drift_order(defect: Formula) -> int:
    """Order in η of the drift of Δ over a fixed horizon T: T/η steps of an O(η^p) defect give O(η^{p−1}).

    Arguments:
        defect: F3.2 (args (η, …)) or a variant, polynomial in η (−1 when it does not depend on η).
    """
    checked_formula("defect", defect, min_args=1, scalar=True)
    eta = defect.args[0]
    try:
        return int(sp.degree(sp.expand(defect.rhs), eta)) - 1
    except (sp.PolynomialError, TypeError, ValueError):
        raise TheoryError(f"defect {defect.id}: {defect.rhs} is not a polynomial in {eta}; the drift order is "
                          "read off a polynomial per-step defect") from None


def sign_frozen(delta0, scale, rtol: float = 1e-12):
    """Which output signs F3.1 freezes (BF-P3): Δ_j(0) = a_j² − ‖w_j‖² ≥ 0 ⇒ |a_j(t)| ≥ ‖w_j(t)‖ for all t, so a_j
    cannot cross 0 without the whole neuron reaching the origin, a fixed point; Δ_j(0) < 0 constrains nothing.

    Arguments:
        delta0: Δ_j(0) per neuron (array).
        scale: a_j² + ‖w_j‖² per neuron; balanced neurons (Δ_j = 0) count as frozen up to round-off rtol·scale.
        rtol: round-off tolerance, ≥ 0.
    Returns:
        boolean array, True where sign(a_j) is predicted never to change.
    """
    delta0, scale = vd.array("delta0", delta0), vd.array("scale", scale)
    try:
        np.broadcast_shapes(delta0.shape, scale.shape)
    except ValueError:
        raise TheoryError(f"scale {scale.shape} does not fit delta0 {delta0.shape}; give one a_j² + ‖w_j‖² per "
                          "neuron, like delta0") from None
    rtol = vd.positive("rtol", rtol, allow_zero=True)
    if (scale < 0).any():
        raise TheoryError("scale must be ≥ 0 (it is a_j² + ‖w_j‖²)")
    return delta0 >= -rtol * scale


def flow_rate(defect: Formula | None = None) -> Formula:
    """dΔ_j/dt under gradient flow, Δ_j = a_j² − ‖w_j‖², as the η → 0 limit of the GD change per unit time:
    lim_{η→0} defect(η, g_a², ‖g_w‖²)/η (F3.1 from F3.2: an O(η²) per-step defect means the flow conserves Δ_j).

    Arguments:
        defect: the per-step GD change of Δ_j (default `gd_defect_formula()`), args (η, g_a², ‖g_w‖²).
    Returns:
        a Formula with the same args (the rate does not depend on η).
    """
    f = gd_defect_formula() if defect is None else checked_formula("defect", defect, nargs=3)
    eta = f.args[0]
    return Formula("F3.1-rate", "rate of a_j^2 - |w_j|^2 under gradient flow", "[R]",
                   "the flow conserves a_j^2 - |w_j|^2: the per-step GD change is o(eta)",
                   sp.limit(f.rhs / eta, eta, 0), f.args, sp.Symbol("dDelta_j/dt"))


@mutant("F3.1-rate", "η dropped: the flow changes Δ_j at g_a² − ‖g_w‖²")
def _flow_rate_eta_dropped(f: Formula) -> Formula:
    return f.with_rhs(f.args[1] - f.args[2])
