"""SymPy calculus on fused kernels: partial derivatives, stabilised and simplified on a budget.

Contract: ``partial(expr, symbol, output)`` is d expr / d symbol, rewritten into stable forms,
simplified only when that is cheap and makes it smaller, and expressed through ``output`` (the
kernel's own value) where ``expr`` itself appears in it, as in exp' = exp, tanh' = 1 - tanh**2.
``tidy(expr)`` is the same clean-up for a kernel's forward expression. Results are cached.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symdiff.rules.scalar import sigmoid
from symdiff.simplify.stable import stabilize

# sympy.simplify is only tried on kernels this small (measured: it takes about 0.3 s on a
# BCE-with-logits derivative and can take minutes on deep nests); cheap rewrites always run.
SIMPLIFY_MAX_OPS = 24


def size(expr: sp.Basic) -> tuple[int, int]:
    return (sp.count_ops(expr), len(sp.srepr(expr)))


def _negated_sigmoid(e: sp.Basic) -> bool:
    return isinstance(e, sigmoid) and e.args[0].could_extract_minus_sign()


def _one_minus_sigmoid(e: sigmoid) -> sp.Basic:
    return 1 - sigmoid(-e.args[0])


@lru_cache(maxsize=4096)
def tidy(expr: sp.Basic) -> sp.Basic:
    expr = stabilize(expr)
    candidates = [expr]
    if expr.is_Add or expr.is_Mul:
        candidates.append(sp.factor_terms(expr))
        expanded = sp.expand(expr, deep=False)
        candidates.append(expanded)
        candidates.append(sp.factor_terms(expanded))
        if expr.has(sigmoid):
            # sigmoid(-u) = 1 - sigmoid(u) lets terms cancel (BCE: sigmoid(z) - y); it is kept
            # only when it makes the kernel smaller, since 1 - sigmoid(u) is less accurate.
            candidates.append(sp.expand(expr.replace(_negated_sigmoid, _one_minus_sigmoid)))
    if sp.count_ops(expr) <= SIMPLIFY_MAX_OPS and not expr.has(sp.Piecewise):
        candidates.append(stabilize(sp.simplify(expr)))
    return min(candidates, key=size)


@lru_cache(maxsize=4096)
def partial(expr: sp.Basic, symbol: sp.Symbol, output: sp.Symbol) -> sp.Basic:
    d = tidy(sp.diff(expr, symbol))
    if not expr.is_Symbol and not expr.is_Number:
        d = d.subs(expr, output)
    return d
