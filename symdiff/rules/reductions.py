"""Reductions: sum, mean, max, min over axes, with or without ``keepdims``."""

from __future__ import annotations

from symdiff.ir.build import dim_node
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, promote, register
from symdiff.ir.shapes import ShapeError, axis_text, dim_product, require


def reduce(graph: Graph, op: str, x: Node, axes: tuple[int, ...] | None,
           keepdims: bool = False) -> Node:
    axes = tuple(range(x.rank)) if axes is None else tuple(sorted(axes))
    return graph.add(op, [x], make_params(axes=axes, keepdims=keepdims))


def _infer(floating: bool, identity: bool = True):
    def infer(inputs: list[Node], params: dict) -> tuple:
        x = inputs[0]
        axes, keep = params["axes"], params["keepdims"]
        if not identity:  # max and min of nothing are errors in NumPy, not -inf and inf
            combined = dim_product([x.shape[a] for a in axes])
            if combined == 0:
                raise ShapeError("zero-size array to a reduction (max or min) which has no "
                                 "identity")
            require(1, combined)
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
        dtype = promote([x], floating=floating) if floating else (
            "int64" if x.dtype == "bool" else x.dtype)
        return shape, dtype
    return infer


def _emit(name: str):
    def emit(a: list[str], node: Node) -> str:
        axes, keep = node.param("axes"), node.param("keepdims")
        x_rank = len(node.shape) if keep else len(node.shape) + len(axes)
        args = [a[0]]
        if axes != tuple(range(x_rank)) or (keep and x_rank > 0):
            args.append(f"axis={axis_text(axes)}")
        if keep:
            args.append("keepdims=True")
        return f"np.{name}({', '.join(args)})"
    return emit


def expand_reduced(g: Graph, ct: Node, node: Node) -> Node:
    """The cotangent of a reduction, with the reduced axes put back as size 1."""
    axes = node.param("axes")
    if node.param("keepdims") or not axes or ct.rank == 0:
        return ct
    return g.add("expand_dims", [ct], make_params(axes=axes))


def count(g: Graph, x: Node, axes: tuple[int, ...]) -> Node:
    """The number of elements a reduction over ``axes`` of ``x`` combines, as a node."""
    return dim_node(g, dim_product([x.shape[a] for a in axes]))


def _sum_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    return [expand_reduced(g, ct, node)]


def _mean_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    x = g[node.inputs[0]]
    return [g.add("div", [expand_reduced(g, ct, node), count(g, x, node.param("axes"))])]


def _extremum_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    """Ties share the cotangent equally, as in JAX."""
    x = g[node.inputs[0]]
    axes = node.param("axes")
    # as floats: a kernel may negate it, and NumPy refuses -x of booleans
    picked = g.add("astype", [g.add("eq", [x, expand_reduced(g, node, node)])],
                   make_params(dtype=x.dtype))
    ties = reduce(g, "sum", picked, axes, keepdims=True)
    share = g.add("div", [picked, ties])
    return [g.add("mul", [share, expand_reduced(g, ct, node)])]


for _name, _vjp, _floating in (("sum", _sum_vjp, False), ("mean", _mean_vjp, True),
                               ("max", _extremum_vjp, False), ("min", _extremum_vjp, False)):
    register(Primitive(_name, _infer(_floating, identity=_name in ("sum", "mean")), vjp=_vjp,
                       emit=_emit(_name)))
