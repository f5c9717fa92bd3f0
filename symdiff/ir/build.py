"""Small constructors for nodes that the frontend and the rules both need."""

from __future__ import annotations

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import Dim


def const(graph: Graph, value: float | int | bool) -> Node:
    return graph.add("const", [], make_params(value=value))


def dim_node(graph: Graph, d: Dim) -> Node:
    """A size as a value: a constant when known, else the expression over argument shapes."""
    if isinstance(d, int):
        return const(graph, d)
    return graph.add("dim", [], make_params(expr=d))
