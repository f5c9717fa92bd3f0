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
from symdiff.codegen.printer import (
    NumpyPrinter,
    integer_inputs,
    may_warn_where_not_selected,
    numpy_dtype,
    print_value,
)
from symdiff.ir.fused import arg_symbol, replace_subexpression
from symdiff.ir.graph import Node
from symdiff.ir.shapes import broadcast_shapes, same_shape, shape_text
from symdiff.rules import primitive

_VIEWS = ("transpose",)  # spelled where they are used when that reads best (x.T)


class NumpyTarget(Target):
    """Plain NumPy: a kernel is one broadcasting expression, an array op its NumPy call.

    The Array API target derives from it: the hooks below (``printer``, ``spell``,
    ``as_dtype``, ``filled``, ``guarded``) are what it spells otherwise."""

    name = "numpy"
    imports = ("import numpy as np",)
    helpers = HELPERS

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        """Python floats computed with as NumPy's: (-2.0) ** 0.5 is NaN, not complex, and
        1.0 / 0.0 is inf, not ZeroDivisionError (a branch not taken computes them too). Only
        where the code divides, raises to a power or takes a remainder: Python's sums and
        products of floats are IEEE's, as NumPy's are, overflow to inf included."""
        if not any(n.op == "fused" and n.param("expr").has(sp.Pow)
                   for n in ctx.graph.nodes):
            return []
        return [assignment(name, f"np.float64({name})") for name in python_floats(ctx)]

    def assign(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if node.op in LOOP_WRITERS:
            return LOOP_WRITERS[node.op](self, ctx, node)
        statements: list[cst.BaseStatement] = []
        text = ctx.text
        if node.op == "fused":
            value = self._fused_text(ctx, node, statements)
            # an identity such as stop_gradient, or a number (the output's cotangent, 1.0)
            if not statements and (value in text.values() or _is_number(node)):
                text[node.id] = value
                return []
        else:
            value = self.spell(ctx, node, [operand(text[i]) for i in node.inputs])
            if node.op in _VIEWS and SIMPLE.match(value):  # x.T reads best where it is used
                text[node.id] = value
                return []
        target = ctx.names.fresh(node.name)
        text[node.id] = target
        statements.append(assignment(target, value))
        if node.op == "fused" and may_warn_where_not_selected(node.param("expr")):
            return self.guarded(statements)
        return statements

    # --- what a derived target spells otherwise ---------------------------------------------

    def printer(self, ctx: Context, node: Node, symbols: dict[sp.Symbol, str]) -> NumpyPrinter:
        """The printer of the fused kernel ``node``, its inputs spelled as ``symbols``."""
        return NumpyPrinter(symbols)

    def spell(self, ctx: Context, node: Node, args: list[str]) -> str:
        """An array operation's value, from its inputs' spellings ``args``."""
        prim = primitive(node.op)
        value = prim.emit(args, node)
        ctx.helpers.update(h for h in prim.helpers if h in value)
        return value

    def as_dtype(self, value: str, dtype: str) -> str:
        """A number (or 0-d value) of ``dtype``."""
        return f"{numpy_dtype(dtype)}({value})"

    def filled(self, shape: str, value: str, dtype: str) -> str:
        """An array of ``shape`` holding ``value`` everywhere."""
        return f"np.full({shape}, {value}, dtype={numpy_dtype(dtype)})"

    def guarded(self, statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Branches that np.where does not select are still computed: they may divide by
        zero or overflow where they are not used, which is harmless and must not warn."""
        return [cst.With(items=[cst.WithItem(_ERRSTATE)], body=cst.IndentedBlock(statements))]

    def _fused_text(self, ctx: Context, node: Node,
                    statements: list[cst.BaseStatement]) -> str:
        graph, text, names = ctx.graph, ctx.text, ctx.names
        by_id = {arg_symbol(i): node_symbol(a) for i, a in enumerate(node.inputs)}
        expr = node.param("expr").xreplace(by_id)
        symbols = {node_symbol(a): operand(text[a]) for a in node.inputs}
        printer = self.printer(ctx, node, symbols)
        expr = _reuse_names(expr, node, by_id, names, printer, statements)
        temps = sp.numbered_symbols("_cse")
        replacements, (reduced,) = sp.cse([expr], symbols=temps, order="none")
        in_full: dict[sp.Symbol, sp.Basic] = {}
        for sym, sub in replacements:
            name = names.fresh(None)
            statements.append(assignment(name, printer.doprint(sub)))
            symbols[sym] = name
            printer.named(sym, sub)
            in_full[sym] = sub.xreplace(in_full)
            names.available.append((in_full[sym], name))  # later kernels reuse it
        used = [graph[a] for a in node.inputs]
        value = print_value(printer, reduced, node.is_float, integer_inputs(used, node))
        ctx.helpers.update(printer.helpers)
        if not same_shape(broadcast_shapes(*(n.shape for n in used)), node.shape) or (
                not used and node.shape != ()):
            if node.shape == ():
                return self.as_dtype(value, node.dtype)
            return self.filled(shape_text(node.shape), value, node.dtype)
        return value


_ERRSTATE = cst.parse_expression('np.errstate(divide="ignore", over="ignore", invalid="ignore")')


def _is_number(node: Node) -> bool:
    return node.rank == 0 and node.param("expr").is_Number


def node_symbol(node_id: int) -> sp.Symbol:
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


