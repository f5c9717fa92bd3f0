"""Unary operators, ``and``/``or`` and comparisons in traced code (mixed into ``Tracer``)."""

from __future__ import annotations

import operator
from typing import Any

import libcst as cst

from symdiff.frontend import calls, masked
from symdiff.frontend.values import Masked, StaticError, SymDim, Tensor, python_number
from symdiff.ir.graph import Graph

_COMPARE = {
    cst.LessThan: ("lt", operator.lt), cst.LessThanEqual: ("le", operator.le),
    cst.GreaterThan: ("gt", operator.gt), cst.GreaterThanEqual: ("ge", operator.ge),
    cst.Equal: ("eq", operator.eq), cst.NotEqual: ("ne", operator.ne),
    cst.Is: (None, operator.is_), cst.IsNot: (None, operator.is_not),
    cst.In: (None, lambda a, b: a in b), cst.NotIn: (None, lambda a, b: a not in b),
}


class Operators:
    """The evaluator's operators (mixed into ``Tracer``)."""

    graph: Graph

    def expr(self, node: Any) -> Any: ...

    def unary(self, node: cst.UnaryOperation) -> Any:
        value = self.expr(node.expression)
        if isinstance(value, Masked) and isinstance(node.operator, (cst.Minus, cst.BitInvert)):
            op = "neg" if isinstance(node.operator, cst.Minus) else "logical_not"
            return masked.elementwise(lambda v: calls.elementwise(self.graph, op, v), [value])
        if isinstance(node.operator, cst.Not):
            if isinstance(value, Tensor):
                raise StaticError("`not` on an array is ambiguous; use np.logical_not")
            return not value
        if isinstance(node.operator, cst.Plus):
            return value
        if isinstance(node.operator, cst.Minus):
            if isinstance(value, (Tensor, SymDim)):
                out = calls.elementwise(self.graph, "neg", value)
                if python_number(self.graph, value):  # -a of a Python float is one
                    self.graph.python_floats.add(out.node.id)
                return out
            return -value
        if isinstance(value, Tensor) and value.node.dtype == "bool":
            return calls.elementwise(self.graph, "logical_not", value)
        raise StaticError("the ~ operator is supported on boolean arrays only")

    def boolean(self, node: cst.BooleanOperation) -> Any:
        left = self.expr(node.left)
        if isinstance(left, Tensor):
            raise StaticError("`and`/`or` on arrays is ambiguous; use np.logical_and/np.logical_or")
        is_and = isinstance(node.operator, cst.And)
        if bool(left) != is_and:
            return left
        right = self.expr(node.right)
        if isinstance(right, Tensor):
            raise StaticError("`and`/`or` on arrays is ambiguous; use np.logical_and/np.logical_or")
        return right

    def comparison(self, node: cst.Comparison) -> Any:
        left = self.expr(node.left)
        result: Any = True
        for target in node.comparisons:
            right = self.expr(target.comparator)
            prim, python = _COMPARE[type(target.operator)]
            if isinstance(target.operator, (cst.Is, cst.IsNot)):
                value = python(left, right)  # identity: an array is never None
            elif isinstance(left, (Tensor, SymDim)) or isinstance(right, (Tensor, SymDim)):
                if prim is None:
                    raise StaticError(f"{describe_node(target.operator)} cannot compare arrays")
                value = calls.elementwise(self.graph, prim, left, right)
            else:
                value = python(left, right)
            result = value if result is True else calls.elementwise(
                self.graph, "logical_and", result, value)
            left = right
        return result


def describe_node(node: cst.CSTNode) -> str:
    """How the user calls a piece of syntax in an error message."""
    name = type(node).__name__
    return {"Lambda": "lambda", "ListComp": "list comprehension", "Dict": "dict",
            "GeneratorExp": "generator", "Yield": "yield", "Await": "await",
            "Try": "try", "With": "with", "Import": "import", "ImportFrom": "import",
            "Del": "del", "ClassDef": "class", "Modulo": "%", "FloorDivide": "//",
            "NamedExpr": "walrus (:=)", "FormattedString": "f-string",
            "SetComp": "set comprehension", "DictComp": "dict comprehension",
            "Set": "set"}.get(name, name)
