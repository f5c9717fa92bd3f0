"""SciPy's special functions as SymPy functions, each meaning exactly what its SciPy namesake
computes, with its derivative stated once.

SymPy's own classes are not used: its ``loggamma`` is the complex logarithm of Gamma where
SciPy's ``gammaln`` is log|Gamma|, its Bessel functions rewrite themselves, and none of them
says which derivatives SciPy has no formula for. Here an argument whose derivative is not
supported (a Bessel function's order, the shape ``a`` of ``gammainc``) derives to an
``UnsupportedDerivative``, which every printer refuses with a message naming the function: a
gradient that needs it is refused, one that does not is unaffected.

``scipy_name`` is how the targets spell a function (``_gammaln(x)`` calls
``scipy.special.gammaln``); ``printed`` gives the name and arguments printed, so that a Bessel
function of order 0 or 1 prints as SciPy's ``j0``/``i1``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from symdiff.calculus.scalar import _RealFunction, log1p, sign


class SpecialFunction(_RealFunction):
    """A function of ``scipy.special``; ``arguments`` names its arguments, ``fixed`` holds
    the (1-based) positions whose derivative is not supported."""

    scipy_name: str
    arguments: tuple[str, ...] = ("x",)
    fixed: tuple[int, ...] = ()

    def fdiff(self, argindex=1):
        if argindex in self.fixed:
            return unsupported_derivative(self.scipy_name, self.arguments[argindex - 1])(
                *self.args)
        return self.derivative(argindex)

    def derivative(self, argindex: int) -> sp.Expr:
        raise NotImplementedError

    def printed(self) -> tuple[str, tuple]:
        """The SciPy name and the arguments as printed."""
        return self.scipy_name, self.args


class UnsupportedDerivative(sp.Function):
    """The derivative of a special function with respect to an argument SciPy has no formula
    for; printing it raises ``UnsupportedError(message)``."""

    message: str


@cache
def unsupported_derivative(function: str, argument: str) -> type:
    message = (f"the derivative of scipy.special.{function} with respect to {argument} is not "
               f"supported; differentiate with respect to the other arguments only (pass "
               f"{argument} as a number, or as an argument that is not differentiated)")
    return type(f"d_{function}_d_{argument}", (UnsupportedDerivative,), {"message": message})


_TWO_OVER_SQRT_PI = 2 / sp.sqrt(sp.pi)


class erf(SpecialFunction):
    scipy_name = "erf"

    def derivative(self, argindex):
        return _TWO_OVER_SQRT_PI * sp.exp(-self.args[0] ** 2)


class erfc(SpecialFunction):
    scipy_name = "erfc"

    def derivative(self, argindex):
        return -_TWO_OVER_SQRT_PI * sp.exp(-self.args[0] ** 2)


class erfcx(SpecialFunction):
    """exp(x**2) * erfc(x), which neither overflows nor underflows for large x."""

    scipy_name = "erfcx"

    def derivative(self, argindex):
        return 2 * self.args[0] * self - _TWO_OVER_SQRT_PI


class erfinv(SpecialFunction):
    scipy_name = "erfinv"

    def derivative(self, argindex):
        return sp.exp(self ** 2) / _TWO_OVER_SQRT_PI


class erfcinv(SpecialFunction):
    scipy_name = "erfcinv"

    def derivative(self, argindex):
        return -sp.exp(self ** 2) / _TWO_OVER_SQRT_PI


class gammaln(SpecialFunction):
    """log|Gamma(x)|."""

    scipy_name = "gammaln"

    def derivative(self, argindex):
        return digamma(self.args[0])


class digamma(SpecialFunction):
    scipy_name = "digamma"

    def derivative(self, argindex):
        return polygamma(sp.S.One, self.args[0])


class polygamma(SpecialFunction):
    """The n-th derivative of digamma, for an integer n >= 0 known while generating."""

    scipy_name = "polygamma"
    arguments = ("n", "x")
    fixed = (1,)

    @classmethod
    def eval(cls, n, x):
        if n.is_zero:
            return digamma(x)
        return None

    def derivative(self, argindex):
        n, x = self.args
        return polygamma(n + 1, x)


class gamma(SpecialFunction):
    scipy_name = "gamma"

    def derivative(self, argindex):
        return self * digamma(self.args[0])


class rgamma(SpecialFunction):
    """1 / Gamma(x)."""

    scipy_name = "rgamma"

    def derivative(self, argindex):
        return -self * digamma(self.args[0])


class beta(SpecialFunction):
    scipy_name = "beta"
    arguments = ("a", "b")

    def derivative(self, argindex):
        a, b = self.args
        return self * (digamma(self.args[argindex - 1]) - digamma(a + b))


class betaln(SpecialFunction):
    """log|B(a, b)|."""

    scipy_name = "betaln"
    arguments = ("a", "b")

    def derivative(self, argindex):
        a, b = self.args
        return digamma(self.args[argindex - 1]) - digamma(a + b)


class _Bessel(SpecialFunction):
    """A Bessel function of order ``v`` (a number known while generating) at ``x``;
    ``reflected``: the sign of order -n relative to order n, (-1)**n or 1."""

    arguments = ("v", "x")
    fixed = (1,)
    named: dict[int, str] = {}  # orders SciPy has a function of their own for
    alternating = True

    @classmethod
    def eval(cls, v, x):
        if v.is_Integer and v.is_negative:
            flip = (-1) ** int(-v) if cls.alternating else 1
            return flip * cls(-v, x)
        return None

    def printed(self):
        v, x = self.args
        if v.is_Integer and int(v) in self.named:
            return self.named[int(v)], (x,)
        return self.scipy_name, self.args


class jv(_Bessel):
    scipy_name, named = "jv", {0: "j0", 1: "j1"}

    def derivative(self, argindex):
        v, x = self.args
        return (jv(v - 1, x) - jv(v + 1, x)) / 2


class yv(_Bessel):
    scipy_name, named = "yv", {0: "y0", 1: "y1"}

    def derivative(self, argindex):
        v, x = self.args
        return (yv(v - 1, x) - yv(v + 1, x)) / 2


class iv(_Bessel):
    scipy_name, named, alternating = "iv", {0: "i0", 1: "i1"}, False

    def derivative(self, argindex):
        v, x = self.args
        return (iv(v - 1, x) + iv(v + 1, x)) / 2


class ive(_Bessel):
    """iv(v, x) * exp(-|x|), which does not overflow."""

    scipy_name, named, alternating = "ive", {0: "i0e", 1: "i1e"}, False

    def derivative(self, argindex):
        v, x = self.args
        return (ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) * self


def _gamma_density(a: sp.Expr, x: sp.Expr) -> sp.Expr:
    """x**(a - 1) * exp(-x) / Gamma(a), the derivative of the regularized lower incomplete
    gamma function in x, without overflow for large a or x."""
    return sp.exp((a - 1) * sp.log(x) - x - gammaln(a))


class gammainc(SpecialFunction):
    """The regularized lower incomplete gamma function P(a, x)."""

    scipy_name = "gammainc"
    arguments = ("a", "x")
    fixed = (1,)

    def derivative(self, argindex):
        return _gamma_density(*self.args)


class gammaincc(SpecialFunction):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""

    scipy_name = "gammaincc"
    arguments = ("a", "x")
    fixed = (1,)

    def derivative(self, argindex):
        return -_gamma_density(*self.args)


class betainc(SpecialFunction):
    """The regularized incomplete beta function I_x(a, b)."""

    scipy_name = "betainc"
    arguments = ("a", "b", "x")
    fixed = (1, 2)

    def derivative(self, argindex):
        # the beta density x**(a - 1) * (1 - x)**(b - 1) / B(a, b), without overflow
        a, b, x = self.args
        return sp.exp((a - 1) * sp.log(x) + (b - 1) * log1p(-x) - betaln(a, b))


class stdtr(SpecialFunction):
    """The distribution function of Student's t distribution with ``df`` degrees of freedom."""

    scipy_name = "stdtr"
    arguments = ("df", "t")
    fixed = (1,)

    def derivative(self, argindex):
        # the t density
        df, t = self.args
        return sp.exp(gammaln((df + 1) / 2) - gammaln(df / 2) - sp.log(df * sp.pi) / 2
                      - (df + 1) / 2 * log1p(t ** 2 / df))


