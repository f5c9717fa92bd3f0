"""Handlers for scans, products, orderings and the statistics built on them: ``np.cumsum``,
``np.cumprod``, ``np.prod``, ``np.sort``, ``np.argsort``, ``np.argmax``, ``np.argmin``,
``np.maximum.accumulate``, ``np.minimum.accumulate`` and ``np.median``.

Each has the Python signature of the NumPy function it stands for. The primitives work along
one axis (``symdiff.rules.scans``, ``symdiff.rules.ordering``): ``axis=None`` flattens first, as
NumPy does, and a product over several axes is taken one axis at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.frontend.calls import (
    astype,
    axes_of,
    elementwise,
    expand_dims,
    ravel,
    reshape,
    stack,
    where,
)
from symdiff.frontend.values import SizeNeeded, StaticError, Tensor, describe, to_tensor
from symdiff.ir import sizes
from symdiff.ir.graph import Graph, make_params


def isnan(g: Graph, x: Any) -> Tensor:
    return elementwise(g, "isnan", x)


def refuse_out(out: Any, name: str) -> None:
    if out is not None:
        raise StaticError(f"{name}: out= is not supported: assign the result")


def float_dtype(x: Tensor, g: Graph, dtype: Any, name: str) -> Tensor:
    """``dtype=`` of a reduction or scan: a float dtype, computed in it from the start."""
    if dtype is None:
        return x
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise StaticError(f"{name}: dtype {describe(dtype)} is not a dtype") from None
    if kind.kind != "f":
        raise StaticError(f"{name}: only float dtypes are supported (got {kind.name}); "
                          "cast the result instead")
    return astype(g, x, kind)


def one_axis(x: Tensor, axis: Any, name: str) -> int:
    if isinstance(axis, (tuple, list)):
        raise StaticError(f"{name} takes one axis (an integer) or None, got {describe(axis)}")
    (a,) = axes_of(x, axis)
    return a


def _flat_or_axis(g: Graph, x: Tensor, axis: Any, name: str) -> tuple[Tensor, int]:
    """NumPy's ``axis=None``: along the flattened array (a scalar is one element)."""
    if axis is None or x.rank == 0:
        if axis not in (None, 0, -1) or isinstance(axis, bool):
            raise StaticError(f"{name}: axis {describe(axis)} is out of bounds for a scalar")
        return ravel(g, x), 0
    return x, one_axis(x, axis, name)


