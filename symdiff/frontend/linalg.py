"""``np.linalg``: the decompositions (primitives of ``symdiff.rules.decompositions``) and the
functions written with them and with other primitives (``matrix_power``, ``norm``)."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from symdiff.frontend.calls import (
    array_like,
    astype,
    axes_of,
    elementwise,
    expand_dims,
    matmul,
    squeeze,
)
from symdiff.frontend.contractions import same_size
from symdiff.frontend.values import StaticError, Tensor, describe, refusal, to_tensor
from symdiff.ir.graph import Graph, make_params
from symdiff.rules.reductions import reduce

# NumPy's result types, so that ``w, v = eigh(a)`` and ``eigh(a).eigenvalues`` both read
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def _float(g: Graph, a: Any) -> Tensor:
    x = array_like(g, a)
    return x if x.node.dtype.startswith("float") else astype(g, x, "float64")


def _matrix(g: Graph, a: Any, what: str, stacks: bool = True) -> Tensor:
    """One matrix or (``stacks``) a stack of them along the leading axes, as float."""
    x = _float(g, a)
    if x.rank > 2 and not stacks:
        raise StaticError(f"{what} is supported for one matrix (a 2-D array), not a stack of "
                          f"them (rank {x.rank}) yet; loop over the matrices")
    if x.rank < 2:
        raise StaticError(f"{what}: {x.rank}-dimensional array given. Array must be at least "
                          "two-dimensional")
    return x


def inv(g: Graph, a: Any) -> Tensor:
    return Tensor(g.add("inv", [_matrix(g, a, "np.linalg.inv").node]))


def pinv(g: Graph, a: Any, rcond: Any = None, hermitian: bool = False) -> Tensor:
    """``np.linalg.pinv`` with NumPy's cutoff for small singular values; differentiable where
    the rank does not change nearby (as for every matrix of full rank)."""
    if rcond is not None or hermitian:
        raise StaticError("np.linalg.pinv: only NumPy's default cutoff is supported (no rcond=, "
                          "rtol= or hermitian=)")
    return Tensor(g.add("pinv", [_matrix(g, a, "np.linalg.pinv").node]))


def solve(g: Graph, a: Any, b: Any) -> Tensor:
    """``np.linalg.solve`` with ``b`` a vector or a matrix of right-hand sides, or stacks."""
    a, b = _matrix(g, a, "np.linalg.solve"), _float(g, b)
    return Tensor(g.add("solve", [a.node, b.node]))


def det(g: Graph, a: Any) -> Tensor:
    return Tensor(g.add("det", [_matrix(g, a, "np.linalg.det").node]))


def slogdet(g: Graph, a: Any) -> SlogdetResult:
    """``(sign, logabsdet)``: the sign is data (no gradient), the log differentiable."""
    x = _matrix(g, a, "np.linalg.slogdet")
    return SlogdetResult(Tensor(g.add("slogdet_sign", [x.node])),
                         Tensor(g.add("logabsdet", [x.node])))


def cholesky(g: Graph, a: Any, upper: bool = False) -> Tensor:
    """``np.linalg.cholesky``: reads the lower triangle (the upper with ``upper=True``)."""
    x = _matrix(g, a, "np.linalg.cholesky")
    if upper:
        return swap_last(g, Tensor(g.add("cholesky", [swap_last(g, x).node])))
    return Tensor(g.add("cholesky", [x.node]))


def swap_last(g: Graph, x: Tensor) -> Tensor:
    """Each matrix of a stack transposed."""
    return Tensor(g.add("transpose", [x.node], make_params(
        axes=(*range(x.rank - 2), x.rank - 1, x.rank - 2))))


def _uplo(uplo: Any, what: str) -> tuple:
    """The parameters of a function that reads the lower triangle, or (``'U'``) the upper."""
    if uplo not in ("L", "U"):
        raise StaticError(f"{what}: UPLO must be 'L' or 'U', got {describe(uplo)}")
    return make_params(upper=True) if uplo == "U" else ()


def eigh(g: Graph, a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 (NumPy's name)
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix that the lower (with
    ``UPLO='U'`` the upper) triangle of ``a`` stands for; their gradients need distinct
    eigenvalues."""
    params = _uplo(UPLO, "np.linalg.eigh")
    x = _matrix(g, a, "np.linalg.eigh")
    return EighResult(Tensor(g.add("eigh_values", [x.node], params)),
                      Tensor(g.add("eigh_vectors", [x.node], params)))


def eigvalsh(g: Graph, a: Any, UPLO: str = "L") -> Tensor:  # noqa: N803 (NumPy's name)
    params = _uplo(UPLO, "np.linalg.eigvalsh")
    return Tensor(g.add("eigh_values", [_matrix(g, a, "np.linalg.eigvalsh").node], params))


