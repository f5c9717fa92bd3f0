"""What calls mean: NumPy, ``math`` and symdiff functions, and array methods, mapped to the IR.

Functions are recognised by identity, so every import spelling works (``np.exp``,
``numpy.exp``, ``from numpy import exp``). Each handler has the Python signature of the function
it stands for, so arguments bind exactly as they do in NumPy; it receives the graph first.
Anything not in these tables is not differentiable by symdiff and is reported as such.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symdiff.frontend.values import (
    StaticError,
    SymDim,
    Tensor,
    describe,
    to_tensor,
)
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import broadcast_shapes, dim_add
from symdiff.ir.shifts import own_maximum
from symdiff.rules.reductions import reduce
from symdiff.rules.shape_ops import reshape_shape

Handler = Callable[..., Any]


def elementwise(g: Graph, op: str, *values: Any) -> Tensor:
    tensors = [to_tensor(g, v) for v in values]
    if op == "div":
        stable = _softmax(g, *tensors)
        if stable is not None:
            return stable
    return Tensor(g.add(op, [t.node for t in tensors]))


def _softmax(g: Graph, numerator: Tensor, denominator: Tensor) -> Tensor | None:
    """exp(u) / sum(exp(u)) written out by hand becomes exp(u - logsumexp(u)): no overflow, and
    its log simplifies to the log-softmax u - logsumexp(u)."""
    e, total = numerator.node, denominator.node
    if e.op != "exp" or total.op != "sum" or g[total.inputs[0]] is not e:
        return None
    axes, keep = total.param("axes"), total.param("keepdims")
    if not keep and axes != tuple(range(len(axes))):
        return None  # it would not broadcast like the keepdims form
    u = g[e.inputs[0]]
    if _already_shifted(g, u, axes):
        return None
    return elementwise(g, "exp", elementwise(g, "sub", Tensor(u),
                                             shifted_logsumexp(g, u, axes, keepdims=True)))


def axes_of(x: Tensor, axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool):
            raise StaticError(f"axis must be an integer known when the gradient is generated, "
                              f"got {describe(a)}")
        if not -x.rank <= a < x.rank:
            raise StaticError(f"axis {a} is out of bounds for an array of rank {x.rank}")
        out.append(a % x.rank)
    return tuple(out)


def array_like(g: Graph, x: Any) -> Tensor:
    """An array argument of a NumPy function: a list or tuple is the array NumPy makes of it
    (``np.sum([a, b, c])``)."""
    return array(g, x) if isinstance(x, (list, tuple)) else to_tensor(g, x)


def reduction(op: str) -> Handler:
    def handler(g: Graph, x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = array_like(g, x)
        if x.rank == 0 and op != "mean" and axis in (0, -1) and not isinstance(axis, bool):
            return x  # NumPy's sum, max and min take the axis 0 (or -1) of a scalar
        return Tensor(reduce(g, op, x.node, axes_of(x, axis), bool(keepdims)))
    return handler


def unary_op(op: str) -> Handler:
    return lambda g, x: elementwise(g, op, x)


def binary_op(op: str) -> Handler:
    return lambda g, a, b: elementwise(g, op, a, b)


def matmul(g: Graph, a: Any, b: Any) -> Tensor:
    a, b = to_tensor(g, a), to_tensor(g, b)
    return Tensor(g.add("matmul", [a.node, b.node]))


def outer(g: Graph, a: Any, b: Any) -> Tensor:
    """NumPy flattens both operands first (a scalar is one element)."""
    a, b = (ravel(g, v) for v in (a, b))
    return Tensor(g.add("outer", [a.node, b.node]))


def transpose(g: Graph, x: Any, axes: Any = None) -> Tensor:
    x = to_tensor(g, x)
    if x.rank < 2:
        return x
    order = tuple(reversed(range(x.rank))) if axes is None else tuple(a % x.rank for a in axes)
    return Tensor(g.add("transpose", [x.node], make_params(axes=order)))


def reshape(g: Graph, x: Any, *shape: Any) -> Tensor:
    x = to_tensor(g, x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dims = []
    for d in shape:
        if isinstance(d, SymDim):
            dims.append(d.dim)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
            dims.append(int(d))
        else:
            raise StaticError(f"reshape sizes must be integers or sizes of arguments, "
                              f"got {describe(d)}")
    new = reshape_shape(x.node, tuple(dims))
    if new == x.shape:
        return x
    return Tensor(g.add("reshape", [x.node], make_params(shape=new)))


def np_reshape(g: Graph, a: Any, newshape: Any) -> Tensor:
    return reshape(g, a, newshape)


def ravel(g: Graph, x: Any) -> Tensor:
    return reshape(g, x, -1)


def expand_dims(g: Graph, x: Any, axis: Any) -> Tensor:
    x = to_tensor(g, x)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    rank = x.rank + len(axes)
    normal = tuple(sorted(a % rank for a in axes))
    return Tensor(g.add("expand_dims", [x.node], make_params(axes=normal)))


def squeeze(g: Graph, x: Any, axis: Any = None) -> Tensor:
    x = to_tensor(g, x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = axes_of(x, axis) or ()
    if not axes:
        return x
    return Tensor(g.add("squeeze", [x.node], make_params(axes=tuple(sorted(axes)))))


def broadcast_to(g: Graph, x: Any, shape: Any) -> Tensor:
    x = to_tensor(g, x)
    dims = tuple(d.dim if isinstance(d, SymDim) else d for d in shape)
    return Tensor(g.add("broadcast_to", [x.node], make_params(shape=dims)))


def new_array(value: float | None) -> Handler:
    """np.zeros(shape), np.ones(shape), np.full(shape, value), np.empty(shape) (as zeros)."""
    def new(g: Graph, shape: Any, *rest: Any, dtype: Any = None) -> Tensor:
        fill = value if value is not None else (rest[0] if rest else None)
        if fill is None:
            raise StaticError("np.full needs a fill value")
        dims = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        dims = tuple(int(d) if isinstance(d, np.integer) else d for d in dims)
        for d in dims:
            if not isinstance(d, (int, SymDim)) or isinstance(d, bool):
                raise StaticError(f"an array's shape must be sizes, got {describe(d)}")
        if dtype is not None and not np.dtype(dtype).name.startswith("float"):
            raise StaticError(f"arrays of dtype {np.dtype(dtype).name} cannot be created in "
                              "differentiated code; use float arrays")
        out = broadcast_to(g, astype(g, fill, dtype or "float64"), dims)
        return out
    return new


def concatenate(g: Graph, arrays: Any, axis: Any = 0) -> Tensor:
    """Each part added into zeros of the result's shape at its slice: the adjoint of slicing,
    which every target already writes, so joining needs no primitive of its own."""
    if not isinstance(arrays, (list, tuple)) or not arrays:
        raise StaticError("np.concatenate needs a non-empty list or tuple of arrays")
    parts = [array_like(g, a) for a in arrays]  # a list inside is the array NumPy makes of it
    rank = parts[0].rank
    if rank == 0 or any(p.rank != rank for p in parts):
        raise StaticError("np.concatenate needs arrays of the same rank (at least 1); use "
                          "np.stack to join scalars")
    (axis,) = axes_of(parts[0], axis)
    offsets, start = [], 0
    for p in parts:
        offsets.append(start)
        start = dim_add(start, p.shape[axis])
    others = broadcast_shapes(*(p.shape[:axis] + (1,) + p.shape[axis + 1:] for p in parts))
    shape = others[:axis] + (start,) + others[axis + 1:]
    like = g.add("broadcast_to", [const(g, 0)], make_params(shape=shape))  # for its shape
    total: Any = None
    for p, offset in zip(parts, offsets, strict=True):
        own = shape[:axis] + (p.shape[axis],) + shape[axis + 1:]
        if p.shape != own:
            p = broadcast_to(g, p, own)
        index = (("slice", None, None, None),) * axis + \
            (("slice", offset or None, dim_add(offset, p.shape[axis]), None),)
        part = Tensor(g.add("scatter", [p.node, like], make_params(index=index)))
        total = part if total is None else elementwise(g, "add", total, part)
    return total


def stack(g: Graph, arrays: Any, axis: Any = 0) -> Tensor:
    if not isinstance(arrays, (list, tuple)) or not arrays:
        raise StaticError("np.stack needs a non-empty list or tuple of arrays")
    parts = [to_tensor(g, a) for a in arrays]
    shape = broadcast_shapes(*(p.shape for p in parts))
    if not isinstance(axis, int) or not -len(shape) - 1 <= axis <= len(shape):
        raise StaticError(f"np.stack: axis {describe(axis)} is out of bounds")
    axis %= len(shape) + 1
    parts = [p if p.shape == shape else broadcast_to(g, p, shape) for p in parts]
    return concatenate(g, [expand_dims(g, p, axis) for p in parts], axis)


def copy(g: Graph, x: Any, order: str = "K") -> Tensor:
    """``x.copy()``, ``np.copy(x)``: the same value in memory of its own (a new array, which
    writing into the original does not change: ``frontend.aliasing``)."""
    return Tensor(to_tensor(g, x).node)


def asarray(g: Graph, object: Any, dtype: Any = None) -> Tensor:
    """``np.asarray``: an array of the right type is itself (no copy, as NumPy)."""
    if isinstance(object, Tensor) and (dtype is None or
                                       np.dtype(dtype).name == object.node.dtype):
        return object
    return array(g, object, dtype)


def array(g: Graph, object: Any, dtype: Any = None) -> Tensor:
    """``np.array([a, b, c])``: nested lists of arrays and numbers, stacked; ``np.array(x)`` a
    copy of ``x``."""
    if isinstance(object, (list, tuple)):
        out = stack(g, [array(g, item) for item in object])
    else:
        out = copy(g, object)
    out = astype(g, out, dtype) if dtype is not None else out
    if isinstance(object, (list, tuple)) and _only_numbers(object):
        g.literals[out.node.id] = np.asarray(object, dtype=dtype)
    return out


def _only_numbers(items: Any) -> bool:
    """Nested lists and tuples of Python numbers: a literal array."""
    if isinstance(items, (list, tuple)):
        return all(_only_numbers(i) for i in items)
    return isinstance(items, (int, float, bool))


def where(g: Graph, condition: Any, x: Any, y: Any) -> Tensor:
    return elementwise(g, "where", condition, x, y)


def clip(g: Graph, a: Any, a_min: Any, a_max: Any) -> Tensor:
    out = a
    if a_min is not None:
        out = elementwise(g, "maximum", out, a_min)
    if a_max is not None:
        out = elementwise(g, "minimum", out, a_max)
    return to_tensor(g, out)


def fill_like(value: float | None) -> Handler:
    def handler(g: Graph, a: Any, fill_value: Any = None, dtype: Any = None) -> Tensor:
        x = to_tensor(g, a)
        v = value if value is not None else fill_value
        if not isinstance(v, (int, float)):
            raise StaticError("the fill value must be a number known when the gradient is "
                              "generated")
        params = make_params(value=float(v), dtype=np.dtype(dtype).name if dtype else None)
        return Tensor(g.add("fill", [x.node], params))
    if value is None:
        return handler
    return lambda g, a, dtype=None: handler(g, a, value, dtype)


def arange(g: Graph, stop: Any) -> Tensor:
    if isinstance(stop, SymDim):
        return Tensor(g.add("arange", [], make_params(stop=stop.dim)))
    if isinstance(stop, int) and not isinstance(stop, bool):
        return Tensor(g.add("arange", [], make_params(stop=stop)))
    raise StaticError("np.arange is supported with one integer argument (a size)")


def take_along_axis(g: Graph, arr: Any, indices: Any, axis: int) -> Tensor:
    arr, indices = to_tensor(g, arr), to_tensor(g, indices)
    if not indices.node.dtype.startswith("int"):
        raise StaticError("take_along_axis needs integer indices")
    (axis,) = axes_of(arr, axis)
    return Tensor(g.add("take_along_axis", [arr.node, indices.node], make_params(axis=axis)))


def astype(g: Graph, x: Any, dtype: Any) -> Tensor:
    """``x.astype(dtype)``, ``np.float32(x)``, ``np.int64(x)``: a cast to an integer or
    boolean type (truncating toward zero, as NumPy) is data, with no derivative."""
    x = to_tensor(g, x)
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise StaticError(f"astype({describe(dtype)}): not a NumPy dtype") from None
    if name == x.node.dtype:
        return x
    if np.dtype(name).kind not in "fiub":
        raise StaticError(f"astype({name}): symdiff computes with real floats, integers and "
                          "booleans only")
    source = x if name.startswith("float") else stop_gradient(g, x)
    return Tensor(g.add("astype", [source.node], make_params(dtype=name)))


def cast(dtype: Any) -> Handler:
    """``np.float32(x)``, ``np.int64(x)``: the array (or number) as that type; a size stays a
    size under an integer type (``np.int64(x.shape[0])``, as ``int(...)``)."""
    def handler(g: Graph, x: Any) -> Any:
        if isinstance(x, SymDim) and np.dtype(dtype).kind in "iu":
            return x
        return astype(g, x, dtype)
    return handler


def stop_gradient(g: Graph, x: Any) -> Tensor:
    return elementwise(g, "stop_gradient", x)


def log_base(base: float) -> Handler:
    return lambda g, x: elementwise(g, "div", log(g, x), math.log(base))


def _already_shifted(g: Graph, u: Node, axes: tuple[int, ...] | None = None) -> bool:
    """u = v - stop_gradient(shift), as written by hand in a stable logsumexp; or, where the
    sum is over ``axes``, u = v - max(v) over some of those axes, whose maximum along them is
    exactly 0 (the largest element minus itself): exp(u) then neither overflows nor sums to 0,
    and shifting u again would only compute its maximum twice."""
    if u.op != "sub":
        return False
    shift = g[u.inputs[1]]
    if shift.op == "stop_gradient":
        return True
    return axes is not None and own_maximum(g, u) is not None and \
        set(shift.param("axes")) <= set(axes)


def log(g: Graph, x: Any) -> Tensor:
    """log, rewriting log(sum(exp(u))) into the shifted, overflow-free logsumexp."""
    x = to_tensor(g, x)
    total = x.node
    if total.op == "sum" and g[total.inputs[0]].op == "exp" and \
            not _already_shifted(g, g[g[total.inputs[0]].inputs[0]], total.param("axes")):
        u = g[g[total.inputs[0]].inputs[0]]
        return shifted_logsumexp(g, u, total.param("axes"), total.param("keepdims"))
    return elementwise(g, "log", x)


def shifted_logsumexp(g: Graph, u: Node, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """log(sum(exp(u))) shifted by the maximum, which carries no gradient (it cancels)."""
    shift = stop_gradient(g, Tensor(reduce(g, "max", u, axes, keepdims=True)))
    shifted = elementwise(g, "exp", elementwise(g, "sub", Tensor(u), shift))
    inner = Tensor(reduce(g, "sum", shifted.node, axes, keepdims=True))
    out = elementwise(g, "add", shift, elementwise(g, "log", inner))
    return out if keepdims else squeeze(g, out, axes)


def math_log(g: Graph, x: Any, base: Any = None) -> Tensor:
    out = log(g, x)
    return out if base is None else elementwise(g, "div", out, elementwise(g, "log", base))
