"""Arrays that share memory, as NumPy's do, where the traced code writes into one.

symdiff computes with values: ``x[i] = v`` and ``x += v`` make a new array and bind it to the
name. NumPy changes the array in place, so every other name, list item or view that holds the
same memory changes too. The two agree exactly when nothing else holds that memory, which is
checked here before each such write: another name of the same array (``c = b``), a list or
dict holding it, a caller's variable (a helper that writes into its argument), a view of it
(``v = b[1:]``, ``for row in M``, ``b.T``, ``b.reshape(...)``), or the array being itself a view
of an array that is still held. Such a write is refused at its line, saying what to write
instead; a copy (``.copy()``, ``np.copy``, ``np.array``) holds memory of its own.

A value is a view when NumPy's operation returns one (basic indexing to an array, reshapes,
transposes, added or removed axes): ``Tensor.view_of`` is the array it was taken from, set by
:func:`marked_view` where the traced code makes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from symdiff.frontend.values import Tensor
from symdiff.ir.graph import Graph, Node

# the primitives through which NumPy's result is a view of the operand
_VIEW_OPS = ("getitem", "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to")


def _view_chain(graph: Graph, node: Node, base: Node) -> bool:
    """Whether ``node`` is ``base`` seen through view operations only."""
    while node.id != base.id:
        if node.op not in _VIEW_OPS:
            return False
        if node.op == "getitem" and any(graph[i].rank for i in node.inputs[1:]):
            return False  # an integer-array index: NumPy copies
        node = graph[node.inputs[0]]
    return True


def marked_view(graph: Graph, result: Any, operand: Any) -> Any:
    """``result``, a view of ``operand`` where NumPy's operation gives one (see the module
    docstring; the parts of ``np.split`` each); any other value as it is."""
    if type(result) in (list, tuple) and isinstance(operand, Tensor):  # not a named tuple
        return type(result)(marked_view(graph, part, operand) for part in result)
    if not isinstance(result, Tensor) or not isinstance(operand, Tensor) or \
            result.array == operand.array or result.rank == 0:
        return result
    if _view_chain(graph, result.node, operand.node):
        return replace(result, view_of=operand)
    return result


def _held(values: Any) -> Iterator[Any]:
    """Every value in ``values`` and in the lists, tuples and dicts they hold."""
    stack, seen = list(values), set()
    while stack:
        value = stack.pop()
        if isinstance(value, (list, tuple, dict)):
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else value)
        else:
            yield value


def _base(x: Tensor) -> Tensor:
    while x.view_of is not None:
        x = x.view_of
    return x


def _shares(value: Any, array: Tensor) -> bool:
    """Whether ``value`` is ``array``, or a view of it or of an array it is a view of."""
    if not isinstance(value, Tensor):
        return False
    base = _base(array)
    while value is not None:
        if value.array in (array.array, base.array):
            return True
        value = value.view_of
    return False


def sharing(frames: list[Any], current: Any, name: str, array: Tensor,
            container: Any = None) -> str | None:
    """Why writing into ``array`` (bound to ``name`` in the frame ``current``, or an item of
    ``container``) would change a value the code holds elsewhere, or None where nothing else
    holds its memory; ``frames``: the tracers running, the function's own last (their
    variables are what the code holds)."""
    base = _base(array).node
    if base.op == "input" and frames and base.id in frames[-1].graph.outer.values():
        return f"{name} is an array from outside the function (a global, a closure " \
            "variable or a default), which would change for every later call"
    for frame in frames:
        for held_name, value in frame.env.items():
            if frame is current and held_name == name or value is container:
                continue
            for item in _held([value]):
                if _shares(item, array):
                    where = held_name if frame is current else \
                        f"{held_name} (a variable of {frame.callee.name}, which passed it)"
                    if item.array == array.array:
                        return f"{name} is also called {where}"
                    return f"{name} shares memory with {where} (one is a view of the other, " \
                        "or both of one array)"
    return None


def shares_in(env: dict[str, Any], name: str) -> bool:
    """Whether the array bound to ``name`` in ``env`` is a view, or shares memory with
    another value bound there (for a loop traced once, whose iterations must not)."""
    array = env[name]
    if not isinstance(array, Tensor):
        return False
    return array.view_of is not None or any(
        _shares(item, array) for held_name, value in env.items() if held_name != name
        for item in _held([value]))