def cumulative(op: str):
    name = f"np.{op}"

    def handler(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
        refuse_out(out, name)
        x, ax = _flat_or_axis(g, float_dtype(to_tensor(g, a), g, dtype, name), axis, name)
        return Tensor(g.add(op, [x.node], make_params(axis=ax, reverse=False, exclusive=False)))
    return handler


def prod(g: Graph, a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
         keepdims: bool = False, initial: Any = None, where: Any = None) -> Tensor:
    refuse_out(out, "np.prod")
    if where is not None:
        raise StaticError("np.prod: where= is not supported; use np.where(mask, x, 1.0) "
                          "inside the product")
    x = float_dtype(to_tensor(g, a), g, dtype, "np.prod")
    if x.rank == 0 and axis in (0, -1) and not isinstance(axis, bool):
        axis = None
    axes = axes_of(x, axis)
    node = x.node
    # one axis at a time, the last first, so that the others keep their numbers
    for ax in sorted(range(x.rank) if axes is None else set(axes), reverse=True):
        node = g.add("prod", [node], make_params(axis=ax, keepdims=bool(keepdims)))
    result = Tensor(node)
    if initial is not None:
        result = elementwise(g, "mul", result, initial)
    return result


def argsort(g: Graph, a: Any, axis: Any = -1, kind: Any = None, order: Any = None,
            stable: Any = None) -> Tensor:
    """Always stable (equal elements keep their order, NaNs last): one of the orders NumPy's
    default sort may give, and the one ``kind="stable"`` gives."""
    if order is not None:
        raise StaticError("np.argsort: order= (fields of structured arrays) is not supported")
    x, ax = _flat_or_axis(g, to_tensor(g, a), axis, "np.argsort")
    return Tensor(g.add("argsort", [x.node], make_params(axis=ax)))


def sort(g: Graph, a: Any, axis: Any = -1, kind: Any = None, order: Any = None,
         stable: Any = None) -> Tensor:
    """The array read at its argsort: the gradient goes back to where each value came from."""
    x, ax = _flat_or_axis(g, to_tensor(g, a), axis, "np.sort")
    index = argsort(g, x, ax, kind, order)
    return Tensor(g.add("take_along_axis", [x.node, index.node], make_params(axis=ax)))


def _partition(op: str, g: Graph, a: Any, kth: Any, axis: Any, order: Any) -> Tensor:
    name = "np.argpartition" if op == "argpartition" else "np.partition"
    if order is not None:
        raise StaticError(f"{name}: order= (fields of structured arrays) is not "
                          "supported")
    ks = tuple(kth) if isinstance(kth, (tuple, list)) else (kth,)
    if not ks or not all(isinstance(k, int) and not isinstance(k, bool) for k in ks):
        raise StaticError(f"{name}: kth must be an integer or a sequence of integers known "
                          f"when the gradient is generated, got {describe(kth)}")
    x, ax = _flat_or_axis(g, to_tensor(g, a), axis, name)
    index = Tensor(g.add(op, [x.node], make_params(axis=ax, kth=ks)))
    if op == "argpartition":
        return index
    return Tensor(g.add("take_along_axis", [x.node, index.node], make_params(axis=ax)))


def argpartition(g: Graph, a: Any, kth: Any, axis: Any = -1, kind: Any = None,
                 order: Any = None) -> Tensor:
    """NumPy's positions, the ``kth`` (a number or a sequence of numbers known while
    generating) in their sorted places."""
    return _partition("argpartition", g, a, kth, axis, order)


def partition(g: Graph, a: Any, kth: Any, axis: Any = -1, kind: Any = None,
              order: Any = None) -> Tensor:
    """NumPy's result, read at the positions its elements come from: the gradient goes back
    to where each value came from."""
    return _partition("partition_order", g, a, kth, axis, order)


def arg_extreme(op: str):
    name = f"np.{op}"

    def handler(g: Graph, a: Any, axis: Any = None, out: Any = None,
                keepdims: bool = False) -> Tensor:
        refuse_out(out, name)
        x = to_tensor(g, a)
        flat, ax = _flat_or_axis(g, x, axis, name)
        keep = bool(keepdims) and axis is not None
        result = Tensor(g.add(op, [flat.node], make_params(axis=ax, keepdims=keep)))
        if keepdims and axis is None:  # one index, with every axis kept as 1
            result = reshape(g, result, (1,) * x.rank)
        return result
    return handler


def accumulate(op: str):
    """``np.maximum.accumulate`` (``np.minimum.accumulate``): the array read at the first
    index of the running extreme; its gradient is shared between the elements tied for it."""
    name = f"np.{op[len('running_arg'):]}imum.accumulate"

    def handler(g: Graph, array: Any, axis: Any = 0, dtype: Any = None,
                out: Any = None) -> Tensor:
        refuse_out(out, name)
        x = float_dtype(to_tensor(g, array), g, dtype, name)
        if x.rank == 0:
            raise StaticError(f"{name} needs an array of at least one dimension")
        if axis is None:
            raise StaticError(f"{name}: axis=None is not supported; flatten first "
                              "(x.ravel())")
        ax = one_axis(x, axis, name)
        index = g.add(op, [x.node], make_params(axis=ax))
        return Tensor(g.add("running_extreme", [x.node, index], make_params(axis=ax)))
    return handler


def median(g: Graph, a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Tensor:
    """The mean of the two middle elements of the sorted axis (the one middle element twice
    for an odd length), NaN where the axis holds a NaN, as in NumPy."""
    refuse_out(out, "np.median")
    x = to_tensor(g, a)
    flat, ax = _flat_or_axis(g, x, axis, "np.median")
    s = sort(g, flat, ax)
    n = flat.shape[ax]

    def at(position: Any) -> Tensor:
        item = position if isinstance(position, int) else ("size", position)
        index = tuple(("slice", None, None, None) if k != ax else item
                      for k in range(flat.rank))
        return Tensor(g.add("getitem", [s.node], make_params(index=index)))

    lower, upper = at(sizes.floordiv(sizes.add(n, -1), 2)), at(sizes.floordiv(n, 2))
    middle = elementwise(g, "mul", elementwise(g, "add", lower, upper), 0.5)
    last = at(-1)  # NaNs sort last: the row holds one if its last element is NaN
    result = where(g, isnan(g, last), last, middle)
    if keepdims and axis is None:
        return reshape(g, result, (1,) * x.rank)
    return expand_dims(g, result, ax) if keepdims else result


def quantile_of(percent: bool):
    """``np.quantile`` (``np.percentile``) with the default linear method: the sorted axis
    read at ``q * (n - 1)``, between its two neighbours, computed as NumPy computes it. The
    position depends on the length of the axis, so the gradient is generated for each length
    (other sizes still vary)."""
    name = "np.percentile" if percent else "np.quantile"

    def handler(g: Graph, a: Any, q: Any, axis: Any = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False, *, weights: Any = None,
                interpolation: Any = None) -> Tensor:
        refuse_out(out, name)
        if method != "linear" or interpolation is not None or weights is not None:
            raise StaticError(f"{name}: only the default method='linear' is supported "
                              "(no weights)")
        if isinstance(q, Tensor) and q.node.id in g.literals:  # np.array([0.25, 0.75])
            q = g.literals[q.node.id]
        try:
            qs = np.asarray(q, dtype=np.float64)
        except (TypeError, ValueError):
            raise StaticError(f"{name}: q must be numbers known while generating (not an "
                              f"array of data), got {describe(q)}") from None
        qs = qs / 100 if percent else qs
        if qs.ndim > 1 or not np.all((qs >= 0) & (qs <= 1)):
            raise StaticError(f"{name}: q must be a number or a list of numbers in "
                              f"{'[0, 100]' if percent else '[0, 1]'}")
        x = to_tensor(g, a)
        flat, ax = _flat_or_axis(g, x, axis, name)
        n = flat.shape[ax]
        if not isinstance(n, int):
            raise SizeNeeded(f"{name} reads the sorted axis at a position that depends on its "
                             f"length, {n}: code is generated for each length", n)
        if n == 0:
            raise StaticError(f"{name} of an empty axis (NumPy gives NaN)")
        s = sort(g, flat, ax)
        parts = [_interpolated(g, s, ax, n, float(v)) for v in np.atleast_1d(qs)]
        if keepdims:
            shape = tuple(1 if axis is None or k == ax else d for k, d in enumerate(x.shape))
            parts = [reshape(g, p, shape) if axis is None else expand_dims(g, p, ax)
                     for p in parts]
        return parts[0] if qs.ndim == 0 else stack(g, parts)
    return handler


def _interpolated(g: Graph, s: Tensor, ax: int, n: int, q: float) -> Tensor:
    """NumPy's linear quantile of the sorted ``s`` along ``ax`` (of length ``n``)."""
    virtual = np.float64(n) * q + (1 + q * (1 - 1 - 1)) - 1
    below = int(np.floor(virtual))
    t = float(virtual - below)
    if virtual >= n - 1:
        below, t = n - 1, 0.0

    def at(k: int) -> Tensor:
        index = tuple(("slice", None, None, None) if j != ax else k for j in range(s.rank))
        return Tensor(g.add("getitem", [s.node], make_params(index=index)))

    lo = at(below)
    if t == 0.0:
        return lo
    hi = at(below + 1)
    step = elementwise(g, "sub", hi, lo)
    if t >= 0.5:  # NumPy's lerp, exact at both ends
        return elementwise(g, "sub", hi, elementwise(g, "mul", step, 1.0 - t))
    return elementwise(g, "add", lo, elementwise(g, "mul", step, t))
