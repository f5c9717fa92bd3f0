"""Reverse mode on the IR: the backward pass is appended to the same graph.

Contract: ``backward(graph, output, wrt)`` appends nodes computing d output / d w for each ``w``
in ``wrt`` and returns them, each with the shape and dtype of its ``w``. Cotangents flow from
the output in reverse topological order; each primitive's ``vjp`` gives the contributions to its
inputs, which ``unbroadcast`` sums to the inputs' shapes. Only nodes on a path from ``wrt`` to
the output are visited. The total adjoint of a named value ``v`` is named ``bv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node
from symdiff.rules import primitive
from symdiff.rules.broadcasting import cotangent_like, unbroadcast
from symdiff.rules.loops import loop_vjp


def active_nodes(graph: Graph, wrt: list[Node]) -> list[bool]:
    """Which nodes depend on some ``wrt`` through differentiable primitives."""
    active = [False] * len(graph.nodes)
    for w in wrt:
        active[w.id] = True
    for n in graph.nodes:
        if not active[n.id] and primitive(n.op).differentiable and (n.is_float or
                                                                    n.op == "loop"):
            active[n.id] = any(active[i] for i in n.inputs)
    return active


@dataclass
class Record:
    """What a backward pass built, for tools that show the chain rule at work."""

    totals: dict[int, Node] = field(default_factory=dict)  # forward node -> its adjoint
    # (consumer, input, contribution): what the consumer's rule passed to that input
    contributions: list[tuple[int, int, Node]] = field(default_factory=list)


def backward(graph: Graph, output: Node, wrt: list[Node],
             cotangent: Node | None = None, record: Record | None = None) -> list[Node]:
    n_forward = len(graph.nodes)
    active = active_nodes(graph, wrt)
    saved_origin, graph.adjoint, graph.wanted = graph.origin, True, active
    cts: dict[int, list[Node]] = {output.id: [cotangent or const(graph, 1.0)]}
    totals: dict[int, Node] = {}
    # a loop's results are projections of it: their cotangents wait for the loop node
    results: dict[int, dict[int, Node]] = {}
    for node in reversed(graph.nodes[:n_forward]):
        if node.op == "loop":
            if node.id in results and active[node.id]:
                graph.origin = node.origin
                from_loop = loop_vjp(graph, node, results.pop(node.id))
                _send(graph, node, from_loop, None, active, cts, record)
            continue
        contributions = cts.pop(node.id, None)
        if contributions is None or not active[node.id]:
            continue
        graph.origin = node.origin
        ct = contributions[0]
        for c in contributions[1:]:
            ct = graph.add("add", [ct, c])
        if node.name and ct.adjoint and ct.name is None:
            ct = graph.rename(ct, "b" + node.name)
        totals[node.id] = ct
        if node.op == "loop_out":
            results.setdefault(node.inputs[0], {})[node.param("index")] = ct
            continue
        prim = primitive(node.op)
        if prim.vjp is None:
            continue
        # an elementwise node's contributions stand for arrays of the node's shape
        logical = node.shape if prim.elementwise else None
        _send(graph, node, prim.vjp(graph, node, ct), logical, active, cts, record)
    if record is not None:
        record.totals.update(totals)
    grads = []
    for w in wrt:
        graph.origin = None
        grads.append(cotangent_like(graph, totals.get(w.id), w))
    graph.origin, graph.adjoint, graph.wanted = saved_origin, False, None
    return grads


def _send(graph: Graph, node: Node, contributions: Sequence[Node | None], logical: Any,
          active: list[bool], cts: dict[int, list[Node]], record: Record | None) -> None:
    """Pass a rule's contributions to the node's inputs, summed to their shapes."""
    for i, c in zip(node.inputs, contributions, strict=True):
        if c is not None and active[i]:
            c = unbroadcast(graph, c, graph[i].shape, logical=logical)
            cts.setdefault(i, []).append(c)
            if record is not None:
                record.contributions.append((node.id, i, c))
