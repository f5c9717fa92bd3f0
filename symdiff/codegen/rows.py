"""Operations along one axis for the targets that write loops (Numba, and CUDA built on it):
a loop nest over the other axes, and inside it a sequential loop along the axis (on CUDA, one
thread per row). Scans, products, their adjoints, and the indices of orderings and extremes.

Each writer is ``writer(target, ctx, node)`` and returns the statements that compute ``node``.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from symdiff.codegen.emitter import Context, assignment
from symdiff.codegen.loop_nest import element_at, loop_vars
from symdiff.ir.graph import Node
from symdiff.ir.shapes import dim_text, shape_text

Statements = list[cst.BaseStatement]


def along(var: str, size: object, backwards: bool = False, start: int = 0,
          body: Statements | None = None) -> cst.For:
    """``for var in range(...)`` along an axis of ``size`` elements, forwards or backwards."""
    n = dim_text(size)
    if backwards:
        last = str(size - 1) if isinstance(size, int) else f"{n} - 1"
        span = f"range({last}, {start - 1}, -1)"
    else:
        span = f"range({n})" if start == 0 else f"range({start}, {n})"
    return cst.For(target=cst.Name(var), iter=cst.parse_expression(span),
                   body=cst.IndentedBlock(body or [cst.SimpleStatementLine([cst.Pass()])]))


def rows(target, ctx: Context, shape: tuple, axis: int,
         inner: Callable[[list[str]], Statements]) -> Statements:
    """Loops over every axis of ``shape`` but ``axis`` around ``inner(loops)``, which loops
    along ``axis`` itself with ``loops[axis]``."""
    loops = loop_vars(len(shape))
    outer = [v for k, v in enumerate(loops) if k != axis]
    outer_shape = tuple(d for k, d in enumerate(shape) if k != axis)
    return target._loops(ctx, outer, outer_shape, inner(loops))


def _new_array(target, ctx: Context, node: Node) -> tuple[str, cst.BaseStatement]:
    name = ctx.names.fresh(node.name)
    ctx.text[node.id] = name
    return name, assignment(name, target._empty(shape_text(node.shape), node.dtype))


def _start(node: Node, value: int) -> str:
    return str(value) if node.dtype.startswith(("int", "uint")) else f"{value}.0"


def scan(target, ctx: Context, node: Node) -> Statements:
    """np.cumsum and np.cumprod along one axis (forwards or backwards, inclusive or not)."""
    x = ctx.graph[node.inputs[0]]
    axis, reverse, exclusive = (node.param(p) for p in ("axis", "reverse", "exclusive"))
    out, allocate = _new_array(target, ctx, node)
    acc = ctx.names.fresh("_acc")
    combine = "+" if node.op == "cumsum" else "*"

    def inner(loops: list[str]) -> Statements:
        slot = f"{out}[{', '.join(loops)}]"
        update = assignment(acc, f"{acc} {combine} {element_at(ctx, x, loops, node.shape)}")
        store = assignment(slot, acc)
        body = [store, update] if exclusive else [update, store]
        return [assignment(acc, _start(node, 0 if node.op == "cumsum" else 1)),
                along(loops[axis], node.shape[axis], reverse, body=body)]
    return [allocate, *rows(target, ctx, node.shape, axis, inner)]


def cumprod_adjoint(target, ctx: Context, node: Node) -> Statements:
    """The adjoint of np.cumprod without dividing by ``x``: r[k] = g[k] + x[k + 1] * r[k + 1]
    from the end of the scan back, then times the product of the elements before each;
    ``transposed``: s[i] = x[i] * s[i - 1] + u[i] * (the product of the elements before i)."""
    ct, x = (ctx.graph[i] for i in node.inputs)
    axis, reverse, exclusive = (node.param(p) for p in ("axis", "reverse", "exclusive"))
    out, allocate = _new_array(target, ctx, node)
    acc = ctx.names.fresh("_acc")
    before = ctx.names.fresh("_before") if node.param("transposed") else acc

    def inner(loops: list[str]) -> Statements:
        slot = f"{out}[{', '.join(loops)}]"
        g, v = element_at(ctx, ct, loops, node.shape), element_at(ctx, x, loops, node.shape)
        n = node.shape[axis]
        if node.param("transposed"):
            update = assignment(acc, f"{acc} * {v} + {g} * {before}")
            store = assignment(slot, acc)
            return [assignment(acc, "0.0"), assignment(before, "1.0"),
                    along(loops[axis], n, reverse, body=[
                        *([store, update] if exclusive else [update, store]),
                        assignment(before, f"{before} * {v}")])]
        if exclusive:
            back = [assignment(slot, acc), assignment(acc, f"{acc} * {v} + {g}")]
        else:
            back = [assignment(acc, f"{acc} + {g}"), assignment(slot, acc),
                    assignment(acc, f"{acc} * {v}")]
        forth = [assignment(slot, f"{slot} * {acc}"), assignment(acc, f"{acc} * {v}")]
        return [assignment(acc, "0.0"), along(loops[axis], n, not reverse, body=back),
                assignment(acc, "1.0"), along(loops[axis], n, reverse, body=forth)]
    return [allocate, *rows(target, ctx, x.shape, axis, inner)]


def _reduced_slot(target, ctx: Context, node: Node, loops: list[str], axis: int,
                  keepdims: bool) -> tuple[str, list[cst.BaseStatement], Statements]:
    """Where a reduction along ``axis`` stores a row's result, with what allocates it and what
    finishes it (a scalar result is a number on the host)."""
    name = ctx.names.fresh(node.name)
    ctx.text[node.id] = name
    if node.rank == 0:
        init, where, finish = target._scalar_accumulator(name, _start(node, 0), node.dtype)
        if not where:  # a number assigned once the row is done
            return name, [], finish
        return f"{name}[{', '.join(where)}]", [init], finish
    where = [("0" if keepdims else None) if k == axis else v for k, v in enumerate(loops)]
    slot = f"{name}[{', '.join(w for w in where if w is not None)}]"
    return slot, [assignment(name, target._empty(shape_text(node.shape), node.dtype))], []


def prod(target, ctx: Context, node: Node) -> Statements:
    """np.prod along one axis: a running product per row (1 for an empty row)."""
    x = ctx.graph[node.inputs[0]]
    axis = node.param("axis")
    loops = loop_vars(x.rank)
    slot, before, after = _reduced_slot(target, ctx, node, loops, axis, node.param("keepdims"))
    acc = ctx.names.fresh("_acc")
    body = [assignment(acc, _start(node, 1)),
            along(loops[axis], x.shape[axis], body=[
                assignment(acc, f"{acc} * {element_at(ctx, x, loops, x.shape)}")]),
            assignment(slot, acc)]
    return [*before, *rows(target, ctx, x.shape, axis, lambda _: body), *after]


def _first_extreme(op: str, best: str, value: str) -> str:
    """Whether ``value`` replaces ``best`` as the first maximum (minimum) so far; a NaN is the
    extreme once it appears, as in NumPy."""
    cmp = ">" if op.endswith("max") else "<"
    return f"{best} == {best} and ({value} {cmp} {best} or {value} != {value})"


def arg_extreme(target, ctx: Context, node: Node) -> Statements:
    """np.argmax and np.argmin along one axis: the index of the first extreme of each row."""
    x = ctx.graph[node.inputs[0]]
    axis = node.param("axis")
    loops = loop_vars(x.rank)
    slot, before, after = _reduced_slot(target, ctx, node, loops, axis, node.param("keepdims"))
    best, at, value = (ctx.names.fresh(n) for n in ("_best", "_at", "_value"))
    first = element_at(ctx, x, [("0" if k == axis else v) for k, v in enumerate(loops)],
                       x.shape)
    update = cst.If(test=cst.parse_expression(_first_extreme(node.op, best, value)),
                    body=cst.IndentedBlock([assignment(best, value),
                                            assignment(at, loops[axis])]))
    body = [assignment(best, first), assignment(at, "0"),
            along(loops[axis], x.shape[axis], start=1, body=[
                assignment(value, element_at(ctx, x, loops, x.shape)), update]),
            assignment(slot, at)]
    return [*before, *rows(target, ctx, x.shape, axis, lambda _: body), *after]


def running_arg_extreme(target, ctx: Context, node: Node) -> Statements:
    """The index of the first maximum (minimum) of x[:k + 1] along an axis, for every k:
    what np.maximum.accumulate (np.minimum.accumulate) picks."""
    x = ctx.graph[node.inputs[0]]
    axis = node.param("axis")
    out, allocate = _new_array(target, ctx, node)
    best, at, value = (ctx.names.fresh(n) for n in ("_best", "_at", "_value"))

    def inner(loops: list[str]) -> Statements:
        first = element_at(ctx, x, [("0" if k == axis else v) for k, v in enumerate(loops)],
                           x.shape)
        update = cst.If(test=cst.parse_expression(_first_extreme(node.op, best, value)),
                        body=cst.IndentedBlock([assignment(best, value),
                                                assignment(at, loops[axis])]))
        return [assignment(best, first), assignment(at, "0"),
                along(loops[axis], x.shape[axis], body=[
                    assignment(value, element_at(ctx, x, loops, x.shape)), update,
                    assignment(f"{out}[{', '.join(loops)}]", at)])]
    # an empty axis has no first element to start from: nothing to do
    loops = rows(target, ctx, x.shape, axis, inner)
    n = x.shape[axis]
    if isinstance(n, int) and n > 0:
        return [allocate, *loops]
    return [allocate, cst.If(test=cst.parse_expression(f"{dim_text(n)} > 0"),
                             body=cst.IndentedBlock(loops))]


def running_extreme_adjoint(target, ctx: Context, node: Node) -> Statements:
    """The adjoint of np.maximum.accumulate (minimum) read at its running argmax: counts of the
    elements tied for each running extreme, then each cotangent shared between them (summed
    backwards within each run of one extreme); ``transposed``: that map's transpose."""
    ct, x, index = (ctx.graph[i] for i in node.inputs)
    axis, transposed = node.param("axis"), node.param("transposed")
    out, allocate = _new_array(target, ctx, node)
    count, total = ctx.names.fresh("_count"), ctx.names.fresh("_total")

    def inner(loops: list[str]) -> Statements:
        k = loops[axis]
        at = element_at(ctx, index, loops, node.shape)
        extreme = element_at(ctx, x, [at if j == axis else v for j, v in enumerate(loops)],
                             node.shape)
        here, slot = element_at(ctx, x, loops, node.shape), f"{out}[{', '.join(loops)}]"
        g = element_at(ctx, ct, loops, node.shape)
        tied, starts = f"{here} == {extreme} or {at} == {k}", f"{at} == {k}"

        def when(test: str, *body: cst.BaseStatement) -> cst.If:
            return cst.If(test=cst.parse_expression(test), body=cst.IndentedBlock(list(body)))
        if transposed:
            return [along(k, node.shape[axis], body=[
                when(starts, assignment(count, "0.0"), assignment(total, "0.0")),
                when(tied, assignment(count, f"{count} + 1.0"),
                     assignment(total, f"{total} + {g}")),
                assignment(slot, f"{total} / {count}")])]
        return [assignment(count, "0.0"),
                along(k, node.shape[axis], body=[
                    when(starts, assignment(count, "0.0")),
                    when(tied, assignment(count, f"{count} + 1.0")),
                    assignment(slot, count)]),
                assignment(total, "0.0"),
                along(k, node.shape[axis], backwards=True, body=[
                    assignment(total, f"{total} + {g} / {slot}"),
                    assignment(slot, f"{total} if {tied} else 0.0"),
                    when(starts, assignment(total, "0.0"))])]
    return [allocate, *rows(target, ctx, node.shape, axis, inner)]


