"""The value of a traced node at the arguments of one call, computed with the NumPy spelling
the generated code uses: the rule table's ``emit`` for array primitives, the SymPy formula
printed by the NumPy printer for elementwise ones. The tracer asks for them to decide a while
loop's number of iterations (``symdiff.frontend.concrete``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.codegen.emitter import helper_order, operand
from symdiff.codegen.numpy_target import NUMPY
from symdiff.codegen.printer import NumpyPrinter, integer_inputs, print_value
from symdiff.frontend.values import StaticError
from symdiff.ir.fused import arg_symbol
from symdiff.ir.graph import Graph, Node
from symdiff.ir.primitives import helper_definition, lookup
from symdiff.rules.elementwise import node_scalar


class ArgumentValues:
    """The arguments of one call by parameter name, and the node values computed from them."""

    def __init__(self, arguments: dict[str, Any]):
        self.arguments = arguments
        self.graph: Graph | None = None
        self.values: dict[int, Any] = {}
        self.namespace: dict[str, Any] = {"np": np}
        self.defined: set[str] = set()

    def value(self, graph: Graph, node: Node) -> Any:
        if graph is not self.graph:
            self.graph, self.values = graph, {}
        needed, stack = [], [node.id]
        while stack:
            i = stack.pop()
            if i in self.values or i in needed:
                continue
            needed.append(i)
            stack.extend(graph[i].inputs)
        for i in sorted(needed):  # a node's inputs come before it
            self.values[i] = self._compute(graph, graph[i])
        return self.values[node.id]

    def _compute(self, graph: Graph, node: Node) -> Any:
        if node.op == "input":
            name = node.param("name")
            if name not in self.arguments:
                raise StaticError("the condition depends on random numbers drawn in the "
                                  "function, which are not known while generating")
            value = self.arguments[name]
            return np.float64(value) if node.id in graph.python_floats else value
        prim = lookup(node.op)
        if prim.alias:
            return self.values[node.inputs[0]]
        names = {f"_v{i}": self.values[i] for i in node.inputs}
        if prim.elementwise:
            symbols = {arg_symbol(k): operand(f"_v{i}") for k, i in enumerate(node.inputs)}
            printer = NumpyPrinter(symbols)
            expr = node_scalar(node, [arg_symbol(k) for k in range(len(node.inputs))])
            text = print_value(printer, expr, node.is_float,
                               integer_inputs([graph[i] for i in node.inputs], node))
            used = set(printer.helpers)
        else:
            if prim.emit is None:
                raise StaticError(f"{node.op} cannot be computed while generating")
            text = prim.emit([operand(f"_v{i}") for i in node.inputs], node)
            used = {h for h in prim.helpers if h in text}
        self._define(used)
        with np.errstate(all="ignore"):
            value = eval(text, self.namespace, {**self.arguments, **names})  # noqa: S307
        if np.shape(value) == () and not node.shape:
            return np.asarray(value, dtype=node.dtype)[()]
        return value

    def _define(self, helpers: set[str]) -> None:
        """The helper functions a spelling calls, defined as the generated module defines
        them."""
        for name in helper_order(helpers - self.defined, NUMPY):
            if name not in self.defined:
                exec(NUMPY.helpers.get(name) or helper_definition(name),  # noqa: S102
                     self.namespace)
                self.defined.add(name)
