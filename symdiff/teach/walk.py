"""The chain rule for one call, step by step: what ``explain`` and ``graph`` show.

Contract: ``walk(fun, args, kwargs, argnums)`` traces ``fun`` for the arguments' signature,
builds its backward pass on the graph before fusion (so that every operation of the source is
still a node of its own), runs both on the arguments, and groups the nodes into steps named as
the source names them. There is a step for each argument, each assigned variable and the
output, and one for each array operation (a sum, a matrix product) or shared subexpression
inside a statement; the rest of a statement's elementwise arithmetic belongs to the step that
uses it, so ``y = x * x`` is one step however it is spelled. Each step knows its value, its
adjoint (d output / d step) and what its derivative rule passed back to each step it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from symdiff.ad.reverse import Record, backward
from symdiff.codegen.emitter import Names
from symdiff.errors import ArgumentError
from symdiff.frontend.callee import source_of
from symdiff.ir.graph import Graph, Node, Origin
from symdiff.pipeline import inputs_by_name, objective
from symdiff.rules import primitive
from symdiff.rules.elementwise import node_scalar
from symdiff.runtime import as_array, normalise_argnums, signature_of, specs_for
from symdiff.signature import Options
from symdiff.teach.evaluate import evaluate

FREE = ("const", "fill", "dim")  # scalars with no data dependence: written as their values


@dataclass
class Step:
    node: int  # the node whose value the step computes
    name: str  # what explanations call it: the source's name where it has one
    owned: list[int]  # the nodes computed in this step, in order; the last is ``node``
    reads: list[int]  # the other steps' nodes it uses, in order of first use
    origin: Origin | None
    elementwise: bool
    is_input: bool = False


@dataclass
class Walk:
    function: str  # the differentiated function's name
    filename: str
    graph: Graph
    steps: list[Step]  # in the order the forward pass computes them, arguments first
    output: int
    wrt: list[int]  # the differentiated arguments' nodes
    values: dict[int, Any]  # every node's value at the arguments
    adjoints: dict[int, Any] = field(default_factory=dict)  # step node -> d output / d step
    # (step node, node it reads) -> what the step's rule passed back to it
    passed: dict[tuple[int, int], Any] = field(default_factory=dict)
    _by_node: dict[int, Step] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_node = {s.node: s for s in self.steps}

    def step(self, node: int) -> Step:
        return self._by_node[node]

    def is_step(self, node: int) -> bool:
        return node in self._by_node

    def formula(self, step: Step) -> sp.Basic:
        """An elementwise step's value as a formula in the names of what it reads (sizes and
        constants as numbers)."""
        symbols = {i: sp.Symbol(self.step(i).name, real=True) for i in step.reads}
        memo: dict[int, sp.Basic] = {}

        def expr(i: int) -> sp.Basic:
            if i in symbols:
                return symbols[i]
            if i not in memo:
                node = self.graph[i]
                if node.op == "dim":
                    memo[i] = sp.Integer(int(self.values[i]))
                elif node.op in FREE:  # ones_like(x) is a constant, whatever x is
                    memo[i] = node_scalar(node, [sp.S.Zero] * len(node.inputs))
                else:
                    memo[i] = node_scalar(_as_written(node), [expr(j) for j in node.inputs])
            return memo[i]
        return expr(step.node)

    def frozen_reads(self, step: Step) -> list[int]:
        """The values ``step`` reads that get no gradient from it because what follows
        cannot see them (a shift by the maximum that cancels, ``symdiff.ir.shifts``)."""
        return [self.graph[i].inputs[k] for i in step.owned
                for k in self.graph[i].param("frozen", ())]

    def symbol(self, node: int) -> sp.Symbol:
        return sp.Symbol(self.step(node).name, real=True)


def _as_written(node: Node) -> Node:
    """The node as the source computes it: a shift that carries no gradient to the maximum
    (``frozen``) is still ``z - max`` to a reader."""
    if not node.param("frozen"):
        return node
    return replace(node, params=tuple((k, v) for k, v in node.params if k != "frozen"))


def walk(fun: Any, args: tuple, kwargs: dict, argnums: Any = None, wrt: Any = None) -> Walk:
    """``argnums``/``wrt`` as for ``symdiff.grad`` (default: the first argument)."""
    positions, _ = normalise_argnums(fun, argnums, wrt)
    try:
        bound = signature_of(fun).bind(*args, **kwargs)
    except TypeError as exc:
        raise ArgumentError(f"{getattr(fun, '__qualname__', None) or fun.name}: {exc}") from None
    bound.apply_defaults()
    names = list(bound.arguments)
    values = [as_array(v) for v in bound.arguments.values()]
    specs = specs_for(names, values, positions)
    source = source_of(fun)
    graph = Graph(loops=False)  # every iteration is shown
    output, _ = objective(graph, fun, specs, Options(positions))
    inputs = inputs_by_name(graph)
    wrt = [inputs[names[p]] for p in positions]

    steps = _steps(graph, output, inputs, source.name)
    n_forward = len(graph.nodes)
    record = Record()
    backward(graph, output, wrt, record=record)
    arguments = {n: v for n, v in zip(names, values, strict=True) if n in inputs}
    wanted = [output.id, *(c.id for _, _, c in record.contributions),
              *(t.id for t in record.totals.values())]
    result = Walk(source.name, source.filename, graph, steps, output.id, [w.id for w in wrt],
                  evaluate(graph, arguments, wanted))
    owner = {i: s.node for s in steps for i in s.owned}
    for consumer, read, contribution in record.contributions:
        if consumer < n_forward and consumer in owner and result.is_step(read):
            key = (owner[consumer], read)
            value = _shaped(result.values[contribution.id], result.values[read])
            result.passed[key] = result.passed[key] + value if key in result.passed else value
    for node, total in record.totals.items():
        if result.is_step(node):
            result.adjoints[node] = _shaped(result.values[total.id], result.values[node])
    return result


def _shaped(adjoint: Any, like: Any) -> Any:
    """An elementwise node's cotangent may be a scalar standing for an array of its shape."""
    shape = np.shape(like)
    return np.broadcast_to(adjoint, shape).copy() if np.shape(adjoint) != shape else adjoint


