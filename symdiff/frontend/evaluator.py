"""The frontend: evaluate a function's libcst tree into the IR graph.

Contract: a ``Tracer`` (made by ``symdiff.frontend.tracing.trace``) evaluates the source of a
callee (a ``symdiff.frontend.callee.Callee``, or a Python function) with ``args`` (tensors
for arrays, Python values for static arguments) and returns its result value. Python values are
computed at generation time (a partial evaluator), so ``if`` on a constant, ``reduction="mean"``
and ``x.shape[0]`` resolve while generating; arrays become graph nodes. Calls to other Python
functions are evaluated from their own source (inlined). Anything else raises
:class:`~symdiff.errors.UnsupportedError` at its file, line and column: this is the syntax fence.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import libcst as cst
import numpy as np

from symdiff.errors import SizeError, UnsupportedError
from symdiff.frontend import functions, masked
from symdiff.frontend.aliasing import marked_view
from symdiff.frontend.callee import MISSING, Callee, LiveFunction
from symdiff.frontend.calling import Calls
from symdiff.frontend.checks import DataChecks
from symdiff.frontend.comprehensions import Comprehensions
from symdiff.frontend.control import (
    Broke,
    Continued,
    ControlFlow,
    Ended,
    Exits,
    Returned,
)
from symdiff.frontend.generator_tracing import GeneratorTracing
from symdiff.frontend.generators import (
    TracedGenerator,
    generator_attribute,
    is_generator_function,
)
from symdiff.frontend.local_functions import LocalFunction
from symdiff.frontend.loop_body import LoopTracing
from symdiff.frontend.loops import NotLoopable, Unavailable
from symdiff.frontend.operators import Operators, describe_node
from symdiff.frontend.outside import (
    ListChanges,
    OuterNeeded,
    default_arrays,
    note_lists,
    outer_input,
)
from symdiff.frontend.paths import combine_returns
from symdiff.frontend.random import RandomMethod
from symdiff.frontend.source import signature_of_parameters
from symdiff.frontend.subscripts import Subscripts
from symdiff.frontend.values import (
    BoundMethod,
    Masked,
    StaticError,
    SymDim,
    Tensor,
    describe,
    python_number,
    to_tensor,
)
from symdiff.ir.graph import Graph, Origin
from symdiff.ir.shapes import ShapeError
from symdiff.runtime import FreshGenerator, frozen
from symdiff.trees import ModelView, is_model

MAX_RECURSION = 64  # calls of one function inside itself, written out while tracing

_AUGMENTED = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.PowerAssign: cst.Power,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply, cst.FloorDivideAssign: cst.FloorDivide,
}


class Tracer(Operators, Calls, Subscripts, Comprehensions, LoopTracing, DataChecks,
             ControlFlow, ListChanges, GeneratorTracing):
    """Evaluates one function body; calls to other functions make a new Tracer."""

    def __init__(self, graph: Graph, callee: Callee, env: dict[str, Any],
                 stack: tuple[Any, ...], top_level: bool, on_data_path: bool = False):
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
        # the caller's path depends on data (a branch on data, or after a return under one)
        self.on_data_path = on_data_path
        # a generator's body: the values yielded so far, and the data branches around its call
        self.yielded: list[Any] | None = None
        self.branches_outside = 0
        self.held: set[int] = set()  # mutable objects the generator could read when made

    # --- statements -------------------------------------------------------------------------

    def run(self) -> Any:
        node = self.source.node
        self.graph.frames.append(self)  # what the code holds, for writes into arrays
        final, ended = None, False
        try:
            if isinstance(node, cst.Lambda):
                return self.expr(node.body)
            if node.asynchronous is not None:
                raise self.error(node, "async functions are not supported: their body runs "
                                 "only when awaited; differentiate a plain def")
            self.suite(node.body, docstring_allowed=True)
        except Returned as ret:
            final = ret.value
        except Ended:
            ended = True
        finally:
            self.graph.frames.pop()
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
                self.env[statement.name.value] = self.local_function(statement)
            else:
                raise self.error(statement, f"{describe_node(statement)} statements are not "
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
            if isinstance(small.target, cst.Attribute):
                raise self.error(small, f"augmented assignment to the attribute "
                                 f"{small.target.attr.value!r} is not supported: it changes "
                                 "the object; compute a new value and return it")
            if op is None or not isinstance(small.target, (cst.Name, cst.Subscript)):
                raise self.error(small, "this augmented assignment is not supported")
            current = self.expr(small.target)
            if isinstance(current, Tensor) and not python_number(self.graph, current):
                if isinstance(small.target, cst.Name):  # in place, as NumPy: x += v
                    self.writable(small, small.target.value, current)
                elif isinstance(holder := self.expr(small.target.value), (list, dict)):
                    self.writable(small, "the item", current, container=holder)
            try:
                updated = self.binary(op(), current, self.expr(small.value), small)
            except StaticError as exc:
                raise self.located(small, exc) from None
            self.bind(small.target, updated)
        elif isinstance(small, cst.Expr):
            if isinstance(small.value, cst.Yield):
                self.yield_statement(small.value)
                return
            if isinstance(small.value, cst.Await):
                raise self.error(small, "await is not supported in differentiated code")
            if isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)) and \
                    is_docstring or isinstance(small.value, cst.Ellipsis):
                return
            if isinstance(small.value, cst.Call) and self.grows_a_list(small.value):
                return
            if isinstance(small.value, cst.Call) and self.expr(small.value.func) is print:
                self.expr(small.value)  # skipped with a warning at its line
                return
            raise self.error(small, "an expression statement has no effect on the result; "
                             "symdiff supports assignments and return")
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Assert):
            test = self.expr(small.test)
            if isinstance(test, Tensor):
                self.assert_on_data(small, test)
            elif isinstance(test, SymDim):
                raise self.error(small, "assert on an array value is not supported")
            elif not test:
                raise self.error(small, "this assertion fails for these arguments")
        elif isinstance(small, cst.Raise):
            exc = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
            kind = exc.value if isinstance(exc, cst.Name) else "an exception"
            raise self.error(small, f"the function raises {kind} for these arguments")
        elif isinstance(small, (cst.Global, cst.Nonlocal)):
            raise self.error(small, "global and nonlocal variables cannot be assigned in "
                             "differentiated code")
        else:
            raise self.error(small, f"{describe_node(small)} statements are not supported in "
                             "differentiated code")

    def bind(self, target: cst.BaseExpression, value: Any) -> None:
        if isinstance(target, cst.Name):
            if isinstance(value, Tensor) and value.node.name is None and \
                    value.node.op not in ("input", "const", "dim"):
                value = replace(value, node=self.graph.rename(value.node, target.value))
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
            if any(g.alive for g in self.graph.live_generators) or self.yielded is not None:
                raise self.error(target, "assigning an attribute while a generator is running "
                                 "is not supported: Python runs a generator's body between "
                                 "its items, symdiff when it is called")
            if self.guard is not None:  # the view is shared by both branches' variables
                raise self.error(target, "assigning an attribute inside a branch that depends "
                                 "on data is not supported; assign a variable and set the "
                                 "attribute after the branch")
            owner.remember(target.attr.value, value)
        elif isinstance(target, cst.Attribute):
            # self.count += 1 in a helper object's method: it would change the real object
            # once, while generating, not on each call of the gradient
            raise self.error(target, f"assigning the attribute {target.attr.value!r} of an "
                             "object from outside the function is not supported: it would "
                             "change the object once, while the gradient is generated, not on "
                             "each call; return the value instead")
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
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and \
                isinstance(items := self.env.get(target.value.value), list):
            self.assign_item(items, target, value)
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
        """``exc`` at ``node``; a size needed as a number says which (see SizeNeeded), an
        array from outside the function which (see OuterNeeded)."""
        kind = SizeError if isinstance(exc, ShapeError) else UnsupportedError
        error = self.error(node, str(exc), kind)
        error.sizes = getattr(exc, "sizes", ())
        error.outer = getattr(exc, "outer", ())
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
        if isinstance(node, cst.Lambda):
            return self.local_function(node)
        if isinstance(node, cst.ListComp):
            return self.comprehension(node)
        if isinstance(node, cst.GeneratorExp):
            return self.generator_expression(node)
        if isinstance(node, cst.Yield):
            raise StaticError("yield used as a value (x = yield v, for generator.send) is not "
                              "supported; write yield as a statement")
        raise StaticError(f"{describe_node(node)} expressions are not supported in "
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
        return self.outside(ident, node)

    def outside(self, ident: str, node: cst.CSTNode | None) -> Any:
        """The value of a name the function does not bind: from its closure, its globals or
        the builtins (``MISSING`` for a local function's lookup, which reports it itself)."""
        value = self.callee.lookup(ident)
        if value is MISSING and node is None:
            return MISSING
        if value is MISSING:
            raise self.error(node, f"name {ident!r} is not defined")
        if isinstance(value, Exception):  # a name the static reader could not give a value
            raise self.error(node, str(value))
        if isinstance(self.callee, LiveFunction) and self.callee.holds(ident):
            if isinstance(value, (np.ndarray, np.floating)):  # data: read on each call
                return self.outer_array(node, ident)
            if not inspect.ismodule(value):  # fixed in the code: watched for changes
                self.graph.names_read.append((self.callee.fun, ident, frozen(value)))
                note_lists(self.graph.outside_lists, value)
        return value

    def local_function(self, node: cst.FunctionDef | cst.Lambda) -> LocalFunction:
        """A function defined in the traced code (a nested ``def`` or a ``lambda``); its
        defaults are evaluated now, as Python does."""
        name = node.name.value if isinstance(node, cst.FunctionDef) else "<lambda>"
        if isinstance(node, cst.FunctionDef) and (node.decorators or node.asynchronous):
            raise self.error(node, "decorated or async nested functions are not supported")
        signature = signature_of_parameters(node.params, self.expr)
        return LocalFunction(name, replace(self.source, node=node, name=name), signature,
                             self, id(node))

    def outer_array(self, node: cst.Name, ident: str) -> Tensor:
        """An array from a global or closure variable: an input of the generated code, which
        reads it on each call. Generation is refused, saying which, until it is one."""
        try:
            return outer_input(self.graph, self.callee.fun, ident, f"{ident!r} is an array "
                               "from outside the function (a global or closure variable of "
                               f"{self.callee.fun.__qualname__})")
        except OuterNeeded as exc:
            raise self.located(node, exc) from None

    def attribute(self, value: Any, name: str) -> Any:
        if isinstance(value, Tensor):
            if python_number(self.graph, value) and name not in ("real", "imag"):
                raise StaticError(f"'float' object has no attribute {name!r}: this value is a "
                                  "Python float (a float argument, or computed from them, on "
                                  "some path), not a NumPy array")
            if name in functions.METHODS:
                return BoundMethod(value, name)
            return marked_view(self.graph, functions.tensor_attribute(self.graph, value, name),
                               value)
        if isinstance(value, SymDim):
            raise StaticError(f"a size has no attribute {name!r}")
        if isinstance(value, FreshGenerator):  # made in the function: rng.normal(...)
            return RandomMethod(value, name)
        if isinstance(value, TracedGenerator):
            raise generator_attribute(name)
        if isinstance(value, Masked):  # x[mask].sum(), x[mask].mean()
            if name in ("sum", "mean"):
                return functools.partial(np.sum if name == "sum" else np.mean, value)
            raise StaticError(masked.ELSEWHERE)
        try:
            found = getattr(value, name)
        except AttributeError:
            raise StaticError(f"{describe(value)} has no attribute {name!r}") from None
        if isinstance(value, ModelView):
            owner = value.unwrapped_owner(name)
            if owner is not None and not callable(found):
                # a model's attribute that is not a parameter (a temperature, a config
                # dict): fixed in the code, watched for changes like a helper object's
                self.graph.names_read.append((owner, name, frozen(found)))
                note_lists(self.graph.outside_lists, found)
        elif is_model(value) or inspect.isclass(value) and \
                value.__module__.split(".")[0] not in ("builtins", "numpy", "scipy"):
            # an attribute of a helper object (parser.idxs): fixed in the code, watched for
            # changes like the globals it was read with
            self.graph.names_read.append((value, name, frozen(found)))
            note_lists(self.graph.outside_lists, found)
        return found

    def inline(self, callee: Callee, args: list[Any], kwargs: dict[str, Any]) -> Any:
        on_data_path = self.on_data_path or self.guard is not None or \
            bool(self.graph.in_data_branch)
        if callee.key in self.stack:
            # written out call by call: static values decide how deep it goes, never data
            if on_data_path:
                raise StaticError(f"recursive call of {callee.name} where the path taken "
                                  "depends on data (in or after a branch on data) is not "
                                  "supported: data would decide how deep it goes; recurse on "
                                  "static values (sizes, static arguments, list structure)")
            if self.stack.count(callee.key) >= MAX_RECURSION:
                raise StaticError(f"{callee.name} calls itself more than {MAX_RECURSION} deep "
                                  "while generating; recursion is written out call by call, "
                                  "so its depth must be small and known while generating")
        env = _bind(callee, args, kwargs)
        default_arrays(self.graph, callee, env, args, kwargs)
        tracer = Tracer(self.graph, callee, env, self.stack + (callee.key,),
                        top_level=False, on_data_path=on_data_path)
        if not is_generator_function(callee.source.node):
            return tracer.run()
        return tracer.run_generator(args, kwargs)

    def error(self, node: cst.CSTNode, reason: str,
              kind: type[UnsupportedError] = UnsupportedError) -> UnsupportedError:
        return self.source.error(node, reason, kind)


def _bind(callee: Callee, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    return bind_arguments(callee.signature, callee.name, args, kwargs)


def bind_arguments(signature: inspect.Signature, name: str, args: list[Any],
                   kwargs: dict[str, Any]) -> dict[str, Any]:
    """The values of a call's parameters by name, defaults applied, as Python binds them:
    ``*args`` is a tuple of the extra positional values, ``**kwargs`` a dict."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise StaticError(f"calling {name}: {exc}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


__all__ = ["Tracer", "bind_arguments", "to_tensor"]


