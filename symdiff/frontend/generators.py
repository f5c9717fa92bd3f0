"""Generators, ``map`` and ``filter`` in traced code, and the static answers of
``isinstance`` and ``type`` on traced values.

A generator function's body is run when it is called, start to end, and the values it yields
are kept in a :class:`TracedGenerator`: an iterator that hands them out one at a time, once,
as Python's generator does. Python runs the body lazily, between the items; the two agree as
long as nothing the body reads changes while the generator is alive, so the tracer refuses the
changes that could be seen: growing a list the generator holds (or that it yielded), assigning
a model attribute, rebinding a variable of the enclosing function that a nested generator reads
(checked on each item taken). A yield whose number of runs depends on data (under a condition
on data, or in a loop run in the generated code) is refused where it is.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import numpy as np

from symdiff.frontend.loops import NotLoopable
from symdiff.frontend.values import StaticError, SymDim, Tensor, python_number
from symdiff.ir.graph import Graph
from symdiff.ir.sizes import Size
from symdiff.trees import ModelView

_YIELDS: dict[int, tuple[cst.CSTNode, bool]] = {}  # id(function node) -> (node, has a yield)


def is_generator_function(node: cst.CSTNode) -> bool:
    """Whether ``node`` (a ``def``) has ``yield`` in its own body (not in nested functions)."""
    found = _YIELDS.get(id(node))
    if found is not None and found[0] is node:
        return found[1]
    if not isinstance(node, cst.FunctionDef):
        return False

    class Find(cst.CSTVisitor):
        seen = False

        def visit_Yield(self, _node: cst.Yield) -> bool:
            Find.seen = True
            return False

        def visit_FunctionDef(self, _node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, _node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, _node: cst.ClassDef) -> bool:
            return False

    node.body.visit(Find())
    _YIELDS[id(node)] = (node, Find.seen)
    return Find.seen


def names_in(node: cst.CSTNode) -> set[str]:
    """Every name a function's body mentions (those it reads from outside among them)."""
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Collect())
    return found


def mutable_ids(values: Any) -> set[int]:
    """The identities of the lists and objects with attributes reachable from ``values``
    through lists, tuples, dicts and ``functools.partial`` objects: what could change in
    place while a generator is alive."""
    seen: set[int] = set()
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (Tensor, SymDim, str, int, float, bool, type(None), np.ndarray,
                              types.ModuleType, type)):
            continue
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, TracedGenerator):
            stack.extend(value.items)
        elif hasattr(value, "func") and hasattr(value, "args") and hasattr(value, "keywords"):
            stack.extend([value.func, *value.args, *value.keywords.values()])
    return seen


@dataclass(eq=False)
class TracedGenerator:
    """The values a generator (or ``map``/``filter``) gives, handed out once, in order.

    ``kind``: the Python type of the object at run time (a generator, ``map``, ``filter``);
    ``holds``: identities of the mutable objects it can read or gave out; ``watched``: the
    enclosing function's variables a nested generator reads, with their values when it was
    made (``(enclosing tracer, {name: value})``); ``decided_by_data``: a loop with a break
    on data took its items, so how many remain is known only when the code runs."""

    name: str
    kind: type
    items: list[Any]
    holds: set[int] = field(default_factory=set)
    watched: tuple[Any, dict[str, Any]] | None = None
    position: int = 0
    decided_by_data: bool = False
    graph: Graph | None = None  # the graph it was made on, ...
    depth: int = 0  # ... and how many loop bodies deep: see ``made``

    def __iter__(self) -> TracedGenerator:
        return self

    def __next__(self) -> Any:
        if self.graph is not None and self.graph.in_loop_body > self.depth:
            # a body traced once would hand out one item for every iteration of the loop
            raise NotLoopable(f"it takes items from {self.name}, made outside the loop")
        if self.decided_by_data:
            raise StaticError(f"the items left in {self.name} depend on data: a loop over it "
                              "broke on a condition on data; iterate it once, to the end")
        self.check_unchanged()
        if self.position >= len(self.items):
            raise StopIteration
        self.position += 1
        return self.items[self.position - 1]

    @property
    def alive(self) -> bool:
        return self.position < len(self.items)

    def check_unchanged(self) -> None:
        if self.watched is None or not self.alive:
            return
        tracer, before = self.watched
        for ident, value in before.items():
            if tracer.env.get(ident, _UNBOUND) is not value:
                raise StaticError(f"{ident} changed while the generator {self.name} was "
                                  "running: Python runs a generator's body between its items, "
                                  "so it would read the new value, but symdiff runs it when it "
                                  "is called; assign the value before calling it, or pass it "
                                  "as an argument")


