"""Generators in traced code (mixed into ``Tracer``): a generator function's body, run to the
end when it is called, its ``yield`` statements, and generator expressions; their items are
handed out once each by a ``TracedGenerator``."""

from __future__ import annotations

import types
from typing import Any

import libcst as cst

from symdiff.frontend.generators import TracedGenerator, made, mutable_ids, names_in
from symdiff.frontend.local_functions import LocalFunction
from symdiff.frontend.loops import NotLoopable
from symdiff.frontend.values import StaticError
from symdiff.ir.graph import Graph


class GeneratorTracing:
    """The tracer's generators (mixed into ``Tracer``)."""

    graph: Graph
    env: dict[str, Any]
    guard: Any
    branches_outside: int
    yielded: list[Any] | None
    held: set[int]
    callee: Any
    source: Any

    def expr(self, node: Any) -> Any: ...

    def run(self) -> Any: ...

    def comprehension(self, node: Any) -> list[Any]: ...

    def yield_statement(self, node: cst.Yield) -> None:
        """``yield v`` (or ``yield from items``) in a generator's body: the value is the
        generator's next item."""
        if self.yielded is None:  # not reached: a def with a yield is run as a generator
            raise self.error(node, "yield outside a generator function")
        if self.graph.in_loop_body:
            raise NotLoopable("it yields values")
        if self.guard is not None or self.graph.in_data_branch > self.branches_outside:
            raise self.error(node, "yield where the path taken depends on data (in or after a "
                             "branch on data) is not supported: the number of items would "
                             "depend on data; yield on every path and choose the value with "
                             "np.where")
        if isinstance(node.value, cst.From):
            items = self.expr(node.value.item)
            try:
                listed = self.sequence(items)
                self.yielded.extend(listed if isinstance(listed, list) else list(listed))
            except StaticError as exc:
                raise self.located(node, exc) from None
        else:
            self.yielded.append(None if node.value is None else self.expr(node.value))



    def generator_expression(self, node: cst.GeneratorExp) -> TracedGenerator:
        """``(f(v) for v in items)``: its items computed now, handed out once each, as
        Python's generator does; Python computes them lazily, so the variables it reads are
        watched, and the lists it reads held, until it is used up."""
        read = {n: self.env[n] for n in names_in(node) if n in self.env}
        items = self.comprehension(node)
        text = cst.Module([]).code_for_node(node)
        name = text if len(text) <= 40 else f"{text[:36]} ...)"
        generator = TracedGenerator(name, types.GeneratorType, items,
                                    mutable_ids([*read.values(), *items]), (self, read))
        return made(self.graph, generator)

    def run_generator(self, args: list[Any], kwargs: dict[str, Any]) -> TracedGenerator:
        """Calling a generator function: its body runs now, to the end; its items are
        handed out by the generator object, once each."""
        callee = self.callee
        body_names = names_in(self.source.node.body) - set(self.env)
        outside, watched = _outside_values(callee, body_names)
        self.held = mutable_ids([*args, *kwargs.values(), *outside])
        self.yielded = []
        self.branches_outside = self.graph.in_data_branch
        value = self.run()
        if value is not None:
            raise StaticError(f"{callee.name} is a generator function that returns a value "
                              "(return v); only return without a value is supported in one")
        generator = TracedGenerator(f"{callee.name}()", types.GeneratorType, self.yielded,
                                    self.held | mutable_ids(self.yielded), watched)
        return made(self.graph, generator)


def _outside_values(callee: Any, names: set[str]) -> tuple[list[Any], Any]:
    """The values of the closure and global variables among ``names`` that a generator's
    body may read, without side effects; for a function nested in traced code, also the
    enclosing function's variables with their values now (watched while the generator
    runs)."""
    if isinstance(callee, LocalFunction):
        env = callee.enclosing.env
        now = {n: env[n] for n in names if n in env}
        return list(now.values()), (callee.enclosing, now)
    scopes = [getattr(callee, "_nonlocals", {}), getattr(getattr(callee, "fun", None),
                                                          "__globals__", {})]
    return [scope[n] for scope in scopes for n in names if n in scope], None
