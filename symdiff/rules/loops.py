"""Loops in the generated code (``symdiff.ir.loop``) and their adjoint: a reverse loop.

The adjoint of a loop is a loop over the same iterations in reverse order. Its body recomputes
one forward iteration from the carried values at that iteration's start, which the forward
loop keeps on a *tape* (only those the backward iteration reads), and runs reverse mode on it:
the cotangents of the carried values are its carried values, and the cotangents of the values
the loop captured accumulate as carried values too. The memory is one copy of the carried
state per iteration; what an iteration computes in between is computed again, once.
"""

from __future__ import annotations

from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.loop import Body, add_loop, body_input, copy_node, loop_inputs, loop_out
from symdiff.ir.primitives import Primitive, register


def _no_infer(inputs: list[Node], params: dict) -> tuple:
    raise TypeError("loop nodes are created with their shapes")


def _again() -> None:
    raise UnsupportedError("differentiating the backward pass of a loop that runs in the "
                           "generated code again is not supported yet")


register(Primitive("loop", _no_infer, pure=False))
register(Primitive("loop_out", _no_infer))
register(Primitive("loop_count", _no_infer, differentiable=False))
register(Primitive("loop_tape", _no_infer, differentiable=False))
# the tape is no function of what is differentiated: a reverse loop is differentiated by
# nothing (see _reverse_body), and a tape read only stands for the value it reads
register(Primitive("tape_read", _no_infer, vjp=lambda graph, node, ct: [None, None]))
# the counter and carried values while a body is traced, before it becomes a Body
register(Primitive("loop_var", _no_infer, pure=False))


def _active_carried(body: Body, init_active: list[bool], captured_active: list[bool]
                    ) -> list[bool]:
    """Which carried values depend on differentiated inputs in some iteration: those that do
    at the start, and those an iteration computes from active values (to a fixed point)."""
    from symdiff.ad.reverse import active_nodes

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
    from symdiff.ad.reverse import active_nodes

    outputs = [o for o, a in zip(body.outputs, active, strict=True) if a]
    return [a and any(active_nodes(body.graph, [c])[o] for o in outputs)
            for c, a in zip(body.captured_inputs(), captured_active, strict=True)]


def _reverse_body(body: Body, active: list[bool], captured_active: list[bool]
                  ) -> tuple[Body, tuple[int, ...]]:
    """The body of the reverse loop, and which carried values it reads from the tape.

    Inputs: the counter; the cotangents of the active carried values, then the accumulated
    cotangents of the active captured values; the tape and the forward loop's captured values.
    """
    from symdiff.ad.nested import inner_product
    from symdiff.ad.reverse import backward

    forward = body.graph
    if any(n.op == "tape_read" for n in forward.nodes):
        _again()
    carried, captured = body.carried_inputs(), body.captured_inputs()
    graph = Graph(read=forward.read)
    counter = body_input(graph, body.counter_input())
    cts = [body_input(graph, c, _adjoint_name(n))
           for c, n, a in zip(carried, body.names, active, strict=True) if a]
    sums = [body_input(graph, c, _adjoint_name(c.name))
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


def _adjoint_name(name: str | None) -> str | None:
    return None if name is None else "b" + name


def loop_vjp(graph: Graph, loop: Node, cts: dict[int, Node]) -> list[Node | None]:
    """The cotangents of a loop's inputs from those of its results (``cts``: carried index ->
    cotangent of its final value); one per input of the loop node."""
    from symdiff.rules.broadcasting import cotangent_like

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
