"""User-written derivative rules: the ``custom_vjp`` primitive.

A call of a function with its own backward (``symdiff.custom_vjp``, an Op registered with
``symdiff.extend.register_op``) is traced for its value, and the value is marked by a
``custom_vjp`` node: ``custom_vjp(value, *arguments, *saved)``. It is the identity on ``value``,
and its adjoint ignores how ``value`` was computed: it runs the user's backward (traced onto the
graph, so the generated code contains it, quoted line by line) on the values the forward saved
and the cotangent, and returns what that gives for each argument. Code is written without the
marking node once all derivatives are built (``fuse(..., drop_aliases=True)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, register
from symdiff.rules.broadcasting import unbroadcast

# rule.backward(graph, arguments, saved, cotangent) -> one cotangent (or None) per argument
Backward = Callable[[Graph, Sequence[Node], Sequence[Node], Node], Sequence[Node | None]]


@dataclass(frozen=True, eq=False)  # each rule is its own: compared by identity
class Rule:
    name: str  # for messages and comments: the user's function or Op class
    arguments: int  # how many inputs after the value are arguments (the rest are saved)
    backward: Backward


def mark(graph: Graph, value: Node, arguments: Sequence[Node], saved: Sequence[Node],
         rule: Rule) -> Node:
    return graph.add_raw("custom_vjp", (value.id, *(a.id for a in arguments),
                                        *(s.id for s in saved)),
                         make_params(rule=rule), value.shape, value.dtype, intern=False)


def _vjp(graph: Graph, node: Node, ct: Node) -> list[Node | None]:
    rule: Rule = node.param("rule")
    inputs = graph.args(node)
    arguments, saved = inputs[1:1 + rule.arguments], inputs[1 + rule.arguments:]
    # the user's backward sees the cotangent as the array it is, not a broadcast stand-in
    cts = rule.backward(graph, arguments, saved, unbroadcast(graph, ct, node.shape, exact=True))
    exact = [None if c is None else unbroadcast(graph, c, a.shape, exact=True)
             for c, a in zip(cts, arguments, strict=True)]
    return [None, *exact, *([None] * len(saved))]


register(Primitive("custom_vjp", lambda inputs, params: (inputs[0].shape, inputs[0].dtype),
                   vjp=_vjp, pure=False, alias=True))