@refusal
def eig(g: Graph, a: Any) -> Any:
    raise StaticError("np.linalg.eig is not supported: the eigenvalues of a general matrix "
                      "are complex, and symdiff differentiates real arrays; for a symmetric "
                      "matrix use np.linalg.eigh")


@refusal
def eigvals(g: Graph, a: Any) -> Any:
    raise StaticError("np.linalg.eigvals is not supported: the eigenvalues of a general "
                      "matrix are complex, and symdiff differentiates real arrays; for a "
                      "symmetric matrix use np.linalg.eigvalsh")


def qr(g: Graph, a: Any, mode: str = "reduced") -> Any:
    """The reduced QR of a matrix with at least as many rows as columns."""
    if mode not in ("reduced", "r"):
        raise StaticError(f"np.linalg.qr: mode={mode!r} is not supported; use 'reduced' (the "
                          "default) or 'r'")
    x = _matrix(g, a, "np.linalg.qr", stacks=False)
    r = Tensor(g.add("qr_r", [x.node]))
    if mode == "r":
        return r
    return QRResult(Tensor(g.add("qr_q", [x.node])), r)


def svd(g: Graph, a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """``(U, S, Vh)`` of the reduced SVD (``full_matrices=False``; the full one of a square
    matrix is the same), or the singular values with ``compute_uv=False``. The gradients of
    U and Vh need distinct singular values, not 0."""
    if hermitian:
        raise StaticError("np.linalg.svd: hermitian=True is not supported; use "
                          "np.linalg.eigh for a symmetric matrix")
    x = _matrix(g, a, "np.linalg.svd")
    s = Tensor(g.add("svd_s", [x.node]))
    if not compute_uv:
        return s
    if full_matrices:
        same_size(x.shape[0], x.shape[1], "np.linalg.svd with full_matrices=True (the default) "
                  "is supported for square matrices; pass full_matrices=False")
    return SVDResult(Tensor(g.add("svd_u", [x.node])), s, Tensor(g.add("svd_vt", [x.node])))


def matrix_power(g: Graph, a: Any, n: Any) -> Tensor:
    """``a`` multiplied by itself ``n`` times (by squaring); a negative ``n`` inverts first,
    ``n == 0`` is the identity."""
    x = to_tensor(g, a)
    if not isinstance(n, int) or isinstance(n, bool):
        raise StaticError("np.linalg.matrix_power: the exponent must be an integer known "
                          f"while generating, got {describe(n)}")
    if x.rank != 2:
        raise StaticError("np.linalg.matrix_power is supported for one matrix (a 2-D array)")
    same_size(x.shape[0], x.shape[1], "np.linalg.matrix_power: the matrix must be square")
    if n == 0:
        rows, cols = (expand_dims(g, Tensor(g.add("arange", [], make_params(stop=d))), k)
                      for d, k in ((x.shape[0], -1), (x.shape[1], 0)))
        eye = elementwise(g, "where", elementwise(g, "eq", rows, cols), 1.0, 0.0)
        return astype(g, eye, x.node.dtype) if x.node.dtype.startswith("float") else eye
    if n < 0:
        x, n = inv(g, x), -n
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else matmul(g, result, square)
        n >>= 1
        if n:
            square = matmul(g, square, square)
    assert result is not None
    return result


def _abs(g: Graph, x: Tensor) -> Tensor:
    return elementwise(g, "abs", x)


def _vector_norm(g: Graph, x: Tensor, ord: Any, axes: tuple[int, ...], keep: bool) -> Tensor:
    if ord is None or ord == 2:
        total = Tensor(reduce(g, "sum", elementwise(g, "mul", x, x).node, axes, keep))
        return elementwise(g, "sqrt", total)
    if ord == float("inf"):
        return Tensor(reduce(g, "max", _abs(g, x).node, axes, keep))
    if ord == float("-inf"):
        return Tensor(reduce(g, "min", _abs(g, x).node, axes, keep))
    if ord == 1:
        return Tensor(reduce(g, "sum", _abs(g, x).node, axes, keep))
    if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
        powered = elementwise(g, "pow", _abs(g, x), float(ord))
        return elementwise(g, "pow", Tensor(reduce(g, "sum", powered.node, axes, keep)),
                           1.0 / ord)
    if ord == 0:
        raise StaticError("np.linalg.norm with ord=0 counts the non-zero elements, which has "
                          "no derivative; count them with np.sum(x != 0) outside the "
                          "differentiated code")
    raise StaticError(f"np.linalg.norm: ord={describe(ord)} is not supported for vectors "
                      "(None, 2, 1, inf, -inf and p > 0 are)")


def _matrix_norm(g: Graph, x: Tensor, ord: Any, axes: tuple[int, ...], keep: bool) -> Tensor:
    rows, cols = axes
    if ord is None or ord == "fro":
        total = Tensor(reduce(g, "sum", elementwise(g, "mul", x, x).node, axes, keep))
        return elementwise(g, "sqrt", total)
    if ord in (1, -1, float("inf"), float("-inf")):
        # 1: the largest column sum; inf: the largest row sum (of absolute values)
        summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = Tensor(reduce(g, "sum", _abs(g, x).node, (summed,), True))
        out = Tensor(reduce(g, "max" if ord > 0 else "min", sums.node, (picked,), True))
        return out if keep else squeeze(g, out, axes)
    if ord in (2, -2, "nuc"):  # of the singular values of each matrix (rows, cols)
        others = [a for a in range(x.rank) if a not in axes]
        if others or axes != (0, 1):
            x = Tensor(g.add("transpose", [x.node], make_params(axes=(*others, rows, cols))))
        s = Tensor(g.add("svd_s", [x.node]))
        op = {2: "max", -2: "min", "nuc": "sum"}[ord]
        out = Tensor(reduce(g, op, s.node, (s.rank - 1,)))
        return expand_dims(g, out, tuple(sorted(axes))) if keep else out
    raise StaticError(f"np.linalg.norm: ord={describe(ord)} is not supported for matrices "
                      "('fro', 'nuc', 1, -1, 2, -2, inf and -inf are)")


def norm(g: Graph, x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``np.linalg.norm``: vector norms over one axis, matrix norms over two."""
    t = _float(g, x)
    keep = bool(keepdims)
    if axis is None:
        if ord is None:  # the 2-norm of all elements, whatever the rank
            total = Tensor(reduce(g, "sum", elementwise(g, "mul", t, t).node, None, keep))
            return elementwise(g, "sqrt", total)
        if t.rank not in (1, 2):
            raise StaticError("np.linalg.norm: improper number of dimensions to norm (give "
                              "axis, or ord=None)")
        axes = tuple(range(t.rank))
    else:
        axes = axes_of(t, axis)
        if len(set(axes)) != len(axes) or len(axes) not in (1, 2):
            raise StaticError("np.linalg.norm: axis must be one axis or two different axes")
    if len(axes) == 1:
        return _vector_norm(g, t, ord, axes, keep)
    return _matrix_norm(g, t, ord, axes, keep)


# --- scipy.linalg: the functions whose results are those of NumPy's, and solve_sylvester -----

def _computing_only(what: str, options: dict[str, Any], defaults: dict[str, Any]) -> None:
    """SciPy's options that change how a result is computed but not what it is
    (``overwrite_a``, ``check_finite``) are taken; any other option is refused by name."""
    for name, value in options.items():
        if name in ("overwrite_a", "overwrite_b", "check_finite"):
            continue
        if name not in defaults or value != defaults[name]:
            raise StaticError(f"scipy.linalg.{what}: {name}={value!r} is not supported")


def scipy_inv(g: Graph, a: Any, **options: Any) -> Tensor:
    _computing_only("inv", options, {})
    return Tensor(g.add("inv", [_matrix(g, a, "scipy.linalg.inv", stacks=False).node]))


def scipy_det(g: Graph, a: Any, **options: Any) -> Tensor:
    _computing_only("det", options, {})
    return Tensor(g.add("det", [_matrix(g, a, "scipy.linalg.det", stacks=False).node]))


def scipy_solve(g: Graph, a: Any, b: Any, **options: Any) -> Tensor:
    """``scipy.linalg.solve`` of one general matrix (``assume_a`` as SciPy infers it for a
    general matrix; the other readings are refused)."""
    _computing_only("solve", options, {"lower": False, "assume_a": None, "transposed": False})
    a = _matrix(g, a, "scipy.linalg.solve", stacks=False)
    return Tensor(g.add("solve", [a.node, _float(g, b).node]))


def scipy_cholesky(g: Graph, a: Any, lower: bool = False, **options: Any) -> Tensor:
    """``scipy.linalg.cholesky``: the upper factor by default (``lower=True``: the lower), read
    from the same triangle, as SciPy does."""
    _computing_only("cholesky", options, {})
    return cholesky(g, _matrix(g, a, "scipy.linalg.cholesky", stacks=False), upper=not lower)


def solve_sylvester(g: Graph, a: Any, b: Any, q: Any) -> Tensor:
    """``scipy.linalg.solve_sylvester``: the X with ``a X + X b = q`` (one matrix each)."""
    a, b, q = (_matrix(g, m, "scipy.linalg.solve_sylvester", stacks=False) for m in (a, b, q))
    return Tensor(g.add("solve_sylvester", [a.node, b.node, q.node]))


def scipy_linalg_table(module: Any) -> dict[Any, Any]:
    """``scipy.linalg``'s functions in the function table (once the user's code imports it)."""
    return {module.inv: scipy_inv, module.det: scipy_det, module.solve: scipy_solve,
            module.cholesky: scipy_cholesky, module.solve_sylvester: solve_sylvester}

