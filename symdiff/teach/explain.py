"""``symdiff.explain``: reverse mode for one call, told step by step in the source's names.

The forward pass lists each value; the backward pass then takes the steps in reverse, and for
each value a step reads writes its local derivative and the chain rule's product, with numbers:
``dz/dx = dz/dy · ∂y/∂x``. Elementwise derivatives are SymPy's, in the source's names; array
operations (sums, matrix products, indexing) pass adjoints back by the rules below.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import sympy as sp

from symdiff.calculus.derive import guarded_simplify
from symdiff.errors import ArgumentError, user_facing
from symdiff.rules import primitive
from symdiff.teach.evaluate import formula_value
from symdiff.teach.notation import MARKDOWN, TEXT, Text
from symdiff.teach.walk import FREE, Step, Walk, walk


@user_facing
def explain(fun: Any, *args: Any, argnums: int | tuple[int, ...] | None = None,
            wrt: str | tuple[str, ...] | None = None, format: str = "text",
            **kwargs: Any) -> str:
    """A step-by-step account of reverse mode for ``fun(*args, **kwargs)``: each value of the
    forward pass, then each adjoint as local derivative times incoming adjoint, with numbers.
    ``argnums``/``wrt`` as for ``symdiff.grad``; ``format``: "text" (a terminal) or
    "markdown" (with LaTeX)."""
    notation = {"text": TEXT, "markdown": MARKDOWN}.get(format)
    if notation is None:
        raise ArgumentError(f"format={format!r}: choose 'text' or 'markdown'")
    steps = walk(fun, args, kwargs, argnums, wrt)
    return "\n".join(_Explanation(steps, notation).lines()) + "\n"


class _Explanation:
    def __init__(self, w: Walk, n: Text):
        self.w, self.n = w, n
        self.out = w.step(w.output).name
        self.parts = Counter(read for _, read in w.passed)  # parts each value collects
        self.last_origin: Any = None

    def lines(self) -> list[str]:
        w, n = self.w, self.n
        inputs = [s for s in w.steps if s.is_input]
        wrt = ", ".join(w.step(i).name for i in w.wrt)
        out = [n.title(f"Reverse mode for {w.function}, differentiated with respect to {wrt}")]
        out.append(n.heading("Arguments"))
        out += [n.equation(n.name(s.name), n.value(w.values[s.node]), level=1) for s in inputs]
        out.append(n.heading("Forward pass: each value from the ones before it"))
        for s in w.steps:
            if not s.is_input:
                out += self._origin(s)
                out.append(n.equation(n.name(s.name), self._definition(s),
                                      n.value(w.values[s.node])))
        out.append(n.heading("Backward pass: the steps in reverse"))
        out.append(n.paragraph(
            f"The adjoint {n.math(n.adjoint(self.out, 'v'))} of a value v is how fast "
            f"{self.out} changes with v. A step passes back to each value it reads its own "
            "adjoint times its local derivative (the chain rule); a value read by several steps "
            "adds up what they pass back."))
        self.last_origin = None
        out.append(n.equation(n.adjoint(self.out, self.out), "1", level=1))
        for s in reversed(w.steps):
            if s.node in w.adjoints and not s.is_input:
                out += self._backward(s)
        out.append(n.heading("Gradient"))
        for i in w.wrt:
            s = w.step(i)
            adjoint = w.adjoints.get(i, np.zeros_like(np.asarray(w.values[i], dtype=float)))
            total = n.adjoint(self.out, s.name)
            if self.parts[i] > 1:
                out.append(n.line(f"{n.math(total)} adds up the {self.parts[i]} parts passed "
                                  f"back to {n.math(n.name(s.name))}:"))
            elif self.parts[i] == 0:
                out.append(n.line(f"no gradient flows to {n.math(n.name(s.name))}: its "
                                  "adjoint is zero"))
            out.append(n.equation(total, n.value(adjoint), level=1))
        return out

    def _origin(self, s: Step) -> list[str]:
        if s.origin == self.last_origin:
            return []
        self.last_origin = s.origin
        if s.origin is None:
            return [self.n.line("(added by symdiff)")]
        where = f"line {s.origin.lineno}"
        if s.origin.filename != self.w.filename:
            where = f"{os.path.basename(s.origin.filename)}:{s.origin.lineno}"
        return [self.n.line(f"{where}: {self.n.code(s.origin.text.strip())}")]

    def _definition(self, s: Step) -> str:
        if s.elementwise:
            return self.n.formula(self.w.formula(s))
        node = self.w.graph[s.node]
        prim = primitive(node.op)
        if prim.alias:  # a function with its own derivative rule, called on its arguments
            rule = node.param("rule")
            arguments = node.inputs[1:1 + rule.arguments]
            code = f"{rule.name}({', '.join(self._spelling(i) for i in arguments)})"
        else:
            code = prim.emit([self._spelling(i) for i in node.inputs], node)
        return rf"\texttt{{{_latex_code(code)}}}" if self.n.markdown else code

    def _spelling(self, i: int) -> str:
        node = self.w.graph[i]
        if node.op in FREE:
            return repr(np.asarray(self.w.values[i]).flat[0].item())
        return self.w.step(i).name

    def _backward(self, s: Step) -> list[str]:
        n, w = self.n, self.w
        out = self._origin(s)
        mine = n.adjoint(self.out, s.name)
        if self.parts[s.node] > 1:
            out.append(n.equation(mine, f"the sum of its {self.parts[s.node]} parts",
                                  n.value(w.adjoints[s.node])))
        for u in s.reads:
            if (s.node, u) not in w.passed:
                continue
            theirs = n.adjoint(self.out, w.step(u).name)
            shared = self.parts[u] > 1
            passed = w.passed[(s.node, u)]
            if s.elementwise:
                out += self._elementwise(s, u, mine, theirs, passed, shared)
            elif w.graph[s.node].op in ("sum", "mean"):
                out += self._reduction(s, u, mine, theirs, passed, shared)
            else:
                rule = _array_rule(w, n, s, u, mine)
                out.append(n.equation(theirs + (" (part)" if shared else ""), rule,
                                      n.value(passed)))
        return out

    def _reduction(self, s: Step, u: int, mine: str, theirs: str, passed: Any,
                   shared: bool) -> list[str]:
        """A sum's local derivative is 1 for each element it adds, a mean's 1/count."""
        n, w = self.n, self.w
        name = w.step(u).name
        count = np.size(w.values[u]) // max(np.size(w.values[s.node]), 1)
        local = "1" if w.graph[s.node].op == "sum" else f"1/{count}"
        what = "summed" if local == "1" else "averaged"
        lines = [n.equation(n.partial(s.name, name), local) +
                 f" for each of the {count} elements {what}"]
        lines.append(n.equation(theirs + (" (part)" if shared else ""),
                                n.times(mine, n.partial(s.name, name)),
                                n.times(n.value(w.adjoints[s.node]), local), n.value(passed)))
        return lines

    def _elementwise(self, s: Step, u: int, mine: str, theirs: str, passed: Any,
                     shared: bool) -> list[str]:
        n, w = self.n, self.w
        name = w.step(u).name
        local = sp.diff(w.formula(s), w.symbol(u))
        local = guarded_simplify(local, 2.0) or local
        local_value = _numbers(w, s, local)
        part = " (part)" if shared else ""
        shown = textbook_form(local, w.formula(s), sp.Symbol(s.name))
        sides = [n.partial(s.name, name), n.formula(shown)]
        if not local.is_Number:
            sides.append(n.value(local_value))
        lines = [n.equation(*sides)]
        terms = np.asarray(w.adjoints[s.node]) * np.asarray(local_value)
        if local in (1, -1):  # a product by ones is no step: the adjoint passes on as it is
            steps = [n.times(mine, n.partial(s.name, name))]
        else:
            steps = [n.times(mine, n.partial(s.name, name)),
                     n.times(n.value(w.adjoints[s.node]), n.value(local_value))]
        lines.append(n.equation(theirs + part, *steps, n.value(_cancelled(passed, terms))))
        if np.shape(passed) != np.shape(w.values[s.node]):
            lines.append(n.line(f"summed over the axes along which {n.math(n.name(name))} "
                                f"was broadcast to {n.math(n.name(s.name))}'s shape "
                                f"{np.shape(w.values[s.node])}", level=2))
        return lines


def _cancelled(passed: Any, terms: Any) -> Any:
    """``passed`` (a sum of ``terms`` where a value was broadcast), with what is zero but for
    rounding (a softmax's shift: its weights sum to one) shown as the 0 it is."""
    scale = np.max(np.abs(terms), initial=0.0) * max(np.size(terms), 1)
    passed = np.asarray(passed, dtype=float)
    return np.where(np.abs(passed) <= 1e-12 * scale, 0.0, passed) if scale else passed


def _numbers(w: Walk, s: Step, expr: sp.Basic) -> Any:
    """``expr``, a formula in the names of what step ``s`` reads, at the walk's values."""
    value = formula_value(expr, [w.symbol(i) for i in s.reads], [w.values[i] for i in s.reads])
    return np.broadcast_to(value, np.shape(w.values[s.node]))


def _latex_code(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("{", r"\{") \
        .replace("}", r"\}")


def _array_rule(w: Walk, n: Text, s: Step, u: int, mine: str) -> str:
    """How an array operation passes its adjoint back to the value ``u`` it reads."""
    node = w.graph[s.node]
    op = node.op
    name = n.name(w.step(u).name)
    inputs = list(node.inputs)
    if op in ("max", "min"):
        where = "largest" if op == "max" else "smallest"
        return _words(n, mine, f"where {w.step(u).name} is {where} (shared among ties), "
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
        return _words(n, mine, f"reshaped back to {w.step(u).name}'s shape "
                               f"{np.shape(w.values[u])}")
    if op == "broadcast_to":
        return _words(n, mine, "summed over the copies broadcasting made")
    if op in ("getitem", "take_along_axis"):
        return _words(n, mine, f"put back where it was read from {w.step(u).name}, "
                               "0 elsewhere")
    if op == "scatter":
        return _words(n, mine, "read at the positions written")
    if op == "astype":
        return _words(n, mine, f"as {w.graph[u].dtype}")
    if op == "custom_vjp":
        return _words(n, mine, f"through the backward of {node.param('rule').name}'s own rule")
    return _words(n, mine, f"through the adjoint rule of {op}")


def _words(n: Text, math: str, words: str) -> str:
    return f"{math} {words}" if not n.markdown else rf"{math} \text{{ {words}}}"


# forms of a derivative in terms of the step's own output, as textbooks write them: the
# sigmoid's s(1 - s), tanh's 1 - t², exp's e^u
_TEXTBOOK = (lambda o: o * (1 - o), lambda o: 1 - o ** 2, lambda o: o)
_POINTS = (-1.3, -0.4, 0.2, 0.7, 1.9)


def textbook_form(local: sp.Basic, value: sp.Basic, output: sp.Symbol) -> sp.Basic:
    """``local`` (the derivative of a one-input step whose formula is ``value``) written in
    the step's output ``output`` where one of the textbook forms equals it at every point
    tried; else ``local`` itself. Only what is shown changes: the numbers come from
    ``local``."""
    symbols = value.free_symbols
    if len(symbols) != 1 or local.is_Number:
        return local
    (u,) = symbols
    for form in _TEXTBOOK:
        candidate = form(output)
        try:
            if all(abs(complex(sp.N(local.subs(u, p))) - complex(sp.N(
                    candidate.subs(output, value).subs(u, p)))) <= 1e-12 * (1 + abs(complex(
                        sp.N(local.subs(u, p))))) for p in _POINTS):
                return candidate
        except (TypeError, ValueError):  # a formula SymPy cannot evaluate to a number
            return local
    return local
