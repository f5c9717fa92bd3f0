"""np.linalg: inv, pinv, solve, det, slogdet, cholesky, eigh, qr, svd, of one matrix or of a
stack of them (the last two axes, as NumPy reads them; qr of one matrix).

Each adjoint is written with graph nodes, the decomposition's own among them (the adjoint of
``inv`` multiplies by the ``inv`` node), so derivatives of derivatives come from the same
rules. A function that returns several arrays is one primitive per array, each spelled as
NumPy's call and the item it picks.

Symmetric inputs: ``cholesky``, ``eigh`` and ``eigvalsh`` read only the lower triangle of
their argument (NumPy's default, ``UPLO='L'``), so a change of an element above the diagonal
changes nothing. Their adjoints are that of NumPy's function: the gradient of the symmetric
matrix the lower triangle stands for, folded onto the lower triangle (an element below the
diagonal stands for two). A symmetric matrix built in the function (``a @ a.T``,
``(a + a.T) / 2``) sends its gradient on to both triangles, as it should.
"""

from __future__ import annotations

from symdiff.ir import sizes
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, promote, register
from symdiff.ir.shapes import ShapeError, broadcast_shapes, canon, dim_text, require, unify
from symdiff.rules.broadcasting import unbroadcast
from symdiff.rules.linalg import _t
from symdiff.rules.reductions import reduce


def transposed(g: Graph, x: Node) -> Node:
    """Each matrix of a stack transposed (its last two axes swapped)."""
    if x.rank <= 2:
        return _t(g, x)
    axes = (*range(x.rank - 2), x.rank - 1, x.rank - 2)
    if x.op == "transpose" and x.param("axes") == axes:
        return g[x.inputs[0]]
    return g.add("transpose", [x], make_params(axes=axes))


def _row(g: Graph, v: Node) -> Node:
    """A stack of vectors (..., k) as rows (..., 1, k)."""
    return g.add("expand_dims", [v], make_params(axes=(v.rank - 1,)))


def _column(g: Graph, v: Node) -> Node:
    """A stack of vectors (..., k) as columns (..., k, 1)."""
    return g.add("expand_dims", [v], make_params(axes=(v.rank,)))


def _per_matrix(g: Graph, v: Node) -> Node:
    """One number per matrix of a stack (...) as (..., 1, 1), to scale the matrices."""
    return g.add("expand_dims", [v], make_params(axes=(v.rank, v.rank + 1))) if v.rank else v

# the NumPy function each primitive stands for, as error messages name it
FUNCTIONS = {"inv": "np.linalg.inv", "pinv": "np.linalg.pinv", "solve": "np.linalg.solve",
             "det": "np.linalg.det",
             "logabsdet": "np.linalg.slogdet", "slogdet_sign": "np.linalg.slogdet",
             "cholesky": "np.linalg.cholesky", "eigh_values": "np.linalg.eigh",
             "eigh_vectors": "np.linalg.eigh", "qr_q": "np.linalg.qr", "qr_r": "np.linalg.qr",
             "svd_u": "np.linalg.svd", "svd_s": "np.linalg.svd", "svd_vt": "np.linalg.svd",
             "solve_sylvester": "scipy.linalg.solve_sylvester"}


def _matrix(x: Node, what: str, square: bool = True, stacks: bool = True) -> None:
    if x.rank < 2 or (x.rank > 2 and not stacks):
        raise ShapeError(f"{what} is supported for one matrix (a 2-D array)"
                         f"{' or a stack of them' if stacks else ''}, got an array of rank "
                         f"{x.rank}")
    if square:
        n, m = canon(x.shape[-2]), canon(x.shape[-1])
        if isinstance(n, int) and isinstance(m, int) and n != m:
            raise ShapeError(f"{what}: last 2 dimensions of the array must be square, got "
                             f"{dim_text(n)} by {dim_text(m)}")
        unify(n, m)


def _square_infer(what: str, scalar: bool = False):
    def infer(inputs: list[Node], params: dict) -> tuple:
        (x,) = inputs
        _matrix(x, what)
        return (x.shape[:-2] if scalar else x.shape), promote(inputs, floating=True)
    return infer


