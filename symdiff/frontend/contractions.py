"""Linear algebra written with other primitives: ``einsum`` and what it covers (``tensordot``,
``inner``, ``vdot``, ``trace``, diagonals, ``kron``, ``multi_dot``, ``cross``).

Every function here is a composition of transposes, reshapes, gathers, products, sums and
``matmul``, so each backend writes it and its derivatives (of any order) come from the rules
of those primitives. A contraction of two operands without shared kept labels is one
``matmul`` of the operands reshaped to matrices (BLAS on the CPU backends); one with batch
labels (``'bij,bjk->bik'``, batched ``@``) multiplies with broadcasting and sums, which the
Numba and CUDA targets compute in one loop without the product as a temporary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from symdiff.frontend.arrangements import moveaxis
from symdiff.frontend.calls import elementwise, expand_dims, matmul, ravel, stack
from symdiff.frontend.values import StaticError, Tensor, describe, to_tensor
from symdiff.ir import sizes
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, make_params
from symdiff.ir.shapes import Dim, ShapeError, canon, dim_product, unify
from symdiff.rules.reductions import reduce

_FULL = ("slice", None, None, None)


# --- the contraction of labelled operands --------------------------------------------------

def _permute(g: Graph, x: Tensor, order: list[int]) -> Tensor:
    if order == list(range(x.rank)):
        return x
    return Tensor(g.add("transpose", [x.node], make_params(axes=tuple(order))))


def _sum_axes(g: Graph, x: Tensor, axes: list[int]) -> Tensor:
    return Tensor(reduce(g, "sum", x.node, tuple(axes))) if axes else x


def same_size(a: Dim, b: Dim, what: str) -> None:
    a, b = canon(a), canon(b)
    if isinstance(a, int) and isinstance(b, int) and a != b:
        raise ShapeError(f"{what}: sizes {a} and {b} differ")
    unify(a, b)


def leading_diagonal(g: Graph, x: Tensor, length: Dim) -> Tensor:
    """``x[i, i, ...]`` for ``i`` in ``range(length)``: the diagonal of the first two axes,
    as the first axis (a gather, so its adjoint adds into the diagonal)."""
    index = Tensor(g.add("arange", [], make_params(stop=length)))
    return Tensor(g.add("getitem", [x.node, index.node, index.node],
                        make_params(index=(("array", 0), ("array", 1)))))


def _distinct(g: Graph, x: Tensor, labels: list, what: str) -> tuple[Tensor, list]:
    """An operand whose labels repeat (``'ii'``) replaced by its diagonal."""
    while len(set(labels)) < len(labels):
        first = next(k for k, lab in enumerate(labels) if labels.count(lab) > 1)
        second = labels.index(labels[first], first + 1)
        same_size(x.shape[first], x.shape[second], f"{what}: repeated index "
                   f"{labels[first]!r}")
        rest = [k for k in range(x.rank) if k not in (first, second)]
        x = leading_diagonal(g, _permute(g, x, [first, second, *rest]), x.shape[first])
        labels = [labels[first]] + [labels[k] for k in rest]
    return x, labels


def _to_matrix(g: Graph, x: Tensor, rows: int) -> Tensor:
    """``x`` as a matrix of its first ``rows`` axes by the rest (a vector when one of them is
    empty)."""
    head, tail = x.shape[:rows], x.shape[rows:]
    if not head or not tail:
        return _reshape_dims(g, x, (dim_product(x.shape),))
    return _reshape_dims(g, x, (dim_product(head), dim_product(tail)))


def _reshape_dims(g: Graph, x: Tensor, shape: tuple) -> Tensor:
    if shape == x.shape:
        return x
    return Tensor(g.add("reshape", [x.node], make_params(shape=tuple(shape))))


def _pair(g: Graph, a: Tensor, la: list, b: Tensor, lb: list, keep: set) -> tuple[Tensor, list]:
    """The contraction of two operands, keeping the labels in ``keep``."""
    shared = [lab for lab in la if lab in lb]
    batch = [lab for lab in shared if lab in keep]
    summed = [lab for lab in shared if lab not in keep]
    a_only = [lab for lab in la if lab not in lb]
    b_only = [lab for lab in lb if lab not in la]
    dims = {**dict(zip(lb, b.shape, strict=True)), **dict(zip(la, a.shape, strict=True))}
    same = all(canon(a.shape[la.index(lab)]) == canon(b.shape[lb.index(lab)]) or
               1 not in (canon(a.shape[la.index(lab)]), canon(b.shape[lb.index(lab)]))
               for lab in shared)
    if not batch and same:  # one matrix product
        for lab in summed:
            same_size(a.shape[la.index(lab)], b.shape[lb.index(lab)], "contraction")
        a2 = _to_matrix(g, _permute(g, a, [la.index(lab) for lab in a_only + summed]),
                        len(a_only))
        b2 = _to_matrix(g, _permute(g, b, [lb.index(lab) for lab in summed + b_only]),
                        len(summed))
        if not summed:  # an outer product
            a2, b2 = expand_dims(g, ravel(g, a2), -1), expand_dims(g, ravel(g, b2), 0)
            product = elementwise(g, "mul", a2, b2)
        else:
            product = matmul(g, a2, b2)
        labels = a_only + b_only
        return _reshape_dims(g, product, tuple(dims[lab] for lab in labels)), labels
    # batch labels: multiply with broadcasting, then sum
    labels = batch + a_only + b_only + summed

    def aligned(x: Tensor, own: list) -> Tensor:
        x = _permute(g, x, [own.index(lab) for lab in labels if lab in own])
        missing = [k for k, lab in enumerate(labels) if lab not in own]
        return expand_dims(g, x, tuple(missing)) if missing else x

    product = elementwise(g, "mul", aligned(a, la), aligned(b, lb))
    kept = len(labels) - len(summed)
    return _sum_axes(g, product, list(range(kept, len(labels)))), labels[:kept]


def contract(g: Graph, operands: list[tuple[Tensor, list]], out: list, what: str) -> Tensor:
    """``einsum`` of labelled operands: each operand's labels name its axes, ``out`` the
    result's. Labels that repeat within an operand take its diagonal; sizes of 1 broadcast."""
    ops = [_distinct(g, x, list(labels), what) for x, labels in operands]
    counts = Counter(lab for _, labels in ops for lab in labels)
    alone = []
    for x, labels in ops:  # labels only one operand has and the result does not: sum first
        lone = [k for k, lab in enumerate(labels) if counts[lab] == 1 and lab not in out]
        alone.append((_sum_axes(g, x, lone), [lab for k, lab in enumerate(labels)
                                               if k not in lone]))
    x, labels = alone[0]
    for k, (y, other) in enumerate(alone[1:], start=2):
        later = set(out).union(*(set(ls) for _, ls in alone[k:]))
        x, labels = _pair(g, x, labels, y, other, later)
    summed = [k for k, lab in enumerate(labels) if lab not in out]
    x = _sum_axes(g, x, summed)
    labels = [lab for lab in labels if lab in out]
    return _permute(g, x, [labels.index(lab) for lab in out])


