"""Loops that run in the generated code: tracing one iteration into a loop node's body.

A loop whose length is known only when the code runs (``range(len(x))``, ``for row in x``,
``while`` on data), or which is long (more than :data:`UNROLLED` iterations), is traced once:
the counter and the *carried* variables (those the body assigns and the loop reads again)
become placeholders, the body is evaluated on them, and what it computes from them becomes the
body of a ``loop`` node (``symdiff.ir.loop``). A carried variable keeps its shape and dtype from
one iteration to the next: a Python number that the body changes becomes a traced value, an
int that becomes a float is a float from the start, and a scalar that becomes an array of the
body's shape starts as that array (``s = 0.0`` then ``s = s + x[i]`` with rows ``x[i]``).

A loop that cannot run this way (it changes a variable's shape, returns from inside, grows a
list) is written out iteration by iteration when its length is known while generating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from symdiff.frontend.values import SizeNeeded, StaticError, SymDim, wrap_dim
from symdiff.ir import sizes
from symdiff.ir.sizes import range_len

UNROLLED = 16  # a loop of known length up to this is written out, one block per iteration


class NotLoopable(Exception):
    """This loop cannot run in the generated code; the message says why."""


@dataclass(frozen=True)
class Unavailable:
    """A variable assigned only inside a loop that runs in the generated code."""

    name: str

    def reason(self) -> str:
        return (f"{self.name} is assigned inside a loop that runs in the generated code, so it "
                "has no value after the loop; assign it before the loop")


@dataclass(frozen=True)
class Indexed:
    """What a for loop walks by position: its length (an int, or a size known when the code
    runs) and its k-th item, for ``k`` a Python int or the traced counter of a loop."""

    count: int | SymDim
    item: Callable[[Any], Any]
    reverse: Callable[[], Indexed] | None = None  # the same items last to first, if known

    def __iter__(self):  # written out: list(enumerate(x)), or a loop of known length
        if not isinstance(self.count, int):
            raise SizeNeeded(RUN_TIME_LENGTH.format(self.count.dim, LISTED), self.count.dim)
        return (self.item(k) for k in range(self.count))


RUN_TIME_LENGTH = "the number of iterations depends on {}, a size known only when the code " \
                  "runs; {}"
LISTED = "its items cannot be listed while generating; walk it with a for loop"
UNROLL_ONLY = ("here every loop is written out iteration by iteration (derivatives of "
               "derivatives, and the teaching tools), so its length must be known: loop over "
               "range(N) with N a constant or a static argument")


def range_items(start: Any, stop: Any, step: Any, add: Callable) -> Indexed:
    """``range(start, stop, step)`` walked by position; a bound may be a size known only when
    the code runs."""
    if not all(isinstance(v, (int, SymDim)) and not isinstance(v, bool)
               for v in (start, stop, step)):
        raise StaticError("range() takes integers and sizes")
    bounds = [v.dim if isinstance(v, SymDim) else v for v in (start, stop, step)]
    count = wrap_dim(range_len(*bounds))

    def item(k: Any) -> Any:
        scaled = k if step == 1 else add(k, step, "mul")
        return scaled if start == 0 else add(scaled, start, "add")

    def reverse() -> Indexed:  # reversed(range(...)): from the last item down, by -step
        last = sizes.add(bounds[0], sizes.scale(sizes.sub(range_len(*bounds), 1), bounds[2]))
        return range_items(wrap_dim(last), wrap_dim(sizes.sub(bounds[0], bounds[2])),
                           -bounds[2], add)
    return Indexed(count, item, reverse)


def assigned_names(statement: cst.CSTNode) -> set[str]:
    """The names a loop assigns (its target and its body's assignments), found in its source."""
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            found.update(_target_names(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            found.update(_target_names(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            found.update(_target_names(node.target))

        def visit_For(self, node: cst.For) -> None:
            found.update(_target_names(node.target))

    statement.visit(Collect())
    return found


def written_in_place(statement: cst.CSTNode) -> set[str]:
    """The names a loop writes into in place, as NumPy does for arrays: ``x[i] = v``,
    ``x[i] += v`` and ``x += v``."""
    found: set[str] = set()

    def written(target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            found.add(target.value.value)

    class Collect(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            written(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            written(node.target)
            if isinstance(node.target, cst.Name):
                found.add(node.target.value)

    statement.visit(Collect())
    return found


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for e in target.elements for n in _target_names(e.value)}
    if isinstance(target, cst.Subscript):  # x[i] = v assigns x
        return _target_names(target.value)
    return set()
