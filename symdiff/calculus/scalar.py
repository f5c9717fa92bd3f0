"""Scalar functions that SymPy lacks, each with its derivative stated once.

These are the vocabulary of fused elementwise kernels: the stable forms that the stability
rewrites produce (``sigmoid``, ``logaddexp``, ``log1p``, ``expm1``), NumPy's subgradient
conventions (``maximum``/``minimum``), and ``stop_gradient``. Derivatives are written in terms
of the function's own value where that is the stable form (``sigmoid' = s * (1 - s)``).
"""

from __future__ import annotations

import sympy as sp
from sympy.logic.boolalg import BooleanFunction


class _RealFunction(sp.Function):
    """A real function of real arguments."""

    def _eval_is_extended_real(self):
        return all(a.is_extended_real for a in self.args) or None


class sigmoid(_RealFunction):
    """The logistic function 1 / (1 + exp(-x)), finite for every finite x."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex=1):
        # not s * (1 - s): 1 - s loses all relative accuracy in the right tail
        return self * sigmoid(-self.args[0])

    def _eval_is_positive(self):
        return True if self.args[0].is_extended_real else None


class logaddexp(_RealFunction):
    """log(exp(a) + exp(b)) without overflow; ``logaddexp(0, x)`` is softplus."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a is sp.S.NegativeInfinity:
            return b
        if b is sp.S.NegativeInfinity:
            return a
        if a.is_Number and b.is_Number:
            return sp.log(sp.exp(a) + sp.exp(b))
        return None

    def fdiff(self, argindex=1):
        a, b = self.args
        return sigmoid(a - b) if argindex == 1 else sigmoid(b - a)


def softplus(x: sp.Expr) -> sp.Expr:
    return logaddexp(sp.S.Zero, x)


class log1p(_RealFunction):
    """log(1 + x), accurate for small x."""

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


class expm1(_RealFunction):
    """exp(x) - 1, accurate for small x."""

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0])


def _tie_break(a: sp.Expr, b: sp.Expr, wins: sp.Basic) -> sp.Expr:
    """Derivative of max/min with respect to ``a``: 1 where ``a`` wins, 0 where ``b`` does.

    At a tie with a constant (``maximum(x, 0)`` at 0) the derivative is 0, so relu'(0) = 0;
    at a tie between two variables each side gets 1/2, so maximum(x, x) has derivative 1.
    """
    if b.is_number:
        return sp.Piecewise((sp.S.One, folded(wins)), (sp.S.Zero, True))
    return sp.Piecewise((sp.S.One, folded(wins)), (sp.S.Half, folded(sp.Eq(a, b))),
                        (sp.S.Zero, True))


class _Extremum(_RealFunction):
    """maximum/minimum of two arguments; ``wins(a, b)`` says where ``a`` is the result."""

    nargs = 2
    numeric: type
    wins: type

    ignores_nan = False  # fmax and fmin: a NaN operand loses

    @classmethod
    def eval(cls, a, b):
        if a is sp.nan or b is sp.nan:  # (SymPy's Max refuses NaN)
            return (b if a is sp.nan else a) if cls.ignores_nan else sp.nan
        if a.is_Number and b.is_Number:
            return cls.numeric(a, b)
        if a == b:
            return a
        return None

    def fdiff(self, argindex=1):
        a, b = self.args if argindex == 1 else self.args[::-1]
        return _tie_break(a, b, self.wins(a, b))


class maximum(_Extremum):
    numeric, wins = sp.Max, sp.StrictGreaterThan


class minimum(_Extremum):
    numeric, wins = sp.Min, sp.StrictLessThan


def _beats_or_other_is_nan(compare: type):
    """``a`` is fmax's (fmin's) result where it wins, or where ``b`` is NaN (NaN is ignored)."""
    return staticmethod(lambda a, b: sp.Or(compare(a, b), isnan(b)))


class fmax(_Extremum):
    """np.fmax: like maximum, but a NaN operand loses."""
    numeric, wins = sp.Max, _beats_or_other_is_nan(sp.StrictGreaterThan)
    ignores_nan = True


class fmin(_Extremum):
    numeric, wins = sp.Min, _beats_or_other_is_nan(sp.StrictLessThan)
    ignores_nan = True


class stop_gradient(_RealFunction):
    """The identity whose derivative is zero."""

    def fdiff(self, argindex=1):
        return sp.S.Zero


class sign(_RealFunction):
    """NumPy's sign: -1, 0 or 1, with derivative 0 (also at 0, where it is undefined)."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.sign(x)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class absolute(_RealFunction):
    """|x| with NumPy's subgradient at 0: abs'(0) = sign(0) = 0."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Abs(x)
        if isinstance(x, absolute):
            return x
        return None

    def fdiff(self, argindex=1):
        return sign(self.args[0])

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_extended_real else None


class hypot(_RealFunction):
    """sqrt(a**2 + b**2) without overflow or underflow in the squares."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_Number and b.is_Number:
            return sp.sqrt(a ** 2 + b ** 2)
        return None

    def fdiff(self, argindex=1):
        return self.args[argindex - 1] / self

    def _eval_is_nonnegative(self):
        return True if all(a.is_extended_real for a in self.args) else None


class cbrt(_RealFunction):
    """The real cube root, negative for negative x (SymPy's x**(1/3) is complex there)."""

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)
        return None

    def fdiff(self, argindex=1):
        return 1 / (3 * self ** 2)