# --- einsum ----------------------------------------------------------------------------------

def _parse(subscripts: str, ranks: list[int]) -> tuple[list[list], list]:
    """Labels of each operand and of the result; the axes under ``...`` are labelled
    ``("...", k)``, aligned at the right as broadcasting aligns them."""
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    parts = inputs.split(",")
    if len(parts) != len(ranks):
        raise StaticError(f"np.einsum: {len(parts)} operands in the subscripts "
                          f"{subscripts!r}, {len(ranks)} given")
    for part in parts + [output]:
        rest = part.replace("...", "")
        if "." in rest or not all(c.isalpha() for c in rest):
            raise StaticError(f"np.einsum: invalid subscripts {subscripts!r}")
    width = max((r - len(p.replace("...", "")) for p, r in zip(parts, ranks, strict=True)
                 if "..." in p), default=0)
    labels = []
    for part, rank in zip(parts, ranks, strict=True):
        head, dots, tail = part.partition("...")
        extra = rank - len(head) - len(tail)
        if extra < 0 or (extra and not dots):
            raise StaticError(f"np.einsum: the subscripts {part!r} do not fit an operand of "
                              f"rank {rank}")
        labels.append(list(head) + [("...", k) for k in range(width - extra, width)]
                      + list(tail))
    ellipsis = [("...", k) for k in range(width)]
    if arrow:
        head, dots, tail = output.partition("...")
        if width and not dots:
            raise StaticError("np.einsum: output has more dimensions than subscripts given "
                              "in einstein sum, but no '...' ellipsis provided to broadcast "
                              "the extra dimensions")
        out = list(head) + (ellipsis if dots else []) + list(tail)
        seen = [lab for ls in labels for lab in ls]
        for lab in out:
            if lab not in seen:
                raise StaticError(f"np.einsum: output subscript {lab!r} does not appear in "
                                  "the input subscripts")
        if len(set(out)) < len(out):
            raise StaticError(f"np.einsum: output subscripts {output!r} repeat a label")
    else:
        counts = Counter(lab for ls in labels for lab in ls if isinstance(lab, str))
        out = ellipsis + sorted(lab for lab, n in counts.items() if n == 1)
    return labels, out


