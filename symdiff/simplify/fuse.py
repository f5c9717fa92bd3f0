"""Fusion: maximal regions of elementwise nodes become single ``fused`` SymPy kernels.

Contract: ``fuse(graph, outputs)`` returns a new graph computing the same ``outputs`` in which
every live elementwise node belongs to exactly one fused kernel, and no dead node remains.
A node is the root of its own kernel (its value is materialised) when it is an output, when an
array primitive uses it, or when kernels of different roots use it; otherwise it is inlined
into the one kernel that uses it, so SymPy sees whole formulas such as ``log(sigmoid(z))``
across source statements. Constants are inlined everywhere. Each kernel is tidied
(stability rewrites, cheap simplification) once.
"""

from __future__ import annotations

import sympy as sp

from symdiff.calculus.derive import tidy
from symdiff.ir.fused import arg_symbol, make_fused
from symdiff.ir.graph import Graph, Node
from symdiff.ir.loop import map_body, with_body
from symdiff.rules import primitive
from symdiff.rules.elementwise import node_scalar

_FREE = ("const", "fill")  # no data dependence: inline wherever used


def _fusible(node: Node) -> bool:
    return primitive(node.op).elementwise


def fuse(graph: Graph, outputs: list[int], drop_aliases: bool = False
         ) -> tuple[Graph, list[int]]:
    """``drop_aliases``: once all derivatives are built, the nodes that only marked a value
    for a custom rule go, and with them what only the rule's backward pass needed."""
    if drop_aliases:
        graph, outputs = _without_aliases(graph, outputs)
    live = graph.reachable(outputs + graph.inputs)
    users = graph.consumers(live)
    root = _assign_roots(graph, live, users, set(outputs))

    new = Graph(read=graph.read)
    mapping: dict[int, Node] = {}
    for n in graph.nodes:
        if not live[n.id] or root.get(n.id, n.id) != n.id:
            continue
        if _fusible(n):
            symbols: dict[sp.Symbol, Node] = {}
            names: dict[sp.Basic, str] = {}
            expr = tidy(_region_expr(graph, n.id, n.id, root, mapping, symbols, {}, names))
            names = {tidy(sub): name for sub, name in names.items()}
            made = make_fused(new, expr, symbols, n.shape, n.dtype, n.name, names)
            if made.id == len(new.nodes) - 1 and made.origin is None:
                made = _carry(new, made, n)
        else:
            params = n.params
            if n.op == "loop":  # a loop's body is fused on its own
                body = map_body(n.param("body"), lambda g, outs: fuse(g, outs, drop_aliases))
                params = with_body(n, body)
            made = new.add_raw(n.op, tuple(mapping[i].id for i in n.inputs), params, n.shape,
                               n.dtype, n.name, intern=primitive(n.op).pure, origin=n.origin,
                               adjoint=n.adjoint)
        if n.op == "input":
            new.inputs.append(made.id)
        mapping[n.id] = made
    return new, [mapping[o].id for o in outputs]


def _without_aliases(graph: Graph, outputs: list[int]) -> tuple[Graph, list[int]]:
    if not any(primitive(n.op).alias for n in graph.nodes):
        return graph, outputs
    new = Graph(read=graph.read)
    mapping: dict[int, Node] = {}
    for n in graph.nodes:
        if primitive(n.op).alias:
            mapping[n.id] = mapping[n.inputs[0]]
            continue
        mapping[n.id] = new.add_raw(n.op, tuple(mapping[i].id for i in n.inputs), n.params,
                                    n.shape, n.dtype, n.name, intern=primitive(n.op).pure,
                                    origin=n.origin, adjoint=n.adjoint)
        if n.op == "input":
            new.inputs.append(mapping[n.id].id)
    return new, [mapping[o].id for o in outputs]


def _carry(graph: Graph, made: Node, old: Node) -> Node:
    from dataclasses import replace

    made = replace(made, origin=old.origin, adjoint=old.adjoint, name=made.name or old.name)
    graph.nodes[made.id] = made
    return made


# A kernel's formula is a tree to SymPy: a value used twice inside it appears twice, so a chain
# of such values (an unrolled iteration x = (x + a / x) / 2) doubles the tree at each link.
# Kernels are cut where they would hold more shared values, or operations, than this.
MAX_SHARED = 2
MAX_OPERATIONS = 32


def _assign_roots(graph: Graph, live: list[bool], users: dict[int, list[int]],
                  outputs: set[int]) -> dict[int, int]:
    """Map each live elementwise node to the root of the kernel it is computed in."""
    root: dict[int, int] = {}
    operations: dict[int, int] = {}
    shared: dict[int, int] = {}
    for n in reversed(graph.nodes):
        if not live[n.id] or not _fusible(n):
            continue
        us = users[n.id]
        inside = n.id not in outputs and all(_fusible(graph[u]) for u in us)
        if n.op in _FREE and us and inside:  # constants are written into every kernel
            root[n.id] = root[us[0]]
            continue
        weight, reused = _operations(n), len(us) > 1
        roots = {root[u] for u in us} if inside else set()
        region = roots.pop() if len(roots) == 1 else None
        if region is None or operations[region] + weight > MAX_OPERATIONS or \
                shared[region] + reused > MAX_SHARED:
            root[n.id], operations[n.id], shared[n.id] = n.id, weight, 0
        else:
            root[n.id] = region
            operations[region] += weight
            shared[region] += reused
    return root


def _operations(node: Node) -> int:
    """How many operations a node stands for: a kernel fused before counts all of its own."""
    return sp.count_ops(node.param("expr")) if node.op == "fused" else 1


def _region_expr(graph: Graph, node_id: int, region: int, root: dict[int, int],
                 mapping: dict[int, Node], symbols: dict[sp.Symbol, Node],
                 memo: dict[int, sp.Basic], names: dict[sp.Basic, str]) -> sp.Basic:
    if node_id in memo:
        return memo[node_id]
    n = graph[node_id]
    inside = _fusible(n) and (root.get(node_id) == region or n.op in _FREE)
    if inside:
        args = [_region_expr(graph, i, region, root, mapping, symbols, memo, names)
                for i in n.inputs]
        expr = node_scalar(n, args)
        if n.name and node_id != region:
            names.setdefault(expr, n.name)
        for sub, name in n.param("names", ()):  # names inside an inlined kernel
            names.setdefault(sub.xreplace({arg_symbol(i): a for i, a in enumerate(args)}), name)
    else:
        target = mapping[node_id]
        expr = sp.Symbol(f"_n{target.id}", real=True)
        symbols[expr] = target
    memo[node_id] = expr
    return expr
