"""The reductions NumPy users call beyond the plain ones: ``sum``, ``mean``, ``max`` and ``min``
with ``dtype=``, ``initial=`` and ``where=``; ``np.average``; the NaN-ignoring ``nansum``,
``nanmean``, ``nanmax`` and ``nanmin``; ``np.ptp``; and the data-valued ``count_nonzero``,
``all`` and ``any``. All are written with existing primitives, so every backend and every
derivative order that those support, these support.

Each handler has the Python signature of the NumPy function it stands for. ``out=`` is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.frontend.calls import (
    array_like,
    axes_of,
    broadcast_to,
    elementwise,
    expand_dims,
    reduction,
    where,
)
from symdiff.frontend.scans import float_dtype, isnan, refuse_out
from symdiff.frontend.values import StaticError, Tensor, describe, to_tensor
from symdiff.ir.graph import Graph, make_params

_NO_VALUE = object()  # NumPy's own "not given", which differs from None for initial=


def _masked(g: Graph, x: Tensor, where_: Any, fill: float | int) -> Tensor:
    """``x`` where ``where_`` holds and ``fill`` elsewhere, as wide as both."""
    mask = to_tensor(g, where_)
    if mask.node.dtype != "bool":
        raise StaticError(f"where= must be a boolean array, got {describe(where_)}")
    return where(g, mask, x, fill)


def _reduce(op: str, g: Graph, x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    return reduction(op)(g, x, axis, keepdims)


def np_sum(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False, initial: Any = _NO_VALUE, where: Any = None) -> Tensor:
    """``np.sum`` (and the method) with every keyword NumPy gives it."""
    refuse_out(out, "np.sum")
    x = float_dtype(array_like(g, a), g, dtype, "np.sum")
    if where is not None:
        x = _masked(g, x, where, 0)
    total = _reduce("sum", g, x, axis, keepdims)
    return total if initial is _NO_VALUE else elementwise(g, "add", total, initial)


def np_mean(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, *, where: Any = None) -> Tensor:
    """``np.mean`` (and the method); with ``where=``, the mean of the elements it selects."""
    refuse_out(out, "np.mean")
    x = float_dtype(array_like(g, a), g, dtype, "np.mean")
    if where is None:
        return _reduce("mean", g, x, axis, keepdims)
    x = _masked(g, x, where, 0)
    counted = broadcast_to(g, _masked(g, to_tensor(g, 1.0), where, 0.0), x.shape)
    return elementwise(g, "div", _reduce("sum", g, x, axis, keepdims),
                       _reduce("sum", g, counted, axis, keepdims))


def extremum(op: str):
    """``np.max`` and ``np.min`` (``amax``, ``amin``, methods) with ``initial=`` and
    ``where=`` (which NumPy accepts only with ``initial=``)."""
    name = f"np.{op}"
    pick = "maximum" if op == "max" else "minimum"

    def handler(g: Graph, a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
                initial: Any = _NO_VALUE, where: Any = None) -> Tensor:
        refuse_out(out, name)
        x = array_like(g, a)
        if where is not None:
            if initial is _NO_VALUE:
                raise StaticError(f"{name}: reduction operation '{pick}' does not have an "
                                  "identity, so to use a where mask one has to specify "
                                  "'initial'")
            x = _masked(g, x, where, float("-inf") if op == "max" else float("inf"))
        result = _reduce(op, g, x, axis, keepdims)
        return result if initial is _NO_VALUE else elementwise(g, pick, result, initial)
    return handler


def average(g: Graph, a: Any, axis: Any = None, weights: Any = None, returned: bool = False,
            keepdims: bool = False) -> Tensor:
    """``sum(a * w) / sum(w)``; 1-D weights lie along ``axis``, as NumPy lays them out."""
    if returned:
        raise StaticError("np.average: returned=True is not supported; compute the sum of "
                          "the weights with np.sum")
    x = array_like(g, a)
    if weights is None:
        return _reduce("mean", g, x, axis, keepdims)
    w = to_tensor(g, weights)
    if w.rank != x.rank:
        if axis is None or isinstance(axis, (tuple, list)) or w.rank != 1:
            raise StaticError("np.average: weights of a shape other than the array's must be "
                              "1-D, along one axis given by axis=")
        (ax,) = axes_of(x, axis)
        w = expand_dims(g, w, tuple(k for k in range(x.rank) if k != ax))
    total = _reduce("sum", g, elementwise(g, "mul", x, w), axis, keepdims)
    scale = _reduce("sum", g, broadcast_to(g, w, x.shape), axis, keepdims)
    return elementwise(g, "div", total, scale)


def _not_nan(g: Graph, x: Tensor) -> Tensor:
    return elementwise(g, "logical_not", isnan(g, x))


def nansum(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False) -> Tensor:
    """The sum of the elements that are not NaN: a NaN gets no gradient."""
    refuse_out(out, "np.nansum")
    x = float_dtype(array_like(g, a), g, dtype, "np.nansum")
    return _reduce("sum", g, where(g, isnan(g, x), 0.0, x), axis, keepdims)


def nanmean(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Tensor:
    """The mean of the elements that are not NaN (NaN where there are none, as in NumPy)."""
    refuse_out(out, "np.nanmean")
    x = float_dtype(array_like(g, a), g, dtype, "np.nanmean")
    kept = broadcast_to(g, where(g, isnan(g, x), 0.0, 1.0), x.shape)
    return elementwise(g, "div", nansum(g, x, axis, keepdims=keepdims),
                       _reduce("sum", g, kept, axis, keepdims))


def nan_extremum(op: str):
    """``np.nanmax`` (``np.nanmin``): the extreme of the elements that are not NaN, NaN where
    there are none (as in NumPy); ties share the gradient, NaNs get none."""
    name = f"np.nan{op}"

    def handler(g: Graph, a: Any, axis: Any = None, out: Any = None,
                keepdims: bool = False) -> Tensor:
        refuse_out(out, name)
        x = array_like(g, a)
        if not x.node.is_float:
            return _reduce(op, g, x, axis, keepdims)
        nan = isnan(g, x)
        filled = where(g, nan, float("-inf") if op == "max" else float("inf"), x)
        result = _reduce(op, g, filled, axis, keepdims)
        counted = broadcast_to(g, where(g, nan, 0, 1), x.shape)
        none = elementwise(g, "eq", _reduce("sum", g, counted, axis, keepdims), 0)
        return where(g, none, float("nan"), result)
    return handler


def ptp(g: Graph, a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    """``max - min``; tied extremes share their gradient, as in ``max`` and ``min``."""
    refuse_out(out, "np.ptp")
    return elementwise(g, "sub", _reduce("max", g, array_like(g, a), axis, keepdims),
                       _reduce("min", g, array_like(g, a), axis, keepdims))


def count_nonzero(g: Graph, a: Any, axis: Any = None, *, keepdims: bool = False) -> Tensor:
    """The number of elements that are not 0 (NaN counts), an integer: data."""
    x = array_like(g, a)
    return _reduce("sum", g, elementwise(g, "ne", x, 0), axis, keepdims)


def logical_reduction(op: str):
    """``np.all`` and ``np.any`` (and their methods): booleans, data usable in ``np.where``."""
    name = f"np.{op}"

    def handler(g: Graph, a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
                *, where: Any = None) -> Tensor:
        refuse_out(out, name)
        if where is not None:
            raise StaticError(f"{name}: where= is not supported")
        x = array_like(g, a)
        if op == "all":  # no element is 0
            zeros = _reduce("sum", g, elementwise(g, "eq", x, 0), axis, keepdims)
            return elementwise(g, "eq", zeros, 0)
        return elementwise(g, "gt", count_nonzero(g, x, axis, keepdims=keepdims), 0)
    return handler


def isclose(g: Graph, a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``np.isclose``: ``|a - b| <= atol + rtol |b|``, equal infinities close, NaNs close to
    each other with ``equal_nan``; booleans, data usable in ``np.where`` and conditions."""
    for name, value in (("rtol", rtol), ("atol", atol), ("equal_nan", equal_nan)):
        if not isinstance(value, (int, float, bool)):
            raise StaticError(f"np.isclose: {name} must be a number known while generating")
    x, y = array_like(g, a), array_like(g, b)
    gap = elementwise(g, "abs", elementwise(g, "sub", x, y))
    bound = elementwise(g, "add", atol, elementwise(g, "mul", rtol, elementwise(g, "abs", y)))
    close = elementwise(g, "logical_or", elementwise(g, "le", gap, bound),
                        elementwise(g, "eq", x, y))  # inf and inf: their gap is NaN
    if equal_nan:
        both = elementwise(g, "logical_and", elementwise(g, "isnan", x),
                           elementwise(g, "isnan", y))
        close = elementwise(g, "logical_or", close, both)
    return close


def allclose(g: Graph, a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Tensor:
    """``np.allclose``: every element of ``np.isclose``."""
    return logical_reduction("all")(g, isclose(g, a, b, rtol, atol, equal_nan))


def real_test(answer: bool):
    """``np.iscomplex`` (``answer`` False) and ``np.isreal`` (True) of real values: the same
    answer for every element; of one value, a boolean known while generating (as the branch
    ``if np.iscomplex(x)`` reads it)."""
    def handler(g: Graph, a: Any) -> Any:
        x = array_like(g, a)
        if x.rank == 0:
            return np.bool_(answer)
        return Tensor(g.add("fill", [x.node], make_params(value=answer, dtype="bool")))
    return handler

