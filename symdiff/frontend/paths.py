"""Paths of a program under conditions on data: a path is a guard (the condition under which
it runs, ``None`` for always) with the variables it has; guards combine, and paths meet
again by selection (``np.where``), each branch differentiated separately."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symdiff.frontend import calls
from symdiff.frontend.values import (
    StaticError,
    SymDim,
    Tensor,
    describe,
    is_number,
    python_number,
    to_tensor,
)
from symdiff.ir.graph import Graph
from symdiff.ir.shapes import dim_text, format_shape, same_shape

Guard = Tensor | None  # a boolean scalar; None: every path


@dataclass
class Path:
    guard: Guard
    env: dict[str, Any]


def both(graph: Graph, a: Guard, b: Guard) -> Guard:
    if a is None:
        return b
    if b is None:
        return a
    return calls.elementwise(graph, "logical_and", a, b)


def either(graph: Graph, guards: list[Guard]) -> Guard:
    if any(g is None for g in guards):
        return None
    result = guards[0]
    for g in guards[1:]:
        result = calls.elementwise(graph, "logical_or", result, g)
    return result


def negate(graph: Graph, condition: Tensor) -> Tensor:
    return calls.elementwise(graph, "logical_not", condition)


def condition_of(graph: Graph, value: Tensor) -> Tensor:
    """An array used as the condition of ``if``/``while``: one element, true where non-zero."""
    if any(d != 1 for d in value.shape):
        raise StaticError(f"the condition is an array of shape {format_shape(value.shape)}; "
                          "if and while need a single value (use np.any/np.all, or np.where "
                          "to choose element by element)")
    if value.rank:
        value = calls.reshape(graph, value, ())
    if value.node.dtype != "bool":
        value = calls.elementwise(graph, "ne", value, 0)
    return value


def sizes_only(graph: Graph, value: Tensor) -> str | None:
    """The sizes a condition is computed from, when it reads no data (``x.shape[0] > 3``),
    as text; None when it reads data."""
    sizes, stack, seen = [], [value.node.id], set()
    while stack:
        node = graph[stack.pop()]
        if node.id in seen:
            continue
        seen.add(node.id)
        if node.op == "input":
            return None
        if node.op == "dim":
            sizes.append(dim_text(node.param("expr")))
        stack.extend(node.inputs)
    return " and ".join(sorted(set(sizes))) or None


def select(graph: Graph, condition: Tensor, then: Any, otherwise: Any, what: str) -> Any:
    """``then`` where ``condition`` holds, else ``otherwise``, for values of any structure;
    ``what`` names the value in errors."""
    if then is otherwise:
        return then
    if then is None or otherwise is None:
        raise StaticError(f"{what} is {describe(then)} on one path and {describe(otherwise)} "
                          "on the other, chosen by data: every path must give a value")
    if _traced(then) or _traced(otherwise):
        a, b = to_tensor(graph, then), to_tensor(graph, otherwise)
        if not same_shape(a.shape, b.shape):
            raise StaticError(f"{what} has shape {format_shape(a.shape)} on one branch and "
                              f"{format_shape(b.shape)} on the other; a value chosen by data "
                              "must have one shape")
        return _chosen(graph, calls.where(graph, condition, a, b), then, otherwise)
    if isinstance(then, (tuple, list)) and isinstance(otherwise, (tuple, list)) and \
            type(then) is type(otherwise) and len(then) == len(otherwise):
        return type(then)(select(graph, condition, a, b, f"{what}[{i}]")
                          for i, (a, b) in enumerate(zip(then, otherwise, strict=True)))
    if isinstance(then, dict) and isinstance(otherwise, dict) and then.keys() == otherwise.keys():
        return {k: select(graph, condition, then[k], otherwise[k], f"{what}[{k!r}]")
                for k in then}
    if is_number(then) and is_number(otherwise):
        if then == otherwise and type(then) is type(otherwise):
            return then
        return _chosen(graph, calls.where(graph, condition, then, otherwise), then, otherwise)
    try:
        if then == otherwise:
            return then
    except Exception:  # noqa: BLE001 - objects that cannot compare are different
        pass
    raise StaticError(f"{what} is {describe(then)} on one branch and {describe(otherwise)} on "
                      "the other, chosen by data; only arrays and numbers can depend on data")


def _chosen(graph: Graph, out: Tensor, then: Any, otherwise: Any) -> Tensor:
    """A value chosen by data is a Python float (without an array's attributes) on the path
    where it is one: known only when the code runs, so it counts as one."""
    if python_number(graph, then) or python_number(graph, otherwise):
        graph.python_floats.add(out.node.id)
    return out


def _traced(value: Any) -> bool:
    return isinstance(value, (Tensor, SymDim))


def merge(graph: Graph, paths: list[Path]) -> Path | None:
    """One path standing for several disjoint ones: each variable is selected by the paths'
    guards. ``None`` when there is no path."""
    if not paths:
        return None
    env = dict(paths[-1].env)
    for path in reversed(paths[:-1]):
        for name in path.env.keys() | env.keys():
            if name not in env:
                env[name] = path.env[name]  # defined on one path only: Python would fail on
            elif name in path.env:  # the others, so they never read it
                chosen = select(graph, path.guard, path.env[name], env[name], name)
                if isinstance(chosen, Tensor) and chosen is not env[name] and \
                        chosen.node.name is None:
                    chosen = Tensor(graph.rename(chosen.node, name))
                env[name] = chosen
    return Path(either(graph, [p.guard for p in paths]), env)


def combine_returns(graph: Graph, returns: list[tuple[Guard, Any]], final: Any,
                    ended: bool) -> Any:
    """The function's result: each early return where its guard holds, else ``final`` (the
    value of the path that reached the end, or of its last ``return``)."""
    if ended:  # every path returned early: the last one needs no guard
        *returns, (_, final) = returns
    for guard, value in reversed(returns):
        final = select(graph, guard, value, final, "the returned value")
    return final
