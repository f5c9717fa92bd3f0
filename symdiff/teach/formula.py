"""``symdiff.formula``: a function, or its derivative, as one simplified SymPy expression.

The function is traced as for ``grad`` and its graph run on SymPy symbols instead of numbers, one
symbol per scalar argument (or per element of an argument of a small fixed shape). The
derivative is symdiff's own reverse pass run the same way, so the formula shown is the one the
generated code computes, simplified.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from symdiff.ad.reverse import backward
from symdiff.calculus import scalar as S
from symdiff.calculus.derive import guarded_simplify
from symdiff.errors import ArgumentError, UnsupportedError, user_facing
from symdiff.ir.graph import Graph
from symdiff.pipeline import inputs_by_name, objective
from symdiff.runtime import normalise_argnums
from symdiff.signature import ArgSpec, Options
from symdiff.teach.evaluate import evaluate


@user_facing
def formula(fun: Callable, wrt: str | Sequence[str] | None = None, *,
            shapes: Mapping[str, tuple[int, ...]] | None = None) -> Any:
    """``fun`` as a SymPy expression in its parameters' names (``wrt=None``), or its derivative
    with respect to the parameter ``wrt`` (a tuple of names gives a tuple of derivatives).

    Every parameter is a scalar symbol unless ``shapes`` gives it a small fixed shape, in which
    case it is a ``sympy.Array`` of symbols ``x_0, x_1, ...``; an array result is a
    ``sympy.Array``, and the derivative with respect to an array has that array's shape.
    """
    shapes = dict(shapes or {})
    names = _parameters(fun)
    for name in shapes:
        if name not in names:
            raise ArgumentError(f"shapes names {name!r}, which is not a parameter of "
                                f"{fun.__qualname__} ({', '.join(names)})")
    positions, single = normalise_argnums(fun, None, wrt) if wrt is not None else ((), False)
    wanted = [names[p] for p in positions]
    # fixed shapes are fixed sizes too, so that loops over them run while generating
    specs = tuple(ArgSpec(n, "array", "float64", tuple(d == 1 for d in shapes[n]),
                          sizes=tuple(int(d) for d in shapes[n]))
                  if n in shapes else ArgSpec(n, "float") for n in names)
    values = {n: _symbols(n, shapes.get(n)) for n in names}
    graph = Graph(loops=False)  # every iteration is shown
    try:
        output, _ = objective(graph, fun, specs, Options(positions, output="sum"))
    except UnsupportedError as exc:
        scalars = [n for n in names if n not in shapes]
        if not scalars:
            raise
        example = ", ".join(f"{n!r}: (3,)" for n in scalars)
        raise type(exc)(f"{exc.reason} (formula takes {', '.join(scalars)} for numbers; "
                        f"give arrays small fixed shapes: shapes={{{example}}})",
                        exc.filename, exc.lineno, exc.col, exc.source_line) from None
    if not wanted:
        return _tidy(evaluate(graph, values, [output.id], symbolic=True)[output.id])
    if output.rank:
        raise ArgumentError(f"formula(..., wrt=...) differentiates a scalar function, but "
                            f"{fun.__qualname__} returns an array; take formula(f) and "
                            "sympy.derive_by_array for its Jacobian")
    inputs = inputs_by_name(graph)
    grads = backward(graph, output, [inputs[w] for w in wanted])
    found = evaluate(graph, values, [g.id for g in grads], symbolic=True)
    results = tuple(_tidy(found[g.id]) for g in grads)
    return results[0] if single else results


def latex(expr: Any) -> str:
    """The LaTeX of a formula (``sympy.latex``, with symdiff's functions spelled as in print)."""
    return sp.latex(expr)


def _parameters(fun: Callable) -> list[str]:
    params = inspect.signature(fun).parameters.values()
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise ArgumentError(f"{fun.__qualname__} takes *args or **kwargs; formula needs named "
                            "parameters")
    return [p.name for p in params]


def _symbols(name: str, shape: tuple[int, ...] | None) -> Any:
    if shape is None:
        return sp.Symbol(name)
    shape = tuple(int(d) for d in shape)
    if np.prod(shape) > 64:
        raise ArgumentError(f"shapes[{name!r}] = {shape}: formulas are for small fixed sizes "
                            "(at most 64 elements)")
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = sp.Symbol("_".join([name, *map(str, index)]))
    return out


_U = sp.Wild("u")


def textbook_forms(expr: sp.Basic) -> sp.Basic:
    """The sigmoid's and tanh's derivatives as students know them, s(1 - s) and 1 - tanh²,
    where SymPy writes ``1/(4*cosh(x/2)**2)``, ``exp(-logaddexp(0, -x))*sigmoid(-x)`` and
    ``cosh(x)**(-2)`` (each the same function)."""
    expr = expr.replace(lambda e: e.is_Pow and e.exp == -2 and isinstance(e.base, sp.cosh),
                        _slope)
    expr = expr.replace(sp.exp(-S.logaddexp(0, -_U)), S.sigmoid(_U))
    return expr.replace(S.sigmoid(-_U) * S.sigmoid(_U), S.sigmoid(_U) * (1 - S.sigmoid(_U)))


def _slope(power: sp.Pow) -> sp.Basic:
    """``cosh(v)**-2``: ``1 - tanh(v)**2``, or ``4 s(1 - s)`` with ``s = sigmoid(2 v)`` where
    ``v`` is half of something (the sigmoid's derivative, as SymPy simplifies it)."""
    v = power.base.args[0]
    if sp.count_ops(2 * v) < sp.count_ops(v):
        s = S.sigmoid(sp.expand(2 * v))
        return 4 * s * (1 - s)
    return 1 - sp.tanh(v) ** 2


def _tidy(value: Any) -> Any:
    def simplest(e: Any) -> sp.Basic:
        # a value is its own: stop_gradient, which only the derivative code heeds, is noise
        e = sp.sympify(e).replace(S.stop_gradient, lambda a: a)
        return textbook_forms(guarded_simplify(e, 5.0) or e)

    a = np.asarray(value, dtype=object)
    if a.ndim == 0:
        return simplest(a.item())
    return sp.Array([simplest(e) for e in a.flat], a.shape)
