"""SymPy calculus on fused kernels: partial derivatives, stabilised and simplified on a budget.

Contract: ``partial(expr, symbol, output)`` is d expr / d symbol, rewritten into stable forms,
simplified only when that is cheap and makes it smaller, and expressed through ``output`` (the
kernel's own value) where ``expr`` itself appears in it, as in exp' = exp, tanh' = 1 - tanh**2.
``tidy(expr)`` is the same clean-up for a kernel's forward expression. Results are cached.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import sympy as sp

from symdiff.calculus.finite import no_less_finite
from symdiff.calculus.scalar import FloatTest, in_own_terms, maximum, minimum, sigmoid
from symdiff.calculus.stable import selected_products, stabilize
from symdiff.ir.fused import replace_subexpression

# sympy.simplify is only tried on kernels this small, without trigonometric functions (its
# trigsimp took 20 s on a 20-operation derivative of sin/cosh/arctan here), and under a time
# guard; the cheap rewrites (expand, factor_terms) always run.
SIMPLIFY_MAX_OPS = 24
SIMPLIFY_SECONDS = 0.5
_TRIGONOMETRIC = (sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.asin, sp.acos, sp.atan)
# ... and on at most this many kernels per generated module, counted in the order they are
# built (so the output does not depend on the machine's speed): an unrolled loop of a thousand
# small kernels is tidied cheaply after the first ones.
SIMPLIFY_KERNELS = 24
_budget: ContextVar[list[int] | None] = ContextVar("simplify_budget", default=None)


@contextmanager
def simplification_budget(kernels: int = SIMPLIFY_KERNELS) -> Iterator[None]:
    """Within this block, ``sympy.simplify`` runs on at most ``kernels`` kernels."""
    token = _budget.set([kernels])
    try:
        yield
    finally:
        _budget.reset(token)


def size(expr: sp.Basic) -> tuple[int, int]:
    return (sp.count_ops(expr), len(sp.srepr(expr)))


def _negated_sigmoid(e: sp.Basic) -> bool:
    return isinstance(e, sigmoid) and e.args[0].could_extract_minus_sign()


def _one_minus_sigmoid(e: sigmoid) -> sp.Basic:
    return 1 - sigmoid(-e.args[0])


def tidy(expr: sp.Basic) -> sp.Basic:
    simplify = _simplifiable(expr)
    budget = _budget.get()
    if simplify and budget is not None:
        simplify = budget[0] > 0
        budget[0] -= 1
    return _tidy(expr, simplify)


@lru_cache(maxsize=4096)
def _simplifiable(expr: sp.Basic) -> bool:
    # (SymPy's logic simplification reads isnan(x) as a boolean variable of its own)
    return sp.count_ops(expr) <= SIMPLIFY_MAX_OPS and \
        not expr.has(sp.Piecewise, FloatTest, *_TRIGONOMETRIC)


@lru_cache(maxsize=4096)
def _tidy(expr: sp.Basic, simplify: bool) -> sp.Basic:
    expr = selected_products(stabilize(expr))
    candidates = [expr]
    if expr.is_Add or expr.is_Mul:
        candidates.append(sp.factor_terms(expr))
        expanded = sp.expand(expr, deep=False)
        candidates.append(expanded)
        candidates.append(sp.factor_terms(expanded))
        if expr.has(sigmoid):
            # sigmoid(-u) = 1 - sigmoid(u) lets terms cancel (BCE: sigmoid(z) - y). It is used
            # only when it merges sigmoids, since 1 - sigmoid(u) loses accuracy in the tail.
            flipped = sp.expand(expr.replace(_negated_sigmoid, _one_minus_sigmoid))
            if len(flipped.atoms(sigmoid)) < len(expr.atoms(sigmoid)):
                candidates.append(flipped)
    if simplify:
        simplified = guarded_simplify(expr, SIMPLIFY_SECONDS)
        if simplified is not None:
            candidates.append(stabilize(simplified))
    # the smallest form that is no less finite than the one it replaces (never less stable)
    for candidate in sorted(candidates, key=size):
        if candidate == expr or no_less_finite(candidate, expr):
            return selected_products(candidate)
    return expr


class _OutOfTime(Exception):
    pass


def guarded_simplify(expr: sp.Basic, seconds: float) -> sp.Basic | None:
    """sympy.simplify, abandoned after ``seconds`` (main thread only: it needs SIGALRM)."""
    if not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread() or \
            signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # someone else's timer: leave it be
        return None
    armed = [True]

    def on_alarm(signum, frame):
        if armed[0]:
            # again soon, in case this one is swallowed (raised inside a gc callback)
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return sp.simplify(expr)
    except (_OutOfTime, ValueError, TypeError):
        # simplifying is optional: SymPy failing on a formula (comparing a NaN it met while
        # testing numbers) leaves the formula as derived
        return None
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def partial(expr: sp.Basic, symbol: sp.Symbol, output: sp.Symbol | None,
            exact_output: bool = True) -> sp.Basic:
    """d expr / d symbol, tidied; with ``output``, occurrences of ``expr`` itself become it.
    ``exact_output``: the output holds the value the formula computes, rounded no more than
    the formula's other terms are (float64), so that comparing it is comparing the formula."""
    d = tidy(_derivative(expr, symbol))
    if output is not None and not expr.is_Symbol and not expr.is_Number:
        d = _through_output(d, expr, output, exact_output)
    return d


class _Power(sp.Function):
    """``base ** exponent`` with a variable exponent, differentiated as NumPy users (and JAX)
    expect at base 0: SymPy writes d/dx x**y as y*x**y/x, which is 0/0 at x = 0 where the
    derivative y*x**(y - 1) is 0 (for y > 1, and for y = 0, where x**y is 1 everywhere); and
    d/dy x**y = x**y*log(x) is 0*(-inf) at x = 0 where 0**y does not change with y (y > 0)."""

    nargs = 2

    def fdiff(self, argindex=1):
        base, exponent = self.args
        if argindex == 1:
            return sp.Piecewise((sp.S.Zero, sp.Eq(exponent, 0)),
                                (exponent * _Power(base, exponent - 1), True))
        return sp.Piecewise((sp.S.Zero, sp.Eq(base, 0)), (self * sp.log(base), True))


def _variable_power(e: sp.Basic) -> bool:
    return e.is_Pow and not e.exp.is_Number


@lru_cache(maxsize=4096)
def _derivative(expr: sp.Basic, symbol: sp.Symbol) -> sp.Basic:
    marked = expr.replace(_variable_power, lambda e: _Power(e.base, e.exp))
    d = sp.diff(marked, symbol)
    if marked is not expr:
        d = d.replace(lambda e: isinstance(e, _Power), lambda e: sp.Pow(*e.args))
    return in_own_terms(d)


@lru_cache(maxsize=4096)
def _through_output(d: sp.Basic, expr: sp.Basic, output: sp.Symbol,
                    exact_output: bool) -> sp.Basic:
    d = replace_subexpression(d, expr, output)
    if isinstance(expr, (maximum, minimum)) and exact_output:
        # where a wins, max(a, b) > b exactly (NaN loses both tests): the ReLU's mask reads
        # the ReLU's value, h > 0, instead of computing its argument again. Not for a float32
        # output, which compiled code compares with b computed in float64 (0.01 * z)
        a, b = expr.args
        d = d.xreplace({expr.wins(a, b): expr.wins(output, b),
                        expr.wins(b, a): expr.wins(output, a)})
    return d