def einsum(g: Graph, subscripts: Any, *operands: Any, optimize: Any = False) -> Tensor:
    """``np.einsum`` with a subscripts string: explicit (``'ij,jk->ik'``) and implicit
    output, repeated labels (diagonals, traces), ``...`` and broadcasting of sizes 1; or
    operands each followed by its list of axis numbers (``einsum(a, [0, 1], b, [1, 2])``)."""
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists([subscripts, *operands])
    if not operands:
        raise StaticError("np.einsum needs at least one operand")
    tensors = [to_tensor(g, x) for x in operands]
    labels, out = _parse(subscripts, [t.rank for t in tensors])
    return contract(g, list(zip(tensors, labels, strict=True)), out, "np.einsum")


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _from_sublists(items: list) -> tuple[str, list]:
    """NumPy's other spelling of einsum, operands and their axis numbers alternating (the
    result's last if given), as a subscripts string and the operands."""
    def letters(sublist: Any) -> str:
        if not isinstance(sublist, (list, tuple)) or not all(
                k is Ellipsis or isinstance(k, int) and not isinstance(k, bool) and
                0 <= k < len(_LETTERS) for k in sublist):
            raise StaticError("np.einsum: each operand is followed by a list of axis numbers "
                              f"(0 to 51, or ...), got {describe(sublist)}")
        return "".join("..." if k is Ellipsis else _LETTERS[k] for k in sublist)

    pairs, output = (items, None) if len(items) % 2 == 0 else (items[:-1], items[-1])
    operands = pairs[0::2]
    subscripts = ",".join(letters(sublist) for sublist in pairs[1::2])
    if output is not None:
        subscripts += "->" + letters(output)
    return subscripts, operands


# --- functions written as contractions ----------------------------------------------------

def _axis_list(value: Any, rank: int, what: str) -> list[int]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool) or not -rank <= a < rank:
            raise StaticError(f"{what}: axis {describe(a)} is not an axis of an array of "
                              f"rank {rank}")
        out.append(a % rank)
    return out


def tensordot(g: Graph, a: Any, b: Any, axes: Any = 2) -> Tensor:
    """``np.tensordot``: ``axes`` an integer N (the last N axes of ``a`` with the first N of
    ``b``) or a pair of axis lists."""
    a, b = to_tensor(g, a), to_tensor(g, b)
    if isinstance(axes, int) and not isinstance(axes, bool):
        if not 0 <= axes <= min(a.rank, b.rank):
            raise StaticError(f"np.tensordot: axes={axes} does not fit operands of rank "
                              f"{a.rank} and {b.rank}")
        pairs = (list(range(a.rank - axes, a.rank)), list(range(axes)))
    elif isinstance(axes, (list, tuple)) and len(axes) == 2:
        pairs = (_axis_list(axes[0], a.rank, "np.tensordot"),
                 _axis_list(axes[1], b.rank, "np.tensordot"))
        if len(pairs[0]) != len(pairs[1]):
            raise StaticError("np.tensordot: shape-mismatch for sum (the two axis lists "
                              "differ in length)")
    else:
        raise StaticError(f"np.tensordot: axes must be an integer or a pair of axis lists, "
                          f"got {describe(axes)}")
    for i, j in zip(*pairs, strict=True):  # tensordot does not broadcast
        same_size(a.shape[i], b.shape[j], "np.tensordot: shape-mismatch for sum")
    la = [("a", k) for k in range(a.rank)]
    lb = [("b", k) for k in range(b.rank)]
    for i, j in zip(*pairs, strict=True):
        lb[j] = la[i]
    out = [lab for k, lab in enumerate(la) if k not in pairs[0]] + \
        [lab for k, lab in enumerate(lb) if k not in pairs[1]]
    return contract(g, [(a, la), (b, lb)], out, "np.tensordot")


