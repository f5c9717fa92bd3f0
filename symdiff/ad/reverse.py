"""Reverse mode on the IR: the backward pass is appended to the same graph.

Contract: ``backward(graph, output, wrt)`` appends nodes computing d output / d w for each ``w``
in ``wrt`` and returns them, each with the shape and dtype of its ``w``. Cotangents flow from
the output in reverse topological order; each primitive's ``vjp`` gives the contributions to its
inputs, which ``unbroadcast`` sums to the inputs' shapes. Only nodes on a path from ``wrt`` to
the output are visited. The total adjoint of a named value ``v`` is named ``bv``.

The adjoint of a loop node (``symdiff.ir.loop``) is a loop over the same iterations in reverse
order. Its body recomputes one forward iteration from the carried values at that iteration's
start, which the forward loop keeps on a *tape* (only those the backward iteration reads), and
runs reverse mode on it: the cotangents of the carried values are its carried values, and the
cotangents of the values the loop captured accumulate as carried values too. The memory is one
copy of the carried state per iteration; what an iteration computes in between is computed
again, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symdiff.errors import UnsupportedError
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node, adjoint_name, make_params
from symdiff.ir.loop import Body, add_loop, body_input, copy_node, loop_inputs, loop_out
from symdiff.rules import primitive
from symdiff.rules.broadcasting import cotangent_like, unbroadcast
from symdiff.rules.reductions import reduce


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
            ct = graph.rename(ct, adjoint_name(node.name))
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


def inner_product(graph: Graph, pairs: list[tuple[Node, Node]]) -> Node:
    """sum over pairs of sum(a * b): the scalar whose gradient is a vector-Jacobian product."""
    total: Node | None = None
    for a, b in pairs:
        product = graph.add("mul", [a, b])
        term = reduce(graph, "sum", product, None) if product.rank else product
        total = term if total is None else graph.add("add", [total, term])
    return total if total is not None else const(graph, 0.0)


# -- the adjoint of a loop: a reverse loop ----------------------------------------------------

def _active_carried(body: Body, init_active: list[bool], captured_active: list[bool]
                    ) -> list[bool]:
    """Which carried values depend on differentiated inputs in some iteration: those that do
    at the start, and those an iteration computes from active values (to a fixed point)."""
    carried, captured = body.carried_inputs(), body.captured_inputs()
    active = [a and c.is_float for a, c in zip(init_active, carried, strict=True)]
    while True:
        wrt = [c for c, a in zip(carried, active, strict=True) if a] + \
              [c for c, a in zip(captured, captured_active, strict=True) if a]
        marks = active_nodes(body.graph, wrt)
        grown = [a or (marks[o] and c.is_float)
                 for a, o, c in zip(active, body.outputs, carried, strict=True)]
        if grown == active:
            return active
        active = grown


def _reaching(body: Body, active: list[bool], captured_active: list[bool]) -> list[bool]:
    """Which captured values an active carried value is computed from by differentiable
    steps (a tolerance read only by the loop's condition gets no cotangent)."""
    outputs = [o for o, a in zip(body.outputs, active, strict=True) if a]
    return [a and any(active_nodes(body.graph, [c])[o] for o in outputs)
            for c, a in zip(body.captured_inputs(), captured_active, strict=True)]


def _reverse_body(body: Body, active: list[bool], captured_active: list[bool]
                  ) -> tuple[Body, tuple[int, ...]]:
    """The body of the reverse loop, and which carried values it reads from the tape.

    Inputs: the counter; the cotangents of the active carried values, then the accumulated
    cotangents of the active captured values; the tape and the forward loop's captured values.
    """
    forward = body.graph
    if any(n.op == "tape_read" for n in forward.nodes):
        raise UnsupportedError("differentiating the backward pass of a loop that runs in the "
                               "generated code again is not supported yet")
    carried, captured = body.carried_inputs(), body.captured_inputs()
    graph = Graph(read=forward.read)
    counter = body_input(graph, body.counter_input())
    cts = [body_input(graph, c, adjoint_name(n))
           for c, n, a in zip(carried, body.names, active, strict=True) if a]
    sums = [body_input(graph, c, adjoint_name(c.name))
            for c, a in zip(captured, captured_active, strict=True) if a]
    tape = graph.add_raw("input", (), make_params(index=len(graph.inputs), name="tape"), (),
                         "tape", intern=False)
    graph.inputs.append(tape.id)
    mapping = {body.counter_input().id: counter}
    for j, c in enumerate(carried):
        mapping[c.id] = graph.add_raw("tape_read", (tape.id, counter.id), make_params(index=j),
                                      c.shape, c.dtype, name=c.name)
    for c in captured:
        mapping[c.id] = body_input(graph, c)
    for n in forward.nodes:
        if n.id not in mapping:
            mapping[n.id] = copy_node(graph, n, tuple(mapping[i].id for i in n.inputs))
    outputs = [mapping[o] for o, a in zip(body.outputs, active, strict=True) if a]
    wrt = [mapping[c.id] for c, a in zip(carried, active, strict=True) if a] + \
          [mapping[c.id] for c, a in zip(captured, captured_active, strict=True) if a]
    grads = backward(graph, inner_product(graph, list(zip(outputs, cts, strict=True))), wrt)
    new_cts = grads[:len(cts)]
    new_sums = [graph.add("add", [s, g]) for s, g in zip(sums, grads[len(cts):], strict=True)]
    results = [n.id for n in new_cts + new_sums]
    live = graph.reachable(results)
    saved = tuple(j for j, c in enumerate(carried) if live[mapping[c.id].id])
    names = tuple(n.name for n in cts + sums)
    return Body(graph, tuple(results), names, body.counter), saved


def loop_vjp(graph: Graph, loop: Node, cts: dict[int, Node]) -> list[Node | None]:
    """The cotangents of a loop's inputs from those of its results (``cts``: carried index ->
    cotangent of its final value); one per input of the loop node."""
    body: Body = loop.param("body")
    inputs = loop_inputs(graph, loop)
    wanted = graph.wanted or [True] * len(graph.nodes)
    captured_active = [wanted[c.id] and c.is_float for c in inputs.captured]
    active = _active_carried(body, [wanted[i.id] for i in inputs.init], captured_active)
    captured_active = _reaching(body, active, captured_active)
    if not any(active) and not any(captured_active):
        return [None] * len(loop.inputs)
    reverse, saved = _reverse_body(body, active, captured_active)

    starts = [cotangent_like(graph, cts.get(j), init)
              for j, init in enumerate(inputs.init) if active[j]]
    starts += [cotangent_like(graph, None, c)
               for c, a in zip(inputs.captured, captured_active, strict=True) if a]
    tape = graph.add_raw("loop_tape", (loop.id,), make_params(saved=saved), (), "tape")
    count = inputs.count
    if count is None or isinstance(count, Node) or loop.param("flag") is not None:
        count = graph.add_raw("loop_count", (loop.id,), (), (), "int64")
    back = add_loop(graph, reverse, count, starts, [tape, *inputs.captured], reverse=True)
    results = iter(loop_out(graph, back, k) for k in range(reverse.carried))
    init_cts = [next(results) if a else None for a in active]
    captured_cts = [next(results) if a else None for a in captured_active]
    return ([None] if loop.param("counted_by_input") else []) + init_cts + captured_cts
