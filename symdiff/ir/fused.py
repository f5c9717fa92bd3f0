"""Fused elementwise nodes: one SymPy expression over placeholder symbols, one per input array.

A ``fused`` node's expression uses the symbols ``_a0, _a1, ...`` for its inputs in order. Building
goes through :func:`make_fused`, which renumbers the symbols canonically (by input node id), so two
kernels with the same formula over the same arrays are the same node.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import sympy as sp

from symdiff.ir.graph import Graph, Node
from symdiff.ir.shapes import Shape


@cache
def arg_symbol(i: int) -> sp.Symbol:
    return sp.Symbol(f"_a{i}", real=True)


def make_fused(graph: Graph, expr: sp.Basic, symbols: Mapping[sp.Symbol, Node], shape: Shape,
               dtype: str, name: str | None = None,
               names: Mapping[sp.Basic, str] | None = None) -> Node:
    """Add the elementwise kernel ``expr`` whose free symbols stand for ``symbols[s]``.

    ``names`` maps subexpressions to the source names they had (``z`` in ``z = x @ w + b``),
    so that generated code can call them by those names.
    """
    used = sorted({symbols[s].id for s in expr.free_symbols})
    if isinstance(expr, sp.Symbol):
        node = symbols[expr]
        if node.shape == shape and node.dtype == dtype:
            return node
    renumber = {s: arg_symbol(used.index(symbols[s].id)) for s in expr.free_symbols}
    canonical = expr.xreplace(renumber)
    params: tuple = (("expr", canonical),)
    kept = tuple((sub.xreplace(renumber), n) for sub, n in (names or {}).items()
                 if not sub.is_Atom and sub.free_symbols <= expr.free_symbols and expr.has(sub))
    if kept:
        params += (("names", kept),)
    return graph.add_raw("fused", tuple(used), params, shape, dtype, name)


def replace_subexpression(expr: sp.Basic, sub: sp.Basic, by: sp.Basic) -> sp.Basic:
    """``expr`` with ``sub`` written as ``by`` where it occurs, numerically unchanged.

    A sum is matched as algebra (``-b - t`` is ``-(b + t)``); anything else only where it
    occurs as it is, since SymPy's ``subs`` would also rewrite around powers (with
    ``r = sqrt(x)``, ``x`` becomes ``r**2``, which is NaN where ``x < 0``)."""
    return expr.subs(sub, by) if sub.is_Add else expr.xreplace({sub: by})
