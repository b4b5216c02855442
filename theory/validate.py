"""Input checks at the public boundary of `theory`: each raises `TheoryError` naming the argument, the expected
form and the fix, so that no public function returns a silent wrong answer (an empty list for a NaN, a zero
"direction" for a zero vector) or leaks numpy's / LAPACK's / SymPy's internal errors.

Use them first thing in a public function::

    X, y = validate.data(X, y)                 # finite float64 (n, d) and (n,), n ≥ 1, rows match
    m = validate.integer("m", m, minimum=1)
    lam = validate.positive("lam", lam)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import TheoryError

__all__ = ["array", "data", "integer", "nonzero", "positive", "real", "choice", "full_column_rank", "boolean", "text",
           "symbols", "expression", "instance", "finite_result", "UnstableResult", "ON_ZERO",
           "zero_rows", "broadcast"]


def real(name: str, value) -> float:
    """A finite real number.

    Arguments:
        name: the argument's name for the message.  value: the value.

    Returns:
        `value` as float; raises TheoryError otherwise.
    """
    if isinstance(value, bool):
        raise TheoryError(f"{name} must be a real number, got the bool {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TheoryError(f"{name} must be a real number, got {type(value).__name__} {value!r}") from None
    if not math.isfinite(v):
        raise TheoryError(f"{name} must be finite, got {value!r}; pass a finite number")
    return v


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """A finite real > 0 (or ≥ 0 with `allow_zero`).

    Arguments:
        name: the argument's name.  value: the value.  allow_zero: accept 0.

    Returns:
        `value` as float; raises TheoryError otherwise.
    """
    v = real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        raise TheoryError(f"{name} must be {'≥ 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (a Python or numpy int, or an integral float) within [minimum, maximum].

    Arguments:
        name: the argument's name.  value: the value.  minimum, maximum: inclusive bounds (None: unbounded).

    Returns:
        `value` as int; raises TheoryError otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise TheoryError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if isinstance(value, (float, np.floating)) and not (math.isfinite(value) and float(value).is_integer()):
        raise TheoryError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise TheoryError(f"{name} must be ≥ {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise TheoryError(f"{name} must be ≤ {maximum}, got {v}")
    return v


def choice(name: str, value, options) -> object:
    """`value` if it is one of `options`, else TheoryError listing them."""
    if value not in tuple(options):
        raise TheoryError(f"{name}={value!r} is not supported; use one of {tuple(options)}")
    return value


def array(name: str, value, *, ndim: int | tuple[int, ...] | None = None, shape: tuple | None = None,
          nonempty: bool = True) -> np.ndarray:
    """A finite float64 numpy array.

    Arguments:
        name: the argument's name.  value: array-like.
        ndim: required number of dimensions (an int or a tuple of allowed ones).
        shape: required shape; None entries are free (e.g. (None, 3)).
        nonempty: refuse an array with no entries.

    Returns:
        the array as float64 (a copy only when a conversion is needed); raises TheoryError otherwise.
    """
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TheoryError(f"{name} must be a numeric array, got {type(value).__name__} ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            forms = " or ".join(f"{k}-D" for k in allowed)
            raise TheoryError(f"{name} must be a {forms} array, got shape {a.shape}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != t for s, t in zip(shape, a.shape)):
            want = "(" + ", ".join("·" if s is None else str(s) for s in shape) + ")"
            raise TheoryError(f"{name} must have shape {want}, got {a.shape}")
    if nonempty and a.size == 0:
        raise TheoryError(f"{name} is empty (shape {a.shape}); give at least one entry")
    if not np.isfinite(a).all():
        raise TheoryError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} entries); "
                          "clean or drop those entries first")
    return a


def data(X, y, *, y_ndim: int | tuple[int, ...] = 1) -> tuple[np.ndarray, np.ndarray]:
    """Inputs X of shape (n, d) and labels y of shape (n,) (or (n, k) if `y_ndim` allows 2), finite, n ≥ 1.

    Arguments:
        X: inputs.  y: labels.  y_ndim: allowed dimensions of y.

    Returns:
        (X, y) as float64 arrays; raises TheoryError naming the bad one otherwise.
    """
    X = array("X", X, ndim=2)
    y = array("y", y, ndim=y_ndim)
    if y.shape[0] != X.shape[0]:
        raise TheoryError(f"X has n={X.shape[0]} rows but y has {y.shape[0]} entries; they must match "
                          "(one label per row of X)")
    if X.shape[1] == 0:
        raise TheoryError("X has no columns (d = 0); give at least one input dimension")
    return X, y


def nonzero(name: str, value, *, ndim: int = 1, tol: float = 0.0) -> np.ndarray:
    """A finite array that is not (numerically) zero: a direction can be taken from it.

    Arguments:
        name: the argument's name.  value: array-like.  ndim: its dimensions.  tol: norms ≤ tol count as zero.

    Returns:
        the float64 array; raises TheoryError for a zero vector (it has no direction).
    """
    a = array(name, value, ndim=ndim)
    if float(np.linalg.norm(a)) <= tol:
        raise TheoryError(f"{name} is the zero vector (norm ≤ {tol:g}); it has no direction — "
                          "check that the data correlate with the labels, or handle this case before the call")
    return a


def full_column_rank(name: str, X: np.ndarray) -> np.ndarray:
    """X (n, d) with rank d (needed where a formula inverts XᵀX); raises TheoryError with the rank found."""
    X = array(name, X, ndim=2)
    rank = int(np.linalg.matrix_rank(X))
    if rank < X.shape[1]:
        raise TheoryError(f"{name} has rank {rank} < d = {X.shape[1]} columns; the formula needs full column "
                          "rank (drop collinear columns or add samples)")
    return X


class UnstableResult(TheoryError, ArithmeticError):
    """A numerical answer that is not well defined at the given input (e.g. a rank that differs between random points):
    a `TheoryError` that is also an ArithmeticError, so callers that caught the latter keep working."""


def boolean(name: str, value) -> bool:
    """A bool (Python or numpy).

    Arguments:
        name: the argument's name.  value: the value.

    Returns:
        `value` as bool; raises TheoryError otherwise (0/1 or strings are refused: say True or False).
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TheoryError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def text(name: str, value) -> str:
    """A non-empty string.

    Arguments:
        name: the argument's name.  value: the value.

    Returns:
        `value`; raises TheoryError otherwise.
    """
    if not isinstance(value, str) or not value.strip():
        raise TheoryError(f"{name} must be a non-empty string, got {type(value).__name__} {value!r}")
    return value