def _steps(graph: Graph, output: Node, inputs: dict[str, Node], function: str) -> list[Step]:
    live = graph.reachable([output.id])
    users = graph.consumers(live)
    owner: dict[int, int] = {}
    for n in reversed(graph.nodes):
        if not live[n.id] or n.op in FREE:
            continue
        owners = {owner[u] for u in users[n.id] if u in owner}
        elementwise = primitive(n.op).elementwise
        if n.op == "input" or n.id == output.id or n.name or not elementwise or \
                len(owners) != 1 or any(not primitive(graph[u].op).elementwise
                                        for u in users[n.id]):
            owner[n.id] = n.id
        else:
            owner[n.id] = owners.pop()
    names = Names(taken=set(inputs), temp_counter=1, temp_prefix="t")  # t1, t2, ...
    owned_by: dict[int, list[int]] = {}
    for i, o in sorted(owner.items()):
        owned_by.setdefault(o, []).append(i)
    steps: list[Step] = []
    for n in graph.nodes:
        if owner.get(n.id) != n.id:
            continue
        owned = owned_by[n.id]
        reads: list[int] = []
        for i in owned:
            for j in graph[i].inputs:
                if owner.get(j, n.id) != n.id and owner[j] not in reads:
                    reads.append(owner[j])
        if n.op == "input":
            name = n.param("name")
        else:
            hint = n.name or (function if n.id == output.id and function.isidentifier()
                              else None)
            name = names.fresh(hint)
        steps.append(Step(n.id, name, owned, reads, n.origin, primitive(n.op).elementwise,
                          is_input=n.op == "input"))
    return steps
