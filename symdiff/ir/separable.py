"""Whether a loss is a sum or a mean over the rows of its data: read off the graph.

Most of machine learning computes a term per example (a row of ``X``, an element of ``y``), then
reduces them: ``np.mean(softplus(X @ w) - y * (X @ w))``. Such a loss splits over any partition
of the rows into chunks: a sum is the sum of the chunks' sums, a mean the mean of the chunks'
means weighted by their rows; its gradient in the parameters splits the same way. Each chunk
can then run the compiled code of the whole function, where it lies.

Each node gets a kind:

- ``PARAM``: it does not depend on the data arguments;
- ``ROWS``: axis 0 holds the rows of the data, and row ``i`` depends on the data's row ``i``
  alone (elementwise operations, reductions and gathers within rows, a matrix product with a
  parameter on the right);
- ``TOTAL``: a sum over the rows of a ``ROWS`` node, times parameters (no constant: a constant
  would be counted once per chunk);
- ``MEAN``: a mean over the rows, times parameters, plus parameters (the chunks' weights sum to
  one, so a constant survives).

Anything else (a node mixing rows, a maximum over rows, a division by the number of rows
written out, a sum and a mean together) has no kind: the loss does not split, and is computed
another way. The loss splits when it is a scalar ``TOTAL`` or ``MEAN``.
"""

from __future__ import annotations

from enum import Enum

import sympy as sp

from symdiff.ir.fused import arg_symbol
from symdiff.ir.graph import Graph, Node


class Kind(Enum):
    PARAM = "param"
    ROWS = "rows"
    TOTAL = "sum"
    MEAN = "mean"


_ROWWISE = ("fused", "add", "mul", "fill", "astype")  # elementwise, broadcasting
_WITHIN_ROWS = ("sum", "mean", "max", "min")  # reductions, fine over axes other than 0


def split_kind(graph: Graph, loss: int, data: set[int]) -> Kind | None:
    """How the scalar ``graph[loss]`` splits over the rows of the input nodes ``data``:
    ``Kind.TOTAL`` (a sum), ``Kind.MEAN`` (a mean), or None (it does not)."""
    kinds: dict[int, Kind | None] = {}
    # the data's numbers of rows: one number (checked before the chunks run), under as many
    # names as there are data arguments
    rows = {graph[i].shape[0] for i in data if graph[i].rank}
    live = graph.reachable([loss])
    for node in (n for n in graph.nodes if live[n.id]):
        node_id = node.id
        if node.op == "input":
            kinds[node_id] = Kind.ROWS if node_id in data and node.rank else \
                None if node_id in data else Kind.PARAM
        elif not node.inputs and _reads(node, rows):
            kinds[node_id] = None  # the number of rows (``X.shape[0]``): a chunk's own is less
        else:
            kinds[node_id] = _kind_of(node, [(graph[i], kinds[i]) for i in node.inputs], rows)
    kind = kinds[loss]
    return kind if kind in (Kind.TOTAL, Kind.MEAN) and graph[loss].rank == 0 else None


def _reads(node: Node, rows: set) -> bool:
    """Whether a node made of its parameters alone (a size, ``np.arange(n)``) reads the number
    of rows."""
    names = {str(size) for size in rows}
    return any(name in str(value) for _, value in node.params for name in names)


def _kind_of(node: Node, inputs: list[tuple[Node, Kind | None]], rows: set) -> Kind | None:
    kinds = {k for _, k in inputs}
    if None in kinds:
        return None
    if kinds <= {Kind.PARAM}:
        return Kind.PARAM
    if kinds & {Kind.TOTAL, Kind.MEAN}:
        return _combined(node, inputs)
    # rows, with parameters
    if node.op in _ROWWISE:
        return Kind.ROWS if _aligned(node, inputs, rows) and _no_sizes(node) else None
    if node.op in _WITHIN_ROWS:
        (x, _), = inputs
        axes = node.param("axes")
        if 0 not in axes:
            return Kind.ROWS if x.shape[0] in rows and node.rank >= 1 else None
        if node.op in ("sum", "mean") and node.rank == 0:
            return Kind.TOTAL if node.op == "sum" else Kind.MEAN
        return None
    if node.op == "matmul":  # (rows, k) @ (k,) or (k, m) with a parameter on the right
        (a, ka), (b, kb) = inputs
        return Kind.ROWS if ka is Kind.ROWS and kb is Kind.PARAM and a.rank == 2 and \
            a.shape[0] in rows else None
    if node.op in ("reshape", "broadcast_to", "expand_dims", "squeeze"):
        (x, _), = inputs
        keeps_rows = node.rank >= 1 and x.rank >= 1 and node.shape[0] in rows and \
            x.shape[0] in rows and 0 not in (node.param("axes") or ())
        return Kind.ROWS if keeps_rows else None
    if node.op == "take_along_axis":  # within each row, where the indices are rows too
        return Kind.ROWS if node.param("axis") != 0 and _aligned(node, inputs, rows) else None
    if node.op == "getitem":  # x[:, j]: every row, something of each
        index = node.param("index")
        whole_rows = index and index[0] == ("slice", None, None, None)
        return Kind.ROWS if whole_rows and inputs[0][1] is Kind.ROWS and \
            all(k is Kind.PARAM for _, k in inputs[1:]) else None
    return None


def _aligned(node: Node, inputs: list[tuple[Node, Kind | None]], rows: set) -> bool:
    """Each row input's axis 0 is the node's, the rows; no parameter has that axis (it
    broadcasts along it)."""
    if node.rank == 0 or node.shape[0] not in rows:
        return False
    for x, kind in inputs:
        leading = x.shape[0] if x.rank == node.rank else None  # the axis aligned with rows
        if kind is Kind.ROWS and leading not in rows:
            return False
        if kind is Kind.PARAM and leading is not None and leading != 1:
            return False
    return True


def _no_sizes(node: Node) -> bool:
    """A kernel whose formula reads no sizes (the number of rows is a chunk's own)."""
    if node.op != "fused":
        return True
    return all(s.name.startswith("_a") for s in node.param("expr").free_symbols)


def _combined(node: Node, inputs: list[tuple[Node, Kind | None]]) -> Kind | None:
    """A kernel of sums or means over rows and parameters: linear in the sums (no constant
    term), or affine in the means; not both, and nothing of the rows themselves."""
    kinds = {k for _, k in inputs} - {Kind.PARAM}
    if kinds not in ({Kind.TOTAL}, {Kind.MEAN}) or node.rank != 0:
        return None
    (kind,) = kinds
    if node.op == "add":
        return kind if kind is Kind.MEAN or all(k is not Kind.PARAM for _, k in inputs) \
            else None
    if node.op != "fused" or not _no_sizes(node):
        return None
    expr = node.param("expr")
    reduced = [arg_symbol(i) for i, (_, k) in enumerate(inputs) if k is kind]
    for symbol in reduced:  # d expr / d reduction free of the reductions: affine in them
        if sp.diff(expr, symbol).free_symbols & set(reduced):
            return None
    if kind is Kind.TOTAL and sp.simplify(expr.subs({s: 0 for s in reduced})) != 0:
        return None
    return kind
