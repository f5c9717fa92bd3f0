"""Checks on values of the data in traced code (mixed into ``Tracer``): ``assert`` and
``if <data>: raise SomeError("...")``. The generated code hands each condition back after its
result, and the gradient function raises where one is false (``symdiff.decisions``)."""

from __future__ import annotations

import builtins
import warnings
from typing import Any

import libcst as cst

from symdiff.errors import SkippedStatementWarning, UnsupportedError
from symdiff.frontend import calls
from symdiff.frontend.concrete import checks_known
from symdiff.frontend.loops import NotLoopable
from symdiff.frontend.values import Tensor, to_tensor
from symdiff.ir.build import const
from symdiff.ir.graph import Graph


class DataChecks:
    """The tracer's checks on data (mixed into ``Tracer``)."""

    graph: Graph
    guard: Any
    branches_outside: int

    def expr(self, node: Any) -> Any: ...

    def error(self, node: Any, reason: str, kind: type = UnsupportedError) -> Any: ...

    def assert_on_data(self, statement: cst.Assert, test: Tensor) -> None:
        """``assert`` on a value of the data: the generated code hands the condition back and
        the gradient function raises AssertionError where it is false (``decisions.Decided``);
        code generated for no call (``symdiff gen``, the teaching tools) skips it, saying so."""
        message = str(self.error(statement, "this assertion fails", UnsupportedError))
        if statement.msg is not None:
            message = self._static_message(statement.msg)
        self._check_on_data(statement, test, "AssertionError", message)

    def raise_on_data(self, statement: cst.If, condition: Tensor) -> bool:
        """``if <data>: raise SomeError("message")``, with no ``else``: checked like an
        ``assert`` of the opposite, raising that builtin exception; False for any other
        ``if``."""
        body = statement.body.body
        if statement.orelse is not None or len(body) != 1 or \
                not isinstance(body[0], cst.SimpleStatementLine) or \
                len(body[0].body) != 1 or not isinstance(body[0].body[0], cst.Raise):
            return False
        raised = body[0].body[0].exc
        call = raised if isinstance(raised, cst.Call) else None
        kind = self.expr(call.func if call else raised)
        if not (isinstance(kind, type) and issubclass(kind, Exception)
                and getattr(builtins, kind.__name__, None) is kind):
            raise self.error(raised, "a raise on data is checked on each call, and raises only "
                             "Python's builtin exceptions")
        if call is not None and (len(call.args) > 1 or call.args and call.args[0].keyword):
            raise self.error(raised, "a raise on data takes one message")
        message = self._static_message(call.args[0].value) if call and call.args else ""
        holds = calls.elementwise(self.graph, "logical_not", condition)
        self._check_on_data(statement, holds, kind.__name__, message)
        return True

    def _static_message(self, node: cst.BaseExpression) -> str:
        text = self.expr(node)
        if not isinstance(text, str):
            raise self.error(node, "the message of a check on data must be a string known "
                             "while generating")
        return text

    def _check_on_data(self, statement: cst.CSTNode, holds: Tensor, kind: str,
                       message: str) -> None:
        """The generated code checks ``holds`` on each call, raising ``kind`` where false."""
        if holds.rank != 0:
            raise self.error(statement, "the truth value of an array with more than one element "
                             "is ambiguous; use a.any() or a.all()")
        if self.graph.in_loop_body:
            raise NotLoopable("it checks a condition on data")
        what = "assert" if isinstance(statement, cst.Assert) else "raise"
        if self.guard is not None or self.graph.in_data_branch > self.branches_outside:
            raise self.error(statement, f"{what} on data inside a branch on data is not "
                             f"supported; {what} before the branch")
        if not checks_known():
            warnings.warn(str(self.error(statement, f"this {what} on data is not run by code "
                                         "generated without a call's values; it is skipped",
                                         UnsupportedError)), SkippedStatementWarning,
                          stacklevel=2)
            return
        node = to_tensor(self.graph, holds).node
        if node.dtype != "bool":
            node = self.graph.add("ne", [node, const(self.graph, 0)])
        self.graph.assertions.append((node.id, kind, message))
