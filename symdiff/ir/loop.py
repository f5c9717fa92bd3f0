"""Loops that run in the generated code: a ``loop`` node whose body is a graph.

A loop carries K values from one iteration to the next. Its :class:`Body` is a graph whose
inputs are, in order, the iteration counter (int64: 0, 1, ...), the K carried values at the
start of an iteration and the values it reads from outside the loop (*captured*); its outputs
are the K carried values at the end of the iteration.

The ``loop`` node's inputs are the K initial values and the captured values, after the number
of iterations when a node computes it (a reverse loop runs as many as its forward loop did);
a ``for`` loop's count is a size known on entry, its ``count`` parameter. It runs::

    k = 0
    while (k < count if bounded) and (carried[flag] if flag is not None):
        carried = body(k, *carried, *captured)
        k += 1

or, ``reverse``, with ``k`` going from ``count - 1`` down to 0 (the backward pass's loops).
Its results are read through projection nodes: ``loop_out`` (a carried value at the end),
``loop_count`` (the iterations run) and ``loop_tape`` (the carried values at the start of each
iteration, kept for the reverse loop, which reads them with ``tape_read``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import lookup
from symdiff.ir.shapes import Dim

LOOP_OPS = ("loop", "loop_out", "loop_count", "loop_tape", "tape_read")


@dataclass(frozen=True, eq=False)  # each body is its own: compared by identity
class Body:
    graph: Graph
    outputs: tuple[int, ...]  # the carried values at the end of an iteration
    names: tuple[str | None, ...]  # the carried values' source names
    counter: str | None = None  # the source's name for the counter, when it is the counter

    @property
    def carried(self) -> int:
        return len(self.outputs)

    def counter_input(self) -> Node:
        return self.graph[self.graph.inputs[0]]

    def carried_inputs(self) -> list[Node]:
        return [self.graph[i] for i in self.graph.inputs[1:1 + self.carried]]

    def captured_inputs(self) -> list[Node]:
        return [self.graph[i] for i in self.graph.inputs[1 + self.carried:]]


@dataclass(frozen=True)
class LoopInputs:
    count: Dim | Node | None  # None: a while loop
    init: list[Node]
    captured: list[Node]


def loop_inputs(graph: Graph, loop: Node) -> LoopInputs:
    body: Body = loop.param("body")
    inputs = graph.args(loop)
    count = inputs.pop(0) if loop.param("counted_by_input") else loop.param("count")
    return LoopInputs(count, inputs[:body.carried], inputs[body.carried:])


def add_loop(graph: Graph, body: Body, count: Dim | Node | None, init: list[Node],
             captured: list[Node], flag: int | None = None, reverse: bool = False) -> Node:
    by_input = isinstance(count, Node)
    inputs = ([count] if by_input else []) + init + captured
    params = make_params(body=body, count=None if by_input else count,
                         counted_by_input=by_input, flag=flag, reverse=reverse)
    return graph.add_raw("loop", tuple(n.id for n in inputs), params, (), "loop", intern=False)


def loop_out(graph: Graph, loop: Node, index: int) -> Node:
    body: Body = loop.param("body")
    carried = body.carried_inputs()[index]
    return graph.add_raw("loop_out", (loop.id,), make_params(index=index), carried.shape,
                         carried.dtype, name=body.names[index])


def body_input(graph: Graph, like: Node, name: str | None = None) -> Node:
    """A new input of a body graph with the shape and dtype of ``like``."""
    name = name or like.name
    node = graph.add_raw("input", (), make_params(index=len(graph.inputs), name=name),
                         like.shape, like.dtype, name=name, intern=False)
    graph.inputs.append(node.id)
    return node


def copy_node(graph: Graph, node: Node, inputs: tuple[int, ...]) -> Node:
    return graph.add_raw(node.op, inputs, node.params, node.shape, node.dtype, node.name,
                         intern=lookup(node.op).pure, origin=node.origin,
                         adjoint=node.adjoint)


_LEAVES = ("const", "dim")  # copied into a body rather than captured


def cut_body(graph: Graph, first: int, inputs: list[Node], outputs: list[Node],
             names: tuple[str | None, ...], counter: str | None) -> tuple[Body, list[Node]]:
    """The body of a loop traced onto ``graph``: ``inputs`` (the counter and the carried
    values, placeholder nodes made at or after node ``first``) and what depends on them,
    up to ``outputs``. Returns the body and the outer nodes it captures. What the iteration
    computes without reading them stays outside, computed once before the loop."""
    inner = {n.id for n in inputs}
    for n in graph.nodes[first:]:
        if n.id not in inner and any(i in inner for i in n.inputs):
            inner.add(n.id)
    body = Graph(read=graph.read)
    mapping = {p.id: body_input(body, p) for p in inputs}
    captured: list[Node] = []

    def inside(i: int) -> Node:
        if i not in mapping:
            n = graph[i]
            if n.op in _LEAVES:
                mapping[i] = copy_node(body, n, ())
            else:
                mapping[i] = body_input(body, n)
                captured.append(n)
        return mapping[i]

    live = graph.reachable([o.id for o in outputs])
    for n in graph.nodes[first:]:
        if n.id in inner and live[n.id] and n.id not in mapping:
            mapping[n.id] = copy_node(body, n, tuple(inside(i).id for i in n.inputs))
    result = tuple(inside(o.id).id for o in outputs)
    return Body(body, result, names, counter), captured


def with_body(node: Node, body: Body) -> tuple:
    return tuple((k, body if k == "body" else v) for k, v in node.params)


def map_body(body: Body, transform) -> Body:
    """The body with its graph replaced by ``transform(graph, outputs) -> (graph, outputs)``."""
    graph, outputs = transform(body.graph, list(body.outputs))
    return replace(body, graph=graph, outputs=tuple(outputs))
