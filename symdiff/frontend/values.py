"""Values the frontend computes with: traced arrays, run-time sizes, and static Python values.

Evaluation is partial: Python numbers, strings, tuples, ``None``, modules and functions are
*static* and computed at generation time; arrays are :class:`Tensor` nodes of the graph; sizes
such as ``x.shape[0]`` are :class:`SymDim`, static in structure but known only at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from symdiff.ir.build import const, dim_node
from symdiff.ir.graph import Graph, Node
from symdiff.ir.shapes import Dim, dim_add


class StaticError(Exception):
    """A problem found while evaluating; the evaluator adds the source location."""


class SizeNeeded(StaticError):
    """A size known only at run time was needed as a number, such as a loop's length;
    ``sizes`` are the ``(argument, axis)`` pairs it depends on."""

    def __init__(self, message: str, dim: object):
        super().__init__(message)
        self.sizes = tuple((name, int(axis))
                           for name, axis in re.findall(r"(\w+)\.shape\[(\d+)\]", str(dim)))


@dataclass(frozen=True)
class Tensor:
    node: Node

    @property
    def shape(self):
        return self.node.shape

    @property
    def rank(self) -> int:
        return self.node.rank


@dataclass(frozen=True)
class SymDim:
    """A size known only at run time, such as ``x.shape[0]``."""

    dim: str

    def _combine(self, other: Any, sign: int) -> Any:
        if isinstance(other, int) and not isinstance(other, bool):
            return wrap_dim(dim_add(self.dim, sign * other))
        return NotImplemented

    def __add__(self, other: Any) -> Any:
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return self._combine(other, -1)


def wrap_dim(d: Dim) -> int | SymDim:
    return d if isinstance(d, int) else SymDim(d)


@dataclass(frozen=True)
class BoundMethod:
    """``x.sum`` before it is called."""

    tensor: Tensor
    name: str


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or \
        type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.ndim == 0


def to_tensor(graph: Graph, value: Any) -> Tensor:
    """Any numeric value as a graph node."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, SymDim):
        return Tensor(dim_node(graph, value.dim))
    if isinstance(value, bool):
        return Tensor(const(graph, value))
    if is_number(value):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, complex):
            raise StaticError("complex numbers are not supported")
        return Tensor(const(graph, number))
    if hasattr(value, "__array__"):
        raise StaticError("arrays from outside the function (globals, closures) are not "
                          "supported yet; pass the array as an argument")
    raise StaticError(f"expected an array or a number, got {describe(value)}")


def describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"an array of rank {value.rank}"
    if isinstance(value, SymDim):
        return "a size"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)) and any(isinstance(v, (Tensor, SymDim)) for v in value):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"{type(value).__name__} {value!r}" if isinstance(value, (str, tuple, list)) \
        else type(value).__name__
