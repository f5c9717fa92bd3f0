"""Orderings and the positions of extremes: argsort, argmax, argmin and the running argmax and
argmin of ``np.maximum.accumulate`` and ``np.minimum.accumulate``.

Their results are integer data: they carry no gradient. The values they select are read with
``take_along_axis`` (``np.sort`` is the array read at its argsort), whose adjoint adds the
cotangent back where each value came from. Sorting is stable (equal elements keep their order,
NaNs go last, as in NumPy), and the extremes are the first ones, as ``np.argmax`` picks them.
A running extreme (``running_extreme``, read at the running argmax) shares its gradient equally
between the elements tied for it, as ``max`` does: its adjoint sums, for each element, the
cotangents of the running extremes it is tied for, each divided by the number of ties so far.
"""

from __future__ import annotations

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, register
from symdiff.ir.shapes import ShapeError, canon, require
from symdiff.rules.broadcasting import unbroadcast


def _same_shape(inputs: list[Node], params: dict) -> tuple:
    return inputs[0].shape, "int64"


def _reduced(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    axis, keep = params["axis"], params["keepdims"]
    if x.shape[axis] == 0:
        raise ShapeError("attempt to get argmax or argmin of an empty sequence")
    require(1, x.shape[axis])
    return tuple(1 if k == axis else d for k, d in enumerate(x.shape) if keep or k != axis), \
        "int64"


def _emit_reduced(name: str):
    def emit(a: list[str], node: Node) -> str:
        keep = ", keepdims=True" if node.param("keepdims") else ""
        return f"np.{name}({a[0]}, axis={node.param('axis')}{keep})"
    return emit


register(Primitive("argsort", _same_shape, differentiable=False,
                   emit=lambda a, node: f'np.argsort({a[0]}, axis={node.param("axis")}, '
                                        'kind="stable")'))
def _argpartition_infer(inputs: list[Node], params: dict) -> tuple:
    x = inputs[0]
    n = canon(x.shape[params["axis"]])
    for k in params["kth"]:  # NumPy's kth counts from the end when negative
        if isinstance(n, int) and not -n <= k < n:
            raise ShapeError(f"kth(={k}) out of bounds ({n})")
        require(k + 1, n) if k >= 0 else require(-k, n)
    return x.shape, "int64"


def _emit_partition(name: str):
    return lambda a, node: f"{name}({a[0]}, {list(node.param('kth'))}, " \
                           f"axis={node.param('axis')})"


# NumPy leaves the order of the elements around the k-th ones to its algorithm, and a function
# may depend on it (np.sum(np.partition(x, k)[:k] * w)): np.partition is read at the positions
# its own result has ("partition_order"; np.argpartition may arrange them otherwise), and
# only NumPy computes them, so the compiled targets refuse both
register(Primitive("argpartition", _argpartition_infer, differentiable=False,
                   emit=_emit_partition("np.argpartition")))
register(Primitive("partition_order", _argpartition_infer, differentiable=False,
                   helpers=("_partition_order",), emit=_emit_partition("_partition_order")))
for _name in ("argmax", "argmin"):
    register(Primitive(_name, _reduced, differentiable=False, emit=_emit_reduced(_name)))
    register(Primitive(f"running_{_name}", _same_shape, differentiable=False,
                       helpers=(f"_running_{_name}",),
                       emit=lambda a, node, name=_name: f"_running_{name}({a[0]}, "
                                                        f"{node.param('axis')})"))



# np.maximum.accumulate (minimum): x read at its running argmax, with the gradient of each
# running extreme shared equally between the elements tied for it (as that of np.max is)
def _running_extreme_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    x, index = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [g.add("running_extreme_adjoint", [ct, x, index],
                  make_params(axis=node.param("axis"), transposed=False)), None]


register(Primitive(
    "running_extreme", lambda inputs, params: (inputs[0].shape, inputs[0].dtype),
    vjp=_running_extreme_vjp,
    emit=lambda a, node: f"np.take_along_axis({a[0]}, {a[1]}, axis={node.param('axis')})"))


def _running_extreme_adjoint_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Linear in the cotangent (the ties are data): its adjoint is its transpose."""
    _, x, index = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    params = make_params(axis=node.param("axis"), transposed=not node.param("transposed"))
    return [g.add("running_extreme_adjoint", [ct, x, index], params), None, None]


register(Primitive(
    "running_extreme_adjoint", lambda inputs, params: (inputs[1].shape, inputs[1].dtype),
    vjp=_running_extreme_adjoint_vjp, helpers=("_running_extreme_adjoint",),
    emit=lambda a, node: f"_running_extreme_adjoint({a[0]}, {a[1]}, {a[2]}, "
                         f"{node.param('axis')}, transposed={node.param('transposed')})"))
