"""``symdiff.explain``: reverse mode for one call, told step by step in the source's names.

The forward pass lists each value; the backward pass then takes the steps in reverse, and for
each value a step reads writes its local derivative and the chain rule's product, with numbers:
``dz/dx = dz/dy · ∂y/∂x``. Elementwise derivatives are SymPy's, in the source's names; array
operations (sums, matrix products, indexing) pass adjoints back by the rules of
``teach/adjoint_rules.py``, which the picture's backward edges write too.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import sympy as sp

from symdiff.errors import ArgumentError, user_facing
from symdiff.rules import primitive
from symdiff.teach.adjoint_rules import REDUCTIONS, array_rule, local_derivative, reduction_factor
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
        for u in w.frozen_reads(s):
            shift = n.math(n.name(w.step(u).name))
            out.append(n.line(f"{shift} gets 0 from {n.math(n.name(s.name))}: what follows is "
                              f"unchanged when {shift} changes by any amount", level=2))
        for u in s.reads:
            if (s.node, u) not in w.passed:
                continue
            theirs = n.adjoint(self.out, w.step(u).name)
            shared = self.parts[u] > 1
            passed = w.passed[(s.node, u)]
            if s.elementwise:
                out += self._elementwise(s, u, mine, theirs, passed, shared)
            elif w.graph[s.node].op in REDUCTIONS:
                out += self._reduction(s, u, mine, theirs, passed, shared)
            else:
                rule = array_rule(w, n, s, u, mine)
                out.append(n.equation(theirs + (" (part)" if shared else ""), rule,
                                      n.value(passed)))
        return out

    def _reduction(self, s: Step, u: int, mine: str, theirs: str, passed: Any,
                   shared: bool) -> list[str]:
        """A sum's local derivative is 1 for each element it adds, a mean's 1/count."""
        n, w = self.n, self.w
        name = w.step(u).name
        local, count = reduction_factor(w, s, u)
        what = "summed" if local == "1" else "averaged"
        lines = [n.equation(n.partial(s.name, name), local) +
                 f" for each of the {count} elements {what}"]
        steps = [n.times(mine, n.partial(s.name, name))]
        if local != "1":  # a sum passes its adjoint on to each element as it is
            steps.append(n.times(n.value(w.adjoints[s.node]), local))
        lines.append(n.equation(theirs + (" (part)" if shared else ""), *steps,
                                n.value(passed)))
        return lines

    def _elementwise(self, s: Step, u: int, mine: str, theirs: str, passed: Any,
                     shared: bool) -> list[str]:
        n, w = self.n, self.w
        name = w.step(u).name
        derivative = local_derivative(w, s, u)
        local, shown = derivative.exact, derivative.shown
        local_value = _numbers(w, s, local)
        part = " (part)" if shared else ""
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
