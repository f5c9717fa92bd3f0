"""Subscripts in traced code (mixed into ``Tracer``): reading ``x[key]`` and writing
``x[key] = value`` as a new array."""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from symdiff.errors import UnsupportedError
from symdiff.frontend import arrangements, calls, ranges
from symdiff.frontend.aliasing import marked_view, sharing
from symdiff.frontend.indexing import boolean_mask, index_spec, indexed
from symdiff.frontend.loops import Indexed
from symdiff.frontend.values import StaticError, Tensor, is_number, to_tensor, wrap_dim
from symdiff.ir.graph import Graph, make_params
from symdiff.ir.shapes import same_shape


class Subscripts:
    """The evaluator's subscripts (mixed into ``Tracer``)."""

    graph: Graph
    env: dict[str, Any]

    def expr(self, node: Any) -> Any: ...
    def error(self, node: cst.CSTNode, reason: str,
              kind: type[UnsupportedError] = UnsupportedError) -> UnsupportedError: ...

    def subscript(self, node: cst.Subscript) -> Any:
        value = self.expr(node.value)
        key = self.subscript_key(node)
        if isinstance(value, Tensor):
            return self.index(value, key if isinstance(key, tuple) else (key,), node)
        if value is np.r_ or value is np.c_:  # np.r_[a, b], np.c_[a, b]: joined arrays
            parts = list(key) if isinstance(key, tuple) else [key]
            if any(isinstance(p, str) or isinstance(p, slice) and (
                    p.stop is None or isinstance(p.step, complex)) for p in parts):
                raise StaticError("np.r_ and np.c_ are supported with arrays, numbers and "
                                  "ranges (1:10); for evenly spaced points use np.linspace, "
                                  "for axes np.concatenate")
            parts = [ranges.arange(self.graph, 0 if p.start is None else p.start,
                                         p.stop, p.step) if isinstance(p, slice) else p
                     for p in parts]  # 1:10 is np.arange(1, 10)
            joined = [arrangements.at_least(1)(self.graph, p) for p in parts]
            return arrangements.column_stack(self.graph, joined) if value is np.c_ else \
                calls.concatenate(self.graph, joined, 0)
        try:
            return value[key]
        except Exception as exc:
            raise StaticError(f"{type(exc).__name__}: {exc}") from None

    def subscript_key(self, node: cst.Subscript) -> Any:
        items = []
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Slice):
                parts = [None if p is None else self.expr(p)
                         for p in (inner.lower, inner.upper, inner.step)]
                items.append(slice(*parts))
            else:
                items.append(self.expr(inner.value))
        return items[0] if len(items) == 1 and not isinstance(node.slice[0].comma, cst.Comma) \
            else tuple(items)

    def index(self, x: Tensor, key: tuple, where: cst.CSTNode) -> Tensor:
        return marked_view(self.graph, indexed(self.graph, x, key), x)

    def _first_written(self, x: Tensor, key: Any) -> Any:
        """The first index of ``x[key] = ...`` where it is one integer (see
        ``aliasing._first_index``), else None."""
        index, arrays = index_spec(self.graph, x, key if isinstance(key, tuple) else (key,))
        first = index[0] if index else None
        if isinstance(first, int) or isinstance(first, tuple) and first[0] == "size":
            return first
        if isinstance(first, tuple) and first[0] == "array" and arrays[first[1]].rank == 0:
            return arrays[first[1]]  # the node of the traced integer
        return None

    def writable(self, where: cst.CSTNode, name: str, x: Tensor, container: Any = None,
                 written: Any = None) -> None:
        """Refuse writing into ``x`` (bound to ``name``, or an item of ``container``) in place
        where NumPy would change another value the code holds too (``frontend.aliasing``);
        ``written``: the write's first index, which a row held elsewhere may be apart from."""
        shared = sharing(self.graph.frames, self, name, x, container, written)
        if shared is not None:
            raise self.error(where, f"{shared}: writing into {name} in place changes that "
                             "value too in NumPy, which symdiff does not follow; copy it first "
                             f"({name} = {name}.copy()), or compute a new array "
                             f"({name} = {name} + ...)")

    def rows(self, x: Tensor) -> Indexed:
        """``for row in x``: the rows of an array, by position."""
        if x.rank == 0:
            raise StaticError("cannot loop over a scalar")
        return Indexed(wrap_dim(x.shape[0]), lambda k: self.index(x, (k,), None))

    def assign_elements(self, x: Tensor, target: cst.Subscript, value: Any) -> Tensor:
        """``x[index] = value`` as a new array equal to ``x`` except at ``index``."""
        key = self.subscript_key(target)
        mask = boolean_mask(key)
        self.writable(target, target.value.value, x,
                      written=None if mask is not None else self._first_written(x, key))
        if mask is not None:  # x[x > 0] = 0.0: the mask chooses between the value and x
            if not same_shape(mask.shape, x.shape):
                raise self.error(target, "a boolean mask must have the shape of the array it "
                                 "indexes")
            if to_tensor(self.graph, value).rank and not is_number(value):
                raise self.error(target, "assigning an array through a boolean mask depends on "
                                 "how many elements the mask selects; assign a number, or use "
                                 "np.where(mask, values, x) with values of x's shape")
            return calls.where(self.graph, mask, calls.astype(self.graph, value, x.node.dtype)
                               if x.node.is_float else value, x)
        index, arrays = index_spec(self.graph, x, key if isinstance(key, tuple) else (key,))
        if any(a.rank for a in arrays):  # a traced integer (h[t + 1] = ...) is one place
            raise self.error(target, "assigning through integer-array indices is not "
                             "supported; use np.where with a mask")
        params = make_params(index=tuple(index))
        selected = self.graph.add("getitem", [x.node, *arrays], params)
        value = to_tensor(self.graph, value)
        if value.node.dtype != x.node.dtype:
            value = calls.astype(self.graph, value, x.node.dtype)
        if not same_shape(value.shape, selected.shape):
            value = calls.broadcast_to(self.graph, value, selected.shape)
        placed = self.graph.add("scatter", [value.node, x.node, *arrays], params)
        ones = self.graph.add("fill", [selected], make_params(value=1))
        written = self.graph.add("scatter", [ones, x.node, *arrays], params)
        return calls.where(self.graph, calls.elementwise(self.graph, "ne", Tensor(written), 0),
                           Tensor(placed), x)
