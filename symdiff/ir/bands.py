"""Which elements of a vector a node's elements depend on: a band of offsets, read off the graph.

A node ``y`` depends on the vector input ``x`` with band ``K`` when each ``y[j]`` depends on
``x[j + k]`` for ``k`` in ``K`` alone: ``{0}`` for an elementwise function of ``x``, ``{-1, 0, 1}``
for the gradient of a sum of products of neighbours. The Jacobian of such a node is banded,
and ``len(range(min(K), max(K) + 1))`` Jacobian-vector products recover it whole (each product
pushes forward the indicator of one residue class of the columns; no two columns that one row
depends on share a class). The empty band is no dependence at all.

The analysis knows elementwise kernels, sums of equal shapes, slices with a fixed start and
unit step, and the scatters that are their adjoints; it answers None (no band: the Jacobian may
be dense) for everything else, including any reduction of ``x``, so that a wrong band cannot
be claimed.
"""

from __future__ import annotations

from symdiff.ir.graph import Graph, Node

Band = frozenset[int]

_ELEMENTWISE = ("fused", "add")


def band(graph: Graph, output: int, vector: int) -> Band | None:
    """The band of ``graph[output]`` in the 1-D input ``graph[vector]``, or None."""
    if graph[vector].rank != 1:
        return None
    bands: dict[int, Band | None] = {}
    live = graph.reachable([output])
    for node in (n for n in graph.nodes if live[n.id]):
        bands[node.id] = frozenset({0}) if node.id == vector else _band_of(node, [
            (graph[i], bands[i]) for i in node.inputs])
    return bands[output]


def _band_of(node: Node, inputs: list[tuple[Node, Band | None]]) -> Band | None:
    if any(b is None for _, b in inputs):
        return None
    if node.op == "scatter":  # the second input gives the shape alone
        inputs = inputs[:1] + [(n, frozenset()) for n, _ in inputs[1:]]
    dependent = [(n, b) for n, b in inputs if b]
    if not dependent:
        return frozenset()
    if node.rank != 1 or any(n.rank != 1 for n, _ in dependent):
        return None
    if node.op in _ELEMENTWISE:
        if any(n.shape != node.shape for n, _ in dependent):
            return None  # broadcast: one element feeds many
        return frozenset().union(*(b for _, b in dependent))
    if node.op in ("getitem", "scatter") and len(dependent) == 1 and dependent[0][0] is \
            inputs[0][0]:
        start = _slice_start(node.param("index"))
        if start is None:
            return None
        shift = start if node.op == "getitem" else -start  # y[j] = x[j + start], and back
        return frozenset(k + shift for k in dependent[0][1])
    return None


def _slice_start(index: tuple) -> int | None:
    """The start of ``x[start:stop]`` (step 1, start a non-negative number), else None."""
    if len(index) != 1 or not isinstance(index[0], tuple) or index[0][0] != "slice":
        return None
    _, start, _, step = index[0]
    if step not in (None, 1):
        return None
    start = 0 if start is None else start
    return start if type(start) is int and start >= 0 else None
