"""From a cotangent to the shape of its node.

Cotangents in the backward pass may be *broadcastable* to their node's shape rather than equal
to it (the adjoint of ``mean`` is a scalar that broadcasts). ``unbroadcast`` is the one place
that turns a cotangent into the shape of its node: summing over broadcast axes, and only when
``exact`` is asked for, materialising a broadcast.
"""

from __future__ import annotations

from symdiff.ir.build import dim_node
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import Dim, Shape, broadcast_shapes, canon, dim_product, same_shape
from symdiff.rules.reductions import reduce


def cotangent_like(graph: Graph, ct: Node | None, value: Node) -> Node:
    """``ct`` as an array of exactly ``value``'s shape and dtype; zeros where no cotangent
    reached it (``None``)."""
    if ct is None:
        ct = graph.add("fill", [value], make_params(value=0.0))
    ct = unbroadcast(graph, ct, value.shape, exact=True)
    if ct.dtype != value.dtype:
        ct = graph.add("astype", [ct], make_params(dtype=value.dtype))
    return ct


def unbroadcast(graph: Graph, ct: Node, shape: Shape, exact: bool = False,
                logical: Shape | None = None) -> Node:
    """Sum ``ct`` down to ``shape`` over the axes broadcasting added or stretched.

    ``ct`` may be smaller than the value it stands for (a scalar cotangent of a whole array):
    ``logical`` is that value's shape. Along an axis where ``shape`` is 1 but ``logical`` is
    not, ``ct`` is summed if it varies there, and multiplied by the axis' size if it does not.
    """
    full = broadcast_shapes(ct.shape, shape, *([logical] if logical is not None else []))
    rank = len(full)

    def at(s: Shape, axis: int) -> Dim | None:
        k = axis - (rank - len(s))
        return s[k] if k >= 0 else None

    lead, stretched, repeats = [], [], []
    for axis in range(rank):
        target, size, have = at(shape, axis), canon(full[axis]), at(ct.shape, axis)
        if (target is not None and canon(target) != 1) or size == 1:
            continue
        if have is not None and canon(have) != 1:
            (lead if target is None else stretched).append(axis - (rank - ct.rank))
        else:
            repeats.append(full[axis])
    if lead:
        ct = reduce(graph, "sum", ct, tuple(lead), keepdims=False)
        stretched = [a - len(lead) for a in stretched]
    if stretched:
        ct = reduce(graph, "sum", ct, tuple(stretched), keepdims=True)
    if repeats:
        ct = graph.add("mul", [ct, dim_node(graph, dim_product(repeats))])
    if ct.rank > len(shape):  # leading axes of size 1, dropped (the rest may still broadcast)
        ct = graph.add("reshape", [ct], make_params(shape=ct.shape[ct.rank - len(shape):]))
    if exact and not same_shape(ct.shape, shape):
        ct = graph.add("broadcast_to", [ct], make_params(shape=shape))
    return ct
