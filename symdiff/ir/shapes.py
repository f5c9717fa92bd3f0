"""Symbolic shapes: ranks are known, sizes are not.

A dimension (``Dim``) is an ``int`` (known at generation time, typically 1) or a
:class:`~symdiff.ir.sizes.Size`, an expression over the arguments' shapes such as
``x.shape[0] - 1``. Generated code prints such expressions, so it runs for every size of the
specialised ranks. A gradient is specialised on which dimensions of the arguments are 1.

Whatever the generated code assumes about sizes it cannot prove (two sizes broadcast or
contracted together are equal, a slice's bounds lie inside its axis, an index is in range) is
recorded as a :class:`~symdiff.ir.sizes.SizeCheck` in the generation's :class:`DimTable`; the
checks are made on every call, and a call that fails one is generated again with those sizes
as numbers, so that it gets NumPy's answer or a located error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

from symdiff.ir import sizes
from symdiff.ir.sizes import Dim, Size, SizeCheck, arguments_of, dim_text, known_nonnegative

Shape = tuple[Dim, ...]
__all__ = ["Dim", "Shape", "Size", "dim_text"]


class DimTable:
    """Union-find over symbolic sizes (broadcasting ``x.shape[0]`` against ``y.shape[0]``
    proves them equal for the code generated, and later shape comparisons must know it), and
    the checks that make those assumptions true on each call."""

    def __init__(self) -> None:
        self.parent: dict[Size, Dim] = {}
        self.checks: list[SizeCheck] = []

    def find(self, d: Dim) -> Dim:
        while isinstance(d, Size) and d in self.parent:
            d = self.parent[d]
        return d

    def union(self, a: Dim, b: Dim) -> Dim:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if isinstance(ra, int) and isinstance(rb, int):
            raise ShapeError(f"sizes {ra} and {rb} differ")
        self._check(SizeCheck(ra, "==", rb))
        if isinstance(rb, Size):
            self.parent[rb] = ra  # the older size stays the name; a known size wins
            return ra
        self.parent[ra] = rb  # type: ignore[index]
        return rb

    def require(self, low: Dim, high: Dim) -> None:
        """The code assumes ``low <= high``: proven here, or checked on each call."""
        low, high = self.find(low), self.find(high)
        gap = sizes.sub(high, low)
        if isinstance(gap, int) and gap < 0:
            raise ShapeError(f"{dim_text(low)} is more than {dim_text(high)}")
        if not known_nonnegative(gap):
            self._check(SizeCheck(high, ">=", low))

    def _check(self, check: SizeCheck) -> None:
        if check not in self.checks:
            self.checks.append(check)


_TABLE: ContextVar[DimTable | None] = ContextVar("symdiff_dims", default=None)


def _table() -> DimTable:
    table = _TABLE.get()
    return table if table is not None else DimTable()


@contextlib.contextmanager
def dim_scope() -> Iterator[DimTable]:
    """A fresh table of size equalities and checks, for one gradient generation."""
    token = _TABLE.set(DimTable())
    try:
        yield _table()
    finally:
        _TABLE.reset(token)


def canon(d: Dim) -> Dim:
    return _table().find(d)


def unify(a: Dim, b: Dim) -> Dim:
    return _table().union(a, b)


def require(low: Dim, high: Dim) -> None:
    _table().require(low, high)


def same_shape(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(canon(x) == canon(y) for x, y in zip(a, b, strict=True))


class ShapeError(ValueError):
    """Two shapes that cannot work together; the frontend adds the source location.
    ``needs``: a size that, known as a number, would settle the question; generation is
    then tried again with the argument sizes it is computed from (``sizes``) as numbers."""

    def __init__(self, message: str, needs: Dim = 0):
        super().__init__(message)
        self.sizes = tuple(sorted(arguments_of(needs)))


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
    return sizes.product(dims)


def dim_add(d: Dim, k: Dim) -> Dim:
    return sizes.add(d, k)


def slice_length(d: Dim, start: Dim | None, stop: Dim | None, step: int | None) -> Dim:
    """Length of ``range(d)[start:stop:step]`` for a static step and bounds that are integers
    or (with a positive step) sizes.

    On a run-time size the bounds are taken where Python's clamping leaves them (``x[:3]``
    has 3 elements, ``x[-3:]`` starts at ``n - 3``), and that is required of the size."""
    step = 1 if step is None else step
    if step == 0:
        raise ShapeError("slice step cannot be zero")
    if isinstance(d, int) and all(isinstance(b, int | None) for b in (start, stop)):
        return len(range(d)[slice(start, stop, step)])
    if step > 0:
        lo, hi = _bound(d, start, 0), _bound(d, stop, d)
    else:  # counting down: from the last element to the first when no bounds are given
        lo, hi = _bound(d, stop, -1), _bound(d, start, sizes.add(d, -1))
    gap = sizes.sub(hi, lo)
    if isinstance(gap, int) and gap <= 0:
        return 0  # x[5:2], x[-2:-5]: empty whatever the size
    if step > 0:
        for bound in (lo, hi):
            require(0, bound)
            require(bound, d)
    else:
        require(-1, lo) if stop is None else require(0, lo)
        require(hi, sizes.add(d, -1))
    require(lo, hi)
    return sizes.ceildiv(gap, abs(step))


def _bound(d: Dim, value: int | None, default: Dim) -> Dim:
    if value is None:
        return default
    if isinstance(value, Size):  # a size: never negative, and within the axis (required)
        return value
    return value if value >= 0 else sizes.add(d, value)


def index_in_range(d: Dim, index: Dim) -> None:
    """The code reads element ``index`` (Python's meaning for a negative int) of an axis of
    size ``d``: require it to exist."""
    if isinstance(index, int) and index < 0:
        require(-index, d)
        return
    require(0, index)
    require(sizes.add(index, 1), d)


def shape_text(shape: Shape) -> str:
    inner = ", ".join(dim_text(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def axis_text(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(tuple(axes))