def _mm(g: Graph, a: Node, b: Node) -> Node:
    """a @ b; of stacks (rank above 2, broadcasting), the products summed over the shared
    axis, which the compiled targets write as one loop."""
    if a.rank <= 2 and b.rank <= 2:
        return g.add("matmul", [a, b])
    if a.rank == 1 or b.rank == 1:
        raise ShapeError("a product of a stack of matrices and a vector")  # not built here
    left = g.add("expand_dims", [a], make_params(axes=(a.rank,)))  # (..., m, k, 1)
    right = g.add("expand_dims", [b], make_params(axes=(b.rank - 2,)))  # (..., 1, k, n)
    product = g.add("mul", [left, right])
    return reduce(g, "sum", product, (product.rank - 2,))


def _ct(g: Graph, ct: Node, node: Node) -> Node:
    return unbroadcast(g, ct, node.shape, exact=True)


def _positions(g: Graph, n) -> tuple[Node, Node]:
    """Row and column numbers of an n by n matrix, as a column and a row."""
    index = g.add("arange", [], make_params(stop=n))
    return (g.add("expand_dims", [index], make_params(axes=(1,))),
            g.add("expand_dims", [index], make_params(axes=(0,))))


def _fold_lower(g: Graph, x: Node) -> Node:
    """The adjoint of a function that reads the lower triangle of its argument as a symmetric
    matrix, from ``x``, a gradient of the symmetric matrix: below the diagonal an element
    stands for itself and its mirror image, above it for nothing."""
    rows, cols = _positions(g, x.shape[-1])
    zero = const(g, 0.0)
    diagonal = g.add("where", [g.add("eq", [rows, cols]), x, zero])
    return g.add("where", [g.add("gt", [rows, cols]), g.add("add", [x, transposed(g, x)]),
                           diagonal])


# --- inv, solve, det, slogdet --------------------------------------------------------------

def _inv_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    inv_t = transposed(g, node)  # d(A^-1) = -A^-1 dA A^-1
    return [g.add("neg", [_mm(g, _mm(g, inv_t, _ct(g, ct, node)), inv_t)])]


register(Primitive("inv", _square_infer("np.linalg.inv"), vjp=_inv_vjp,
                   emit=lambda a, node: f"np.linalg.inv({a[0]})"))


def _pinv_infer(inputs: list[Node], params: dict) -> tuple:
    (x,) = inputs
    _matrix(x, "np.linalg.pinv", square=False)
    return (*x.shape[:-2], x.shape[-1], x.shape[-2]), promote(inputs, floating=True)


def _pinv_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """The adjoint of P = pinv(A) where the rank of A does not change nearby (the derivative
    exists only there): dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, each
    projection applied as X - A (P X) rather than formed."""
    (a,) = g.args(node)
    p, p_t, ct_t = node, transposed(g, node), transposed(g, _ct(g, ct, node))
    through = g.add("neg", [_mm(g, _mm(g, p_t, _ct(g, ct, node)), p_t)])
    left = _mm(g, ct_t, _mm(g, p, p_t))  # G^T P P^T, then (I - A P) applied
    left = g.add("sub", [left, _mm(g, a, _mm(g, p, left))])
    right = _mm(g, _mm(g, p_t, p), ct_t)  # P^T P G^T, then (I - P A) applied
    right = g.add("sub", [right, _mm(g, _mm(g, right, p), a)])
    return [g.add("add", [through, g.add("add", [left, right])])]


register(Primitive("pinv", _pinv_infer, vjp=_pinv_vjp,
                   emit=lambda a, node: f"np.linalg.pinv({a[0]})"))


def _solve_infer(inputs: list[Node], params: dict) -> tuple:
    """``b`` one vector (of one matrix ``a``), or a matrix or a stack of matrices whose
    leading axes broadcast with those of ``a``."""
    a, b = inputs
    _matrix(a, "np.linalg.solve")
    if b.rank == 0:
        raise ShapeError("np.linalg.solve takes b a vector or a matrix, got a number")
    if a.rank > 2 and b.rank < a.rank:  # NumPy's reading of b has changed between versions
        raise ShapeError("np.linalg.solve of a stack of matrices takes b as a stack of "
                         "matrices with as many axes as a (write b[..., None] for one vector "
                         "per matrix)")
    n, m = canon(a.shape[-1]), canon(b.shape[0] if b.rank == 1 else b.shape[-2])
    if isinstance(n, int) and isinstance(m, int) and n != m:
        raise ShapeError(f"np.linalg.solve: a is {dim_text(n)} by {dim_text(n)} but b has "
                         f"{dim_text(m)} rows")
    unify(n, m)
    if b.rank == 1:
        return b.shape, promote(inputs, floating=True)
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (*batch, *b.shape[-2:]), promote(inputs, floating=True)


