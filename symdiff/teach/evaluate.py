"""Running an IR graph directly, node by node, on concrete values.

Contract: ``evaluate(graph, arguments, wanted)`` returns the value of every node the ``wanted``
ones depend on. Values live in one of two domains: NumPy arrays of numbers (the numbers of an
explanation), or NumPy object arrays of SymPy expressions, one per element (``symbolic=True``:
the formula of a function of a few scalars or small arrays). Both domains run the same code
that generated modules run: an array primitive is evaluated from its own NumPy spelling, an
elementwise one from its scalar formula, so what a teaching tool shows is what the rule table
says, not a second implementation of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from symdiff.codegen.helpers import HELPERS
from symdiff.codegen.printer import NumpyPrinter, print_value
from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Graph, Node
from symdiff.ir.shapes import shape_text
from symdiff.rules import all_primitives, primitive
from symdiff.rules.elementwise import node_scalar


@cache
def _helpers() -> dict[str, Any]:
    scope: dict[str, Any] = {"np": np}
    for text in HELPERS.values():
        exec(text, scope)  # noqa: S102 - symdiff's own helper definitions
    return scope


def namespace(arguments: dict[str, Any]) -> dict[str, Any]:
    """What generated code sees: NumPy, the runtime helpers and the arguments by name (sizes
    are spelled ``x.shape[0]``)."""
    scope = dict(_helpers())
    for prim in all_primitives().values():  # user primitives carry their own helpers
        for _, source in prim.helper_source:
            exec(source, scope)  # noqa: S102 - the user's function, as generated code has it
    return {**scope, **arguments}


def formula_value(expr: sp.Basic, symbols: list[sp.Symbol], values: list[Any],
                  floating: bool = True) -> np.ndarray:
    """A scalar formula over ``symbols`` at ``values`` (arrays broadcast), as the NumPy
    target prints it."""
    names = {s: f"_v{k}" for k, s in enumerate(symbols)}
    text = print_value(NumpyPrinter(names), expr, floating)
    scope = namespace({names[s]: v for s, v in zip(symbols, values, strict=True)})
    with np.errstate(all="ignore"):  # np.where computes the branch it does not select
        return np.asarray(eval(text, scope))  # noqa: S307 - printed by symdiff's printer


def evaluate(graph: Graph, arguments: dict[str, Any], wanted: Iterable[int],
             symbolic: bool = False) -> dict[int, Any]:
    """``arguments``: each input's value by parameter name."""
    live = graph.reachable(list(wanted))
    scope = namespace(arguments)
    values: dict[int, Any] = {}
    with np.errstate(all="ignore"):  # np.where computes the branch it does not select
        for node in graph.nodes:
            if live[node.id]:
                values[node.id] = _value(graph, node, values, scope, symbolic)
    return values


def _value(graph: Graph, node: Node, values: dict[int, Any], scope: dict[str, Any],
           symbolic: bool) -> Any:
    if node.op == "input":
        return scope[node.param("name")]
    args = [values[i] for i in node.inputs]
    if symbolic and node.dtype != "bool" and node.op != "fused":  # a count, a cast: 1 or 0
        args = [_counted(a) if graph[i].dtype == "bool" else a
                for a, i in zip(args, node.inputs, strict=True)]
    prim = primitive(node.op)
    if prim.elementwise:
        return _elementwise(node, args, scope, symbolic)
    if prim.alias or (node.op == "astype" and symbolic):
        return args[0]  # a custom rule's mark is its input's value; a formula has no dtype
    if symbolic and node.op in ("max", "min"):  # NumPy's would compare formulas
        return _symbolic_extremum(node, args[0])
    if prim.emit is None or prim.external:
        raise UnsupportedError(f"{node.op} cannot be evaluated step by step (it runs only "
                               "inside generated code)")
    names = [f"_v{i}" for i in range(len(args))]
    local = dict(scope, **dict(zip(names, args, strict=True)))
    out = eval(prim.emit(names, node), local)  # noqa: S307 - symdiff's own spelling
    return np.asarray(out, dtype=object) if symbolic else out


def _counted(x: Any) -> Any:
    """Formulas of conditions as numbers: 1 where the condition holds, else 0."""
    return np.frompyfunc(lambda e: sp.Piecewise((1, e), (0, True)), 1, 1)(
        np.asarray(x, dtype=object))


def _symbolic_extremum(node: Node, x: Any) -> Any:
    """``max``/``min`` over the node's axes of formulas: SymPy's ``Max``/``Min`` of them."""
    pick = np.frompyfunc(sp.Max if node.op == "max" else sp.Min, 2, 1)
    out = np.asarray(x, dtype=object)
    for axis in sorted(node.param("axes"), reverse=True):
        out = pick.reduce(out, axis=axis, keepdims=node.param("keepdims"))
    return np.asarray(out, dtype=object)


def _elementwise(node: Node, args: list[Any], scope: dict[str, Any], symbolic: bool) -> Any:
    shape = eval(_shape_text(node), scope)  # noqa: S307 - sizes spelled x.shape[0]
    if symbolic:
        apply = np.frompyfunc(lambda *a: node_scalar(node, list(a)), len(args), 1) \
            if args else None
        out = apply(*args) if args else node_scalar(node, [])
        return np.broadcast_to(np.asarray(out, dtype=object), shape).copy()
    symbols = [sp.Symbol(f"_a{i}", real=True) for i in range(len(args))]
    out = formula_value(node_scalar(node, symbols), symbols, args, node.is_float)
    return np.broadcast_to(out, shape).astype(node.dtype)


def _shape_text(node: Node) -> str:
    return shape_text(node.shape) if node.shape else "()"
