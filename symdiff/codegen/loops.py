"""Writing loop nodes (``symdiff.ir.loop``) as ``for`` and ``while`` statements.

One function serves every target: the body graph is written by the target's own ``assign``,
so a NumPy loop body holds NumPy expressions and a Numba loop body holds Numba's loops. The
carried values keep one name through the loop (the source's), the counter is the source's loop
variable where it is one, and a forward loop whose tape the backward pass reads stores the
carried values it needs at the start of each iteration: in an array of one row per iteration
when the number of iterations is known on entry, else in a list.
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

from symdiff.codegen.emitter import Context, assignment, emit_nodes, operand
from symdiff.ir.graph import Node
from symdiff.ir.loop import Body, loop_inputs
from symdiff.ir.shapes import dim_text


def write_loop(target: Any, ctx: Context, loop: Node) -> list[cst.BaseStatement]:
    """The loop's statements: its carried values' first values, its tape, the loop itself."""
    body: Body = loop.param("body")
    inputs = loop_inputs(ctx.graph, loop)
    results = {ctx.graph[u].op: ctx.graph[u] for u in ctx.users[loop.id]
               if ctx.graph[u].op != "loop_out"}
    outs = {ctx.graph[u].param("index"): u for u in ctx.users[loop.id]
            if ctx.graph[u].op == "loop_out"}
    before: list[cst.BaseStatement] = []

    carried = []
    for j, init in enumerate(inputs.init):
        text = ctx.text[init.id]
        if text == body.names[j] and _last_use(ctx, init.id, loop) and \
                not _read_elsewhere(ctx, text, init.id, loop) and text not in carried:
            name = text  # the variable itself, not needed after the loop starts
            ctx.names.reassigned(name)
        else:
            name = ctx.names.fresh(body.names[j] or "_carry")
            before.append(assignment(name, text))
        carried.append(name)
    for j, u in outs.items():
        ctx.text[u] = carried[j]

    flag = loop.param("flag")
    bounded = inputs.count is not None
    # ``_`` names a counter the source does not read; a second loop over it gets a name
    hint = body.counter if body.counter != "_" or "_" not in ctx.names.taken else None
    counter = ctx.names.fresh(hint or "_k")
    count = ctx.text[inputs.count.id] if isinstance(inputs.count, Node) else \
        None if inputs.count is None else dim_text(inputs.count)
    steps = count  # the iterations run, counted as they run when the loop can stop early
    if not bounded:
        steps = counter
    elif flag is not None:
        steps = ctx.names.fresh("_steps")
    if steps != count:
        before.append(assignment(steps, "0"))
    if "loop_count" in results:
        ctx.text[results["loop_count"].id] = steps

    head: list[cst.BaseStatement] = []
    tape = results.get("loop_tape")
    if tape is not None:
        key = ctx.names.fresh("_tape")
        ctx.text[tape.id] = key
        arrays = {}
        for j in tape.param("saved"):
            like = body.carried_inputs()[j]
            array = ctx.names.fresh(f"_tape_{body.names[j] or j}")
            arrays[j] = array
            if bounded:
                shape = f"({', '.join([count, *(dim_text(d) for d in like.shape)])})" \
                    if like.shape else count
                before.append(assignment(array, target.empty(shape, like.dtype)))
                head.append(assignment(f"{array}[{counter}]", carried[j]))
            else:
                before.append(assignment(array, "[" + "]"))
                head.append(_call_statement(f"{array}.append({carried[j]})"))
        ctx.tapes[key] = arrays

    inner = Context(body.graph, {}, ctx.names.loop_body(), ctx.helpers, body.graph.consumers(),
                    set(body.outputs), tapes=ctx.tapes)
    inner.text[body.counter_input().id] = counter
    for node, name in zip(body.carried_inputs(), carried, strict=True):
        inner.text[node.id] = name
    for node, outer in zip(body.captured_inputs(), inputs.captured, strict=True):
        inner.text[node.id] = operand(ctx.text[outer.id])
    statements = head + emit_nodes(inner, target, in_loop=True)
    updates = [(name, inner.text[o]) for name, o in zip(carried, body.outputs, strict=True)
               if inner.text[o] != name]
    updates = _computed_in_place(statements, updates)
    if updates:
        statements.append(_assign_all(updates))
    if steps != count:
        statements.append(_call_statement(f"{steps} += 1"))

    if loop.param("reverse"):
        last = int(count) - 1 if count.isdigit() else f"{count} - 1"
        header = f"range({last}, -1, -1)"
    else:
        header = f"range({count})" if bounded else None
    if bounded and flag is not None:
        statements.insert(0, cst.parse_statement(f"if not {carried[flag]}:\n    break\n"))
    block = cst.IndentedBlock(statements or [cst.SimpleStatementLine([cst.Pass()])])
    if header is not None:
        statement: cst.BaseStatement = cst.For(target=cst.Name(counter),
                                               iter=cst.parse_expression(header), body=block)
    else:
        statement = cst.While(test=cst.parse_expression(carried[flag]), body=block)
    return before + [statement]


def _computed_in_place(statements: list[cst.BaseStatement], updates: list[tuple[str, str]]
                       ) -> list[tuple[str, str]]:
    """Write ``x = f(x)`` rather than ``x_1 = f(x)`` and ``x = x_1`` where nothing after that
    statement reads ``x`` or ``x_1``; returns the updates still to make."""
    remaining = []
    for k, (name, value) in enumerate(updates):
        # names the other updates read: a view written inline (``x.T``) reads ``x``
        others = {n for i, (_, v) in enumerate(updates) if i != k for n in _identifiers(v)}
        at = next((i for i, s in enumerate(statements) if _assigns(s) == value), None)
        if at is None or name in others or value in others or \
                _names_read(statements[at + 1:]) & {name, value}:
            remaining.append((name, value))
            continue
        assign = statements[at].body[0]
        statements[at] = statements[at].with_changes(body=[assign.with_changes(
            targets=[cst.AssignTarget(cst.Name(name))])])
    return remaining


def _assigns(statement: cst.BaseStatement) -> str | None:
    """The name a ``name = value`` statement assigns."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and \
            isinstance(assign := statement.body[0], cst.Assign) and len(assign.targets) == 1 \
            and isinstance(assign.targets[0].target, cst.Name):
        return assign.targets[0].target.value
    return None