def _solve_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    a, b = g.args(node)
    b_bar = g.add("solve", [transposed(g, a), _ct(g, ct, node)])
    if node.rank == 1:
        a_bar = g.add("outer", [b_bar, node])
    else:
        a_bar = _mm(g, b_bar, transposed(g, node))
    return [unbroadcast(g, g.add("neg", [a_bar]), a.shape, exact=True),
            unbroadcast(g, b_bar, b.shape, exact=True)]


register(Primitive("solve", _solve_infer, vjp=_solve_vjp,
                   emit=lambda a, node: f"np.linalg.solve({a[0]}, {a[1]})"))


def _sylvester_infer(inputs: list[Node], params: dict) -> tuple:
    """``a`` (n, n), ``b`` (m, m), ``q`` (n, m): the X (n, m) with ``a X + X b = q``."""
    a, b, q = inputs
    for x in inputs:
        _matrix(x, "scipy.linalg.solve_sylvester", square=x is not q, stacks=False)
    unify(canon(a.shape[0]), canon(q.shape[0]))
    unify(canon(b.shape[0]), canon(q.shape[1]))
    return q.shape, promote(inputs, floating=True)


def _sylvester_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """The adjoint equation is a Sylvester equation of the transposes: ``aᵀ Y + Y bᵀ = X̄``;
    then ``ā = -Y Xᵀ``, ``b̄ = -Xᵀ Y`` and ``q̄ = Y``."""
    a, b, _ = g.args(node)
    y = g.add("solve_sylvester", [transposed(g, a), transposed(g, b), ct])
    return [g.add("neg", [_mm(g, y, transposed(g, node))]),
            g.add("neg", [_mm(g, transposed(g, node), y)]), y]


_SYLVESTER = ("_solve_sylvester", '''
def _solve_sylvester(a, b, q):
    """scipy.linalg.solve_sylvester: X with a @ X + X @ b = q."""
    from scipy import linalg
    return linalg.solve_sylvester(a, b, q)
''')
register(Primitive("solve_sylvester", _sylvester_infer, vjp=_sylvester_vjp,
                   emit=lambda a, node: f"_solve_sylvester({a[0]}, {a[1]}, {a[2]})",
                   helpers=(_SYLVESTER[0],), helper_source=(_SYLVESTER,)))


def _det_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    (a,) = g.args(node)
    inv_t = transposed(g, g.add("inv", [a]))
    return [g.add("mul", [_per_matrix(g, g.add("mul", [ct, node])), inv_t])]


register(Primitive("det", _square_infer("np.linalg.det", scalar=True), vjp=_det_vjp,
                   emit=lambda a, node: f"np.linalg.det({a[0]})"))


def _logabsdet_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    (a,) = g.args(node)
    return [g.add("mul", [_per_matrix(g, ct), transposed(g, g.add("inv", [a]))])]


register(Primitive("logabsdet", _square_infer("np.linalg.slogdet", scalar=True),
                   vjp=_logabsdet_vjp, emit=lambda a, node: f"np.linalg.slogdet({a[0]})[1]"))
register(Primitive("slogdet_sign", _square_infer("np.linalg.slogdet", scalar=True),
                   differentiable=False,
                   emit=lambda a, node: f"np.linalg.slogdet({a[0]})[0]"))


# --- cholesky, eigh ------------------------------------------------------------------------

def _cholesky_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """With P the lower triangle of L^T dL, its diagonal halved: A's gradient (as a symmetric
    matrix) is L^-T P L^-1."""
    rows, cols = _positions(g, node.shape[-1])
    inner = _mm(g, transposed(g, node), _ct(g, ct, node))
    halved = g.add("where", [g.add("eq", [rows, cols]), g.add("mul", [inner, const(g, 0.5)]),
                             inner])
    lower = g.add("where", [g.add("ge", [rows, cols]), halved, const(g, 0.0)])
    l_inv = g.add("inv", [node])
    return [_fold_lower(g, _mm(g, _mm(g, transposed(g, l_inv), lower), l_inv))]


