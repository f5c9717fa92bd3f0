"""Stability rewrites: replace forms that overflow with equal forms that do not.

Contract: ``stabilize(expr)`` returns an expression equal to ``expr`` wherever ``expr`` is finite,
built from the stable vocabulary of ``symdiff.calculus.scalar``. The rewrites:

=======================================  ===================================
before                                   after
=======================================  ===================================
exp(u)**m * (1 + exp(u))**-k   (k >= m)  sigmoid(u)**m * sigmoid(-u)**(k-m)
(1 + exp(u))**-k                         sigmoid(-u)**k
log(1 + exp(u)), log(exp(a) + exp(b))    logaddexp(0, u), logaddexp(a, b)
log(sigmoid(u)), log(1 - sigmoid(u))     -logaddexp(0, -u), -logaddexp(0, u)
exp(a - logaddexp(a, b))                 sigmoid(a - b)
log(1 + x)                               log1p(x)
exp(x) - 1                               expm1(x)
c*sigmoid(u) - c*sigmoid(-u)             c*tanh(u/2)   (no cancellation at 0)
=======================================  ===================================

Derivatives of sigmoid, tanh and exp are stated in terms of their output where the rules are
defined (``symdiff.calculus.scalar``) and by ``symdiff.calculus.derive``.
"""

from __future__ import annotations

import sympy as sp

from symdiff.calculus.scalar import expm1, isnan, log1p, logaddexp, sigmoid, softplus


def stabilize(expr: sp.Basic) -> sp.Basic:
    for _ in range(4):
        before = expr
        expr = expr.replace(lambda e: e.is_Mul, _exp_ratio_to_sigmoid)
        expr = _bottom_up(expr, _rewrite_node)
        if expr == before:
            break
    return expr


def _bottom_up(expr: sp.Basic, rule) -> sp.Basic:
    if not expr.args or expr.is_Atom:
        return expr
    args = tuple(_bottom_up(a, rule) for a in expr.args)
    if args != expr.args:
        expr = expr.func(*args)
    return rule(expr)


def _one_plus_exp(base: sp.Basic) -> sp.Basic | None:
    """``u`` when ``base`` is ``1 + exp(u)``."""
    if base.is_Add and len(base.args) == 2 and sp.S.One in base.args:
        other = base.args[0] if base.args[1] is sp.S.One else base.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _exp_ratio_to_sigmoid(mul: sp.Mul) -> sp.Basic:
    factors = list(mul.args)
    for i, den in enumerate(factors):
        if not (den.is_Pow and den.exp.is_Integer and den.exp < 0):
            continue
        u = _one_plus_exp(den.base)
        if u is None:
            continue
        k = -int(den.exp)
        for j, num in enumerate(factors):
            m = _exp_power_of(num, u)
            if j != i and m and m <= k:
                rest = [f for n, f in enumerate(factors) if n not in (i, j)]
                return sp.Mul(*rest, sigmoid(u) ** m, sigmoid(-u) ** (k - m))
    return mul


def _exp_power_of(factor: sp.Basic, u: sp.Basic) -> int:
    """m when ``factor`` is ``exp(u)**m`` (also ``exp(m*u)``), else 0."""
    if isinstance(factor, sp.exp):
        ratio = sp.cancel(factor.args[0] / u) if factor.args[0] != u else sp.S.One
        return int(ratio) if ratio.is_Integer and ratio > 0 else 0
    if factor.is_Pow and isinstance(factor.base, sp.exp) and factor.exp.is_Integer:
        return int(factor.exp) if factor.base.args[0] == u and factor.exp > 0 else 0
    return 0


def _rewrite_node(e: sp.Basic) -> sp.Basic:
    if e.is_Pow and e.exp.is_Integer and e.exp < 0:
        u = _one_plus_exp(e.base)
        if u is not None:
            return sigmoid(-u) ** (-int(e.exp))
    if isinstance(e, sp.log):
        return _rewrite_log(e.args[0], e)
    if isinstance(e, sp.exp):
        return _rewrite_exp(e.args[0], e)
    if e.is_Add:
        e = _rewrite_sigmoid_difference(e)
        return _rewrite_expm1(e) if e.is_Add else e
    return e