def _names_read(statements: list[cst.BaseStatement]) -> set[str]:
    found: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    for statement in statements:
        statement.visit(Names())
    return found


def _identifiers(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", text))


def _read_elsewhere(ctx: Context, name: str, node_id: int, loop: Node) -> bool:
    """Whether a value other than ``node_id`` is spelled with ``name`` (a view written inline,
    ``x.T``) and read by ``loop`` or after it: the loop must not rebind ``name`` then."""
    return any(other != node_id and name in _identifiers(text) and
               (other in ctx.outputs or any(u >= loop.id for u in ctx.users.get(other, ())))
               for other, text in ctx.text.items())


def _last_use(ctx: Context, node_id: int, loop: Node) -> bool:
    """Whether ``loop`` is the last node to read ``node_id``, and reads it once."""
    users = ctx.users[node_id]
    return node_id not in ctx.outputs and all(u <= loop.id for u in users) and \
        users.count(loop.id) == 1 and ctx.graph[node_id].op != "const"


def _assign_all(pairs: list[tuple[str, str]]) -> cst.SimpleStatementLine:
    """``a, b = a_1, b_1``: carried values change together, as one iteration's results."""
    if len(pairs) == 1:
        return assignment(*pairs[0])
    names, values = zip(*pairs, strict=True)
    return cst.parse_statement(f"{', '.join(names)} = {', '.join(values)}\n")


def _call_statement(text: str) -> cst.SimpleStatementLine:
    return cst.parse_statement(text + "\n")


def read_tape(target: Any, ctx: Context, node: Node) -> list[cst.BaseStatement]:
    """A carried value at the start of the current iteration, as the forward loop kept it."""
    tape, counter = node.inputs
    array = ctx.tapes[ctx.text[tape]][node.param("index")]
    name = ctx.names.fresh(node.name)
    ctx.text[node.id] = name
    return [assignment(name, f"{array}[{ctx.text[counter]}]")]


def written_with_loop(target: Any, ctx: Context, node: Node) -> list[cst.BaseStatement]:
    """A loop's results are spelled when the loop is written."""
    return []


LOOP_WRITERS = {"loop": write_loop, "tape_read": read_tape, "loop_out": written_with_loop,
                "loop_count": written_with_loop, "loop_tape": written_with_loop}
