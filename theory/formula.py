"""A derived formula as an object: SymPy expression + provenance, exported to LaTeX, numpy and torch.

relu and its derivative `step` are explicit SymPy functions so that every export agrees with the
engine's convention relu'(0) = 0 (SymPy's Heaviside(0) is ½ by default and Max does not lambdify to
an elementwise torch call); `engine_form` rewrites Max(0, x) and Heaviside(x) into them.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.str import StrPrinter

from . import validate
from .errors import TheoryError

__all__ = ["checked_formula", "BACKENDS", "Formula", "engine_form", "lambdify", "latex_name", "relu", "relu_as_gate",
           "step", "text_name", "to_latex", "to_text"]


def _positive_factor(x):
    """Split a product x = c·u with c > 0 known to SymPy; (None, x) if there is no such factor."""
    if isinstance(x, sp.Mul):
        pos = [f for f in x.args if f.is_positive]
        if pos:
            return sp.Mul(*pos), sp.Mul(*[f for f in x.args if not f.is_positive])
    return None, x


class step(sp.Function):
    """1[x > 0]: the ReLU derivative with relu'(0) := 0."""

    @classmethod
    def eval(cls, x):
        if x.is_extended_positive:
            return sp.S.One
        if x.is_extended_nonpositive:
            return sp.S.Zero
        pos, rest = _positive_factor(x)
        if pos is not None:  # 0-homogeneity: step(c·u) = step(u) for c > 0
            return cls(rest)

    def _eval_derivative(self, s):  # zero almost everywhere; the kink is handled by F2.1
        return sp.S.Zero

    def _latex(self, printer):
        return r"\mathbb{1}\left[%s > 0\right]" % printer._print(self.args[0])


class relu(sp.Function):
    """relu(x) = max(x, 0), with d relu/dx = step(x)."""

    @classmethod
    def eval(cls, x):
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return sp.S.Zero
        pos, rest = _positive_factor(x)
        if pos is not None:  # positive homogeneity: relu(c·u) = c·relu(u) for c > 0
            return pos * cls(rest)

    def fdiff(self, argindex=1):
        return step(self.args[0])

    def _latex(self, printer):
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


def engine_form(expr: sp.Expr) -> sp.Expr:
    """Rewrite Max(0, x) → relu(x) and Heaviside(x) → step(x) (so that relu'(0) = 0 everywhere).

    Arguments:
        expr: a SymPy expression.
    """
    expr = _expr("expr", expr)
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: step(e.args[0]))

    def is_relu(e):
        return isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args

    return expr.replace(is_relu, lambda e: relu([t for t in e.args if t != 0][0]))


def relu_as_gate(expr: sp.Expr) -> sp.Expr:
    """relu(u) → u·step(u): the identity the fixed-gating derivations rest on.

    Arguments:
        expr: a SymPy expression.
    """
    expr = _expr("expr", expr)
    return expr.replace(lambda e: isinstance(e, relu), lambda e: e.args[0] * step(e.args[0]))


class _NumpyEngine(NumPyPrinter):
    def _print_relu(self, e):
        return "numpy.maximum(%s, 0.0)" % self._print(e.args[0])

    def _print_step(self, e):
        return "numpy.greater(%s, 0.0).astype(float)" % self._print(e.args[0])


def _torch():
    """torch, imported only when a torch function is requested (theory never loads it at import time)."""
    return importlib.import_module("torch")


def _torch_printer():
    """sympy.printing.pytorch imports torch at module load, so the printer is built on first use."""
    from sympy.printing.pytorch import TorchPrinter

    class _TorchEngine(TorchPrinter):
        def _print_relu(self, e):
            return "torch.clamp_min(torch.as_tensor(%s), 0.0)" % self._print(e.args[0])

        def _print_step(self, e):
            x = self._print(e.args[0])
            return "torch.gt(torch.as_tensor(%s), 0.0).to(torch.as_tensor(%s).dtype)" % (x, x)

        def _print_Max(self, e):  # elementwise, pairwise
            args = [self._print(a) for a in e.args]
            out = "torch.as_tensor(%s)" % args[0]
            for a in args[1:]:
                out = "torch.maximum(%s, torch.as_tensor(%s))" % (out, a)
            return out

    return _TorchEngine()

