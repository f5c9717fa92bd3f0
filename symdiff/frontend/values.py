"""Values the frontend computes with: traced arrays, run-time sizes, and static Python values.

Evaluation is partial: Python numbers, strings, tuples, ``None``, modules and functions are
*static* and computed at generation time; arrays are :class:`Tensor` nodes of the graph; sizes
such as ``x.shape[0]`` are :class:`SymDim`, static in structure but known only at run time.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from symdiff.ir import sizes
from symdiff.ir.build import const, dim_node
from symdiff.ir.graph import Graph, Node
from symdiff.ir.sizes import Dim, arguments_of


class StaticError(Exception):
    """A problem found while evaluating; the evaluator adds the source location."""


class SizeNeeded(StaticError):
    """A size known only at run time was needed as a number, such as a loop's length;
    ``sizes`` are the ``(argument, axis)`` pairs it depends on (``needs``: that size, or the
    text of sizes, such as ``"x.shape[0] and y.shape[1]"``)."""

    def __init__(self, message: str, needs: Dim | str):
        super().__init__(message)
        self.sizes = tuple(sorted(
            (name, int(axis)) for name, axis in _ARGUMENT_SIZE.findall(needs))
            if isinstance(needs, str) else arguments_of(needs))


_ARGUMENT_SIZE = re.compile(r"(\w+)\.shape\[(\d+)\]")


_ARRAYS = itertools.count()


@dataclass(frozen=True)
class Tensor:
    node: Node
    # the array this one is a NumPy view of, which writing into it changes (frontend.aliasing)
    view_of: Tensor | None = field(default=None, compare=False, repr=False)
    # which array object of the traced code it is: names and lists holding one array share it
    # (a new value is a new array; dataclasses.replace, as when it is named, keeps it)
    array: int = field(default_factory=lambda: next(_ARRAYS), compare=False, repr=False)

    @property
    def shape(self):
        return self.node.shape

    @property
    def rank(self) -> int:
        return self.node.rank


@dataclass(frozen=True)
class SymDim:
    """A size known only at run time, such as ``x.shape[0]``."""

    dim: Dim

    def __str__(self) -> str:
        return str(self.dim)

    def __add__(self, other: Any) -> Any:
        return _size_arithmetic(sizes.add, self, other)

    def __radd__(self, other: Any) -> Any:
        return _size_arithmetic(sizes.add, other, self)

    def __sub__(self, other: Any) -> Any:
        return _size_arithmetic(sizes.sub, self, other)

    def __rsub__(self, other: Any) -> Any:
        return _size_arithmetic(sizes.sub, other, self)

    def __mul__(self, other: Any) -> Any:
        return _size_arithmetic(sizes.mul, self, other)

    __rmul__ = __mul__

    def __floordiv__(self, other: Any) -> Any:
        if isinstance(other, int) and not isinstance(other, bool) and other > 0:
            return wrap_dim(sizes.floordiv(self.dim, other))
        return NotImplemented


def _size_arithmetic(op: Any, a: Any, b: Any) -> Any:
    """Integer arithmetic on sizes stays a size (other operands make traced values)."""
    dims = [v.dim if isinstance(v, SymDim) else v for v in (a, b)]
    if all(isinstance(d, (int, sizes.Size)) and not isinstance(d, bool) for d in dims):
        return wrap_dim(op(*dims))
    return NotImplemented


def wrap_dim(d: Dim) -> int | SymDim:
    return d if isinstance(d, int) else SymDim(d)


@dataclass(frozen=True)
class Masked:
    """``x[mask]``: the elements of ``values`` where ``mask`` holds, a 1-D array whose length
    depends on the data. Kept as the whole array and its mask: elementwise arithmetic applies
    to every element (and keeps the mask), and ``np.sum``/``np.mean`` reduce the selected
    ones (``where=mask``), so the code never needs that length."""

    values: Tensor
    mask: Tensor


@dataclass(frozen=True)
class BoundMethod:
    """``x.sum`` before it is called."""

    tensor: Tensor
    name: str


def python_number(graph: Graph, value: Any) -> bool:
    """A value Python holds as a plain ``int`` or ``float`` (no ``.size``, no ``.shape``):
    a number written in the code, or a traced value computed from Python floats only."""
    if isinstance(value, Tensor):
        return value.node.id in graph.python_floats
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
        raise StaticError("this array comes from outside the function inside another value "
                          "(a list, a dict, an object); arrays from outside are read by name "
                          "from globals and closures: give it a name of its own, or pass it "
                          "as an argument")
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


def refusal(handler: Any) -> Any:
    """Marks a function-table handler that is there only to refuse its function by name, with
    the reason (it is not counted as supported)."""
    handler.refuses = True
    return handler