def argsort_rows(target, ctx: Context, node: Node) -> Statements:
    """np.argsort along an axis (stable, NaNs last), one row at a time: Numba sorts 1-D arrays."""
    x = ctx.graph[node.inputs[0]]
    axis = node.param("axis")
    if x.rank == 1:
        return target._store(ctx, node, f'np.argsort({ctx.text[x.id]}, kind="mergesort")')
    out, allocate = _new_array(target, ctx, node)

    def inner(loops: list[str]) -> Statements:
        index = ", ".join(":" if k == axis else v for k, v in enumerate(loops))
        return [assignment(f"{out}[{index}]",
                           f'np.argsort({ctx.text[x.id]}[{index}], kind="mergesort")')]
    return [allocate, *rows(target, ctx, x.shape, axis, inner)]


def argsort_ranks(target, ctx: Context, node: Node) -> Statements:
    """np.argsort along an axis with one thread per element: an element's place is the number
    of elements of its row that sort before it (smaller, a NaN after every number, equal ones
    in their order), which is a stable sort."""
    x = ctx.graph[node.inputs[0]]
    axis = node.param("axis")
    out, allocate = _new_array(target, ctx, node)
    value, other, place, j = (ctx.names.fresh(n) for n in ("_value", "_other", "_place", "_j"))
    loops = loop_vars(x.rank)
    before = (f"{other} < {value} or ({value} != {value} and {other} == {other}) or "
              f"(({other} == {value} or ({other} != {other} and {value} != {value})) and "
              f"{j} < {loops[axis]})")
    count = cst.If(test=cst.parse_expression(before),
                   body=cst.IndentedBlock([assignment(place, f"{place} + 1")]))
    at = [place if k == axis else v for k, v in enumerate(loops)]
    body = [assignment(value, element_at(ctx, x, loops, x.shape)), assignment(place, "0"),
            along(j, x.shape[axis], body=[
                assignment(other, element_at(ctx, x, [j if k == axis else v
                                                      for k, v in enumerate(loops)], x.shape)),
                count]),
            assignment(f"{out}[{', '.join(at)}]", loops[axis])]
    return [allocate, *target._loops(ctx, loops, x.shape, body)]


ROW_WRITERS: dict[str, Callable[..., Statements]] = {
    "cumsum": scan, "cumprod": scan, "cumprod_adjoint": cumprod_adjoint, "prod": prod,
    "argmax": arg_extreme, "argmin": arg_extreme,
    "running_argmax": running_arg_extreme, "running_argmin": running_arg_extreme,
    "running_extreme_adjoint": running_extreme_adjoint,
}
