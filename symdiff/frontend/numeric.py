"""NumPy's and SciPy's elementwise functions written with other primitives (``exp2`` is
``2 ** x``, ``logit`` a log of a ratio, ``nan_to_num`` selections), so every backend runs
them and their derivatives come from the primitives' formulas."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symdiff.frontend.calls import (
    Handler,
    astype,
    axes_of,
    elementwise,
    log,
    shifted_logsumexp,
    squeeze,
    stop_gradient,
    where,
)
from symdiff.frontend.values import StaticError, Tensor, to_tensor
from symdiff.ir.graph import Graph
from symdiff.rules.reductions import reduce


def logit(g: Graph, x: Any) -> Tensor:
    return log(g, elementwise(g, "div", x, elementwise(g, "sub", 1.0, x)))


def xlogy(g: Graph, x: Any, y: Any) -> Tensor:
    """``x * log(y)``, 0 where ``x`` is 0 (``scipy.special.xlogy``)."""
    product = elementwise(g, "mul", x, log(g, y))
    return where(g, elementwise(g, "eq", x, 0.0), 0.0, product)


def logsumexp(g: Graph, a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Tensor:
    """``scipy.special.logsumexp``, shifted by the maximum so that it never overflows; with
    weights ``b``, log(sum(b * exp(a))), shifted by the maximum where ``b`` is not 0 (NaN
    where the sum is negative, as SciPy gives without ``return_sign``)."""
    if return_sign:
        raise StaticError("scipy.special.logsumexp(return_sign=True) is not supported: the "
                          "sign is data; compute the weighted sum's sign with np.sign")
    x = to_tensor(g, a)
    axes = axes_of(x, axis)
    axes = tuple(range(x.rank)) if axes is None else axes
    if b is None:
        return shifted_logsumexp(g, x.node, axes, bool(keepdims))
    weights = to_tensor(g, b)
    x = elementwise(g, "add", x, elementwise(g, "mul", weights, 0.0))  # the shapes broadcast
    counted = where(g, elementwise(g, "ne", weights, 0.0), x, -math.inf)
    shift = Tensor(reduce(g, "max", counted.node, axes, keepdims=True))
    shift = stop_gradient(g, where(g, elementwise(g, "isfinite", shift), shift, 0.0))
    terms = elementwise(g, "mul", weights, elementwise(g, "exp", elementwise(g, "sub", x, shift)))
    out = elementwise(g, "add", log(g, Tensor(reduce(g, "sum", terms.node, axes, True))), shift)
    return out if keepdims else squeeze(g, out, axes)


def expit(g: Graph, x: Any) -> Tensor:
    """``scipy.special.expit``: 1 / (1 + exp(-x)), finite for every x."""
    return elementwise(g, "exp", elementwise(g, "neg", elementwise(g, "logaddexp", 0.0,
                                                                   elementwise(g, "neg", x))))



def scaled(factor: float) -> Handler:
    """``np.deg2rad`` and the like: multiplication by a constant."""
    return lambda g, x: elementwise(g, "mul", x, factor)


def float_operand(g: Graph, x: Any, name: str) -> Tensor:
    t = to_tensor(g, x)
    if not t.node.is_float:
        raise StaticError(f"{name} of an integer array is integer arithmetic in NumPy; "
                          "convert it with .astype(float) first")
    return t


def reciprocal(g: Graph, x: Any) -> Tensor:
    return elementwise(g, "div", 1.0, float_operand(g, x, "np.reciprocal"))


def exp2(g: Graph, x: Any) -> Tensor:
    return elementwise(g, "pow", 2.0, x)


def float_power(g: Graph, x: Any, y: Any) -> Tensor:
    """``x ** y`` computed in float64."""
    return elementwise(g, "pow", astype(g, x, "float64"), astype(g, y, "float64"))


def logaddexp2(g: Graph, x: Any, y: Any) -> Tensor:
    """log2(2**x + 2**y) = logaddexp(x ln 2, y ln 2) / ln 2."""
    ln2 = math.log(2.0)
    both = elementwise(g, "logaddexp", elementwise(g, "mul", x, ln2),
                       elementwise(g, "mul", y, ln2))
    return elementwise(g, "div", both, ln2)


def round_(g: Graph, a: Any, decimals: int = 0) -> Tensor:
    """``np.round``: half to even, at ``decimals`` digits, scaled as NumPy scales."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise StaticError("np.round: decimals must be an integer known while generating")
    x = to_tensor(g, a)
    if not x.node.is_float:
        return x if decimals >= 0 else elementwise(g, "mul", elementwise(
            g, "rint", elementwise(g, "div", x, 10.0 ** -decimals)), 10 ** -decimals)
    if decimals == 0:
        return elementwise(g, "rint", x)
    if decimals > 0:
        scale = 10.0 ** decimals
        return elementwise(g, "div", elementwise(g, "rint", elementwise(g, "mul", x, scale)),
                           scale)
    scale = 10.0 ** -decimals
    return elementwise(g, "mul", elementwise(g, "rint", elementwise(g, "div", x, scale)), scale)


def nan_to_num(g: Graph, x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
               neginf: Any = None) -> Tensor:
    """NaN to ``nan``, infinities to ``posinf``/``neginf`` (the largest finite floats by
    default); the gradient passes where the value is finite."""
    t = to_tensor(g, x)
    if not t.node.is_float:
        return t
    big = float(np.finfo(t.node.dtype).max)
    top = big if posinf is None else posinf
    bottom = -big if neginf is None else neginf
    infinite = where(g, elementwise(g, "gt", t, 0.0), top, bottom)
    replaced = where(g, elementwise(g, "isnan", t), nan, infinite)
    return where(g, elementwise(g, "isfinite", t), t, replaced)


def select(g: Graph, condlist: Any, choicelist: Any, default: Any = 0) -> Tensor:
    """The choice of the first condition that holds, else ``default``."""
    if not isinstance(condlist, (list, tuple)) or not isinstance(choicelist, (list, tuple)) \
            or len(condlist) != len(choicelist):
        raise StaticError("np.select needs lists of conditions and choices of one length")
    out = to_tensor(g, default)
    for condition, choice in reversed(list(zip(condlist, choicelist, strict=True))):
        out = where(g, condition, choice, out)
    return out


def real_part(g: Graph, val: Any) -> Tensor:
    """``np.real``, ``np.conj``: the array itself (symdiff's arrays are real)."""
    return to_tensor(g, val)


def angle(g: Graph, z: Any, deg: bool = False) -> Tensor:
    """The argument of a real number: pi for negative values, else 0 (no gradient)."""
    half_turn = 180.0 if deg else math.pi
    return where(g, elementwise(g, "lt", z, 0.0), half_turn, 0.0)