def instance(name: str, value, cls, hint: str = "") -> object:
    """`value` if it is an instance of `cls` (a class or tuple of classes), else TheoryError with `hint` as the fix.

    Arguments:
        name: the argument's name.  value: the value.  cls: accepted type(s).  hint: how to build a right one.
    """
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise TheoryError(f"{name} must be a {names}, got {type(value).__name__}" + (f"; {hint}" if hint else ""))
    return value


def symbols(name: str, value) -> tuple:
    """A non-empty sequence of distinct SymPy symbols (the coordinates θ of a field or polynomial).

    Arguments:
        name: the argument's name.  value: a list/tuple of sympy.Symbol.

    Returns:
        the symbols as a tuple; raises TheoryError otherwise.
    """
    import sympy as sp

    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TheoryError(f"{name} must be a sequence of sympy Symbols, got {type(value).__name__}")
    out = tuple(value)
    if not out:
        raise TheoryError(f"{name} is empty; give at least one sympy Symbol")
    bad = [v for v in out if not isinstance(v, sp.Symbol)]
    if bad:
        raise TheoryError(f"{name} must hold sympy Symbols only, got {bad[:3]!r}; build them with sympy.symbols")
    if len(set(out)) != len(out):
        raise TheoryError(f"{name} repeats a symbol ({out!r}); each coordinate must appear once")
    return out


def expression(name: str, value, *, within=None) -> object:
    """A SymPy expression (or anything sympify accepts), optionally with its free symbols inside `within`.

    Arguments:
        name: the argument's name.  value: the expression.  within: allowed free symbols (None: any).

    Returns:
        the sympified expression; raises TheoryError otherwise (also for NaN or infinite constants).
    """
    import sympy as sp

    try:
        e = sp.sympify(value, strict=True) if not isinstance(value, sp.Basic) else value
    except (sp.SympifyError, TypeError, ValueError):
        raise TheoryError(f"{name} must be a SymPy expression, got {type(value).__name__} {value!r}") from None
    if not isinstance(e, sp.Basic):
        raise TheoryError(f"{name} must be a SymPy expression, got {type(value).__name__}")
    if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise TheoryError(f"{name} = {e} contains NaN or an infinity; give a finite expression")
    if within is not None:
        extra = e.free_symbols - set(within)
        if extra:
            raise TheoryError(f"{name} has symbols {sorted(map(str, extra))} outside {list(map(str, within))}; "
                              "write it in the given coordinates only")
    return e


def finite_result(what: str, value) -> object:
    """`value` (a number or array) if every entry is finite, else TheoryError: the inputs led outside the formula's
    domain. Use it on a public function's result where finite inputs can still give NaN/inf (0/0, log 0, …).

    Arguments:
        what: what the value is, for the message.  value: number or array.
    """
    try:
        a = np.asarray(value, dtype=complex) if np.iscomplexobj(value) else np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TheoryError(f"{what} is not a number or numeric array ({type(value).__name__})") from None
    if np.iscomplexobj(a) or not np.isfinite(a).all():
        raise TheoryError(f"{what} is not a finite real number ({value!r}): the inputs lie outside the formula's "
                          "domain; check their signs and ranges")
    return value


ON_ZERO = ("raise", "nan", "zero")


def zero_rows(where: str, zero: np.ndarray, on_zero: str, why: str) -> None:
    """Refuse rows without a direction (zero vectors) unless on_zero asks for a sentinel there ("nan" or "zero").

    Arguments:
        where: the function, for the message.  zero: boolean mask of such rows.  on_zero: "raise", "nan" or "zero".
        why: what makes a row degenerate, in words.
    """
    choice("on_zero", on_zero, ON_ZERO)
    zero = np.asarray(zero, bool)
    if zero.any() and on_zero == "raise":
        at = f"{int(zero.sum())} row(s) {np.argwhere(zero)[:5].tolist()}" if zero.ndim else "the input (one row)"
        raise TheoryError(f"{where}: {at} with {why}, so there is no direction; drop those "
                          "rows, or pass on_zero='nan' (or 'zero') to get that sentinel there")


def broadcast(name: str, value, shape: tuple, form: str) -> np.ndarray:
    """A finite array broadcast to `shape` (TheoryError naming `form`, the expected form, if it does not fit).

    Arguments:
        name: the argument's name.  value: array-like.  shape: the target shape.  form: the expected form in words.
    """
    a = array(name, value, nonempty=False)
    try:
        return np.broadcast_to(a, tuple(shape))
    except ValueError:
        raise TheoryError(f"{name} has shape {a.shape}, which does not fit {tuple(shape)}; give {form}") from None