register(Primitive("cholesky", _square_infer("np.linalg.cholesky"), vjp=_cholesky_vjp,
                   emit=lambda a, node: f"np.linalg.cholesky({a[0]})"))


def _fold(g: Graph, node: Node, x: Node) -> Node:
    """``_fold_lower`` onto the triangle that ``node``'s function reads."""
    if node.param("upper"):  # the upper triangle of a is the lower one of a^T
        return transposed(g, _fold_lower(g, x))
    return _fold_lower(g, x)


def _eigh_values_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    (a,) = g.args(node)
    v = g.add("eigh_vectors", [a], node.params)
    scaled = g.add("mul", [v, _row(g, _ct(g, ct, node))])
    return [_fold(g, node, _mm(g, scaled, transposed(g, v)))]


def _eigh_vectors_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """With F[i, j] = 1 / (w[j] - w[i]) off the diagonal and 0 on it: V (F * V^T dV) V^T
    (eigenvalues must be distinct)."""
    (a,) = g.args(node)
    f = _inverse_gaps(g, g.add("eigh_values", [a], node.params), squared=False)
    inner = g.add("mul", [f, _mm(g, transposed(g, node), _ct(g, ct, node))])
    return [_fold(g, node, _mm(g, _mm(g, node, inner), transposed(g, node)))]


def _eigh_values_infer(inputs: list[Node], params: dict) -> tuple:
    shape, dtype = _square_infer("np.linalg.eigh")(inputs, params)
    return shape[:-1], dtype  # the eigenvalues, in ascending order


def _uplo(node: Node) -> str:
    return ', UPLO="U"' if node.param("upper") else ""


register(Primitive("eigh_values", _eigh_values_infer, vjp=_eigh_values_vjp,
                   emit=lambda a, node: f"np.linalg.eigvalsh({a[0]}{_uplo(node)})"))
register(Primitive("eigh_vectors", _square_infer("np.linalg.eigh"), vjp=_eigh_vectors_vjp,
                   emit=lambda a, node: f"np.linalg.eigh({a[0]}{_uplo(node)})[1]"))


# --- qr ------------------------------------------------------------------------------------

def _tall_infer(what: str, part: str):
    """Q (m, n) and R (n, n) of the reduced QR of an m by n matrix with m >= n."""
    def infer(inputs: list[Node], params: dict) -> tuple:
        (x,) = inputs
        _matrix(x, what, square=False, stacks=False)
        m, n = canon(x.shape[0]), canon(x.shape[1])
        if isinstance(m, int) and isinstance(n, int) and m < n:
            raise ShapeError(f"{what} is differentiable for matrices with at least as many "
                             f"rows as columns, got {m} by {n}; use the QR of the transpose")
        require(n, m)
        dtype = promote(inputs, floating=True)
        return ((x.shape[0], x.shape[1]) if part == "q" else (x.shape[1], x.shape[1])), dtype
    return infer


def _copy_lower(g: Graph, m: Node) -> Node:
    """The symmetric matrix with the lower triangle of ``m``."""
    rows, cols = _positions(g, m.shape[0])
    return g.add("where", [g.add("ge", [rows, cols]), m, transposed(g, m)])


def _qr_adjoint(g: Graph, a: Node, q_bar: Node | None, r_bar: Node | None) -> Node:
    """A's gradient from those of Q and R: (Q_bar + Q copyltu(M)) R^-T with
    M = R R_bar^T - Q_bar^T Q."""
    q, r = g.add("qr_q", [a]), g.add("qr_r", [a])
    terms = []
    if r_bar is not None:
        terms.append(_mm(g, r, transposed(g, r_bar)))
    if q_bar is not None:
        terms.append(g.add("neg", [_mm(g, transposed(g, q_bar), q)]))
    m = terms[0] if len(terms) == 1 else g.add("add", terms)
    b = _mm(g, q, _copy_lower(g, m))
    if q_bar is not None:
        b = g.add("add", [q_bar, b])
    return transposed(g, g.add("solve", [r, transposed(g, b)]))


register(Primitive("qr_q", _tall_infer("np.linalg.qr", "q"),
                   vjp=lambda g, node, ct: [_qr_adjoint(g, g[node.inputs[0]],
                                                        _ct(g, ct, node), None)],
                   emit=lambda a, node: f"np.linalg.qr({a[0]})[0]"))
