"""Shifts by a maximum that the result does not see: their gradient is exactly zero.

The stable softmax and log-softmax are written by hand as ``s = z - np.max(z, axis=1,
keepdims=True)`` followed by a function of ``s`` that adding a constant to each row of ``s``
does not change (``s - log(sum(exp(s)))``, ``exp(s) / sum(exp(s))``). Then the maximum's
cotangent, ``-sum(ds, axis=1)``, is a sum of terms that cancel exactly: computing it costs a
mask, a count and a reduction, and yields rounding noise (``-4e-17``) in place of 0.

Contract: ``freeze_cancelling_shifts(graph, output)`` finds each ``s = v - max(v)`` on which
``output`` depends only through functions unchanged by ``s -> s + c`` (``c`` constant along
the maximum's axes), and marks the subtraction so that no cotangent flows to the maximum
(``frozen`` inputs are read through ``stop_gradient``). Values do not change; gradients, and
derivatives of every order, change by rounding only: if ``G(s + c) = G(s)``, every derivative
of ``G`` applied to ``c`` is 0, so the terms left out are exactly zero.

The invariance is proved by propagating, from ``s`` forward, how each value changes under the
shift: by ``k * c`` (``Shift(k)``, so ``k = 0`` is unchanged), or by the factor ``exp(k * c)``
(``Scale(k)``). Any operation not listed below turns a changing value into an unknown one, and
the shift is then left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from symdiff.ir.graph import Graph, Node, make_params


@dataclass(frozen=True)
class Shift:
    """The value changes by ``k * c``; ``Shift(0)``: it does not change."""

    k: int


@dataclass(frozen=True)
class Scale:
    """The value is multiplied by ``exp(k * c)``."""

    k: int


State = Shift | Scale | None  # None: unknown
UNCHANGED = Shift(0)


def own_maximum(graph: Graph, u: Node) -> Node | None:
    """The max node m where ``u = v - m`` and m is v's maximum over some axes, broadcast back
    along them (kept as size 1, or leading axes dropped): u's maximum along them is 0."""
    if u.op != "sub":
        return None
    v, shift = graph[u.inputs[0]], graph[u.inputs[1]]
    if shift.op != "max" or shift.inputs[0] != v.id or u.shape != v.shape:
        return None
    axes = shift.param("axes")
    aligned = shift.param("keepdims") or axes == tuple(range(len(axes)))
    return shift if aligned else None


def freeze_cancelling_shifts(graph: Graph, output: Node) -> None:
    """Mark, in place, the shifts by a maximum whose gradient is exactly zero (see above)."""
    for node in graph.nodes[:output.id + 1]:
        maximum = own_maximum(graph, node)
        if maximum is not None and not node.param("frozen") and \
                _unchanged(graph, node, maximum.param("axes"), output):
            _freeze(graph, node, 1)


def _freeze(graph: Graph, node: Node, position: int) -> None:
    key = (node.op, node.inputs, node.params, node.shape, node.dtype)
    params = make_params(**dict(node.params), frozen=(position,))
    graph.nodes[node.id] = replace(node, params=params)
    # the plain subtraction, if built again (by a derivative rule), is a node of its own
    if graph._interned.get(key) == node.id:
        del graph._interned[key]
        graph._interned[(node.op, node.inputs, params, node.shape, node.dtype)] = node.id


def _unchanged(graph: Graph, shifted: Node, axes: tuple[int, ...], output: Node) -> bool:
    """Whether ``output`` is unchanged when ``c``, constant along ``axes`` of ``shifted``, is
    added to ``shifted`` (and every other value it reads is held)."""
    rank = shifted.rank
    states: dict[int, State] = {shifted.id: Shift(1)}
    for node in graph.nodes[shifted.id + 1:output.id + 1]:
        inputs = [states.get(i, UNCHANGED) for i in node.inputs]
        if all(s == UNCHANGED for s in inputs):
            continue  # independent of the shift, or unchanged by it
        state = _propagate(node, inputs, graph, rank, axes)
        if state is None:
            return False
        states[node.id] = state
    return states.get(output.id, UNCHANGED) == UNCHANGED


def _propagate(node: Node, args: list[State], graph: Graph, rank: int,
               axes: tuple[int, ...]) -> State:
    """How ``node`` changes, given how its inputs do (at least one of them changes). The
    constant ``c`` broadcasts against each value as NumPy aligns shapes, from the right."""
    op = node.op
    if op == "stop_gradient":
        return UNCHANGED  # a constant to every derivative
    if op in ("add", "sub"):
        return _sum_of(args[0], args[1], -1 if op == "sub" else 1)
    if op == "neg":
        return Shift(-args[0].k) if isinstance(args[0], Shift) else args[0]
    if op in ("mul", "div"):
        a, b = (_as_scale(s) for s in args)
        if a is None or b is None:
            return None
        return _normal(Scale(a.k + b.k if op == "mul" else a.k - b.k))
    if op == "exp":
        return Scale(args[0].k) if isinstance(args[0], Shift) else None
    if op == "log":
        return Shift(args[0].k) if isinstance(args[0], Scale) else None
    if op == "where":
        condition, a, b = args
        return a if condition == UNCHANGED and a == b else None
    if op in ("sum", "mean", "max", "min"):
        if not _constant_along(node, graph[node.inputs[0]].rank, rank, axes):
            return None
        (state,) = args
        # a sum of n terms each shifted by c is shifted by n * c: only the other three commute
        return state if op != "sum" or isinstance(state, Scale) else None
    return None


def _sum_of(a: State, b: State, sign: int) -> State:
    if isinstance(a, Shift) and isinstance(b, Shift):
        return Shift(a.k + sign * b.k)
    # exp(k c) x +- exp(k c) y, or a scaled value plus one that does not change with c = 0
    if isinstance(a, Scale) and isinstance(b, Scale) and a.k == b.k:
        return a
    return None


def _as_scale(state: State) -> Scale | None:
    if state == UNCHANGED:
        return Scale(0)
    return state if isinstance(state, Scale) else None


def _normal(state: Scale) -> State:
    return UNCHANGED if state.k == 0 else state


def _constant_along(reduction: Node, x_rank: int, rank: int, axes: tuple[int, ...]) -> bool:
    """Whether ``c`` is constant along the axes the reduction sums over, and keeps its place
    among the result's axes. ``c`` has ``rank`` axes, aligned with ``x``'s last ones, and
    varies only along those not in ``axes``."""
    offset = x_rank - rank
    reduced = reduction.param("axes")
    if any(a >= offset and a - offset not in axes for a in reduced):
        return False
    return reduction.param("keepdims") or set(axes) == set(range(rank))
