"""Python indexing keys as the ``getitem`` index of the IR (see ``symdiff.rules.indexing``):
integers, slices, sizes, new axes, integer arrays and lists, with the sizes they need."""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.frontend import calls
from symdiff.frontend.values import Masked, StaticError, SymDim, Tensor, describe
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import ShapeError, canon, index_in_range, unify
from symdiff.rules.indexing import is_array_index


def index_spec(graph: Graph, x: Tensor, key: tuple) -> tuple[list[Any], list[Any]]:
    """The ``getitem`` index of ``x[key]`` and the integer arrays it reads."""
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    index: list[Any] = []
    arrays = []
    for k in key:
        if k is Ellipsis:
            index.extend([("slice", None, None, None)] * (x.rank - consumed))
        elif k is None or (isinstance(k, int) and not isinstance(k, bool)):
            index.append(k)
        elif isinstance(k, np.integer):  # an index NumPy computed, such as np.int64(3)
            index.append(int(k))
        elif isinstance(k, SymDim):
            index.append(("size", k.dim))
        elif isinstance(k, slice):
            index.append(("slice", *_slice_bounds(k)))
        elif isinstance(k, list) and k and all(
                isinstance(i, int) and not isinstance(i, bool) for i in k):
            # x[[0, 2]]: the integer array np.array([0, 2]), whose indices are known now
            _known_indices_in_range(x, sum(1 for i in index if i is not None), k)
            index.append(("array", len(arrays)))
            arrays.append(calls.array(graph, k).node)
        elif isinstance(k, Tensor):
            if not k.node.dtype.startswith("int"):
                raise StaticError(f"indexing with a {k.node.dtype} array is not supported; "
                                  "use integer arrays (boolean masks: use np.where)")
            known = known_values(graph, k.node)
            if known:  # np.array([0, 2]) written in the code: checked now, as lists are
                _known_indices_in_range(x, sum(1 for i in index if i is not None), known)
            index.append(("array", len(arrays)))
            arrays.append(k.node)
        else:
            raise StaticError(f"unsupported index {describe(k)}")
    return resolved_on_known_sizes(index, x.shape), arrays


def indexed(graph: Graph, x: Tensor, key: tuple) -> Tensor:
    """``x[key]``."""
    mask = boolean_mask(key)
    if mask is not None:
        if mask.rank != x.rank:
            raise StaticError("a boolean mask must have the shape of the array it indexes")
        for a, b in zip(x.shape, mask.shape, strict=True):
            unify(a, b)  # checked on each call where the sizes are known only then
        return Masked(x, mask)  # type: ignore[return-value]
    index, arrays = index_spec(graph, x, key)
    full = ("slice", None, None, None)
    first = next((k for k, item in enumerate(index) if is_array_index(item)), None)
    if len(arrays) == 1 and first and all(item == full or item == ("slice", 0, canon(d), None)
                                          for item, d in zip(index[:first], x.shape,
                                                             strict=False)) and \
            all(isinstance(item, tuple) and item[0] == "slice" for item in index[first + 1:]):
        # x[:, cols]: the axis moved first, gathered there (as every backend gathers), and
        # the gathered axes moved to where NumPy puts them
        return _gathered_at(graph, x, first, index, arrays[0])
    leading = next((k for k, item in enumerate(index) if not is_array_index(item)),
                   len(index))
    if arrays and leading and len(index) > leading and \
            not any(is_array_index(item) for item in index[leading:]):
        # x[rows, 1:] is x[:, 1:][rows]: with the integer arrays first, NumPy puts their
        # axes first either way, and every backend gathers on leading axes
        full = ("slice", None, None, None)
        x = Tensor(graph.add("getitem", [x.node], make_params(
            index=(full,) * leading + tuple(index[leading:]))))
        index = index[:leading]
    return Tensor(graph.add("getitem", [x.node, *arrays], make_params(index=tuple(index))))


