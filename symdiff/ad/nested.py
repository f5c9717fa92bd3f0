"""Derivatives inside derivatives, on the graph: vector-Jacobian products and tangents.

The frontend traces a gradient function called in traced code onto the same graph
(``symdiff.frontend.transforms``); each differentiated argument first becomes a ``fresh`` node,
a new variable equal to the value passed, so that the inner derivative is taken with respect
to that argument alone and not to whatever outer values it was computed from.

Forward mode is reverse mode transposed. The backward pass computes ``Jᵀu``, which is linear in
the output cotangent ``u``; the reverse derivative of ``<Jᵀu, t>`` with respect to ``u`` is
therefore ``J t``, the tangent. ``u`` is a zero that fusion folds away once both passes are
built, leaving the forward-mode computation and nothing of ``u``. Every primitive gets its
tangent rule from its adjoint rule: there is one rule table, not two.
"""

from __future__ import annotations

from symdiff.ad.reverse import backward, inner_product
from symdiff.ir.graph import Graph, Node, make_params


def tangents(graph: Graph, outputs: list[Node], inputs: list[Node],
             directions: list[Node]) -> list[Node]:
    """``J t`` for each output: the derivative of ``outputs`` at ``inputs`` along ``directions``
    (forward mode, as the transpose of reverse mode; see the module docstring)."""
    zeros = [graph.add_raw("fill", (o.id,), make_params(value=0.0), o.shape, o.dtype,
                           intern=False) for o in outputs]
    pulled = backward(graph, inner_product(graph, list(zip(outputs, zeros, strict=True))),
                      inputs)
    pushed = backward(graph, inner_product(graph, list(zip(pulled, directions, strict=True))),
                      zeros)
    return pushed
