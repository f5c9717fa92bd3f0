"""Comprehensions in traced code (mixed into ``Tracer``): list comprehensions and generator
expressions over items listed while generating, written out element by element."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from symdiff.errors import UnsupportedError
from symdiff.frontend.loops import RUN_TIME_LENGTH, Indexed
from symdiff.frontend.values import SizeNeeded, SymDim, Tensor


class Comprehensions:
    """The evaluator's comprehensions (mixed into ``Tracer``)."""

    env: dict[str, Any]

    def expr(self, node: Any) -> Any: ...
    def bind(self, target: Any, value: Any) -> None: ...
    def located(self, node: cst.CSTNode, exc: Exception) -> UnsupportedError: ...
    def error(self, node: cst.CSTNode, reason: str,
              kind: type[UnsupportedError] = UnsupportedError) -> UnsupportedError: ...
    # from ControlFlow, which follows this class in Tracer's bases
    sequence: Callable[[Any], Any]

    def comprehension(self, node: cst.ListComp | cst.GeneratorExp) -> list[Any]:
        """``[f(v) for v in items if c]`` (or a generator of it) over items listed while
        generating, written out element by element; its variables stay inside it."""
        saved = dict(self.env)
        out: list[Any] = []
        try:
            self._comprehend(node.for_in, node.elt, out)
        finally:
            self.env.clear()
            self.env.update(saved)
        return out

    def _comprehend(self, clause: cst.CompFor, element: cst.BaseExpression,
                    out: list[Any]) -> None:
        if clause.asynchronous is not None:
            raise self.error(clause, "async comprehensions are not supported")
        items = self.sequence(self.expr(clause.iter))
        if isinstance(items, Indexed):
            if not isinstance(items.count, int):
                raise self.located(clause.iter, SizeNeeded(RUN_TIME_LENGTH.format(
                    items.count.dim, "a comprehension is written out element by element"),
                    items.count.dim))
            items = [items.item(k) for k in range(items.count)]
        for item in items:
            self.bind(clause.target, item)
            tests = [self.expr(c.test) for c in clause.ifs]
            if any(isinstance(t, (Tensor, SymDim)) for t in tests):
                raise self.error(clause, "a comprehension's condition must be known while "
                                 "generating; use np.where for a condition on data")
            if not all(tests):
                continue
            if clause.inner_for_in is not None:
                self._comprehend(clause.inner_for_in, element, out)
            else:
                out.append(self.expr(element))
