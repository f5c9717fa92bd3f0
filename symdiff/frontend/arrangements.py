"""NumPy's functions that rearrange, join, split, pad and repeat arrays, written with the
primitives of slicing, transposing, reshaping and broadcasting (so every backend runs them and
their derivatives come from those primitives' rules), and the constructors ``linspace`` and
``arange`` with a start and a step."""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.frontend.calls import (
    array,
    astype,
    axes_of,
    broadcast_to,
    concatenate,
    elementwise,
    expand_dims,
    ravel,
    reshape,
    transpose,
    where,
)
from symdiff.frontend.indexing import indexed
from symdiff.frontend.ranges import indices, static_int
from symdiff.frontend.values import StaticError, SymDim, Tensor, to_tensor, wrap_dim
from symdiff.ir import sizes
from symdiff.ir.graph import Graph, make_params
from symdiff.ir.shapes import dim_add, dim_product, require, unify


def _axis(x: Tensor, axis: Any) -> int:
    (a,) = axes_of(x, static_int(axis, "axis"))
    return a


def along(g: Graph, x: Tensor, axis: int, start: Any = None, stop: Any = None,
          step: int | None = None) -> Tensor:
    """``x[..., start:stop:step, ...]`` on ``axis``."""
    full = slice(None)
    return indexed(g, x, (full,) * axis + (slice(start, stop, step),))


# --- order of elements and axes -------------------------------------------------------------

def flip(g: Graph, m: Any, axis: Any = None) -> Tensor:
    x = to_tensor(g, m)
    axes = range(x.rank) if axis is None else axes_of(x, axis)
    for a in axes:
        x = along(g, x, a, step=-1)
    return x


def rot90(g: Graph, m: Any, k: int = 1, axes: Any = (0, 1)) -> Tensor:
    """Rotation by 90 degrees ``k`` times from the first axis towards the second."""
    x = to_tensor(g, m)
    first, second = (axes_of(x, a)[0] for a in axes)
    if first == second:
        raise StaticError("np.rot90: the axes must differ")
    k = static_int(k, "np.rot90: k") % 4
    order = list(range(x.rank))
    order[first], order[second] = second, first
    if k == 0:
        return x
    if k == 2:
        return flip(g, flip(g, x, first), second)
    if k == 1:
        return transpose(g, flip(g, x, second), tuple(order))
    return flip(g, transpose(g, x, tuple(order)), second)


def swapaxes(g: Graph, a: Any, axis1: int, axis2: int) -> Tensor:
    x = to_tensor(g, a)
    order = list(range(x.rank))
    i, j = _axis(x, axis1), _axis(x, axis2)
    order[i], order[j] = j, i
    return transpose(g, x, tuple(order))


def moveaxis(g: Graph, a: Any, source: Any, destination: Any) -> Tensor:
    x = to_tensor(g, a)
    sources = axes_of(x, source) or ()
    targets = axes_of(x, destination) or ()
    if len(sources) != len(targets):
        raise StaticError("np.moveaxis: source and destination need the same number of axes")
    order = [n for n in range(x.rank) if n not in sources]
    for target, src in sorted(zip(targets, sources, strict=True)):
        order.insert(target, src)
    return transpose(g, x, tuple(order))


def rollaxis(g: Graph, a: Any, axis: int, start: int = 0) -> Tensor:
    x = to_tensor(g, a)
    axis = _axis(x, axis)
    start = static_int(start, "np.rollaxis: start")
    start = start + x.rank if start < 0 else start
    if start > axis:
        start -= 1
    return moveaxis(g, x, axis, start) if axis != start else x


