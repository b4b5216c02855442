"""A derived formula as an object: SymPy expression + provenance, exported to LaTeX, numpy and torch.

relu and its derivative `step` are explicit SymPy functions so that every export agrees with the
engine's convention relu'(0) = 0 (SymPy's Heaviside(0) is ½ by default and Max does not lambdify to
an elementwise torch call); `engine_form` rewrites Max(0, x) and Heaviside(x) into them.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter


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
    """Rewrite Max(0, x) → relu(x) and Heaviside(x) → step(x) (so that relu'(0) = 0 everywhere)."""
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: step(e.args[0]))

    def is_relu(e):
        return isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args

    return expr.replace(is_relu, lambda e: relu([t for t in e.args if t != 0][0]))


def relu_as_gate(expr: sp.Expr) -> sp.Expr:
    """relu(u) → u·step(u): the identity the fixed-gating derivations rest on."""
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


BACKENDS = ("numpy", "torch")


def lambdify(args: Sequence, expr, backend: str = "numpy") -> Callable:
    """sympy.lambdify with relu/step/Max/Heaviside printed as the engine computes them.

    A Matrix expression gives a function returning an array of shape (rows, cols, *broadcast shape).
    """
    if isinstance(expr, sp.MatrixBase):
        return _matrix_function(args, expr, backend)
    expr = engine_form(sp.sympify(expr)) if not isinstance(expr, (list, tuple)) else [engine_form(e) for e in expr]
    if backend == "numpy":
        return sp.lambdify(args, expr, modules="numpy", printer=_NumpyEngine({"fully_qualified_modules": True}))
    if backend == "torch":
        return sp.lambdify(args, expr, modules=[{"torch": _torch()}], printer=_torch_printer())
    raise ValueError(f"backend={backend!r} is not supported; use one of {BACKENDS}")


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
        return sp.latex(self.equation())

    def numeric(self, backend: str = "numpy") -> Callable:
        """A function of `args` (in order) evaluating the right-hand side."""
        return lambdify(self.args, self.rhs, backend)

    def __call__(self, *values):
        return self.numeric("numpy")(*values)

    def with_rhs(self, rhs) -> "Formula":
        """The same formula (ID, provenance, args) with another right-hand side (used by mutants)."""
        return Formula(self.id, self.name, self.tag, self.meaning, sp.sympify(rhs), self.args, self.lhs,
                       dict(self.notes))

    def subs(self, mapping) -> "Formula":
        return Formula(self.id, self.name, self.tag, self.meaning, self.rhs.subs(mapping), self.args,
                       self.lhs, dict(self.notes))

    def pretty(self) -> str:
        return sp.pretty(self.equation(), use_unicode=True)
