"""What traced code reads from outside the function and what it may change (mixed into
``Tracer``): arrays from globals, closures and parameter defaults, which become inputs of the
generated code, and the lists of the function's own variables that ``append``, ``extend``,
``insert`` and ``parts[i] = v`` change while generating, as Python would."""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from symdiff.frontend.callee import Callee, LiveFunction
from symdiff.frontend.generators import mutable_ids, refuse_change
from symdiff.frontend.loops import NotLoopable
from symdiff.frontend.values import StaticError, SymDim, Tensor
from symdiff.ir.graph import Graph
from symdiff.signature import outer_key

GROWING = ("append", "extend", "insert")  # list methods run while tracing


class OuterNeeded(StaticError):
    """An array from outside the function that is not yet an input of the generated code;
    ``outer``: where it is read, ``(function, name)``."""

    def __init__(self, message: str, outer: tuple):
        super().__init__(message)
        self.outer = outer


def outer_input(graph: Graph, fun: Any, ident: str, what: str) -> Tensor:
    """The input node of the array read as ``ident`` from ``fun`` (a global or closure
    variable, or a parameter's default), or OuterNeeded saying ``what`` it is."""
    found = graph.outer.get(outer_key(fun, ident))
    if found is not None:
        return Tensor(graph[found])
    raise OuterNeeded(f"{what}: the derivatives (grad, vjp, jvp, jacfwd, hessian) read such "
                      "arrays on each call, but the teaching tools and symdiff gen do not yet: "
                      "pass it as an argument", ((fun, ident),))


def default_arrays(graph: Graph, callee: Callee, env: dict[str, Any], args: list[Any],
                   kwargs: dict[str, Any]) -> None:
    """Parameters left to a default that is an array (``def predict(x, params=params)``):
    read from the function's defaults on each call, like a closure variable, and not
    differentiated."""
    if not isinstance(callee, LiveFunction):
        return
    names = list(callee.signature.parameters)
    given = {*names[:len(args)], *kwargs}
    for name, parameter in callee.signature.parameters.items():
        if name not in given and isinstance(parameter.default, (np.ndarray, np.floating)) and \
                env.get(name) is parameter.default:
            env[name] = outer_input(graph, callee.fun, name, f"the default value of "
                                    f"{name!r} of {callee.name} is an array")


def note_lists(into: set[int], value: Any, depth: int = 0) -> None:
    """Add the ids of the lists ``value`` is or holds (in dicts, lists and tuples)."""
    if depth > 16:
        return
    if type(value) is list:
        into.add(id(value))
    if type(value) in (list, tuple):
        for item in value:
            note_lists(into, item, depth + 1)
    elif type(value) is dict:
        for item in value.values():
            note_lists(into, item, depth + 1)


class ListChanges:
    """Changes of the lists in the function's own variables (mixed into ``Tracer``): made now,
    in place, as Python makes them. The list is the same object on every path, so a change is
    refused inside a branch on data, and a loop that makes one is written out."""

    graph: Graph
    env: dict[str, Any]
    guard: Any
    yielded: list[Any] | None
    held: set[int]

    def expr(self, node: Any) -> Any: ...
    def subscript_key(self, node: cst.Subscript) -> Any: ...
    def located(self, node: cst.CSTNode, exc: Exception) -> Any: ...
    def error(self, node: cst.CSTNode, reason: str) -> Any: ...

    def grows_a_list(self, call: cst.Call) -> bool:
        """``parts.append(v)`` (or ``extend``, ``insert``): done now; True when it was one."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and
                func.attr.value in GROWING and
                isinstance(owner := self.env.get(func.value.value), list)):
            return False
        if any(a.keyword is not None or a.star for a in call.args):
            raise self.error(call, f"list.{func.attr.value} takes positional arguments")
        self._may_change(owner, call, func.value.value, f"{func.value.value}.{func.attr.value}")
        getattr(owner, func.attr.value)(*(self.expr(a.value) for a in call.args))
        return True

    def assign_item(self, items: list, target: cst.Subscript, value: Any) -> None:
        """``args[i] = v`` at a position known while generating."""
        name = target.value.value
        self._may_change(items, target, name, f"{name}[...] = ...")
        key = self.subscript_key(target)
        if isinstance(key, (Tensor, SymDim)) or isinstance(key, slice) and any(
                isinstance(k, (Tensor, SymDim)) for k in (key.start, key.stop, key.step)):
            raise self.error(target, f"{name}[i] = v needs a position known while generating")
        try:
            items[key] = value
        except (IndexError, TypeError) as exc:
            raise self.error(target, f"{type(exc).__name__}: {exc}") from None

    def _may_change(self, owner: list, node: cst.CSTNode, name: str, what: str) -> None:
        """Refuse a change of ``owner`` (the list in the variable ``name``) that would differ
        from Python's."""
        if id(owner) in self.graph.outside_lists:
            raise self.error(node, f"{name} is a list from outside the function (a global, a "
                             "closure variable or an attribute): changing it would change it "
                             "once, while the gradient is generated; make a new list "
                             f"({name} = list({name})) and change that")
        if self.graph.in_loop_body:
            raise NotLoopable(f"it changes a list ({what})")
        if self.guard is not None or self.graph.in_data_branch:
            raise self.error(node, f"{what} where the path taken depends on data (in or after "
                             "a branch on data) is not supported; compute both values and "
                             "choose with np.where")
        try:
            refuse_change(self.graph.live_generators, owner, what)
            if self.yielded is not None and (id(owner) in self.held or
                                             id(owner) in mutable_ids(self.yielded)):
                raise StaticError(f"{what} changes a list from outside the generator (or one "
                                  "it yielded): Python would make the change between the "
                                  "items, symdiff makes it when the generator is called")
        except StaticError as exc:
            raise self.located(node, exc) from None