# ---------------------------------------------------------------------------------------------- notation
# Symbol names in the catalog are ASCII words ("DeltaDelta_j", "dL/dphi"); SymPy's printers only know Greek names
# that make up a whole symbol base, so compound names lost their backslashes in LaTeX. Each compound name has its
# LaTeX and its one-line Unicode spelling here; other names go through `_GREEK` word by word.
NAMES = {  # symbol name → (LaTeX, Unicode)
    "nabla_theta L": (r"\nabla_{\theta} L", "∇_θ L"),
    "(t, s)": (r"\left(t, s\right)", "(t, s)"),
    "DeltaDelta_j": (r"\Delta_{j}(\theta_{i+1}) - \Delta_{j}(\theta_{i})", "ΔΔ_j"),   # the change over one step
    "dL/da": (r"\frac{\partial L}{\partial a}", "∂L/∂a"),
    "dL/dphi": (r"\frac{\partial L}{\partial \phi}", "∂L/∂φ"),
    "dL/drho": (r"\frac{\partial L}{\partial \rho}", "∂L/∂ρ"),
    "dL/dphi_a / dL/d|a|": (r"\frac{\partial L / \partial \phi_{a}}{\partial L / \partial \left|a\right|}",
                            "(∂L/∂φ_a)/(∂L/∂|a|)"),
    "dlnp/dt": (r"\frac{d \ln p}{d t}", "d ln p/dt"),
    "|dL/dphi|/|dL/da|": (r"\frac{\left|\partial L / \partial \phi\right|}{\left|\partial L / \partial a\right|}",
                          "|∂L/∂φ|/|∂L/∂a|"),
    "|dL/dphi|/|dL/drho|": (r"\frac{\left|\partial L / \partial \phi\right|}{\left|\partial L / \partial \rho\right|}",
                            "|∂L/∂φ|/|∂L/∂ρ|"),
    "|dphi/dt|": (r"\left|\frac{d \phi}{d t}\right|", "|dφ/dt|"),
    "p_i/p_j": (r"\frac{p_{i}}{p_{j}}", "p_i/p_j"),
    "dt_c/dln(1/lambda)": (r"\frac{d t_{c}}{d \ln\left(1/\lambda\right)}", "dt_c/d ln(1/λ)"),
    "max|h|": (r"\max_{k} \left|h\left(x_{k}\right)\right|", "max_k |h(x_k)|"),
    "|Sigma beta|": (r"\left\|\Sigma \beta^{*}\right\|", "‖Σβ*‖"),
    "|Sigma_beta|": (r"\left\|\Sigma \beta^{*}\right\|", "‖Σβ*‖"),
    "beta_norm": (r"\left\|\beta^{*}\right\|", "‖β*‖"),
    "g_star": (r"g^{*}", "g*"),
    "g_a2": (r"g_{a}^{2}", "g_a²"),
    "g_w2": (r"\left\|g_{w}\right\|^{2}", "‖g_w‖²"),
    "Sigma_ii": (r"\Sigma_{ii}", "Σ_ii"),
    "two-half-space_test_MSE": (r"\mathrm{MSE}^{\mathrm{test}}_{\mathrm{2hs}}", "MSE_test(two half-spaces)"),
    "two-half-space_train_MSE": (r"\mathrm{MSE}^{\mathrm{train}}_{\mathrm{2hs}}", "MSE_train(two half-spaces)"),
    "OLS_test_MSE": (r"\mathrm{MSE}^{\mathrm{test}}_{\mathrm{OLS}}", "MSE_test(OLS)"),
    "OLS_train_MSE": (r"\mathrm{MSE}^{\mathrm{train}}_{\mathrm{OLS}}", "MSE_train(OLS)"),
    "n_suff": (r"n_{\mathrm{suff}}", "n_suff"),
    "lambda_eff": (r"\lambda_{\mathrm{eff}}", "λ_eff"),
    "h(t)": (r"h\left(t\right)", "h(t)"),
    "dU": (r"\dot{U}", "U̇"),
    "dV": (r"\dot{V}", "V̇"),
    "rank_dphi": (r"\operatorname{rank} \partial\phi", "rank ∂φ"),
    "dim_Lie": (r"\dim \operatorname{Lie}\left(W_{\phi}\right)", "dim Lie(W_φ)"),
    "drift": (r"\mathrm{drift}", "drift"),
    "gap": (r"\mathrm{gap}", "gap"),
    "rate": (r"\mathrm{rate}", "rate"),
    "angle": (r"\mathrm{angle}", "angle"),
    "tol": (r"\mathrm{tol}", "tol"),
}
_GREEK = {g: u for g, u in zip(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau phi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split(),
    "αβγδεζηθικλμνξπρστφχψωΓΔΘΛΞΠΣΦΨΩ")}


def latex_name(name: str) -> str:
    r"""The LaTeX of a catalog symbol name: NAMES, else `base_sub` with Greek words as commands.

    Arguments:
        name: a SymPy symbol name such as "Delta_j", "delta_i0", "x1_1".
    Returns:
        LaTeX math-mode text, e.g. r"\Delta_{j}".
    """
    if not isinstance(name, str) or not name:
        raise TheoryError(f"name must be a non-empty symbol name, got {name!r}")
    if name in NAMES:
        return NAMES[name][0]
    base, _, sub = name.partition("_")
    stem = base.rstrip("0123456789")
    if stem and stem != base:  # U11 → U_{11}, m1 → m_{1}, x1_2 → x_{1,2}
        sub, base = base[len(stem):] + ("," + sub if sub else ""), stem
    head = "\\" + base if base in _GREEK else (base if len(base) == 1 else r"\mathrm{%s}" % base)
    if not sub:
        return head
    sub = "\\" + sub if sub in _GREEK else (sub if len(sub) <= 3 else r"\mathrm{%s}" % sub)
    return "%s_{%s}" % (head, sub)