def roll(g: Graph, a: Any, shift: Any, axis: Any = None) -> Tensor:
    """The last ``shift`` elements first. On a size known only when the code runs, the code
    assumes ``shift`` is less than the size (checked on each call)."""
    x = to_tensor(g, a)
    if axis is None:
        return reshape(g, roll(g, ravel(g, x), shift, 0), tuple(wrap_dim(d) for d in x.shape))
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axes_of(x, axis) or ()
    if len(shifts) != len(axes):
        shifts = tuple(shifts) * len(axes) if len(shifts) == 1 else shifts
    if len(shifts) != len(axes):
        raise StaticError("np.roll: shift and axis need the same number of entries")
    for s, ax in zip(shifts, axes, strict=True):
        s = static_int(s, "np.roll: shift")
        size = x.shape[ax]
        if isinstance(size, int):
            s = s % size if size else 0
        if s == 0:
            continue
        x = concatenate(g, [along(g, x, ax, -s), along(g, x, ax, None, -s)], ax)
    return x


def triangle(lower: bool):
    def handler(g: Graph, m: Any, k: int = 0) -> Tensor:
        x = to_tensor(g, m)
        if x.rank < 2:
            raise StaticError(f"np.{'tril' if lower else 'triu'} needs an array of at least two "
                              "dimensions")
        k = static_int(k, "k")
        rows = expand_dims(g, indices(g, x.shape[-2]), -1)
        cols = expand_dims(g, indices(g, x.shape[-1]), 0)
        offset = elementwise(g, "sub", cols, rows)
        keep = elementwise(g, "le", offset, k) if lower else elementwise(g, "ge", offset, k)
        return where(g, keep, x, 0.0 if x.node.is_float else 0)
    return handler


# --- joining and splitting ------------------------------------------------------------------

def _sequence(arrays: Any, name: str) -> list[Any]:
    if not isinstance(arrays, (list, tuple)) or not arrays:
        raise StaticError(f"{name} needs a non-empty list or tuple of arrays")
    return list(arrays)


def _at_least(g: Graph, a: Any, rank: int) -> Tensor:
    x = to_tensor(g, a)
    if x.rank >= rank:
        return x
    if x.rank == 0:
        return reshape(g, x, (1,) * rank)
    if rank == 2 or x.rank == 2:  # (n,) -> (1, n); (m, n) -> (m, n, 1)
        x = expand_dims(g, x, 0) if x.rank == 1 else x
        return expand_dims(g, x, -1) if rank == 3 else x
    return expand_dims(g, expand_dims(g, x, 0), -1)  # (n,) -> (1, n, 1)


def at_least(rank: int):
    """``np.atleast_1d/2d/3d``, with NumPy's placement of the new axes."""
    def handler(g: Graph, *arrays: Any) -> Any:
        out = [_at_least(g, a, rank) for a in arrays]
        return out[0] if len(out) == 1 else out
    return handler


def _item_at_least(shape: tuple, rank: int) -> tuple:
    """The shape ``np.atleast_<rank>d`` gives an array of ``shape``."""
    if len(shape) >= rank:
        return shape
    if not shape:
        return (1,) * rank
    if len(shape) == 1:
        return (1, shape[0]) if rank == 2 else (1, shape[0], 1)
    return (*shape, 1)


def _joined_rows(g: Graph, a: Tensor, item: tuple, axis: int) -> Tensor:
    """A stacking function given one array: NumPy joins its rows, each reshaped to ``item``
    (atleast_2d and the like only reshape), along ``axis``: the array itself reshaped, its
    first axis moved to ``axis`` and merged with it."""
    if a.rank == 0:
        raise StaticError("a stacking function needs a sequence of arrays, got a number")
    n = a.shape[0]
    rows = Tensor(g.add("reshape", [a.node], make_params(shape=(n, *item))))
    order = [*range(1, axis + 1), 0, *range(axis + 1, len(item) + 1)]
    moved = Tensor(g.add("transpose", [rows.node], make_params(axes=tuple(order))))
    merged = (*item[:axis], dim_product([n, item[axis]]), *item[axis + 1:])
    return Tensor(g.add("reshape", [moved.node], make_params(shape=merged)))


def vstack(g: Graph, tup: Any) -> Tensor:
    if isinstance(tup, Tensor):
        return _joined_rows(g, tup, _item_at_least(tup.shape[1:], 2), 0)
    return concatenate(g, [_at_least(g, a, 2) for a in _sequence(tup, "np.vstack")], 0)