def _rewrite_log(arg: sp.Basic, whole: sp.Basic) -> sp.Basic:
    if isinstance(arg, sigmoid):
        return -softplus(-arg.args[0])
    u = _one_plus_exp(arg)
    if u is not None:
        return softplus(u)
    if arg.is_Add and len(arg.args) == 2:
        a, b = arg.args
        if isinstance(a, sp.exp) and isinstance(b, sp.exp):
            return logaddexp(a.args[0], b.args[0])
        if sp.S.One in arg.args:
            x = b if a is sp.S.One else a
            if isinstance(-x, sigmoid):  # log(1 - sigmoid(u)) = log(sigmoid(-u))
                return -softplus((-x).args[0])
            return log1p(x)
    return whole


def _rewrite_exp(arg: sp.Basic, whole: sp.Basic) -> sp.Basic:
    terms = sp.Add.make_args(arg)
    for t in terms:
        if t.is_Mul and t.args[0] is sp.S.NegativeOne and isinstance(t.args[1], logaddexp) \
                and len(t.args) == 2:
            a, b = t.args[1].args
            rest = sp.Add(*[s for s in terms if s is not t])
            if rest == a:
                return sigmoid(a - b)
            if rest == b:
                return sigmoid(b - a)
    return whole


def _rewrite_sigmoid_difference(add: sp.Add) -> sp.Basic:
    terms = list(add.args)
    for t in terms:
        coefficient, factor = t.as_coeff_Mul()
        if isinstance(factor, sigmoid):
            partner = -coefficient * sigmoid(-factor.args[0])
            if partner in terms:
                rest = [s for s in terms if s is not t and s is not partner]
                return sp.Add(*rest, coefficient * sp.tanh(factor.args[0] / 2))
    return add


def _rewrite_expm1(add: sp.Add) -> sp.Basic:
    terms = list(add.args)
    if sp.S.NegativeOne in terms:
        for t in terms:
            if isinstance(t, sp.exp):
                rest = [s for s in terms if s is not t and s is not sp.S.NegativeOne]
                return sp.Add(*rest, expm1(t.args[0]))
    return add


def _selects_zero(factor: sp.Basic) -> bool:
    return isinstance(factor, sp.Piecewise) and any(v.is_zero for v, _ in factor.args)


def _product_as_selection(mul: sp.Mul) -> sp.Basic:
    chosen = next(f for f in mul.args if _selects_zero(f))
    rest = sp.Mul(*(f for f in mul.args if f is not chosen))
    try:
        return _selection(chosen, rest, nan_in=True)
    except ValueError:
        # SymPy cannot put a condition testing a selection for NaN into its normal form
        # (isnan of a Piecewise): 0 where the selection is 0, also for NaN inputs
        return _selection(chosen, rest, nan_in=False)


def _selection(chosen: sp.Piecewise, rest: sp.Basic, nan_in: bool) -> sp.Piecewise:
    pieces = []
    for value, condition in chosen.args:
        if not value.is_zero:
            pieces.append((value * rest, condition))
            continue
        # NaN where the other factor is NaN because a value it reads is (NaN in, NaN out, as
        # the product gave), not where it is NaN only because its branch is not taken, nor
        # where it makes a NaN input finite itself (the derivative of nan_to_num)
        inputs = sorted(rest.free_symbols, key=str)
        if inputs and nan_in:
            pieces.append((sp.nan, sp.And(condition, isnan(rest),
                                          sp.Or(*(isnan(v) for v in inputs)))))
        pieces.append((sp.S.Zero, condition))
    return sp.Piecewise(*pieces)


def selected_products(expr: sp.Basic) -> sp.Basic:
    """Products with a selection that is 0 where a condition holds, written as selections:
    ``where(c, 1, 0) * f(x)`` is NaN where ``c`` is false and ``f(x)`` is (the square root of
    the branch not taken), where ``where(c, f(x), 0)`` is 0, as NumPy's ``where`` gives. Such
    products come from derivatives taken before fusion (a derivative inside differentiated
    code) and from booleans used as numbers."""
    if not expr.has(sp.Piecewise):
        return expr
    return expr.replace(lambda e: e.is_Mul and any(_selects_zero(f) for f in e.args),
                        _product_as_selection)