def text_name(name: str) -> str:
    """The one-line Unicode of a catalog symbol name ("DeltaDelta_j" → "ΔΔ_j", "lambda" → "λ").

    Arguments:
        name: a SymPy symbol name.
    """
    if not isinstance(name, str) or not name:
        raise TheoryError(f"name must be a non-empty symbol name, got {name!r}")
    if name in NAMES:
        return NAMES[name][1]
    return "_".join(_GREEK.get(part, part) for part in name.split("_"))


def _expr(name: str, expr):
    if isinstance(expr, (sp.Basic, sp.MatrixBase)):
        return expr
    try:
        return sp.sympify(expr, strict=True)
    except (sp.SympifyError, TypeError):
        raise TheoryError(f"{name} must be a SymPy expression, got {type(expr).__name__} {expr!r}") from None


def to_latex(expr) -> str:
    """LaTeX of an expression, with every catalog symbol spelled by `latex_name` (valid amsmath, one line).

    Arguments:
        expr: a SymPy expression, equation or matrix.
    """
    expr = _expr("expr", expr)
    names = {s: latex_name(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return sp.latex(_each_side(expr, lambda e: e.xreplace(
        {s: sp.MatrixSymbol(latex_name(s.name), *s.shape) for s in e.atoms(sp.MatrixSymbol)})), symbol_names=names)


def _each_side(expr, change):
    """`change` applied to both sides of an equation (rebuilt unevaluated), or to the expression."""
    if isinstance(expr, sp.Equality):
        return sp.Eq(change(expr.lhs), change(expr.rhs), evaluate=False)
    return change(expr)


def _rename(expr, name_of):
    """Every Symbol and MatrixSymbol of `expr` renamed by `name_of(name)` (assumptions and shapes kept)."""
    def change(e):
        syms = {s: sp.Symbol(name_of(s.name), **s.assumptions0) for s in e.free_symbols
                if isinstance(s, sp.Symbol) and name_of(s.name) != s.name}
        syms.update({s: sp.MatrixSymbol(name_of(s.name), *s.shape) for s in e.atoms(sp.MatrixSymbol)
                     if name_of(s.name) != s.name})
        return e.xreplace(syms) if syms else e
    return _each_side(expr, change)


def _renamed(expr):
    return _rename(expr, text_name)


class _OneLine(StrPrinter):
    """SymPy's str printer with |x| for Abs and matrices on one line."""

    def _print_Abs(self, e):
        return "|%s|" % self._print(e.args[0])

    def _print_Transpose(self, e):
        return "%sᵀ" % self._print(e.args[0])

    def _print_MatrixBase(self, e):
        return "[" + "; ".join(", ".join(self._print(x) for x in row) for row in e.tolist()) + "]"


_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def to_text(expr) -> str:
    """One-line Unicode of an expression, e.g. η²⋅(g_a² − ‖g_w‖²), for tables and terminal cells (not str()).

    Arguments:
        expr: a SymPy expression, equation or matrix.
    """
    expr = _expr("expr", expr)
    if isinstance(expr, sp.Equality):
        return f"{to_text(expr.lhs)} = {to_text(expr.rhs)}"
    syms = expr.free_symbols | expr.atoms(sp.MatrixSymbol)
    names = sorted({s.name for s in syms if hasattr(s, "name")})
    # ASCII placeholders in the names' sort order (so SymPy orders terms as before), which the operator
    # rewriting below cannot touch
    out = _OneLine().doprint(_rename(expr, lambda n: "Q%03dQ" % names.index(n)))
    out = re.sub(r"\*\*(\d+)\b", lambda m: m.group(1).translate(_SUPER), out)
    for a, b in (("**", "^"), ("*", "⋅"), ("sqrt(", "√("), (" - ", " − "), ("pi", "π")):
        out = out.replace(a, b)
    return re.sub(r"Q(\d{3})Q", lambda m: text_name(names[int(m.group(1))]), out)

BACKENDS = ("numpy", "torch")


def lambdify(args: Sequence, expr, backend: str = "numpy") -> Callable:
    """sympy.lambdify with relu/step/Max/Heaviside printed as the engine computes them.

    A Matrix expression gives a function returning an array of shape (rows, cols, *broadcast shape).
    """
    validate.choice("backend", backend, BACKENDS)
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TheoryError(f"args must be a sequence of SymPy symbols, got {type(args).__name__} {args!r}")
    if isinstance(expr, sp.MatrixBase):
        return _matrix_function(args, expr, backend)
    expr = engine_form(sp.sympify(expr)) if not isinstance(expr, (list, tuple)) else [engine_form(e) for e in expr]
    if backend == "numpy":
        return sp.lambdify(args, expr, modules="numpy", printer=_NumpyEngine({"fully_qualified_modules": True}))
    if backend == "torch":
        return sp.lambdify(args, expr, modules=[{"torch": _torch()}], printer=_torch_printer())
    raise TheoryError(f"backend={backend!r} is not supported; use one of {BACKENDS}")


def _matrix_function(args, expr: sp.MatrixBase, backend: str) -> Callable:
    shape = expr.shape
    entries = [lambdify(args, e, backend) for e in expr]

    def evaluate(*values):
        outs = [f(*values) for f in entries]
        if backend == "torch":
            torch = _torch()
            ts = torch.broadcast_tensors(*[torch.as_tensor(o, dtype=torch.float64) for o in outs])
            return torch.stack(ts).reshape(*shape, *ts[0].shape)
        arrs = np.broadcast_arrays(*[np.asarray(o, dtype=float) for o in outs])
        return np.stack(arrs).reshape(*shape, *arrs[0].shape)

    return evaluate


@dataclass(frozen=True)
class Formula:
    """One formula of formulas.md: `lhs = rhs` (or a bare expression when lhs is None)."""

    id: str
    name: str
    tag: str
    meaning: str
    rhs: sp.Expr
    args: tuple
    lhs: sp.Expr | None = None
    notes: dict = field(default_factory=dict)

    def equation(self) -> sp.Expr:
        return sp.Eq(self.lhs, self.rhs, evaluate=False) if self.lhs is not None else self.rhs

    def latex(self) -> str:
        """The equation as LaTeX (amsmath), every symbol spelled by `latex_name`."""
        return to_latex(self.equation())

    def text(self) -> str:
        """The equation as one line of Unicode (for tables and terminal cells)."""
        return to_text(self.equation())

    def numeric(self, backend: str = "numpy") -> Callable:
        """A function of `args` (in order) evaluating the right-hand side.

        Arguments:
            backend: "numpy" or "torch".
        """
        return lambdify(self.args, self.rhs, backend)

    def __call__(self, *values):
        return self.numeric("numpy")(*values)

    def with_rhs(self, rhs) -> "Formula":
        """The same formula (ID, provenance, args) with another right-hand side (used by mutants).

        Arguments:
            rhs: the new right-hand side (a SymPy expression or something sympify accepts).
        """
        rhs = _expr("rhs", rhs)
        return Formula(self.id, self.name, self.tag, self.meaning, sp.sympify(rhs), self.args, self.lhs,
                       dict(self.notes))

    def subs(self, mapping) -> "Formula":
        """The formula with `mapping` (symbol → value) substituted in its right-hand side.

        Arguments:
            mapping: a dict of SymPy symbols to values.
        """
        if not isinstance(mapping, dict):
            raise TheoryError(f"mapping must be a dict of symbol → value, got {type(mapping).__name__}")
        return Formula(self.id, self.name, self.tag, self.meaning, self.rhs.subs(mapping), self.args,
                       self.lhs, dict(self.notes))

    def pretty(self) -> str:
        """The equation as SymPy's multi-line Unicode drawing, with the symbols' Unicode names."""
        return sp.pretty(_renamed(self.equation()), use_unicode=True)


def checked_formula(name: str, value, *, nargs: int | None = None, min_args: int = 0, scalar: bool = False) -> object:
    """A `theory.formula.Formula` with exactly `nargs` (or at least `min_args`) arguments.

    Arguments:
        name: the argument's name.  value: the value.  nargs: required number of args.  min_args: lower bound.
        scalar: refuse a matrix-valued right-hand side.

    Returns:
        `value`; raises TheoryError otherwise.
    """
    from sympy import Expr, MatrixBase, MatrixExpr

    validate.instance(name, value, Formula, "pass one of theory's Formula objects (e.g. from theory.all_formulas())")
    k = len(value.args)
    if (nargs is not None and k != nargs) or k < min_args:
        want = f"{nargs}" if nargs is not None else f"≥ {min_args}"
        raise TheoryError(f"{name} ({value.id}) has {k} arguments {tuple(map(str, value.args))}; this function needs "
                          f"{want} (pass the formula it documents, or a mutant of it)")
    if scalar and (not isinstance(value.rhs, Expr) or isinstance(value.rhs, (MatrixBase, MatrixExpr))):
        raise TheoryError(f"{name} ({value.id}) is matrix-valued; this function needs a scalar formula")
    return value