def hstack(g: Graph, tup: Any) -> Tensor:
    if isinstance(tup, Tensor):
        item = _item_at_least(tup.shape[1:], 1)
        return _joined_rows(g, tup, item, 0 if len(item) == 1 else 1)
    parts = [_at_least(g, a, 1) for a in _sequence(tup, "np.hstack")]
    return concatenate(g, parts, 0 if parts[0].rank == 1 else 1)


def dstack(g: Graph, tup: Any) -> Tensor:
    if isinstance(tup, Tensor):
        return _joined_rows(g, tup, _item_at_least(tup.shape[1:], 3), 2)
    return concatenate(g, [_at_least(g, a, 3) for a in _sequence(tup, "np.dstack")], 2)


def column_stack(g: Graph, tup: Any) -> Tensor:
    if isinstance(tup, Tensor):
        shape = tup.shape[1:]  # a row of fewer than 2 axes becomes a column
        item = (1, 1) if not shape else (shape[0], 1) if len(shape) == 1 else shape
        return _joined_rows(g, tup, item, 1)
    parts = []
    for a in _sequence(tup, "np.column_stack"):
        x = to_tensor(g, a)
        parts.append(expand_dims(g, x, 1) if x.rank < 2 else x)
    return concatenate(g, [p if p.rank == 2 else _at_least(g, p, 2) for p in parts], 1)


def append(g: Graph, arr: Any, values: Any, axis: Any = None) -> Tensor:
    if axis is None:
        return concatenate(g, [ravel(g, arr), ravel(g, values)], 0)
    return concatenate(g, [arr, values], axis)


