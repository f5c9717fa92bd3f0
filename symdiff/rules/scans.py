"""Scans and products along one axis: cumsum, cumprod and prod.

Each works along one axis (the frontend flattens for ``axis=None`` and reduces one axis at a
time for ``prod`` over several). Their adjoints never divide by the input, so they are exact
where elements are 0:
- the adjoint of a cumulative sum is the cumulative sum of the cotangent the other way round;
- the adjoint of a cumulative product is ``cumprod_adjoint``: for element k, the product of the
  elements before it times ``r[k] = g[k] + x[k+1] * r[k+1]``, a linear recurrence run backwards;
  its transpose (the derivative along a tangent ``u``, for forward mode) is the recurrence
  ``s[i] = x[i] * s[i-1] + u[i] * (product of the elements before i)`` run forwards;
- the adjoint of a product is the cotangent times the product of the others, the product of
  the elements before each (an exclusive cumulative product) times that of those after it.

``reverse`` scans run from the end of the axis; an ``exclusive`` product leaves out the element
itself (the first is 1); both are for adjoints, users write the plain forms.
"""

from __future__ import annotations

from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, register
from symdiff.ir.shapes import ShapeError
from symdiff.rules.broadcasting import unbroadcast


def accumulated_dtype(dtype: str) -> str:
    """NumPy's dtype for sums and products: booleans and small integers widen to int64."""
    if dtype == "bool" or dtype.startswith("int"):
        return "int64"
    if dtype.startswith("uint"):
        return "uint64"
    return dtype


def scan(g: Graph, op: str, x: Node, axis: int, reverse: bool = False,
         exclusive: bool = False) -> Node:
    return g.add(op, [x], make_params(axis=axis, reverse=reverse, exclusive=exclusive))


def _scan_infer(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    if not 0 <= params["axis"] < x.rank:
        raise ShapeError(f"axis {params['axis']} is out of bounds for an array of rank {x.rank}")
    return x.shape, accumulated_dtype(x.dtype)


def _flags(node: Node) -> tuple[int, bool, bool]:
    return node.param("axis"), node.param("reverse"), node.param("exclusive")


def _cumsum_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Each element is added into itself and every later sum (exclusive: only the later)."""
    axis, reverse, exclusive = _flags(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [scan(g, "cumsum", ct, axis, not reverse, exclusive)]


def _cumprod_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    x = g[node.inputs[0]]
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [g.add("cumprod_adjoint", [ct, x], make_params(**dict(node.params), transposed=False))]


def _cumprod_adjoint_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Linear in the cotangent: that part of its adjoint is its transpose (``transposed``, the
    derivative of cumprod along a tangent), which forward mode needs. Its derivative in ``x``
    (second derivatives) is not written yet."""
    _, x = g.args(node)
    if g.wanted is None or g.wanted[x.id]:
        at = node.origin
        raise UnsupportedError(
            "second derivatives of np.cumprod and np.prod are not supported yet",
            *((at.filename, at.lineno, at.col, at.text) if at else ()))
    ct = unbroadcast(g, ct, node.shape, exact=True)
    params = make_params(**{**dict(node.params), "transposed": not node.param("transposed")})
    return [g.add("cumprod_adjoint", [ct, x], params), None]


def _scan_emit(name: str):
    def emit(a: list[str], node: Node) -> str:
        axis, reverse, exclusive = _flags(node)
        if exclusive:
            return f"_exclusive_{name}({a[0]}, {axis}, reverse={reverse})"
        if reverse:
            return f"np.flip(np.{name}(np.flip({a[0]}, {axis}), axis={axis}), {axis})"
        return f"np.{name}({a[0]}, axis={axis})"
    return emit


register(Primitive("cumsum", _scan_infer, vjp=_cumsum_vjp, emit=_scan_emit("cumsum")))
register(Primitive("cumprod", _scan_infer, vjp=_cumprod_vjp, emit=_scan_emit("cumprod"),
                   helpers=("_exclusive_cumprod",)))
register(Primitive(
    "cumprod_adjoint", lambda inputs, params: (inputs[1].shape, inputs[1].dtype),
    vjp=_cumprod_adjoint_vjp, helpers=("_cumprod_adjoint",),
    emit=lambda a, node: f"_cumprod_adjoint({a[0]}, {a[1]}, {node.param('axis')}, "
                         f"reverse={node.param('reverse')}, exclusive={node.param('exclusive')}, "
                         f"transposed={node.param('transposed')})"))


def _prod_infer(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    axis, keep = params["axis"], params["keepdims"]
    shape = tuple(1 if k == axis else d for k, d in enumerate(x.shape) if keep or k != axis)
    return shape, accumulated_dtype(x.dtype)


def _prod_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """The cotangent times the product of the other elements: no division, exact at zeros."""
    x = g[node.inputs[0]]
    axis = node.param("axis")
    before = scan(g, "cumprod", x, axis, exclusive=True)
    after = scan(g, "cumprod", x, axis, reverse=True, exclusive=True)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    if not node.param("keepdims"):
        ct = g.add("expand_dims", [ct], make_params(axes=(axis,)))
    return [g.add("mul", [g.add("mul", [before, after]), ct])]


def _prod_emit(a: list[str], node: Node) -> str:
    keep = ", keepdims=True" if node.param("keepdims") else ""
    return f"np.prod({a[0]}, axis={node.param('axis')}{keep})"


register(Primitive("prod", _prod_infer, vjp=_prod_vjp, emit=_prod_emit))
