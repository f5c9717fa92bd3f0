"""Derivatives inside derivatives: ``grad`` and ``jvp`` called while tracing.

A gradient function called in traced code (``grad(grad(f))``, a gradient penalty, ``jvp`` of
``grad``) is not a black box: its function is traced onto the same graph and its backward pass
is appended there, so the outer derivative differentiates the inner backward pass like any
other code. Each differentiated argument first becomes a ``fresh`` node, a new variable equal
to the value passed, so that the inner derivative is taken with respect to that argument alone
and not to whatever outer values it was computed from.

Forward mode is reverse mode transposed. The backward pass computes ``Jᵀu``, which is linear in
the output cotangent ``u``; the reverse derivative of ``<Jᵀu, t>`` with respect to ``u`` is
therefore ``J t``, the tangent. ``u`` is a zero that fusion folds away once both passes are
built, leaving the forward-mode computation and nothing of ``u``. Every primitive gets its
tangent rule from its adjoint rule: there is one rule table, not two.
"""

from __future__ import annotations

from typing import Any

from symdiff.ad.reverse import backward
from symdiff.errors import ArgumentError
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, to_tensor
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import broadcast_shapes, format_shape, same_shape
from symdiff.rules.reductions import reduce


def innermost(fun: Any) -> Any:
    """The Python function under transforms (``f`` in ``grad(grad(f))``)."""
    while hasattr(fun, "__symdiff_trace__") and hasattr(fun, "fun"):
        fun = fun.fun
    return fun


def source_of(fun: Any) -> Any:
    """The source of the function under ``fun``'s transforms, for names and error locations."""
    from symdiff.frontend.callee import as_callee

    callee = as_callee(innermost(fun))
    if callee is None:
        raise ArgumentError(f"{fun!r} is not a Python function with source code")
    return callee.source


def fresh(graph: Graph, value: Any, what: str) -> Tensor:
    """A new variable equal to ``value`` (a float array or number), to differentiate by."""
    if not isinstance(value, (Tensor, SymDim, int, float)) or isinstance(value, bool):
        raise StaticError(f"{what} is {describe(value)}; only float arrays and numbers can be "
                          "differentiated")
    node = to_tensor(graph, value).node
    if not node.is_float:
        raise StaticError(f"{what} is a {node.dtype} array; only float arrays can be "
                          "differentiated")
    return Tensor(graph.add_raw("fresh", (node.id,), (), node.shape, node.dtype, intern=False))


def inner_product(graph: Graph, pairs: list[tuple[Node, Node]]) -> Node:
    """sum over pairs of sum(a * b): the scalar whose gradient is a vector-Jacobian product."""
    total: Node | None = None
    for a, b in pairs:
        product = graph.add("mul", [a, b])
        term = reduce(graph, "sum", product, None) if product.rank else product
        total = term if total is None else graph.add("add", [total, term])
    return total if total is not None else const(graph, 0.0)


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


def flatten(value: Any, leaves: list[Any], what: str) -> Any:
    """The arrays in ``value`` (an array, or tuples and lists of them) in ``leaves``; returns
    the structure with each array replaced by its position."""
    if isinstance(value, (tuple, list)):
        return type(value)(flatten(v, leaves, what) for v in value)
    if isinstance(value, (Tensor, SymDim, int, float)) and not isinstance(value, bool):
        leaves.append(value)
        return len(leaves) - 1
    if value is None or isinstance(value, (bool, str)):
        return _Static(value)
    raise StaticError(f"{what} holds {describe(value)}; arrays, numbers, None and tuples or "
                      "lists of them are supported")


class _Static:
    """A Python value (None, a flag, a name) kept in a flattened structure as it is."""

    def __init__(self, value: Any):
        self.value = value


def unflatten(structure: Any, leaves: list[Any]) -> Any:
    if isinstance(structure, (tuple, list)):
        return type(structure)(unflatten(s, leaves) for s in structure)
    if isinstance(structure, _Static):
        return structure.value
    return leaves[structure]


def trace_jvp(graph: Graph, fun: Any, primals: Any, directions: Any,
              argnums: tuple[int, ...] | None = None, top_level: bool = False
              ) -> tuple[Any, Any]:
    """``(out, tangent_out)`` of ``fun`` at ``primals`` along ``directions`` (one per primal,
    or one per ``argnums`` position; the other primals are held fixed)."""
    from symdiff.frontend.evaluator import trace_call

    if not isinstance(primals, (tuple, list)) or not isinstance(directions, (tuple, list)):
        raise StaticError("jvp takes the primals and the tangents as tuples: "
                          "jvp(f, (x,), (t,))")
    positions = tuple(range(len(primals))) if argnums is None else argnums
    if len(directions) != len(positions):
        raise StaticError(f"jvp got {len(primals)} primals but {len(directions)} tangents")
    values = list(primals)
    for p in positions:
        values[p] = fresh(graph, values[p], f"primal {p}")
    ts = []
    for p, t in zip(positions, directions, strict=True):
        t, x = to_tensor(graph, t).node, values[p].node
        if t.rank != x.rank or not same_shape(broadcast_shapes(t.shape, x.shape), x.shape):
            raise StaticError(f"the tangent for primal {p} has shape {format_shape(t.shape)}, "
                              f"but the primal has shape {format_shape(x.shape)}")
        if not same_shape(t.shape, x.shape):  # a size 1 where the primal's is not
            t = graph.add("broadcast_to", [t], make_params(shape=x.shape))
        ts.append(t)
    with graph.loops_written_out():
        out = trace_call(graph, fun, values, {}, top_level)
    leaves: list[Any] = []
    structure = flatten(out, leaves, "the function's output")
    outs = [to_tensor(graph, v).node for v in leaves]
    floats = [o for o in outs if o.is_float]
    pushed = iter(tangents(graph, floats, [values[p].node for p in positions], ts))
    tangent_leaves = [Tensor(next(pushed)) if o.is_float else
                      Tensor(graph.add("fill", [o], make_params(value=0.0, dtype="float64")))
                      for o in outs]
    return out, unflatten(structure, tangent_leaves)


def trace_grad(graph: Graph, gradient: Any, args: list[Any], kwargs: dict[str, Any],
               top_level: bool = False) -> Any:
    """What the gradient function ``gradient`` (a ``symdiff.api.GradFunction``) returns for
    ``args``, built on ``graph``."""
    from symdiff.frontend.evaluator import trace_call
    from symdiff.pipeline import split_result

    if not gradient.plain:
        raise StaticError(f"{gradient.__name__}: gradients with respect to parameter paths, "
                          "frozen parameters or structured arguments are not supported inside "
                          "differentiated code yet")
    options = gradient.options
    try:
        values = gradient.bind(tuple(args), kwargs)
    except ArgumentError as exc:
        raise StaticError(str(exc)) from None
    for a in options.argnums:
        values[a] = fresh(graph, values[a], f"argument {gradient.parameter_names[a]!r}")
    with graph.loops_written_out():  # what it builds is differentiated again
        result = trace_call(graph, gradient.fun, values, {}, top_level)
    loss, aux = split_result(graph, result, options, source_of(gradient.fun))
    grads = tuple(Tensor(g) for g in backward(graph, loss, [values[a].node
                                                            for a in options.argnums]))
    grad_result = grads[0] if options.single else grads
    if gradient.with_value:
        return ((Tensor(loss), aux) if options.has_aux else Tensor(loss)), grad_result
    return (grad_result, aux) if options.has_aux else grad_result
