"""Shape primitives: reshape, transpose, expand_dims, squeeze, broadcast_to."""

from __future__ import annotations

from symdiff.ir import sizes
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, numpy_dtype, register
from symdiff.ir.shapes import (
    Shape,
    ShapeError,
    axis_text,
    canon,
    dim_product,
    dim_text,
    format_shape,
    shape_text,
    unify,
)
from symdiff.rules.broadcasting import unbroadcast


def _broadcast_to_infer(inputs: list[Node], params: dict) -> tuple:
    """NumPy's rule: each axis of the input is 1 or the target's size (assumed equal for
    symbolic sizes, so checked on each call); the input has no more axes than the target."""
    have, shape = inputs[0].shape, params["shape"]
    if len(have) > len(shape):
        raise ShapeError(f"cannot broadcast shape {format_shape(have)} to {format_shape(shape)}")
    for d, target in zip(have, shape[len(shape) - len(have):], strict=True):
        if canon(d) != 1 and canon(d) != canon(target):
            try:
                unify(d, target)
            except ShapeError:
                raise ShapeError(f"cannot broadcast shape {format_shape(have)} to "
                                 f"{format_shape(shape)}") from None
    return shape, inputs[0].dtype


register(Primitive(
    "broadcast_to", _broadcast_to_infer,
    # ct may be smaller than the broadcast value it stands for (a scalar for all of it):
    # summing it back to the input counts the copies broadcasting made
    vjp=lambda g, node, ct: [unbroadcast(g, ct, g[node.inputs[0]].shape, logical=node.shape)],
    emit=lambda a, node: f"np.broadcast_to({a[0]}, {shape_text(node.shape)})"))


def _reshape_infer(inputs: list[Node], params: dict) -> tuple:
    return params["shape"], inputs[0].dtype


def _reshape_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    if ct.rank == 0:  # a scalar cotangent broadcasts to any shape
        return [ct]
    x = g[node.inputs[0]]
    return [g.add("reshape", [unbroadcast(g, ct, node.shape, exact=True)],
                  make_params(shape=x.shape))]


register(Primitive("reshape", _reshape_infer, vjp=_reshape_vjp,
                   emit=lambda a, node: f"np.reshape({a[0]}, {shape_text(node.shape)})"))


def reshape_shape(x: Node, new: tuple) -> Shape:
    """The shape of ``x.reshape(new)``, resolving one -1; the sizes must match."""
    if sum(1 for d in new if d == -1) > 1:
        raise ShapeError("can only specify one unknown dimension (-1) in reshape")
    total = dim_product(x.shape)
    if any(isinstance(d, int) and d < -1 for d in new):
        raise ShapeError(f"negative dimensions are not allowed in reshape: {tuple(map(str, new))}")
    known = dim_product([d for d in new if d != -1])
    if -1 in new:
        missing = sizes.exact_quotient(total, known)
        if missing is None and isinstance(known, int) and known > 0:
            missing = sizes.floordiv(total, known)  # and the product is checked below
        if missing is None:
            if isinstance(total, int) and isinstance(known, int):
                raise _mismatch(x.shape, new)
            raise ShapeError("this reshape's -1 needs the sizes as numbers",
                             needs=sizes.add(total, known))
        new = tuple(missing if d == -1 else d for d in new)
    if not isinstance(sizes.sub(dim_product(new), total), int):
        unify(dim_product(new), total)  # checked on each call
    elif dim_product(new) != total:
        raise _mismatch(x.shape, new)
    return tuple(new)


def _mismatch(old: Shape, new: tuple) -> ShapeError:
    return ShapeError(f"cannot reshape an array of shape {format_shape(old)} into shape "
                      f"{format_shape(new)}")


def _transpose_infer(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    return tuple(x.shape[a] for a in params["axes"]), x.dtype


def _transpose_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    if ct.rank == 0:
        return [ct]
    axes = node.param("axes")
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
    return [g.add("transpose", [unbroadcast(g, ct, node.shape, exact=True)],
                  make_params(axes=inverse))]


def _transpose_emit(a: list[str], node: Node) -> str:
    axes = node.param("axes")
    if axes == tuple(reversed(range(len(axes)))):
        return f"{a[0]}.T"
    return f"np.transpose({a[0]}, {axes})"


register(Primitive("transpose", _transpose_infer, vjp=_transpose_vjp, emit=_transpose_emit))


def _expand_dims_infer(inputs: list[Node], params: dict) -> tuple:
    shape = list(inputs[0].shape)
    for a in params["axes"]:
        shape.insert(a, 1)
    return tuple(shape), inputs[0].dtype


def _undo(op: str):
    """The adjoint of expand_dims is squeeze on the same axes, and the other way round."""
    def vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
        if ct.rank == 0:
            return [ct]
        ct = unbroadcast(g, ct, node.shape, exact=True)
        return [g.add(op, [ct], make_params(axes=node.param("axes")))]
    return vjp


register(Primitive(
    "expand_dims", _expand_dims_infer, vjp=_undo("squeeze"),
    emit=lambda a, node: f"np.expand_dims({a[0]}, {axis_text(node.param('axes'))})"))


def _squeeze_infer(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    for a in params["axes"]:
        if x.shape[a] != 1:
            raise ShapeError(f"cannot squeeze axis {a} of size {dim_text(x.shape[a])}")
    return tuple(d for i, d in enumerate(x.shape) if i not in params["axes"]), x.dtype


register(Primitive(
    "squeeze", _squeeze_infer, vjp=_undo("expand_dims"),
    emit=lambda a, node: f"np.squeeze({a[0]}, axis={axis_text(node.param('axes'))})"))


def _no_infer(inputs: list[Node], params: dict) -> tuple:
    raise TypeError("inputs are created by the frontend with their shapes")


register(Primitive("input", _no_infer, pure=False))

# A size known only at run time, such as ``x.shape[0]``, used as a number.
register(Primitive("dim", lambda inputs, params: ((), "int64"), differentiable=False,
                   emit=lambda a, node: dim_text(node.param("expr"))))


def _astype_infer(inputs: list[Node], params: dict) -> tuple:
    return inputs[0].shape, params["dtype"]


register(Primitive(
    "astype", _astype_infer,
    vjp=lambda g, node, ct: [g.add("astype", [ct], make_params(dtype=g[node.inputs[0]].dtype))],
    # a rank-0 value may be a Python or NumPy number, which has no astype
    emit=lambda a, node: f"{numpy_dtype(node.param('dtype'))}({a[0]})" if node.rank == 0 else
    f"{a[0]}.astype({numpy_dtype(node.param('dtype'))})"))