register(Primitive("qr_r", _tall_infer("np.linalg.qr", "r"),
                   vjp=lambda g, node, ct: [_qr_adjoint(g, g[node.inputs[0]], None,
                                                        _ct(g, ct, node))],
                   emit=lambda a, node: f"np.linalg.qr({a[0]})[1]"))




# --- svd -----------------------------------------------------------------------------------

def _svd_infer(part: str):
    """U (m, k), s (k,) and Vt (k, n) of the reduced SVD of an m by n matrix, k = min(m, n)."""
    def infer(inputs: list[Node], params: dict) -> tuple:
        (x,) = inputs
        _matrix(x, "np.linalg.svd", square=False)
        *batch, m, n = x.shape
        k = sizes.minimum(m, n)
        shape = (*batch, *{"u": (m, k), "s": (k,), "vt": (k, n)}[part])
        return shape, promote(inputs, floating=True)
    return infer


def _inverse_gaps(g: Graph, s: Node, squared: bool) -> Node:
    """F[i, j] = 1 / (s[j] - s[i]) off the diagonal (of the squares when ``squared``), 0 on
    it: infinite where two values are equal, where the derivative is not defined."""
    if squared:
        s = g.add("mul", [s, s])
    rows, cols = _positions(g, s.shape[-1])
    gaps = g.add("sub", [_row(g, s), _column(g, s)])
    on_diagonal = g.add("eq", [rows, cols])
    safe = g.add("where", [on_diagonal, const(g, 1.0), gaps])
    return g.add("where", [on_diagonal, const(g, 0.0), g.add("div", [const(g, 1.0), safe])])


def _svd_adjoint(g: Graph, a: Node, u_bar: Node | None, s_bar: Node | None,
                 vt_bar: Node | None) -> Node:
    """A's gradient from those of U, s and Vt (singular values distinct and not 0 for the
    gradients of U and Vt)."""
    u, s, vt = (g.add(op, [a]) for op in ("svd_u", "svd_s", "svd_vt"))
    row_s = _row(g, s)
    if s_bar is not None:
        scaled = g.add("mul", [u, _row(g, s_bar)])
        return _mm(g, scaled, vt)
    f = _inverse_gaps(g, s, squared=True)
    if u_bar is not None:  # U [F * (U^T Ub - Ub^T U)] S Vt + (I - U U^T) Ub S^-1 Vt
        ut_ub = _mm(g, transposed(g, u), u_bar)
        inner = g.add("mul", [g.add("mul", [f, g.add("sub", [ut_ub, transposed(g, ut_ub)])]),
                              row_s])
        outside = g.add("div", [g.add("sub", [u_bar, _mm(g, u, ut_ub)]), row_s])
        return _mm(g, g.add("add", [_mm(g, u, inner), outside]), vt)
    assert vt_bar is not None  # U S [F * (V^T Vb - Vb^T V)] Vt + U S^-1 Vb^T (I - V V^T)
    vt_vb = _mm(g, vt, transposed(g, vt_bar))  # V^T Vb
    column_s = _column(g, s)
    inner = g.add("mul", [column_s, g.add("mul", [f, g.add("sub", [vt_vb,
                                                                  transposed(g, vt_vb)])])])
    outside = g.add("sub", [vt_bar, _mm(g, transposed(g, vt_vb), vt)])
    return g.add("add", [_mm(g, _mm(g, u, inner), vt),
                         _mm(g, g.add("div", [u, row_s]), outside)])


register(Primitive("svd_u", _svd_infer("u"),
                   vjp=lambda g, node, ct: [_svd_adjoint(g, g[node.inputs[0]],
                                                         _ct(g, ct, node), None, None)],
                   emit=lambda a, node: f"np.linalg.svd({a[0]}, full_matrices=False)[0]"))
register(Primitive("svd_s", _svd_infer("s"),
                   vjp=lambda g, node, ct: [_svd_adjoint(g, g[node.inputs[0]], None,
                                                         _ct(g, ct, node), None)],
                   emit=lambda a, node: f"np.linalg.svd({a[0]}, full_matrices=False)[1]"))
register(Primitive("svd_vt", _svd_infer("vt"),
                   vjp=lambda g, node, ct: [_svd_adjoint(g, g[node.inputs[0]], None, None,
                                                         _ct(g, ct, node))],
                   emit=lambda a, node: f"np.linalg.svd({a[0]}, full_matrices=False)[2]"))