def _gathered_at(graph: Graph, x: Tensor, axis: int, index: list[Any], rows: Node) -> Tensor:
    """``x[:, ..., rows, <slices>]``: one integer array after full slices."""
    order = (axis, *(k for k in range(x.rank) if k != axis))
    front = calls.transpose(graph, x, order)
    rest = [item for k, item in enumerate(index) if k != axis]
    full = ("slice", None, None, None)
    if any(item != full for item in rest):  # the other axes' slices first, as x[rows, 1:] is
        front = Tensor(graph.add("getitem", [front.node], make_params(index=(full, *rest))))
    picked = Tensor(graph.add("getitem", [front.node, rows], make_params(
        index=(("array", 0),))))
    # NumPy puts the index array's axes where the indexed axis was
    k, before = rows.rank, axis
    order = (*range(k, k + before), *range(k), *range(k + before, picked.rank))
    return calls.transpose(graph, picked, order)


def boolean_mask(key: Any) -> Tensor | None:
    """The boolean array of ``x[mask]``, if that is the key."""
    keys = key if isinstance(key, tuple) else (key,)
    if len(keys) == 1 and isinstance(keys[0], Tensor) and keys[0].node.dtype == "bool":
        return keys[0]
    return None


def _slice_bounds(k: slice) -> tuple[Any, Any, Any]:
    """A slice's bounds: integers, or sizes known only when the code runs (``x[:n]`` with
    ``n = y.shape[0]``; such a bound must not be negative, which each call checks)."""
    parts = []
    for part in (k.start, k.stop, k.step):
        if isinstance(part, np.integer):  # slice(start, start + np.prod(shape)): its value
            part = int(part)
        if isinstance(part, SymDim) and part is not k.step:
            parts.append(part.dim)
        elif part is None or isinstance(part, int) and not isinstance(part, bool):
            parts.append(part)
        else:
            raise StaticError("slice bounds must be integers or sizes, and steps integers "
                              f"known when the gradient is generated, got {describe(part)}")
    start, stop, step = parts
    if (step or 1) < 0 and not all(isinstance(b, int | None) for b in (start, stop)):
        raise StaticError("a slice with a negative step needs bounds known when the gradient "
                          "is generated")
    return start, stop, step


def _known_indices_in_range(x: Tensor, axis: int, indices: list[int]) -> None:
    """Indices known while generating are in range of their axis: proven now, or checked on
    each call where the axis' size is known only then."""
    if axis >= x.rank:
        return
    size = canon(x.shape[axis])
    for i in (min(indices), max(indices)):
        if isinstance(size, int) and not -size <= i < size:
            raise ShapeError(f"index {i} is out of bounds for axis {axis} with size {size}")
        index_in_range(size, i)


# operations that keep their input's values (in another arrangement)
_SAME_VALUES = ("expand_dims", "reshape", "broadcast_to", "squeeze", "transpose", "astype")


def known_values(graph: Graph, node: Node) -> list[Any] | None:
    """The values of an array written as a literal in the code (``np.array([0, 2])``), in no
    particular order, or None where they are known only when the code runs."""
    if node.id in graph.literals:
        return np.ravel(graph.literals[node.id]).tolist()
    if node.op == "const":
        return [node.param("value")]
    if node.op in _SAME_VALUES:
        return known_values(graph, graph[node.inputs[0]])
    return None


def resolved_on_known_sizes(index: list[Any], shape: tuple) -> list[Any]:
    """Integers and slice bounds on axes of known size, resolved as Python resolves them
    (``x[-3:]`` of 2 elements starts at 0, ``x[-1]`` of 4 is ``x[3]``), so that the code
    indexes with them as they are. Bounds on run-time sizes stay: the code computes them, and
    the sizes they need are checked on each call (``shapes.slice_length``)."""
    out, axis = [], 0
    for item in index:
        if item is None:
            out.append(item)
            continue
        d = canon(shape[axis]) if axis < len(shape) else None
        axis += 1
        if isinstance(d, int) and isinstance(item, int) and -d <= item < 0:
            item = item + d
        elif isinstance(d, int) and isinstance(item, tuple) and item[0] == "slice" and \
                all(isinstance(b, int | None) for b in item[1:]):
            start, stop, step = slice(*item[1:]).indices(d)
            if step < 0:  # stop -1 is "past the first element", which only None can say
                start, stop = (0, 0) if start < 0 else (start, None if stop < 0 else stop)
            item = ("slice", start, stop, None if step == 1 else step)
        out.append(item)
    return out
