"""Symbolic shapes: ranks are known, sizes are not.

A dimension (``Dim``) is either an ``int`` (known at generation time, typically 1) or a ``str``
holding a Python expression over the arguments' shapes, such as ``"x.shape[0]"``. Generated code
prints such expressions as they are, so it runs for every size of the specialised ranks.
A gradient is specialised on which dimensions of the arguments are 1, so broadcasting is fully
known at generation time.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

Dim = int | str
Shape = tuple[Dim, ...]


class DimTable:
    """Union-find over symbolic sizes: broadcasting ``x.shape[0]`` against ``y.shape[0]``
    proves them equal, and later shape comparisons must know it."""

    def __init__(self) -> None:
        self.parent: dict[str, Dim] = {}

    def find(self, d: Dim) -> Dim:
        while isinstance(d, str) and d in self.parent:
            d = self.parent[d]
        return d

    def union(self, a: Dim, b: Dim) -> Dim:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if isinstance(rb, str):
            self.parent[rb] = ra  # the older size stays the name; a known size wins
            return ra
        if isinstance(ra, str):
            self.parent[ra] = rb
            return rb
        raise ShapeError(f"sizes {ra} and {rb} differ")

    def argument_equalities(self) -> list[tuple[str, Dim]]:
        """The sizes of arguments taken to equal another argument's size or a number: what a
        caller's arrays must satisfy for the generated code to be right."""
        pairs = []
        for d in sorted(self.parent):
            root = self.find(d)
            if ARGUMENT_SIZE.match(d) and (isinstance(root, int) or ARGUMENT_SIZE.match(root)):
                pairs.append((d, root))
        return pairs


ARGUMENT_SIZE = re.compile(r"^(\w+)\.shape\[(\d+)\]$")


_TABLE: ContextVar[DimTable | None] = ContextVar("symdiff_dims", default=None)


def _table() -> DimTable:
    table = _TABLE.get()
    return table if table is not None else DimTable()


@contextlib.contextmanager
def dim_scope() -> Iterator[DimTable]:
    """A fresh table of size equalities, for one gradient generation."""
    token = _TABLE.set(DimTable())
    try:
        yield _table()
    finally:
        _TABLE.reset(token)


def canon(d: Dim) -> Dim:
    return _table().find(d)


def unify(a: Dim, b: Dim) -> Dim:
    return _table().union(a, b)


def same_shape(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(canon(x) == canon(y) for x, y in zip(a, b, strict=True))


class ShapeError(ValueError):
    """Two shapes that cannot work together; the frontend adds the source location."""


def dim_text(d: Dim) -> str:
    return str(d)


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy broadcasting of symbolic shapes.

    Two symbolic dimensions that differ are taken to be equal (NumPy checks that at run time);
    a dimension that is 1 stretches to the other.
    """
    rank = max((len(s) for s in shapes), default=0)
    out: list[Dim] = []
    for axis in range(rank):
        dims = [s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0]
        chosen: Dim = 1
        for d in dims:
            d = canon(d)
            if d == 1:
                continue
            if chosen == 1:
                chosen = d
            elif isinstance(chosen, int) and isinstance(d, int) and chosen != d:
                raise ShapeError(f"shapes {_fmt_shapes(shapes)} cannot be broadcast together")
            else:
                chosen = unify(chosen, d)
        out.append(chosen)
    return tuple(out)


def _fmt_shapes(shapes: Sequence[Shape]) -> str:
    return ", ".join(format_shape(s) for s in shapes)


def format_shape(shape: Shape) -> str:
    inner = ", ".join(dim_text(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def dim_product(dims: Sequence[Dim]) -> Dim:
    known = 1
    symbolic: list[str] = []
    for d in dims:
        if isinstance(d, int):
            known *= d
        else:
            symbolic.append(d)
    if not symbolic:
        return known
    parts = ([str(known)] if known != 1 else []) + symbolic
    return " * ".join(parts) if len(parts) > 1 else parts[0]


def dim_add(d: Dim, k: int) -> Dim:
    if isinstance(d, int):
        return d + k
    if k == 0:
        return d
    return f"{d} {'+' if k > 0 else '-'} {abs(k)}"


def slice_length(d: Dim, start: int | None, stop: int | None, step: int | None) -> Dim:
    """Length of ``range(d)[start:stop:step]`` for static start/stop/step."""
    step = 1 if step is None else step
    if isinstance(d, int):
        return len(range(d)[slice(start, stop, step)])
    if step < 0:
        if start is None and stop is None:
            return d if step == -1 else f"-(-{_paren(d)} // {-step})"
        raise ShapeError("negative slice steps with bounds need a known size")
    if start is not None and start < 0 and (stop is None or stop < 0):
        # both ends count from the end: x[-1:] has one element whatever the size
        return max(0, -(-((stop or 0) - start) // step))
    lo = _bound(d, start, 0)
    hi = _bound(d, stop, None)
    if isinstance(lo, int) and lo == 0 and hi is None:
        length: Dim = d
    elif hi is None:
        length = dim_add(d, -lo) if isinstance(lo, int) else f"{_paren(d)} - ({lo})"
    elif isinstance(lo, int) and isinstance(hi, int):
        return max(0, len(range(lo, hi, step)))
    elif isinstance(lo, int) and isinstance(hi, str):
        length = dim_add(hi, -lo)
    else:
        raise ShapeError("this slice needs known sizes")
    if step == 1:
        return length
    return f"-(-({length}) // {step})"


def _bound(d: str, value: int | None, default: int | None) -> Dim | None:
    if value is None:
        return default
    if value >= 0:
        return value
    return dim_add(d, value)


def _paren(d: Dim) -> str:
    text = dim_text(d)
    return text if text.replace(".", "").replace("_", "").isalnum() or text.endswith("]") \
        else f"({text})"