class sinc(_RealFunction):
    """NumPy's normalised sinc, sin(pi x) / (pi x), 1 at 0."""

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.S.One
        if x.is_Number:
            return sp.sin(sp.pi * x) / (sp.pi * x)
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.Piecewise((sp.S.Zero, sp.Eq(x, 0)), ((sp.cos(sp.pi * x) - self) / x, True))


class _Step(_RealFunction):
    """A piecewise-constant function of one argument (``floor``, ``ceil``, ``rint``, ``trunc``):
    its derivative is 0 wherever it has one, which is NumPy's and JAX's convention."""

    numeric: type

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return cls.numeric(x)
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class floor(_Step):
    numeric = staticmethod(sp.floor)


class ceil(_Step):
    numeric = staticmethod(sp.ceiling)


class trunc(_Step):
    numeric = staticmethod(lambda x: sp.Integer(int(x)) if x.is_finite else x)


class rint(_Step):
    """Rounding half to even, as NumPy rounds."""

    numeric = staticmethod(lambda x: sp.Integer(round(float(x))) if x.is_finite else x)


class mod(_RealFunction):
    """NumPy's remainder a - floor(a / b) * b, with the sign of b."""

    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.S.One if argindex == 1 else -floor(a / b)


class fmod(_RealFunction):
    """C's remainder a - trunc(a / b) * b, with the sign of a."""

    nargs = 2

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.S.One if argindex == 1 else -trunc(a / b)


class heaviside(_RealFunction):
    """0 for x < 0, h0 at 0, 1 for x > 0 (NaN for NaN)."""

    nargs = 2

    def fdiff(self, argindex=1):
        x, _ = self.args
        if argindex == 1:
            return sp.S.Zero
        return sp.Piecewise((sp.S.One, sp.Eq(x, 0)), (sp.S.Zero, True))


class FloatTest(BooleanFunction):
    """A property of a float that SymPy's real symbols cannot have (NaN, infinities): a
    condition that only the generated code can decide. An atom of the logic: its argument is
    a number (``isnan(exp(u))``), never itself a condition to rewrite."""

    nargs = 1

    def to_nnf(self, simplify: bool = True) -> FloatTest:
        return self

    def _eval_as_set(self):
        raise NotImplementedError("a test of float values is not a set of reals")


class isnan(FloatTest):
    pass


class isinf(FloatTest):
    pass


class isfinite(FloatTest):
    pass


def as_number(value: sp.Basic) -> sp.Expr:
    """A boolean used in arithmetic counts as 1 or 0, as in NumPy."""
    if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Symbol):
        return sp.Piecewise((sp.S.One, value), (sp.S.Zero, True))
    return value


def as_condition(value: sp.Basic) -> sp.Basic:
    """A number used as a condition is true where it is non-zero, as in NumPy."""
    if isinstance(value, sp.logic.boolalg.Boolean):
        return folded(value)
    return folded(sp.Ne(value, 0))


def folded(condition: sp.Basic) -> sp.Basic:
    """``condition`` with the selections inside it (``where(c, a, b) > 0``) lifted out as
    ``ITE(c, a > 0, b > 0)``. Piecewise does this itself through ``rewrite(ITE)``, which drops
    every branch but the first when a condition is a bare symbol (a boolean array), so it
    must never see a condition that holds a Piecewise."""
    if not condition.has(sp.Piecewise):
        return condition
    lifted = sp.piecewise_fold(condition)
    if not isinstance(lifted, sp.Piecewise):
        return lifted
    result: sp.Basic = sp.false
    for value, where in reversed(lifted.args):
        result = folded(value) if where == sp.true else \
            sp.ITE(folded(where), folded(value), result)
    return result


def in_own_terms(expr: sp.Basic) -> sp.Basic:
    """``expr`` with SymPy's own piecewise functions, which its derivatives and users' formulas
    bring (``sign``, ``Abs``, ``Heaviside``, ``DiracDelta``, ``Max``, ``Min``), written as the
    functions here, which every target prints and whose derivatives follow NumPy's
    conventions. A step's derivative (``DiracDelta``) is 0, as everywhere but at the step."""
    def rewrite(e: sp.Basic) -> sp.Basic:
        if isinstance(e, sp.DiracDelta):
            return sp.S.Zero
        if isinstance(e, sp.sign):
            return sign(e.args[0])
        if isinstance(e, sp.Abs):
            return absolute(e.args[0])
        if isinstance(e, sp.Heaviside):
            x, at_zero = e.args[0], e.args[1] if len(e.args) > 1 else sp.S.Half
            return sp.Piecewise((sp.S.Zero, x < 0), (at_zero, sp.Eq(x, 0)), (sp.S.One, True))
        pick = maximum if isinstance(e, sp.Max) else minimum
        result, *rest = e.args
        for a in rest:
            result = pick(result, a)
        return result

    kinds = (sp.DiracDelta, sp.sign, sp.Abs, sp.Heaviside, sp.Max, sp.Min)
    if not expr.has(*kinds):
        return expr
    return expr.replace(lambda e: isinstance(e, kinds), rewrite)
