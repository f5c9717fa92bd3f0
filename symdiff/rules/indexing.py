"""Indexing: basic slicing, integer-array gathers, take_along_axis, and their scatter adjoints.

A static index is a tuple whose items are ``int``, ``None`` (new axis),
``("slice", start, stop, step)``, ``("size", expr)`` for an index known at run time such as
``x.shape[0] - 1``, or ``("array", k)`` for the k-th index-array input. Ellipsis is
expanded by the frontend. The adjoint of reading ``x[index]`` adds the cotangent into zeros
shaped like ``x`` at ``index`` (accumulating, for gathers that may repeat).
"""

from __future__ import annotations

from typing import Any

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, lookup, register
from symdiff.ir.shapes import (
    Dim,
    ShapeError,
    broadcast_shapes,
    dim_text,
    index_in_range,
    same_shape,
    slice_length,
)
from symdiff.rules.broadcasting import unbroadcast


def is_array_index(item: Any) -> bool:
    """``("array", k)``: the k-th integer-array input indexes this axis."""
    return isinstance(item, tuple) and item[0] == "array"


def _is_integer(item) -> bool:
    return isinstance(item, int) or isinstance(item, tuple) and item[0] == "size"


def index_shape(x: Node, index: tuple, arrays: list[Node]) -> tuple[Dim, ...]:
    """NumPy's result shape for ``x[index]``."""
    advanced = any(is_array_index(i) for i in index)
    consumed = sum(1 for i in index if i is not None)
    if consumed > x.rank:
        raise ShapeError(f"too many indices for an array of rank {x.rank}")
    adv_pos = [p for p, i in enumerate(index) if is_array_index(i) or (advanced and _is_integer(i))]
    adv_shape = broadcast_shapes(*(a.shape for a in arrays)) if advanced else ()
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1)) if adv_pos else True
    out: list[Dim] = [] if adjacent else list(adv_shape)
    axis = 0
    for p, item in enumerate(index):
        if item is None:
            out.append(1)
            continue
        d = x.shape[axis]
        axis += 1
        if p in adv_pos:
            if adjacent and p == adv_pos[0]:
                out.extend(adv_shape)
        elif _is_integer(item):
            position = item if isinstance(item, int) else item[1]
            if isinstance(position, int) and isinstance(d, int) and not -d <= position < d:
                raise ShapeError(f"index {position} is out of bounds for an axis of size {d}")
            index_in_range(d, position)
        else:
            out.append(slice_length(d, *item[1:]))
    return tuple(out) + x.shape[axis:]


def index_text(index: tuple, arrays: list[str]) -> str:
    parts = []
    for item in index:
        if item is None:
            parts.append("None")
        elif isinstance(item, int):
            parts.append(str(item))
        elif is_array_index(item):
            parts.append(arrays[item[1]])
        elif item[0] == "size":
            parts.append(dim_text(item[1]))
        else:
            start, stop, step = ("" if b is None else dim_text(b) for b in item[1:])
            text = f"{start}:{stop}"
            parts.append(text + (f":{step}" if step else ""))
    return ", ".join(parts) if parts else "()"


def _getitem_infer(inputs: list[Node], params: dict) -> tuple:
    return index_shape(inputs[0], params["index"], inputs[1:]), inputs[0].dtype


def shape_witness(g: Graph, x: Node) -> Node:
    """A value of ``x``'s shape and dtype that the code computes anyway, for an adjoint that
    reads only those of ``x`` (the zeros it adds into): ``x`` where it is an argument or an
    array operation's result, else the first such value that elementwise steps keeping its
    shape compute it from. The gradient of ``-log_probs[rows, labels]`` then need not compute
    ``log_probs``, which only its shape was read of."""
    while lookup(x.op).elementwise and x.op not in ("const", "fill"):
        same = [a for a in g.args(x) if same_shape(a.shape, x.shape) and a.dtype == x.dtype]
        if not same:
            break
        x = same[0]
    return x


def _getitem_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    x, *arrays = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    adjoint = g.add("scatter", [ct, shape_witness(g, x), *arrays],
                    make_params(index=node.param("index")))
    return [adjoint] + [None] * len(arrays)


def _getitem_emit(a: list[str], node: Node) -> str:
    return f"{a[0]}[{index_text(node.param('index'), a[1:])}]"


register(Primitive("getitem", _getitem_infer, vjp=_getitem_vjp, emit=_getitem_emit))


def _scatter_infer(inputs: list[Node], params: dict) -> tuple:
    return inputs[1].shape, inputs[0].dtype


def _scatter_emit(a: list[str], node: Node) -> str:
    index = node.param("index")
    helper = "_scatter_add" if any(is_array_index(i) for i in index) else "_index_adjoint"
    return f"{helper}({a[0]}, {a[1]}, np.s_[{index_text(index, a[2:])}])"


def _scatter_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Adding into zeros at ``index`` is linear in what is added: its adjoint reads there."""
    ct = unbroadcast(g, ct, node.shape, exact=True)
    read = g.add("getitem", [ct, *g.args(node)[2:]], make_params(index=node.param("index")))
    return [read] + [None] * (len(node.inputs) - 1)


register(Primitive("scatter", _scatter_infer, emit=_scatter_emit,
                   helpers=("_index_adjoint", "_scatter_add"), vjp=_scatter_vjp))


def _take_infer(inputs: list[Node], params: dict) -> tuple:
    x, idx = inputs
    axis = params["axis"]
    if x.rank != idx.rank:
        raise ShapeError("take_along_axis needs indices of the same rank as the array")
    shape = tuple(idx.shape[i] if i == axis else broadcast_shapes((x.shape[i],), (idx.shape[i],))[0]
                  for i in range(x.rank))
    return shape, x.dtype


def _take_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    x, idx = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [g.add("take_along_axis_adjoint", [ct, shape_witness(g, x), idx], node.params), None]


register(Primitive(
    "take_along_axis", _take_infer, vjp=_take_vjp,
    emit=lambda a, node: f"np.take_along_axis({a[0]}, {a[1]}, axis={node.param('axis')})"))
def _take_adjoint_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Adding into zeros at ``idx`` is linear in what is added: its adjoint reads at ``idx``."""
    _, x, idx = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [g.add("take_along_axis", [ct, idx], node.params), None, None]


register(Primitive(
    "take_along_axis_adjoint", lambda inputs, params: (inputs[1].shape, inputs[0].dtype),
    vjp=_take_adjoint_vjp, helpers=("_take_along_axis_adjoint",),
    emit=lambda a, node: f"_take_along_axis_adjoint({a[0]}, {a[1]}, {a[2]}, "
                         f"{node.param('axis')})"))


def _arange_infer(inputs: list[Node], params: dict) -> tuple:
    return (params["stop"],), "int64"


register(Primitive("arange", _arange_infer, differentiable=False,
                   emit=lambda a, node: f"np.arange({dim_text(node.param('stop'))})"))
