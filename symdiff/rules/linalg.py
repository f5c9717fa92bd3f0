"""Contractions: matmul (1-D and 2-D operands; also ``dot`` and ``@``) and outer."""

from __future__ import annotations

from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.primitives import Primitive, promote, register
from symdiff.ir.shapes import ShapeError, canon, dim_text, unify
from symdiff.rules.broadcasting import unbroadcast


def _matmul_infer(inputs: list[Node], params: dict) -> tuple:
    a, b = inputs
    if a.rank not in (1, 2) or b.rank not in (1, 2):
        raise ShapeError(f"matmul of rank-{a.rank} and rank-{b.rank} operands is not supported "
                         "yet (only 1-D and 2-D)")
    inner_a, inner_b = canon(a.shape[-1]), canon(b.shape[0])
    if isinstance(inner_a, int) and isinstance(inner_b, int) and inner_a != inner_b:
        raise ShapeError(f"matmul: inner dimensions {dim_text(inner_a)} and "
                         f"{dim_text(inner_b)} differ")
    unify(inner_a, inner_b)
    shape = a.shape[:-1] + b.shape[1:]
    return shape, promote(inputs)


def _t(g: Graph, x: Node) -> Node:
    if x.rank != 2:
        return x
    if x.op == "transpose":  # (a.T).T is a
        return g[x.inputs[0]]
    return g.add("transpose", [x], make_params(axes=(1, 0)))


def _matmul_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    a, b = g.args(node)
    if a.rank == 1 and b.rank == 1:
        return [g.add("mul", [ct, b]), g.add("mul", [ct, a])]
    ct = unbroadcast(g, ct, node.shape, exact=True)
    if a.rank == 2 and b.rank == 2:
        return [g.add("matmul", [ct, _t(g, b)]), g.add("matmul", [_t(g, a), ct])]
    if a.rank == 1:  # (k,) @ (k, m)
        return [g.add("matmul", [b, ct]), g.add("outer", [a, ct])]
    return [g.add("outer", [ct, b]), g.add("matmul", [_t(g, a), ct])]  # (n, k) @ (k,)


register(Primitive("matmul", _matmul_infer, vjp=_matmul_vjp,
                   emit=lambda a, node: f"{a[0]} @ {a[1]}"))


def _outer_infer(inputs: list[Node], params: dict) -> tuple:
    a, b = inputs
    if a.rank != 1 or b.rank != 1:
        raise ShapeError("outer takes two 1-D arrays")
    return (a.shape[0], b.shape[0]), promote(inputs)


def _outer_vjp(g: Graph, node: Node, ct: Node) -> list[Node | None]:
    a, b = g.args(node)
    ct = unbroadcast(g, ct, node.shape, exact=True)
    return [g.add("matmul", [ct, b]), g.add("matmul", [a, ct])]


register(Primitive("outer", _outer_infer, vjp=_outer_vjp,
                   emit=lambda a, node: f"np.outer({a[0]}, {a[1]})"))
