"""What each step's derivative rule passes back: written once for ``explain`` and ``graph``.

A step ``s`` passes back to each value ``u`` it reads its own adjoint times its local derivative.
For an elementwise step that derivative is SymPy's ∂s/∂u, shown in a textbook form where one
fits; a sum's is 1 and a mean's 1/count for each element; an array operation (a matrix product,
a transpose) has a rule of its own, written in the notation at hand (``mine @ w2ᵀ``). The
explanation writes these with numbers, the picture on its backward edges; ``derivative_reads``
and ``array_rule_reads`` say which forward values a rule reads, which the picture links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symdiff.calculus.derive import guarded_simplify
from symdiff.teach.notation import Text
from symdiff.teach.walk import Step, Walk

REDUCTIONS = ("sum", "mean")


@dataclass(frozen=True)
class LocalDerivative:
    exact: sp.Basic  # ∂s/∂u simplified: the numbers come from it
    shown: sp.Basic  # what a reader sees: a textbook form (s(1 - s)) where one equals it


def local_derivative(w: Walk, s: Step, u: int) -> LocalDerivative:
    """∂s/∂u of the elementwise step ``s``, in the names of the values it reads."""
    exact = sp.diff(w.formula(s), w.symbol(u))
    exact = guarded_simplify(exact, 2.0) or exact
    return LocalDerivative(exact, textbook_form(exact, w.formula(s), sp.Symbol(s.name)))


def derivative_reads(w: Walk, s: Step, expr: sp.Basic) -> list[int]:
    """The forward values (step nodes) a formula of step ``s`` reads: those it reads and, in a
    textbook form, its own value (the sigmoid's s(1 - s) reads s)."""
    by_name = {w.step(i).name: i for i in s.reads} | {s.name: s.node}
    return sorted({by_name[x.name] for x in expr.free_symbols if x.name in by_name})


def reduction_factor(w: Walk, s: Step, u: int) -> tuple[str, int]:
    """A sum's local derivative, ``"1"``, or a mean's, ``"1/count"``, with the count of
    elements each output element gathers."""
    count = np.size(w.values[u]) // max(np.size(w.values[s.node]), 1)
    return ("1" if w.graph[s.node].op == "sum" else f"1/{count}"), count


def array_rule(w: Walk, n: Text, s: Step, u: int, mine: str) -> str:
    """How an array operation passes its adjoint, written ``mine``, back to the value ``u``
    it reads."""
    node = w.graph[s.node]
    op = node.op
    name = n.name(w.step(u).name)
    inputs = list(node.inputs)
    if op in ("max", "min"):
        where = "largest" if op == "max" else "smallest"
        return words(n, mine, f"where {w.step(u).name} is {where} (shared among ties), "
                              "0 elsewhere")
    if op in ("matmul", "outer"):
        first, second = inputs
        other = n.name(w.step(second if first == u else first).name)
        if op == "outer":  # outer(a, b) = a bᵀ
            return n.matmul(mine, other) if first == u else n.matmul(n.transpose(mine), other)
        if first == second:
            return f"{n.matmul(mine, n.transpose(name))} + {n.matmul(n.transpose(name), mine)}"
        # with vectors, a product by a number or an outer product, not a matrix product
        vectors = np.ndim(w.adjoints[s.node]) == 1 and np.ndim(w.values[
            second if first == u else first]) == 1
        if np.ndim(w.adjoints[s.node]) == 0:
            return n.times(mine, other)
        if first == u:
            return n.outer(mine, other) if vectors else n.matmul(mine, n.transpose(other))
        return n.outer(other, mine) if vectors else n.matmul(n.transpose(other), mine)
    if op == "transpose":
        return n.transpose(f"({mine})")
    if op in ("reshape", "expand_dims", "squeeze"):
        return words(n, mine, f"reshaped back to {w.step(u).name}'s shape "
                              f"{np.shape(w.values[u])}")
    if op == "broadcast_to":
        return words(n, mine, "summed over the copies broadcasting made")
    if op in ("getitem", "take_along_axis"):
        return words(n, mine, f"put back where it was read from {w.step(u).name}, "
                              "0 elsewhere")
    if op == "scatter":
        return words(n, mine, "read at the positions written")
    if op == "astype":
        return words(n, mine, f"as {w.graph[u].dtype}")
    if op == "custom_vjp":
        return words(n, mine, f"through the backward of {node.param('rule').name}'s own rule")
    return words(n, mine, f"through the adjoint rule of {op}")


def array_rule_reads(w: Walk, s: Step, u: int) -> list[int]:
    """The forward values ``array_rule`` reads besides the adjoint: a product's other factor,
    and where a max or min was taken, the values compared and the result. Rules that only move
    or reshape the adjoint read none."""
    node = w.graph[s.node]
    if node.op in ("matmul", "outer"):
        first, second = node.inputs
        read = [second if first == u else first]
    elif node.op in ("max", "min"):
        read = [u, s.node]
    else:
        read = []
    return [i for i in read if w.is_step(i)]


def words(n: Text, math: str, words: str) -> str:
    return f"{math} {words}" if not n.markdown else rf"{math} \text{{ {words}}}"


# forms of a derivative in terms of the step's own output, as textbooks write them: the
# sigmoid's s(1 - s), tanh's 1 - t², exp's e^u
_TEXTBOOK = (lambda o: o * (1 - o), lambda o: 1 - o ** 2, lambda o: o)
_POINTS = (-1.3, -0.4, 0.2, 0.7, 1.9)


def textbook_form(local: sp.Basic, value: sp.Basic, output: sp.Symbol) -> sp.Basic:
    """``local`` (the derivative of a step whose formula is ``value``) written in the step's
    output ``output`` where one of the textbook forms equals it at every point tried (for
    ``h = tanh(b1 + t1)``, ``1 - h**2``); else ``local`` itself. Only what is shown changes:
    the numbers come from ``local``."""
    symbols = sorted(value.free_symbols, key=str)
    if not symbols or local.is_Number:
        return local
    # each point gives the inputs different values, so that b1 + t1 is not always 2 * b1
    points = [{u: _POINTS[(k + 2 * j) % len(_POINTS)] for j, u in enumerate(symbols)}
              for k in range(len(_POINTS))]
    for form in _TEXTBOOK:
        candidate = form(output).subs(output, value)
        try:
            if all(_close(local.subs(point), candidate.subs(point)) for point in points):
                return form(output)
        except (TypeError, ValueError):  # a formula SymPy cannot evaluate to a number
            return local
    return local


def _close(a: sp.Basic, b: sp.Basic) -> bool:
    a, b = complex(sp.N(a)), complex(sp.N(b))
    return abs(a - b) <= 1e-12 * (1 + abs(a))
