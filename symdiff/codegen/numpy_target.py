"""The NumPy target: a kernel is one broadcasting expression, an array op its NumPy call."""

from __future__ import annotations

import libcst as cst
import sympy as sp

from symdiff.codegen.emitter import (
    SIMPLE,
    Context,
    Names,
    Target,
    assignment,
    operand,
    python_floats,
)
from symdiff.codegen.helpers import HELPERS
from symdiff.codegen.loops import LOOP_WRITERS
from symdiff.codegen.printer import NumpyPrinter, integer_inputs, print_value
from symdiff.ir.fused import arg_symbol, replace_subexpression
from symdiff.ir.graph import Graph, Node
from symdiff.ir.shapes import broadcast_shapes, same_shape, shape_text
from symdiff.rules import primitive

_VIEWS = ("transpose",)  # spelled where they are used when that reads best (x.T)


class NumpyTarget(Target):
    """Plain NumPy: a kernel is one broadcasting expression, an array op its NumPy call."""

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        """Python floats computed with as NumPy's: (-2.0) ** 0.5 is NaN, not complex, and
        1.0 / 0.0 is inf, not ZeroDivisionError (a branch not taken computes them too)."""
        return [assignment(name, f"np.float64({name})") for name in python_floats(ctx)]

    name = "numpy"
    imports = ("import numpy as np",)
    helpers = HELPERS

    def assign(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if node.op in LOOP_WRITERS:
            return LOOP_WRITERS[node.op](self, ctx, node)
        return _assign(ctx.graph, node, ctx.text, ctx.names, ctx.helpers)


def _assign(graph: Graph, node: Node, text: dict[int, str], names: Names,
            helpers: set[str]) -> list[cst.BaseStatement]:
    statements: list[cst.BaseStatement] = []
    if node.op == "fused":
        value = _fused_text(graph, node, text, names, helpers, statements)
        if not statements and value in text.values():  # an identity such as stop_gradient
            text[node.id] = value
            return []
    else:
        prim = primitive(node.op)
        args = [operand(text[i]) for i in node.inputs]
        value = prim.emit(args, node)
        helpers.update(h for h in prim.helpers if h in value)
        if node.op in _VIEWS and SIMPLE.match(value):  # x.T reads best where it is used
            text[node.id] = value
            return []
    target = names.fresh(node.name)
    text[node.id] = target
    statements.append(assignment(target, value))
    if node.op == "fused" and node.param("expr").has(sp.Piecewise):
        return [_guarded(statements)]
    return statements


_ERRSTATE = cst.parse_expression('np.errstate(divide="ignore", over="ignore", invalid="ignore")')


def _guarded(statements: list[cst.BaseStatement]) -> cst.With:
    """Branches that np.where does not select are still computed: they may divide by zero or
    overflow where they are not used, which is harmless and must not warn."""
    return cst.With(items=[cst.WithItem(_ERRSTATE)], body=cst.IndentedBlock(statements))


def _fused_text(graph: Graph, node: Node, text: dict[int, str], names: Names,
                helpers: set[str], statements: list[cst.SimpleStatementLine]) -> str:
    by_id = {arg_symbol(i): _node_symbol(a) for i, a in enumerate(node.inputs)}
    expr = node.param("expr").xreplace(by_id)
    symbols = {_node_symbol(a): operand(text[a]) for a in node.inputs}
    printer = NumpyPrinter(symbols)
    expr = _reuse_names(expr, node, by_id, names, printer, statements)
    temps = sp.numbered_symbols("_cse")
    replacements, (reduced,) = sp.cse([expr], symbols=temps, order="none")
    in_full: dict[sp.Symbol, sp.Basic] = {}
    for sym, sub in replacements:
        name = names.fresh(None)
        statements.append(assignment(name, printer.doprint(sub)))
        symbols[sym] = name
        in_full[sym] = sub.xreplace(in_full)
        names.available.append((in_full[sym], name))  # later kernels reuse it
    used = [graph[a] for a in node.inputs]
    value = print_value(printer, reduced, node.is_float, integer_inputs(used, node))
    helpers.update(printer.helpers)
    if not same_shape(broadcast_shapes(*(n.shape for n in used)), node.shape) or (
            not used and node.shape != ()):
        if node.shape == ():
            return f"np.{node.dtype}({value})"
        return f"np.full({shape_text(node.shape)}, {value}, dtype=np.{node.dtype})"
    return value


def _node_symbol(node_id: int) -> sp.Symbol:
    return sp.Symbol(f"_n{node_id}", real=True)


def _reuse_names(expr: sp.Basic, node: Node, by_id: dict, names: Names, printer: NumpyPrinter,
                 statements: list[cst.SimpleStatementLine]) -> sp.Basic:
    """Call subexpressions by their source names: reuse those computed earlier in the function,
    and compute here, under its name, a named value this kernel uses more than once."""
    def substitute(e: sp.Basic) -> sp.Basic:
        for sub, var in names.available:
            if e.has(sub):
                e = replace_subexpression(e, sub, sp.Symbol(var, real=True))
        return e

    expr = substitute(expr)
    for sub, name in node.param("names", ()):
        sub = substitute(sub.xreplace(by_id))
        # a Dummy, not Symbol(name): an earlier value may have that name already
        marker = sp.Dummy(name, real=True)
        replaced = replace_subexpression(expr, sub, marker)
        if sub != expr and replaced.count(marker) >= 2:
            var = names.fresh(name)
            statements.append(assignment(var, printer.doprint(sub)))
            names.available.append((sub, var))
            expr = replaced.xreplace({marker: sp.Symbol(var, real=True)})
    return expr


NUMPY = NumpyTarget()