def inner(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.inner``: the last axes of both contracted (a product when one is a scalar)."""
    a, b = to_tensor(g, a), to_tensor(g, b)
    if a.rank == 0 or b.rank == 0:
        return elementwise(g, "mul", a, b)
    return tensordot(g, a, b, ([-1], [-1]))


def vdot(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.vdot`` of real arrays: the dot product of the flattened arrays."""
    a, b = ravel(g, a), ravel(g, b)
    same_size(a.shape[0], b.shape[0], "np.vdot: vectors of different sizes")
    return matmul(g, a, b)


def dot(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.dot``: a product with a scalar, ``matmul`` up to rank 2, else the last axis of
    ``a`` with the second-to-last of ``b``."""
    a, b = to_tensor(g, a), to_tensor(g, b)
    if a.rank == 0 or b.rank == 0:
        return elementwise(g, "mul", a, b)
    if a.rank <= 2 and b.rank <= 2:
        return matmul(g, a, b)
    return tensordot(g, a, b, ([-1], [max(b.rank - 2, 0)]))


def multi_dot(g: Graph, arrays: Any, *, out: Any = None) -> Tensor:
    """``np.linalg.multi_dot``: matrix products of the list, the first and last of which may
    be vectors; a chain ending in a vector is multiplied from the right (matrix-vector
    products only)."""
    if out is not None:
        raise StaticError("np.linalg.multi_dot: out= is not supported")
    if not isinstance(arrays, (list, tuple)) or len(arrays) < 2:
        raise StaticError("np.linalg.multi_dot needs a list of at least two arrays")
    items = [to_tensor(g, x) for x in arrays]
    for k, x in enumerate(items):
        allowed = (1, 2) if k in (0, len(items) - 1) else (2,)
        if x.rank not in allowed:
            raise StaticError(f"np.linalg.multi_dot: array {k} has rank {x.rank}; the first "
                              "and last may be 1-D or 2-D, the others must be 2-D")
    if items[-1].rank == 1:
        result = items[-1]
        for x in reversed(items[:-1]):
            result = matmul(g, x, result)
        return result
    result = items[0]
    for x in items[1:]:
        result = matmul(g, result, x)
    return result


def diagonal(g: Graph, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """``np.diagonal``: the diagonal of ``axis1`` and ``axis2`` with ``offset``, as the last
    axis."""
    x = to_tensor(g, a)
    if x.rank < 2:
        raise StaticError("np.diagonal needs an array of at least two dimensions")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise StaticError("np.diagonal: offset must be an integer known while generating")
    first, second = _axis_list([axis1, axis2], x.rank, "np.diagonal")
    if first == second:
        raise StaticError("np.diagonal: axis1 and axis2 cannot be the same")
    rest = [k for k in range(x.rank) if k not in (first, second)]
    x = _permute(g, x, [first, second, *rest])
    if offset:
        shifted = ("slice", abs(offset), None, None)
        index = (_FULL, shifted) if offset > 0 else (shifted,)
        x = Tensor(g.add("getitem", [x.node], make_params(index=index)))
    out = leading_diagonal(g, x, sizes.minimum(x.shape[0], x.shape[1]))
    return _permute(g, out, [*range(1, out.rank), 0])


def trace(g: Graph, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1,
          dtype: Any = None) -> Tensor:
    """``np.trace``: the sum of ``np.diagonal``."""
    if dtype is not None:
        raise StaticError("np.trace: dtype= is not supported")
    d = diagonal(g, a, offset, axis1, axis2)
    return Tensor(reduce(g, "sum", d.node, (d.rank - 1,)))


def diag(g: Graph, v: Any, k: int = 0) -> Tensor:
    """``np.diag``: the ``k``-th diagonal of a matrix, or the square matrix with a vector on
    its ``k``-th diagonal (added into zeros, so its adjoint reads the diagonal back)."""
    x = to_tensor(g, v)
    if not isinstance(k, int) or isinstance(k, bool):
        raise StaticError("np.diag: k must be an integer known while generating")
    if x.rank == 2:
        return diagonal(g, x, k)
    if x.rank != 1:
        raise StaticError("np.diag: input must be 1-D or 2-D")
    n = x.shape[0]
    size = sizes.add(n, abs(k))
    like = g.add("broadcast_to", [const(g, 0)], make_params(shape=(size, size)))
    index = g.add("arange", [], make_params(stop=n))
    rows = index if k >= 0 else g.add("add", [index, const(g, -k)])
    cols = index if k <= 0 else g.add("add", [index, const(g, k)])
    return Tensor(g.add("scatter", [x.node, like, rows, cols],
                        make_params(index=(("array", 0), ("array", 1)))))


def kron(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.kron``: every element of ``a`` times ``b``, as blocks."""
    a, b = to_tensor(g, a), to_tensor(g, b)
    rank = max(a.rank, b.rank)
    a = _reshape_dims(g, a, (1,) * (rank - a.rank) + a.shape)
    b = _reshape_dims(g, b, (1,) * (rank - b.rank) + b.shape)
    if rank == 0:
        return elementwise(g, "mul", a, b)
    spread_a = expand_dims(g, a, tuple(2 * k + 1 for k in range(rank)))
    spread_b = expand_dims(g, b, tuple(2 * k for k in range(rank)))
    blocks = elementwise(g, "mul", spread_a, spread_b)
    shape = tuple(sizes.mul(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    return _reshape_dims(g, blocks, shape)


def cross(g: Graph, a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: Any = None) -> Tensor:
    """``np.cross`` of vectors of 2 or 3 components along ``axisa`` and ``axisb`` (or
    ``axis``), broadcasting the others, the result's components along ``axisc``: as NumPy,
    2-component vectors have a zero third component, and two of them give the third
    component of their product alone."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = to_tensor(g, a), to_tensor(g, b)
    if a.rank == 0 or b.rank == 0:
        raise StaticError("np.cross: the vectors are scalars")
    a, b = moveaxis(g, a, axisa, -1), moveaxis(g, b, axisb, -1)
    lengths = []
    for x in (a, b):
        if not isinstance(canon(x.shape[-1]), int):
            raise ShapeError("np.cross needs the number of components as a number",
                             needs=x.shape[-1])
        lengths.append(canon(x.shape[-1]))
        if lengths[-1] not in (2, 3):
            raise StaticError("np.cross: incompatible dimensions for cross product (dimension "
                              f"must be 2 or 3), got {lengths[-1]}")

    def part(x: Tensor, k: int) -> Tensor | None:
        if k >= canon(x.shape[-1]):
            return None  # the zero third component of a 2-component vector
        return Tensor(g.add("getitem", [x.node], make_params(index=(_FULL,) * (x.rank - 1)
                                                            + (k,))))

    def product(x: Tensor | None, y: Tensor | None) -> Tensor | None:
        return None if x is None or y is None else elementwise(g, "mul", x, y)

    def term(i: int, j: int) -> Tensor:
        first, second = product(part(a, i), part(b, j)), product(part(a, j), part(b, i))
        if second is None:
            return first
        return elementwise(g, "neg", second) if first is None else \
            elementwise(g, "sub", first, second)

    if lengths == [2, 2]:
        return term(0, 1)
    # with a 3-component vector, each component is a product of theirs: all broadcast alike
    out = stack(g, [term(1, 2), term(2, 0), term(0, 1)], axis=-1)
    return moveaxis(g, out, -1, axisc)


def matmul_any(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.matmul`` and ``@``, with stacks of matrices (rank above 2) broadcast against each
    other as NumPy does."""
    a, b = to_tensor(g, a), to_tensor(g, b)
    if a.rank == 0 or b.rank == 0:
        raise StaticError("matmul: input operand does not have enough dimensions (a scalar; "
                          "use * to multiply by a number)")
    if a.rank <= 2 and b.rank <= 2:
        return matmul(g, a, b)
    same_size(a.shape[-1], b.shape[0 if b.rank == 1 else -2], "matmul: inner dimensions")
    batch = max(a.rank, b.rank) - 2  # stacks broadcast, aligned at the right
    names = [("batch", k) for k in range(batch)]
    la = ["j"] if a.rank == 1 else names[batch - (a.rank - 2):] + ["i", "j"]
    lb = ["j"] if b.rank == 1 else names[batch - (b.rank - 2):] + ["j", "k"]
    out = names + ["i"] * (a.rank > 1) + ["k"] * (b.rank > 1)
    return contract(g, [(a, la), (b, lb)], out, "matmul")


__all__ = ["contract", "cross", "diag", "diagonal", "dot", "einsum", "inner", "kron",
           "matmul_any", "multi_dot", "same_size", "tensordot", "trace", "vdot"]
