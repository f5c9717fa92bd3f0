"""Transforms met while tracing, and what a traced function returns.

A gradient function called in traced code (``grad(grad(f))``, a gradient penalty, ``jvp`` of
``grad``) is not a black box: its function is traced onto the same graph and its backward pass
is appended there (``symdiff.ad.nested``), so the outer derivative differentiates the inner
backward pass like any other code. ``split_result`` reads a traced function's result as the
value to differentiate and its auxiliary outputs.
"""

from __future__ import annotations

from typing import Any

from symdiff.ad.nested import tangents
from symdiff.ad.reverse import backward
from symdiff.errors import ArgumentError, UnsupportedError
from symdiff.frontend.callee import source_of
from symdiff.frontend.source import FunctionSource
from symdiff.frontend.tracing import trace_call
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, to_tensor
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.shapes import broadcast_shapes, format_shape, same_shape
from symdiff.signature import Options
from symdiff.trees import flatten, unflatten


def _is_traced_number(value: Any) -> bool:
    return isinstance(value, (Tensor, SymDim, int, float)) and not isinstance(value, bool)


def traced_leaves(value: Any, leaves: list[Any], what: str) -> Any:
    """The arrays and numbers in ``value`` (tuples and lists of them; None, flags and names
    stay in the structure), appended to ``leaves``; see ``symdiff.trees.flatten``."""
    def refuse(v: Any) -> Exception | None:
        if v is None or isinstance(v, (bool, str)):
            return None
        return StaticError(f"{what} holds {describe(v)}; arrays, numbers, None and tuples or "
                           "lists of them are supported")

    return flatten(value, leaves, _is_traced_number, refuse)


def aux_leaves(graph: Graph, aux: Any, source: FunctionSource) -> tuple[Any, list[Node]]:
    """The structure of ``aux`` (nested tuples and lists of arrays and constants) and the
    nodes of its arrays."""
    def refuse(v: Any) -> Exception | None:
        if v is None or isinstance(v, (bool, int, float, str)):
            return None
        return UnsupportedError(
            f"aux holds {describe(v)}; aux may hold arrays, numbers and tuples or lists of "
            "them (return a dict's values as a tuple)", source.filename, source.first_line, 1,
            source.line_text(source.first_line))

    leaves: list[Any] = []
    structure = flatten(aux, leaves, lambda v: isinstance(v, (Tensor, SymDim)), refuse)
    return structure, [to_tensor(graph, v).node for v in leaves]


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


def _fresh_tree(graph: Graph, value: Any, what: str, variables: list[Tensor]) -> Any:
    """``value`` with each float array or number in its lists, tuples and dicts made
    ``fresh``, those appended to ``variables``."""
    if isinstance(value, (list, tuple)):
        return type(value)(_fresh_tree(graph, v, f"{what}[{i}]", variables)
                           for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _fresh_tree(graph, v, f"{what}[{k!r}]", variables) for k, v in value.items()}
    variables.append(fresh(graph, value, what))
    return variables[-1]


def _rebuilt(structure: Any, leaves: Any) -> Any:
    """``structure`` (as ``_fresh_tree`` made it) with its leaves taken from ``leaves``."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(_rebuilt(v, leaves) for v in structure)
    if isinstance(structure, dict):
        return {k: _rebuilt(v, leaves) for k, v in structure.items()}
    return next(leaves)


def trace_jvp(graph: Graph, fun: Any, primals: Any, directions: Any,
              argnums: tuple[int, ...] | None = None, top_level: bool = False
              ) -> tuple[Any, Any]:
    """``(out, tangent_out)`` of ``fun`` at ``primals`` along ``directions`` (one per primal,
    or one per ``argnums`` position; the other primals are held fixed)."""
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
    structure = traced_leaves(out, leaves, "the function's output")
    outs = [to_tensor(graph, v).node for v in leaves]
    floats = [o for o in outs if o.is_float]
    pushed = iter(tangents(graph, floats, [values[p].node for p in positions], ts))
    tangent_leaves = [Tensor(next(pushed)) if o.is_float else
                      Tensor(graph.add("fill", [o], make_params(value=0.0, dtype="float64")))
                      for o in outs]
    return out, unflatten(structure, tangent_leaves)


def trace_grad(graph: Graph, gradient: Any, args: list[Any], kwargs: dict[str, Any],
               top_level: bool = False) -> Any:
    """What the gradient function ``gradient`` (a ``symdiff.gradient.GradFunction``) returns for
    ``args``, built on ``graph``."""
    if not gradient.plain:
        raise StaticError(f"{gradient.__name__}: gradients with respect to parameter paths, "
                          "or frozen parameters are not supported inside "
                          "differentiated code yet")
    options = gradient.options
    try:
        values = gradient.bind(tuple(args), kwargs)
    except ArgumentError as exc:
        raise StaticError(str(exc)) from None
    variables: list[Tensor] = []  # the arguments' float leaves, in order
    for a in options.argnums:
        values[a] = _fresh_tree(graph, values[a], f"argument {gradient.parameter_names[a]!r}",
                                variables)
    with graph.loops_written_out():  # what it builds is differentiated again
        result = trace_call(graph, gradient.fun, values, {}, top_level)
    loss, aux = split_result(graph, result, options, source_of(gradient.fun))
    leaves = iter(Tensor(g) for g in backward(graph, loss, [v.node for v in variables]))
    # each gradient has its argument's structure (a list, tuple or dict of arrays)
    grads = tuple(_rebuilt(values[a], leaves) for a in options.argnums)
    grad_result = grads[0] if options.single else grads
    if gradient.with_value:
        return ((Tensor(loss), aux) if options.has_aux else Tensor(loss)), grad_result
    return (grad_result, aux) if options.has_aux else grad_result


def split_result(graph: Graph, result: Any, options: Options,
                 source: FunctionSource) -> tuple[Node, Any]:
    """The scalar to differentiate (a float) and the auxiliary outputs of ``result``."""
    where = (source.filename, source.first_line, 1, source.line_text(source.first_line))
    aux = None
    if options.has_aux:
        if not isinstance(result, tuple) or len(result) != 2:
            raise UnsupportedError(
                f"with has_aux=True the function must return a pair (loss, aux), "
                f"but it returns {describe(result)}", *where)
        result, aux = result
    elif isinstance(result, tuple):
        raise UnsupportedError(
            f"the function returns a tuple of {len(result)} values; grad needs one scalar "
            "(use has_aux=True to return (loss, aux))", *where)
    if result is None:
        raise UnsupportedError("the function returns None; grad needs a scalar output", *where)
    if not isinstance(result, (Tensor, SymDim)) and not isinstance(result, (int, float)):
        raise UnsupportedError(f"the function returns {describe(result)}; grad needs a "
                               "scalar output", *where)
    loss = to_tensor(graph, result).node
    if loss.rank != 0 and options.output == "scalar" and all(d == 1 for d in loss.shape):
        zeros = ", ".join("0" * loss.rank)
        raise UnsupportedError(
            f"the function returns an array of shape {format_shape(loss.shape)}, one element, "
            "where grad needs a scalar (a 0-d value, as jax.grad does): return its element, "
            f"out[{zeros}], or np.sum(out), where out is what it returns now", *where)
    if loss.rank != 0 and options.output == "scalar":
        raise UnsupportedError(
            f"the function returns an array of shape {format_shape(loss.shape)}; grad needs a "
            "scalar output: reduce it (for example with .sum()), return (loss, aux) with "
            "has_aux=True, or use vjp for vector outputs", *where)
    if not loss.is_float:
        loss = graph.add("astype", [loss], make_params(dtype="float64"))
    return loss, aux