_UNBOUND = object()


def made(graph: Graph, generator: TracedGenerator) -> TracedGenerator:
    """``generator``, made while tracing on ``graph``: alive until it is used up."""
    generator.graph, generator.depth = graph, graph.in_loop_body
    graph.live_generators.append(generator)
    return generator


def refuse_change(live: list[TracedGenerator], owner: Any, what: str) -> None:
    """Refuse changing ``owner`` in place while a generator that can read it is alive."""
    for generator in live:
        if generator.alive and id(owner) in generator.holds:
            raise StaticError(f"{what} changes a list that the generator {generator.name} "
                              "holds while it is still running: Python would run the rest of "
                              "its body after the change, but symdiff runs a generator's body "
                              "when it is called; finish the generator first (list(...))")


def generator_attribute(name: str) -> StaticError:
    return StaticError(f"generator.{name} is not supported: a generator in differentiated code "
                       "can be iterated (for, list, tuple, zip, enumerate, sum, next and "
                       "comprehensions), not sent values or closed")


# --- isinstance and type -------------------------------------------------------------------


def runtime_types(graph: Graph, value: Any) -> set[type] | None:
    """The Python types ``value`` can have when the generated code runs, or None where
    symdiff does not know it. A traced array of rank 1 or more is an ``np.ndarray``; a scalar
    computed from Python floats only is a ``float`` (or ``np.float64``, which a float argument
    may be); another scalar is a NumPy scalar or a 0-d array, depending on how it was made."""
    if isinstance(value, (SymDim, Size)):  # a size, as ``x.shape`` holds them
        return {int}
    if isinstance(value, Tensor):
        if value.rank >= 1:
            return {np.ndarray}
        if python_number(graph, value):
            return {float, np.float64}
        return {np.dtype(value.node.dtype).type, np.ndarray}
    if isinstance(value, TracedGenerator):
        return {value.kind}
    if isinstance(value, ModelView):  # a model the function reads: the model's own class
        return {type(object.__getattribute__(value, "_obj"))}
    if type(value).__module__.startswith("symdiff."):
        return None  # an object of the tracer (a masked array, a bound method...)
    return {type(value)}


def static_isinstance(graph: Graph, value: Any, classinfo: Any) -> bool:
    possible = runtime_types(graph, value)
    if possible is None:
        raise StaticError(f"isinstance() of {_what(value)} is not supported")
    try:
        answers = {issubclass(t, classinfo) for t in possible}
    except TypeError as exc:
        raise StaticError(f"isinstance(): {exc}") from None
    if len(answers) > 1:
        raise StaticError(_ambiguous("isinstance()", possible))
    return answers.pop()


def static_type(graph: Graph, value: Any) -> type:
    possible = runtime_types(graph, value)
    if possible is None:
        raise StaticError(f"type() of {_what(value)} is not supported")
    if len(possible) > 1:
        raise StaticError(_ambiguous("type()", possible))
    return possible.pop()


def _what(value: Any) -> str:
    return type(value).__name__


def _ambiguous(what: str, possible: set[type]) -> str:
    names = " or ".join(sorted(t.__name__ for t in possible))
    return (f"{what} of this scalar depends on how NumPy computes it (it is a {names} when "
            "the code runs); test the rank (np.ndim(x) == 0) instead")
