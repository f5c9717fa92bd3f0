"""Unary operators, ``and``/``or`` and comparisons in traced code (mixed into ``Tracer``)."""

from __future__ import annotations

import operator
from typing import Any

import libcst as cst

from symdiff.frontend import calls, contractions, masked
from symdiff.frontend.paths import sizes_only
from symdiff.frontend.values import (
    Masked,
    SizeNeeded,
    StaticError,
    SymDim,
    Tensor,
    python_number,
    to_tensor,
)
from symdiff.ir.graph import Graph
from symdiff.ir.shapes import format_shape, same_shape

_BINARY = {
    cst.Add: ("add", operator.add), cst.Subtract: ("sub", operator.sub),
    cst.Multiply: ("mul", operator.mul), cst.Divide: ("div", operator.truediv),
    cst.Power: ("pow", operator.pow), cst.MatrixMultiply: ("matmul", None),
    cst.FloorDivide: (None, operator.floordiv), cst.Modulo: ("mod", operator.mod),
    cst.BitAnd: (None, operator.and_), cst.BitOr: (None, operator.or_),
    cst.BitXor: (None, operator.xor),
}
# ``&``, ``|`` and ``^`` of boolean arrays (masks: ``(x > 0) | (y < 1)``) are the logical
# functions; NumPy's bitwise meaning on integer arrays is not supported.
_MASK_LOGIC = {cst.BitAnd: "logical_and", cst.BitOr: "logical_or", cst.BitXor: "ne"}
_SIZE_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide)

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

    def binary(self, op: cst.BaseBinaryOp, left: Any, right: Any, where: cst.CSTNode) -> Any:
        if isinstance(left, Masked) or isinstance(right, Masked):  # x[mask] * 2: every element
            return masked.elementwise(lambda a, b: self.binary(op, a, b, where), [left, right])
        prim, python = _BINARY.get(type(op), (None, None))
        if not isinstance(left, (Tensor, SymDim)) and not isinstance(right, (Tensor, SymDim)):
            if python is None:
                raise StaticError("@ needs arrays")
            try:
                return python(left, right)
            except Exception as exc:  # a static computation failed: report it at its place
                raise StaticError(f"{type(exc).__name__}: {exc}") from None
        if type(op) in _SIZE_ARITHMETIC and all(
                isinstance(v, (SymDim, int)) and not isinstance(v, bool) for v in (left, right)):
            try:  # a size computed from sizes stays a size (x.shape[0] - 1)
                return python(left, right)
            except TypeError:
                pass
        if type(op) in _MASK_LOGIC:
            return self._mask_logic(op, left, right)
        if prim is None:
            raise StaticError(f"the operator {describe_node(op)} is not differentiable")
        if prim == "matmul":
            return contractions.matmul_any(self.graph, left, right)
        out = calls.elementwise(self.graph, prim, left, right)
        if python_number(self.graph, left) and python_number(self.graph, right):
            self.graph.python_floats.add(out.node.id)  # float op float: a Python float
        return out

    def _mask_logic(self, op: cst.BaseBinaryOp, left: Any, right: Any) -> Tensor:
        for value in (left, right):
            if not isinstance(value, bool) and not (
                    isinstance(value, Tensor) and value.node.dtype == "bool"):
                raise StaticError(f"the operator {describe_node(op)} is supported on boolean "
                                  "arrays (masks) only")
        return calls.elementwise(self.graph, _MASK_LOGIC[type(op)], left, right)

    def if_expression(self, node: cst.IfExp) -> Any:
        test = self.expr(node.test)
        if isinstance(test, Tensor):
            body, orelse = self.expr(node.body), self.expr(node.orelse)
            shapes = [to_tensor(self.graph, v).shape for v in (body, orelse)]
            if not same_shape(*shapes):  # Python picks one whole value: np.where would broadcast
                sizes = sizes_only(self.graph, test)
                message = (f"the two values of this conditional expression have shapes "
                           f"{format_shape(shapes[0])} and {format_shape(shapes[1])}; a value "
                           "chosen by data must have one shape")
                if sizes is not None:  # chosen by sizes: the gradient specialises on them
                    raise SizeNeeded(f"{message} (the condition depends on {sizes})", sizes)
                raise StaticError(message)
            return calls.where(self.graph, test, body, orelse)
        return self.expr(node.body) if test else self.expr(node.orelse)

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
            "Set": "set", "BitAnd": "&", "BitOr": "|", "BitXor": "^"}.get(name, name)
