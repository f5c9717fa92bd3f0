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

from symdiff.frontend.generators import TracedGenerator
from symdiff.frontend.values import Tensor
from symdiff.ir import sizes
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


def _walk(roots: Any) -> Iterator[Any]:
    """Every value reachable from ``roots`` through lists, tuples, dicts and the items of
    generators, each container once (the containers too)."""
    stack, seen = list(roots), set()
    while stack:
        value = stack.pop()
        if isinstance(value, (list, tuple, dict, TracedGenerator)):
            if id(value) in seen:
                continue
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else
                         value.items if isinstance(value, TracedGenerator) else value)
        yield value


def _held(values: Any) -> Iterator[Any]:
    """Every value in ``values`` and in the containers they hold, but the containers."""
    return (v for v in _walk(values)
            if not isinstance(v, (list, tuple, dict, TracedGenerator)))


def held_state(roots: Any) -> list[tuple[Any, Any]]:
    """Each list and dict reachable from ``roots``, with a copy of its contents, and each
    generator with its position: what a way of tracing a loop that is abandoned must give
    back (``Tracer.snapshot``), since its iterations may have changed them."""
    return [(v, list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else
             v.position) for v in _walk(roots) if isinstance(v, (list, dict, TracedGenerator))]


def restore_state(state: list[tuple[Any, Any]]) -> None:
    """Put back what ``held_state`` saw."""
    for value, content in state:
        if isinstance(value, list):
            value[:] = content
        elif isinstance(value, dict):
            value.clear()
            value.update(content)
        else:
            value.position = content


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


def _first_index(graph: Graph, view: Tensor) -> Any:
    """The first index of a view taken as ``x[i]`` or ``x[i, ...]`` with ``i`` one integer
    (a number, a size, or the node of a traced integer); None for any other view."""
    node = view.node
    if node.op != "getitem" or not node.param("index"):
        return None
    first = node.param("index")[0]
    if isinstance(first, int) or isinstance(first, tuple) and first[0] == "size":
        return first
    if isinstance(first, tuple) and first[0] == "array":
        held = graph[node.inputs[1 + first[1]]]
        return held if held.rank == 0 else None
    return None


def _offset(graph: Graph, a: Any, b: Any) -> int | None:
    """``a - b`` where it is a known integer: numbers, sizes, or traced integers one of which
    is the other plus a constant (``t + 1`` and ``t``)."""
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    if isinstance(a, tuple) and isinstance(b, tuple):  # ("size", expr)
        difference = sizes.sub(a[1], b[1])
        return difference if isinstance(difference, int) else None
    if isinstance(a, Node) and isinstance(b, Node):
        for x, y, sign in ((a, b, 1), (b, a, -1)):
            if x.op in ("add", "sub") and len(x.inputs) == 2:
                left, right = graph[x.inputs[0]], graph[x.inputs[1]]
                if left.id == y.id and right.op == "const":
                    value = right.param("value")
                    return sign * (value if x.op == "add" else -value)
                if right.id == y.id and left.op == "const" and x.op == "add":
                    return sign * left.param("value")
        return 0 if a.id == b.id else None
    return None


def _apart(graph: Graph, view: Tensor, array: Tensor, written: Any) -> bool:
    """Whether ``view``, a row ``array[i]`` (one integer first), and the write at ``written``
    (the write's first index, as ``_first_index`` reads it) cannot touch the same element:
    numbers of one sign that differ, sizes that differ, or a traced integer written ahead of
    the one read (``h[t + 1] = f(h[t])``; a negative index counts from the end, so only
    these are certain)."""
    if written is None or view.view_of is None or view.view_of.array != array.array:
        return False
    read = _first_index(graph, view)
    if isinstance(written, int) and isinstance(read, int) and (written < 0) != (read < 0):
        return False
    offset = _offset(graph, written, read)
    if isinstance(written, Node):
        return isinstance(offset, int) and offset > 0
    return isinstance(offset, int) and offset != 0


def sharing(frames: list[Any], current: Any, name: str, array: Tensor,
            container: Any = None, written: Any = None) -> str | None:
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
                if _shares(item, array) and not _apart(frame.graph, item, array, written):
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