def array_split(g: Graph, ary: Any, indices_or_sections: Any, axis: int = 0,
                equal: bool = False) -> list[Tensor]:
    """``np.array_split``: ``k`` sections (the first ``size % k`` one longer), or the pieces
    between the given indices."""
    x = to_tensor(g, ary)
    axis = _axis(x, axis)
    size = x.shape[axis]
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [static_int(i, "a split index") for i in indices_or_sections]
        edges: list[Any] = [None, *bounds, None]
        return [along(g, x, axis, lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]
    k = static_int(indices_or_sections, "the number of sections")
    if k <= 0:
        raise StaticError("the number of sections must be larger than 0")
    base = sizes.floordiv(size, k)
    extra = sizes.sub(size, sizes.scale(base, k))
    if equal:
        if isinstance(extra, int) and extra:
            raise StaticError("np.split: the array does not divide into equal sections; use "
                              "np.array_split")
        if not isinstance(extra, int):
            unify(sizes.scale(base, k), size)  # checked on each call; NumPy raises otherwise
            extra = 0
    starts = [dim_add(sizes.scale(base, i), sizes.minimum(i, extra)) for i in range(k + 1)]
    return [along(g, x, axis, _bound(lo), _bound(hi)) for lo, hi in zip(starts, starts[1:],
                                                                         strict=False)]


def _bound(d: Any) -> Any:
    return d if isinstance(d, int) else SymDim(d)


def split(g: Graph, ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return array_split(g, ary, indices_or_sections, axis, equal=True)


def split_along(axis_of_rank):
    def handler(g: Graph, ary: Any, indices_or_sections: Any) -> list[Tensor]:
        x = to_tensor(g, ary)
        return split(g, x, indices_or_sections, axis_of_rank(x.rank))
    return handler


def gradient(g: Graph, f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """``np.gradient`` with uniform spacing (one number, or one per axis): central
    differences inside, one-sided ones at the two ends, as NumPy computes them."""
    x = to_tensor(g, f)
    axes = tuple(range(x.rank)) if axis is None else axes_of(x, axis)
    if edge_order != 1:
        raise StaticError("np.gradient: only edge_order=1 is supported")
    if len(varargs) > 1 and len(varargs) != len(axes):
        raise StaticError("np.gradient: give one spacing, or one per axis")
    spacings = list(varargs) * len(axes) if len(varargs) == 1 else \
        list(varargs) or [1.0] * len(axes)
    out = []
    for ax, h in zip(axes, spacings, strict=True):
        if isinstance(h, Tensor) and h.rank or isinstance(h, (list, tuple)):
            raise StaticError("np.gradient: only uniform spacings (numbers) are supported")
        if isinstance(x.shape[ax], int) and x.shape[ax] < 2:
            raise StaticError("np.gradient needs at least 2 elements along each axis "
                              "(edge_order + 1), as NumPy does")
        require(2, x.shape[ax])  # checked on each call: NumPy raises below 2
        inside = elementwise(g, "div", elementwise(g, "sub", along(g, x, ax, 2),
                                                  along(g, x, ax, None, -2)),
                             elementwise(g, "mul", 2.0, h))
        first = elementwise(g, "div", elementwise(g, "sub", along(g, x, ax, 1, 2),
                                                 along(g, x, ax, 0, 1)), h)
        last = elementwise(g, "div", elementwise(g, "sub", along(g, x, ax, -1),
                                                along(g, x, ax, -2, -1)), h)
        out.append(concatenate(g, [first, inside, last], ax))
    return out[0] if len(out) == 1 else out


# --- repeating and padding ------------------------------------------------------------------

def tile(g: Graph, A: Any, reps: Any) -> Tensor:
    """Each axis ``n`` long becomes ``r`` copies after one another: ``x`` with a new axis of
    length ``r`` before each of its own, broadcast there and merged."""
    x = to_tensor(g, A)
    counts = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    counts = tuple(static_int(r, "np.tile: reps") for r in counts)
    rank = max(len(counts), x.rank)
    counts = (1,) * (rank - len(counts)) + counts
    if x.rank < rank:
        x = reshape(g, x, (1,) * (rank - x.rank) + tuple(wrap_dim(d) for d in x.shape))
    if all(r == 1 for r in counts):
        return x
    spread = reshape(g, x, tuple(v for d in x.shape for v in (1, wrap_dim(d))))
    copies = broadcast_to(g, spread, tuple(v for r, d in zip(counts, x.shape, strict=True)
                                           for v in (r, d)))
    return reshape(g, copies, tuple(wrap_dim(sizes.scale(d, r))
                                    for r, d in zip(counts, x.shape, strict=True)))


def repeat(g: Graph, a: Any, repeats: Any, axis: Any = None) -> Tensor:
    """Each element ``repeats`` times in a row: a new axis after ``axis``, broadcast, merged."""
    x = to_tensor(g, a)
    if axis is None:
        x, axis = ravel(g, x), 0
    axis = _axis(x, axis)
    if isinstance(repeats, (list, tuple)) and len(repeats) == 1:
        repeats = repeats[0]
    if isinstance(repeats, (list, tuple)):
        counts = [static_int(r, "np.repeat: repeats") for r in repeats]
        unify(x.shape[axis], len(counts))  # one count per element (checked on each call)
        positions = np.repeat(np.arange(len(counts)), counts)
        return moved_gather(g, x, axis, positions)
    if isinstance(repeats, SymDim):  # a size known when the code runs: np.repeat(h0, n, 0)
        r = repeats.dim
    else:
        r = static_int(repeats, "np.repeat: repeats")
        if r < 0:
            raise StaticError("np.repeat: negative repeats")
    shape = tuple(x.shape)
    spread = expand_dims(g, x, axis + 1)
    copies = broadcast_to(g, spread, shape[:axis + 1] + (r,) + shape[axis + 1:])
    merged = shape[:axis] + (sizes.mul(shape[axis], r),) + shape[axis + 1:]
    return reshape(g, copies, tuple(wrap_dim(d) for d in merged))


def moved_gather(g: Graph, x: Tensor, axis: int, positions: Any) -> Tensor:
    """``x`` indexed on ``axis`` by an integer array (or a list of integers)."""
    index = positions if isinstance(positions, Tensor) else array(
        g, np.asarray(positions).tolist())
    return indexed(g, x, (slice(None),) * axis + (index,))


def take(g: Graph, a: Any, indices: Any, axis: Any = None) -> Tensor:
    x = to_tensor(g, a)
    if axis is None:
        x, axis = ravel(g, x), 0
    axis = _axis(x, axis)
    if isinstance(indices, int) and not isinstance(indices, bool):
        return indexed(g, x, (slice(None),) * axis + (indices,))
    if isinstance(indices, (list, tuple)):
        return moved_gather(g, x, axis, indices)
    index = to_tensor(g, indices)
    if not index.node.dtype.startswith("int"):
        raise StaticError("np.take needs integer indices")
    return moved_gather(g, x, axis, index)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(g: Graph, array: Any, pad_width: Any, mode: str = "constant",
        constant_values: Any = 0) -> Tensor:
    """``np.pad`` with widths known when the gradient is generated, in the modes constant,
    edge, reflect, symmetric and wrap."""
    x = to_tensor(g, array)
    if mode not in _PAD_MODES:
        raise StaticError(f"np.pad: mode {mode!r} is not supported (supported: "
                          f"{', '.join(_PAD_MODES)})")
    widths = _pad_widths(pad_width, x.rank)
    values = _pad_widths(constant_values, x.rank, "constant_values", numbers=True)
    for axis, ((before, after), (low, high)) in enumerate(zip(widths, values, strict=True)):
        if before == after == 0:
            continue
        parts = []
        if before:
            parts.append(_pad_piece(g, x, axis, before, mode, low, leading=True))
        parts.append(x)
        if after:
            parts.append(_pad_piece(g, x, axis, after, mode, high, leading=False))
        x = concatenate(g, parts, axis)
    return x


def _pad_widths(spec: Any, rank: int, name: str = "pad_width",
                numbers: bool = False) -> list[tuple[Any, Any]]:
    """NumPy's broadcasting of pad widths: n, (n,), (before, after), or one pair per axis."""
    def check(v: Any) -> Any:
        if numbers:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise StaticError(f"np.pad: {name} must be numbers known when the gradient is "
                                  "generated")
            return v
        v = static_int(v, f"np.pad: {name}")
        if v < 0:
            raise StaticError(f"np.pad: {name} cannot be negative")
        return v
    arr = np.asarray(spec, dtype=object)
    try:
        pairs = np.broadcast_to(arr, (rank, 2))
    except ValueError:
        raise StaticError(f"np.pad: {name} {spec!r} does not fit an array of rank "
                          f"{rank}") from None
    return [(check(a), check(b)) for a, b in pairs.tolist()]


def _pad_piece(g: Graph, x: Tensor, axis: int, width: int, mode: str, value: Any,
               leading: bool) -> Tensor:
    length = x.shape[axis]
    if mode == "constant":
        shape = tuple(wrap_dim(d) for d in x.shape[:axis]) + (width,) + \
            tuple(wrap_dim(d) for d in x.shape[axis + 1:])
        fill = value if x.node.is_float else int(value)
        return broadcast_to(g, astype(g, fill, x.node.dtype), shape)
    if mode == "edge":
        edge = along(g, x, axis, 0, 1) if leading else along(g, x, axis, -1)
        return repeat(g, edge, width, axis)
    if mode == "wrap":
        _needs(length, width, "wrap")
        return along(g, x, axis, -width) if leading else along(g, x, axis, None, width)
    if mode == "reflect":  # the edge element is not repeated
        _needs(length, width + 1, "reflect")
        return along(g, x, axis, width, 0, -1) if leading else \
            along(g, x, axis, -2, -width - 2, -1)
    _needs(length, width, "symmetric")  # the edge element is repeated
    return along(g, x, axis, width - 1, None, -1) if leading else \
        along(g, x, axis, -1, -width - 1, -1)


def _needs(length: Any, count: int, mode: str) -> None:
    if isinstance(length, int) and length < count:
        raise StaticError(f"np.pad: mode {mode!r} with a width larger than the axis repeats "
                          "the pattern, which is not supported")
