"""The frontend: evaluate a function's libcst tree into the IR graph.

Contract: ``trace(graph, callee, args)`` evaluates the source of ``callee`` (a
``symdiff.frontend.callee.Callee``, or a Python function) with ``args`` (tensors
for arrays, Python values for static arguments) and returns its result value. Python values are
computed at generation time (a partial evaluator), so ``if`` on a constant, ``reduction="mean"``
and ``x.shape[0]`` resolve while generating; arrays become graph nodes. Calls to other Python
functions are evaluated from their own source (inlined). Anything else raises
:class:`~symdiff.errors.UnsupportedError` at its file, line and column: this is the syntax fence.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Sequence
from typing import Any

import libcst as cst

from symdiff.errors import SizeError, SymdiffError, UnsupportedError
from symdiff.frontend import calls
from symdiff.frontend.callee import MISSING, Callee, as_callee
from symdiff.frontend.control import (
    Broke,
    Continued,
    ControlFlow,
    Ended,
    Exits,
    Returned,
    combine_returns,
    sizes_only,
)
from symdiff.frontend.indexing import index_spec
from symdiff.frontend.loop_body import LoopTracing
from symdiff.frontend.loops import Indexed, NotLoopable, Unavailable, range_items
from symdiff.frontend.values import (
    BoundMethod,
    SizeNeeded,
    StaticError,
    SymDim,
    Tensor,
    describe,
    is_number,
    to_tensor,
    wrap_dim,
)
from symdiff.ir.graph import Graph, Origin, make_params
from symdiff.ir.shapes import ShapeError, canon, format_shape, same_shape
from symdiff.ir.sizes import maximum, minimum
from symdiff.markers import trace_hook
from symdiff.rules.indexing import is_array_index
from symdiff.trees import ModelView, unbind

_BINARY = {
    cst.Add: ("add", operator.add), cst.Subtract: ("sub", operator.sub),
    cst.Multiply: ("mul", operator.mul), cst.Divide: ("div", operator.truediv),
    cst.Power: ("pow", operator.pow), cst.MatrixMultiply: ("matmul", None),
    cst.FloorDivide: (None, operator.floordiv), cst.Modulo: (None, operator.mod),
}
_SIZE_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide)
_AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.PowerAssign: cst.Power,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply, cst.FloorDivideAssign: cst.FloorDivide,
}
_COMPARE = {
    cst.LessThan: ("lt", operator.lt), cst.LessThanEqual: ("le", operator.le),
    cst.GreaterThan: ("gt", operator.gt), cst.GreaterThanEqual: ("ge", operator.ge),
    cst.Equal: ("eq", operator.eq), cst.NotEqual: ("ne", operator.ne),
    cst.Is: (None, operator.is_), cst.IsNot: (None, operator.is_not),
    cst.In: (None, lambda a, b: a in b), cst.NotIn: (None, lambda a, b: a not in b),
}
# Builtins that are pure functions of static values, safe to call while generating.
_STATIC_BUILTINS = {len, range, int, float, bool, tuple, list, min, max, abs, round, isinstance,
                    sum, str, enumerate, zip, any, all}


class Tracer(LoopTracing, ControlFlow):
    """Evaluates one function body; calls to other functions make a new Tracer."""

    def __init__(self, graph: Graph, callee: Callee, env: dict[str, Any],
                 stack: tuple[Any, ...], top_level: bool):
        self.graph = graph
        graph.read.append(callee)  # the graph depends on this function's source
        self.callee = callee
        self.source = callee.source
        self.env = env
        self.stack = stack
        self.top_level = top_level
        self.guard = None  # the condition on data under which statements run (None: always)
        self.exits = Exits()
        self.loops: list[Exits] = []

    # --- statements -------------------------------------------------------------------------

    def run(self) -> Any:
        node = self.source.node
        if isinstance(node, cst.Lambda):
            return self.expr(node.body)
        if node.asynchronous is not None:
            raise self.error(node, "async functions are not supported: their body runs only "
                             "when awaited; differentiate a plain def")
        final, ended = None, False
        try:
            self.suite(node.body, docstring_allowed=True)
        except Returned as ret:
            final = ret.value
        except Ended:
            ended = True
        if not self.exits.returns:
            return final
        try:
            return combine_returns(self.graph, self.exits.returns, final, ended)
        except StaticError as exc:
            raise self.error(node, str(exc)) from None

    def suite(self, suite: cst.BaseSuite, docstring_allowed: bool = False) -> None:
        """An indented block, or statements on the line of the colon (``def f(x): return x``)."""
        if isinstance(suite, cst.SimpleStatementSuite):
            if self.top_level:
                self.set_origin(suite)
            for small in suite.body:
                self.small_statement(small, False)
        else:
            self.block(suite.body, docstring_allowed)

    def set_origin(self, node: cst.CSTNode) -> None:
        loc = self.source.location(node)
        self.graph.origin = Origin(loc.filename, loc.lineno, loc.text, loc.col)

    def block(self, statements: Sequence[cst.BaseStatement], docstring_allowed=False) -> None:
        for i, statement in enumerate(statements):
            if self.top_level:
                self.set_origin(statement)
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.small_statement(small, docstring_allowed and i == 0)
            elif isinstance(statement, cst.If):
                self.if_statement(statement)
            elif isinstance(statement, cst.For):
                self.for_statement(statement)
            elif isinstance(statement, cst.While):
                self.while_statement(statement)
            elif isinstance(statement, cst.FunctionDef):
                raise self.error(statement, "nested function definitions are not supported; "
                                 "define the function at module level")
            else:
                raise self.error(statement, f"{_describe_node(statement)} statements are not "
                                 "supported in differentiated code")

    def small_statement(self, small: cst.BaseSmallStatement, is_docstring: bool) -> None:
        if isinstance(small, cst.Return):
            raise Returned(None if small.value is None else self.expr(small.value))
        if isinstance(small, (cst.Break, cst.Continue)):
            raise Broke if isinstance(small, cst.Break) else Continued
        if isinstance(small, cst.Assign):
            value = self.expr(small.value)
            for target in small.targets:
                self.bind(target.target, value)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.bind(small.target, self.expr(small.value))
        elif isinstance(small, cst.AugAssign):
            op = _AUGMENTED.get(type(small.operator))
            if op is None or not isinstance(small.target, (cst.Name, cst.Subscript)):
                raise self.error(small, "this augmented assignment is not supported")
            current = self.expr(small.target)
            self.bind(small.target, self.binary(op(), current, self.expr(small.value), small))
        elif isinstance(small, cst.Expr):
            if isinstance(small.value, (cst.Yield, cst.Await)):
                raise self.error(small, "generator functions (yield) are not supported")
            if isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)) and \
                    is_docstring or isinstance(small.value, cst.Ellipsis):
                return
            raise self.error(small, "an expression statement has no effect on the result; "
                             "symdiff supports assignments and return")
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Assert):
            test = self.expr(small.test)
            if isinstance(test, (Tensor, SymDim)):
                raise self.error(small, "assert on an array value is not supported")
            if not test:
                raise self.error(small, "this assertion fails for these arguments")
        elif isinstance(small, cst.Raise):
            exc = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
            kind = exc.value if isinstance(exc, cst.Name) else "an exception"
            raise self.error(small, f"the function raises {kind} for these arguments")
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            raise self.error(small, "global and nonlocal variables cannot be assigned in "
                             "differentiated code")
        else:
            raise self.error(small, f"{_describe_node(small)} statements are not supported in "
                             "differentiated code")

    def bind(self, target: cst.BaseExpression, value: Any) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value, Tensor) and value.node.name is None and \
                    value.node.op not in ("input", "const", "dim"):
                value = Tensor(self.graph.rename(value.node, target.value))
            self.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = self.unpack(value, len(target.elements), target)
            for element, item in zip(target.elements, items, strict=True):
                if isinstance(element, cst.StarredElement):
                    raise self.error(element, "starred assignment is not supported")
                self.bind(element.value, item)
        elif isinstance(target, cst.Attribute) and \
                isinstance(owner := self.expr(target.value), ModelView):
            # self.inputs = inputs inside a model's forward: seen by the rest of this trace,
            # never written to the real object
            if self.graph.in_loop_body:
                raise NotLoopable("it assigns an attribute")
            if self.guard is not None:  # the view is shared by both branches' variables
                raise self.error(target, "assigning an attribute inside a branch that depends "
                                 "on data is not supported; assign a variable and set the "
                                 "attribute after the branch")
            owner.remember(target.attr.value, value)
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1 and \
                isinstance(target.slice[0].slice, cst.Index) and \
                isinstance(container := self.expr(target.value), dict):
            # self.grads["W"] = ... : the dict is copied, so no dict outside the trace changes
            updated = dict(container)
            updated[self.expr(target.slice[0].slice.value)] = value
            self.bind(target.value, updated)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and \
                isinstance(array := self.expr(target.value), Tensor):
            self.bind(target.value, self.assign_elements(array, target, value))
        else:
            raise self.error(target, "only assignments to names and tuples of names are "
                             "supported")

    def unpack(self, value: Any, count: int, where: cst.CSTNode) -> list[Any]:
        if isinstance(value, (tuple, list)):
            if len(value) != count:
                raise self.error(where, f"cannot unpack {len(value)} values into {count} names")
            return list(value)
        if isinstance(value, Tensor) and value.rank >= 1 and value.shape[0] == count:
            return [self.index(value, (i,), where) for i in range(count)]
        raise self.error(where, f"cannot unpack {describe(value)} into {count} names")

    # --- expressions ------------------------------------------------------------------------

    def expr(self, node: cst.BaseExpression) -> Any:
        try:
            return self._expr(node)
        except (StaticError, ShapeError) as exc:
            raise self.located(node, exc) from None

    def located(self, node: cst.CSTNode, exc: Exception) -> UnsupportedError:
        """``exc`` at ``node``; a size needed as a number says which (see SizeNeeded)."""
        kind = SizeError if isinstance(exc, ShapeError) else UnsupportedError
        error = self.error(node, str(exc), kind)
        error.sizes = getattr(exc, "sizes", ())
        return error

    def _expr(self, node: cst.BaseExpression) -> Any:
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, cst.Integer):
            return int(node.evaluated_value)
        if isinstance(node, cst.Float):
            return float(node.evaluated_value)
        if isinstance(node, cst.Imaginary):
            raise StaticError("complex numbers are not supported")
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return node.evaluated_value
        if isinstance(node, cst.Tuple):
            return tuple(self.elements(node.elements))
        if isinstance(node, cst.List):
            return list(self.elements(node.elements))
        if isinstance(node, cst.BinaryOperation):
            return self.binary(node.operator, self.expr(node.left), self.expr(node.right), node)
        if isinstance(node, cst.UnaryOperation):
            return self.unary(node)
        if isinstance(node, cst.BooleanOperation):
            return self.boolean(node)
        if isinstance(node, cst.Comparison):
            return self.comparison(node)
        if isinstance(node, cst.IfExp):
            return self.if_expression(node)
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Attribute):
            return self.attribute(self.expr(node.value), node.attr.value)
        if isinstance(node, cst.Subscript):
            return self.subscript(node)
        if isinstance(node, cst.Ellipsis):
            return Ellipsis
        raise StaticError(f"{_describe_node(node)} expressions are not supported in "
                          "differentiated code")

    def elements(self, elements: Sequence[cst.BaseElement]) -> list[Any]:
        out = []
        for e in elements:
            if isinstance(e, cst.StarredElement):
                value = self.expr(e.value)
                if not isinstance(value, (tuple, list)):
                    raise StaticError(f"cannot unpack {describe(value)} with *")
                out.extend(value)
            else:
                out.append(self.expr(e.value))
        return out

    def name(self, node: cst.Name) -> Any:
        ident = node.value
        if ident in self.env:
            value = self.env[ident]
            if isinstance(value, Unavailable):
                raise self.error(node, value.reason())
            return value
        value = self.callee.lookup(ident)
        if value is MISSING:
            raise self.error(node, f"name {ident!r} is not defined")
        if isinstance(value, Exception):  # a name the static reader could not give a value
            raise self.error(node, str(value))
        return value

    def binary(self, op: cst.BaseBinaryOp, left: Any, right: Any, where: cst.CSTNode) -> Any:
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
        if prim is None:
            raise StaticError(f"the operator {_describe_node(op)} is not differentiable")
        if prim == "matmul":
            return calls.matmul(self.graph, left, right)
        return calls.elementwise(self.graph, prim, left, right)

    def unary(self, node: cst.UnaryOperation) -> Any:
        value = self.expr(node.expression)
        if isinstance(node.operator, cst.Not):
            if isinstance(value, Tensor):
                raise StaticError("`not` on an array is ambiguous; use np.logical_not")
            return not value
        if isinstance(node.operator, cst.Plus):
            return value
        if isinstance(node.operator, cst.Minus):
            if isinstance(value, (Tensor, SymDim)):
                return calls.elementwise(self.graph, "neg", value)
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
                    raise StaticError(f"{_describe_node(target.operator)} cannot compare arrays")
                value = calls.elementwise(self.graph, prim, left, right)
            else:
                value = python(left, right)
            result = value if result is True else calls.elementwise(
                self.graph, "logical_and", result, value)
            left = right
        return result

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

    def attribute(self, value: Any, name: str) -> Any:
        if isinstance(value, Tensor):
            if _is_python_float(value) and name not in ("real", "imag"):
                raise StaticError(f"'float' object has no attribute {name!r} (a Python float "
                                  "is passed here, not a NumPy array)")
            if name in calls.METHODS:
                return BoundMethod(value, name)
            return calls.tensor_attribute(self.graph, value, name)
        if isinstance(value, SymDim):
            raise StaticError(f"a size has no attribute {name!r}")
        try:
            return getattr(value, name)
        except AttributeError:
            raise StaticError(f"{describe(value)} has no attribute {name!r}") from None

    def subscript(self, node: cst.Subscript) -> Any:
        value = self.expr(node.value)
        key = self.subscript_key(node)
        if isinstance(value, Tensor):
            return self.index(value, key if isinstance(key, tuple) else (key,), node)
        try:
            return value[key]
        except Exception as exc:
            raise StaticError(f"{type(exc).__name__}: {exc}") from None

    def subscript_key(self, node: cst.Subscript) -> Any:
        items = []
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Slice):
                parts = [None if p is None else self.expr(p)
                         for p in (inner.lower, inner.upper, inner.step)]
                items.append(slice(*parts))
            else:
                items.append(self.expr(inner.value))
        return items[0] if len(items) == 1 and not isinstance(node.slice[0].comma, cst.Comma) \
            else tuple(items)

    def index(self, x: Tensor, key: tuple, where: cst.CSTNode) -> Tensor:
        index, arrays = index_spec(self.graph, x, key)
        leading = next((k for k, item in enumerate(index) if not is_array_index(item)),
                       len(index))
        if arrays and leading and len(index) > leading and \
                not any(is_array_index(item) for item in index[leading:]):
            # x[rows, 1:] is x[:, 1:][rows]: with the integer arrays first, NumPy puts their
            # axes first either way, and every backend gathers on leading axes
            full = ("slice", None, None, None)
            x = Tensor(self.graph.add("getitem", [x.node], make_params(
                index=(full,) * leading + tuple(index[leading:]))))
            index = index[:leading]
        return Tensor(self.graph.add("getitem", [x.node, *arrays],
                                     make_params(index=tuple(index))))

    def rows(self, x: Tensor) -> Indexed:
        """``for row in x``: the rows of an array, by position."""
        if x.rank == 0:
            raise StaticError("cannot loop over a scalar")
        return Indexed(wrap_dim(x.shape[0]), lambda k: self.index(x, (k,), None))

    def assign_elements(self, x: Tensor, target: cst.Subscript, value: Any) -> Tensor:
        """``x[index] = value`` as a new array equal to ``x`` except at ``index``."""
        name = target.value.value
        others = [n for n, v in self.env.items() if n != name and isinstance(v, Tensor)
                  and v.node.id == x.node.id]
        if others:
            raise self.error(target, f"{name} is also called {others[0]}, and assigning to its "
                             "elements would change both; copy it first (.copy())")
        key = self.subscript_key(target)
        index, arrays = index_spec(self.graph, x, key if isinstance(key, tuple) else (key,))
        if any(a.rank for a in arrays):  # a traced integer (h[t + 1] = ...) is one place
            raise self.error(target, "assigning through integer-array indices is not "
                             "supported; use np.where with a mask")
        params = make_params(index=tuple(index))
        selected = self.graph.add("getitem", [x.node, *arrays], params)
        value = to_tensor(self.graph, value)
        if value.node.dtype != x.node.dtype:
            value = calls.astype(self.graph, value, x.node.dtype)
        if not same_shape(value.shape, selected.shape):
            value = calls.broadcast_to(self.graph, value, selected.shape)
        placed = self.graph.add("scatter", [value.node, x.node, *arrays], params)
        ones = self.graph.add("fill", [selected], make_params(value=1))
        written = self.graph.add("scatter", [ones, x.node, *arrays], params)
        return calls.where(self.graph, calls.elementwise(self.graph, "ne", Tensor(written), 0),
                           Tensor(placed), x)

    # --- calls ------------------------------------------------------------------------------

    def call(self, node: cst.Call) -> Any:
        callee = self.expr(node.func)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for arg in node.args:
            value = self.expr(arg.value)
            if arg.star == "*":
                args.extend(value)
            elif arg.star == "**":
                kwargs.update(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        if isinstance(callee, BoundMethod):
            return calls.bind_call(calls.METHODS[callee.name], self.graph,
                              [callee.tensor, *args], kwargs, f".{callee.name}()")
        traced = trace_hook(callee)
        if traced is not None:  # grad, jvp, custom rules: they build on this graph themselves
            return traced(self.graph, args, kwargs)
        if getattr(callee, "__symdiff_static__", False):  # symdiff.grad(f) makes a function
            if any(isinstance(a, (Tensor, SymDim)) for a in [*args, *kwargs.values()]):
                raise StaticError(f"{calls.callee_name(callee)} takes functions and options, "
                                  "not arrays")
            return callee(*args, **kwargs)
        model, callee = unbind(callee)  # a model's method, or a model called
        if model is not None:
            tracer = calls.op_tracer(type(object.__getattribute__(model, "_obj")))
            if callee.__name__ == "forward" and self.graph.custom_rules and tracer is not None:
                return tracer(self.graph, model, args, kwargs)  # an Op with its own backward
            return self.inline(as_callee(callee), [model, *args], kwargs)
        handler = calls.function_handler(callee)
        if handler is not None:
            if all(calls.static_number(a) for a in [*args, *kwargs.values()]):
                folded = callee(*args, **kwargs)  # a constant, such as np.log(2.0)
                if is_number(folded):
                    return folded
            return calls.bind_call(handler, self.graph, args, kwargs, calls.callee_name(callee))
        if callee in _STATIC_BUILTINS:
            return self.static_builtin(callee, args, kwargs)
        function = as_callee(callee)
        if function is not None:
            return self.inline(function, args, kwargs)
        if calls.op_tracer(type(callee)) is not None:
            raise StaticError(f"{type(callee).__name__} is a registered Op, but this object is "
                              "not part of a model the gradient is taken of; make it an "
                              "attribute of the model (self.op = Op()) and differentiate the "
                              "model")
        raise StaticError(f"{calls.callee_name(callee)} is not supported: symdiff has no "
                          "derivative rule for it")

    def static_builtin(self, fun: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if fun is len and len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].rank == 0:
                raise StaticError("len() of a scalar")
            return wrap_dim(args[0].shape[0])
        if fun is float and len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].rank != 0:
                raise StaticError("float() needs a scalar")
            return calls.astype(self.graph, args[0], "float64")
        if fun in (max, min) and not kwargs and any(isinstance(a, SymDim) for a in args) and \
                all(isinstance(a, (SymDim, int)) and not isinstance(a, bool) for a in args):
            pick = maximum if fun is max else minimum
            return wrap_dim(pick(*(a.dim if isinstance(a, SymDim) else a for a in args)))
        if fun is range and any(isinstance(a, SymDim) for a in args) and not kwargs:
            start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
            return range_items(start, stop, step, self.offset)
        if fun in (enumerate, zip):  # lazily, over sequences that may be long
            sequences = [self.sequence(a) if isinstance(a, (Tensor, Indexed, range)) else a
                         for a in args]
            if any(isinstance(a, Indexed) for a in sequences):
                return self.by_position(fun, sequences, kwargs)
            args = [list(a) if isinstance(a, Indexed) else a for a in sequences]
        if any(isinstance(a, (Tensor, SymDim)) for a in [*args, *kwargs.values()]):
            raise StaticError(f"{fun.__name__}() on arrays is not supported; use the NumPy "
                              "function")
        return fun(*args, **kwargs)

    def by_position(self, fun: Any, sequences: list[Any], kwargs: dict[str, Any]) -> Indexed:
        """``enumerate`` and ``zip`` of sequences walked by position."""
        if fun is enumerate:
            (sequence, *rest), start = sequences, kwargs.get("start", 0)
            start = rest[0] if rest else start
            return Indexed(sequence.count,
                           lambda k: (self.offset(k, start, "add"), sequence.item(k)))
        kwargs = {k: v for k, v in kwargs.items() if k != "strict"}  # zip(a, b, strict=True)
        if kwargs or not all(isinstance(s, Indexed) for s in sequences):
            raise StaticError("zip() of arrays takes arrays, ranges and other zips")
        counts = [s.count for s in sequences]
        if all(isinstance(c, int) for c in counts):
            count: Any = min(counts)
        elif all(canon(getattr(c, "dim", c)) == canon(getattr(counts[0], "dim", counts[0]))
                 for c in counts):
            count = counts[0]
        else:
            count = wrap_dim(minimum(*(getattr(c, "dim", c) for c in counts)))
        return Indexed(count, lambda k: tuple(s.item(k) for s in sequences))

    def inline(self, callee: Callee, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if callee.key in self.stack:
            raise StaticError(f"recursive call of {callee.name} is not supported")
        tracer = Tracer(self.graph, callee, _bind(callee, args, kwargs),
                        self.stack + (callee.key,), top_level=False)
        return tracer.run()

    def error(self, node: cst.CSTNode, reason: str,
              kind: type[UnsupportedError] = UnsupportedError) -> UnsupportedError:
        return self.source.error(node, reason, kind)


def _describe_node(node: cst.CSTNode) -> str:
    name = type(node).__name__
    return {"Lambda": "lambda", "ListComp": "list comprehension", "Dict": "dict",
            "GeneratorExp": "generator", "Yield": "yield", "Await": "await",
            "Try": "try", "With": "with", "Import": "import", "ImportFrom": "import",
            "Del": "del", "ClassDef": "class", "Modulo": "%", "FloorDivide": "//",
            "NamedExpr": "walrus (:=)", "FormattedString": "f-string",
            "SetComp": "set comprehension", "DictComp": "dict comprehension",
            "Set": "set"}.get(name, name)


def _bind(callee: Callee, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    return bind_arguments(callee.signature, callee.name, args, kwargs)


def bind_arguments(signature: inspect.Signature, name: str, args: list[Any],
                   kwargs: dict[str, Any]) -> dict[str, Any]:
    """The values of a call's parameters by name, defaults applied, as Python binds them."""
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise StaticError(f"{name} takes *args or **kwargs, which are not supported")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise StaticError(f"calling {name}: {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def trace_call(graph: Graph, fun: Any, args: list[Any], kwargs: dict[str, Any],
               top_level: bool = False) -> Any:
    """Call ``fun`` (a function with source, or an object that traces itself, such as a
    gradient function) on traced values; ``top_level``: its lines are the origins of what it
    builds (otherwise they are the caller's line)."""
    traced = trace_hook(fun)
    if traced is not None:
        return traced(graph, args, kwargs, top_level=top_level)
    callee = as_callee(fun)
    if callee is None:
        raise StaticError(f"{calls.callee_name(fun)} is not a Python function with source")
    if not top_level:
        return Tracer(graph, callee, _bind(callee, args, kwargs), (callee.key,),
                      top_level=False).run()
    return trace(graph, callee, _bind(callee, args, kwargs))


def trace(graph: Graph, fun: Any, args: dict[str, Any]) -> Any:
    """Evaluate ``fun`` (a Python function or a Callee) on ``args`` (name -> value); every
    function whose source the evaluation used is listed in ``graph.read``."""
    callee = as_callee(fun)
    if callee is None:
        raise UnsupportedError(f"{fun!r} is not a Python function with source code")
    try:
        return Tracer(graph, callee, dict(args), (callee.key,), top_level=True).run()
    except SymdiffError:
        raise
    except RecursionError:
        raise UnsupportedError("the function is too deeply nested to trace",
                               callee.source.filename, callee.source.first_line, 1) from None


__all__ = ["Tracer", "bind_arguments", "to_tensor", "trace", "trace_call"]


def _is_python_float(value: Tensor) -> bool:
    """An argument passed as a Python float (a 0-d array or NumPy scalar is marked ``zero_d``):
    it has none of an array's attributes."""
    node = value.node
    return node.op == "input" and node.rank == 0 and not node.param("zero_d", False)
