"""How the Numba target writes indexing (mixed into ``NumbaTarget``): basic indexing as
NumPy spells it, gathers with integer arrays on the leading axes as loops that check each
index read from data, their adjoints adding back at the same places, and
``take_along_axis``, and ``argsort`` by rows."""

from __future__ import annotations

import libcst as cst

from symdiff.codegen.emitter import Context, assignment, operand
from symdiff.codegen.loop_nest import element_at, loop_vars, slice_target
from symdiff.codegen.rows import argsort_rows
from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Node
from symdiff.ir.shapes import canon, shape_text
from symdiff.rules import primitive
from symdiff.rules.indexing import index_text, is_array_index


class IndexWriting:
    """Indexing, for a target with ``_loops``, ``_zeros``, ``_empty`` and ``_add_into``."""

    def _op_getitem(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        index = node.param("index")
        if not any(is_array_index(i) for i in index):
            args = [operand(ctx.text[i]) for i in node.inputs]
            return self._store(ctx, node, primitive("getitem").emit(args, node))
        return self._gather(ctx, node, scatter=False)

    def _op_scatter(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if self._added_by_its_user(ctx, node):
            return []
        index = node.param("index")
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        like = ctx.text[node.inputs[1]]
        zeros = assignment(target, self._zeros(f"{operand(like)}.shape", node.dtype))
        if slice_target(node) is not None:
            return [zeros, *self._accumulate_slice(ctx, node, target)]
        ct = ctx.text[node.inputs[0]]
        if not any(is_array_index(i) for i in index):  # basic indexing reads each element once
            return [zeros, assignment(f"{target}[{index_text(index, [])}]", ct)]
        return [zeros, *self._gather(ctx, node, scatter=True, into=target)]

    def _gather(self, ctx: Context, node: Node, scatter: bool,
                into: str | None = None) -> list[cst.BaseStatement]:
        """x[i0, i1, ...] with integer arrays for the leading axes (as gathers are written),
        or its adjoint, which adds the cotangent back at the same places."""
        graph = ctx.graph
        source = graph[node.inputs[1] if scatter else node.inputs[0]]
        index = _without_whole_trailing_slices(node.param("index"), source.shape)
        n_arrays = sum(1 for i in index if is_array_index(i))
        if index != tuple(("array", k) for k in range(n_arrays)):
            raise UnsupportedError("the numba backend compiles integer-array indexing only on "
                                   "the leading axes (x[rows, cols]); use backend='numpy'")
        arrays = [graph[i] for i in node.inputs[(2 if scatter else 1):]]
        picked = graph[node.inputs[0]] if scatter else node
        loops = loop_vars(picked.rank)
        adv_rank = picked.rank - (source.rank - n_arrays)
        adv_loops, rest = loops[:adv_rank], loops[adv_rank:]
        where = [self.checked_index(ctx, element_at(ctx, a, adv_loops, picked.shape[:adv_rank]),
                                    ctx.text[source.id], axis)
                 for axis, a in enumerate(arrays)] + rest
        if scatter:
            ct = element_at(ctx, picked, loops, picked.shape)
            return self._loops(ctx, loops, picked.shape,
                               [self._add_into(into, where, ct, shared=True)])
        return self._read_at(ctx, node, ctx.text[source.id], where, loops)

    def _op_take_along_axis(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        x, idx = (ctx.graph[i] for i in node.inputs)
        axis = node.param("axis")
        loops = loop_vars(node.rank)
        where = [self.checked_index(ctx, element_at(ctx, idx, loops, node.shape),
                                    ctx.text[x.id], axis) if a == axis else
                 ("0" if canon(x.shape[a]) == 1 else v) for a, v in enumerate(loops)]
        return self._read_at(ctx, node, ctx.text[x.id], where, loops)

    _op_running_extreme = _op_take_along_axis  # x read at its running argmax

    def _op_take_along_axis_adjoint(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        ct, like, idx = (ctx.graph[i] for i in node.inputs)
        axis = node.param("axis")
        loops = loop_vars(ct.rank)
        where = [self.checked_index(ctx, element_at(ctx, idx, loops, ct.shape),
                                    ctx.text[like.id], axis) if a == axis else
                 ("0" if canon(like.shape[a]) == 1 else v) for a, v in enumerate(loops)]
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        update = self._add_into(target, where, element_at(ctx, ct, loops, ct.shape), shared=True)
        return [assignment(target, self._zeros(f"{operand(ctx.text[like.id])}.shape",
                                               node.dtype)),
                *self._loops(ctx, loops, ct.shape, [update])]

    def _op_argsort(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        return argsort_rows(self, ctx, node)

    def checked_index(self, ctx: Context, index: str, array: str, axis: int) -> str:
        """An index read from data into ``array``'s ``axis``: checked, as NumPy checks it
        (compiled code would read or write past the end)."""
        ctx.helpers.add("_in_bounds")
        return f"_in_bounds({index}, {operand(array)}.shape[{axis}])"

    def _read_at(self, ctx: Context, node: Node, source: str, where: list[str],
                 loops: list[str]) -> list[cst.BaseStatement]:
        """``node = source[where]`` element by element: the loops of a gather."""
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        if not loops:  # one element: a scalar
            return [assignment(target, f"{operand(source)}[{', '.join(where)}]")]
        return [assignment(target, self._empty(shape_text(node.shape), node.dtype)),
                *self._loops(ctx, loops, node.shape, [assignment(
                    f"{target}[{', '.join(loops)}]", f"{operand(source)}[{', '.join(where)}]")])]


def _without_whole_trailing_slices(index: tuple, shape: tuple) -> tuple:
    """``index`` without the slices at its end that take a whole axis of ``shape``:
    ``x[rows, :]`` (or ``x[i, 0:n]`` of n columns) is ``x[rows]``."""
    if any(item is None for item in index):  # new axes: positions are not axes of the source
        return index
    while index and isinstance(index[-1], tuple) and index[-1][0] == "slice":
        _, start, stop, step = index[-1]
        axis = len(index) - 1
        if start not in (None, 0) or step not in (None, 1) or \
                stop is not None and canon(stop) != canon(shape[axis]):
            break
        index = index[:-1]
    return index