class gammasgn(SpecialFunction):
    """The sign of the gamma function: piecewise constant, derivative 0."""

    scipy_name = "gammasgn"

    def derivative(self, argindex):
        return sp.S.Zero


# the primitive each function is registered as (its name in the rule table)
PRIMITIVES: dict[str, type] = {cls.__name__: cls for cls in (
    erf, erfc, erfcx, erfinv, erfcinv, gammaln, digamma, polygamma, gamma, rgamma, beta, betaln,
    jv, yv, iv, ive, gammainc, gammaincc, betainc, stdtr, gammasgn)}

# what a generated module calls: SciPy's name -> its arguments
SCIPY_FUNCTIONS: dict[str, tuple[str, ...]] = {
    **{name: ("x",) for name in ("erf", "erfc", "erfcx", "erfinv", "erfcinv", "gammaln", "digamma",
                                 "gamma", "rgamma", "j0", "j1", "y0", "y1", "i0", "i1", "i0e",
                                 "i1e", "gammasgn")},
    **{name: ("v", "x") for name in ("jv", "yv", "iv", "ive")},
    "polygamma": ("n", "x"), "beta": ("a", "b"), "betaln": ("a", "b"),
    "gammainc": ("a", "x"), "gammaincc": ("a", "x"), "betainc": ("a", "b", "x"),
    "stdtr": ("df", "t"),
}


def helper_name(name: str) -> str:
    """The helper a generated module calls SciPy's ``name`` through: ``_gammaln``; not ``_i0``,
    which is a loop variable there."""
    return f"_bessel_{name}" if name in ("i0", "i1") else f"_{name}"
