"""Printing fused SymPy kernels as NumPy expressions.

A ``_print_<Node>`` method per SymPy node and one table of function names. Anything not in the
table raises: generated code never contains a name that means nothing to NumPy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from symdiff.calculus import scalar as S
from symdiff.calculus.special import SpecialFunction, UnsupportedDerivative, helper_name
from symdiff.errors import UnsupportedError
from symdiff.ir.primitives import numpy_dtype

FUNCTIONS: dict[type, str] = {
    sp.exp: "np.exp", sp.log: "np.log", S.log1p: "np.log1p", S.expm1: "np.expm1",
    sp.sin: "np.sin", sp.cos: "np.cos", sp.tan: "np.tan", sp.tanh: "np.tanh",
    sp.sinh: "np.sinh", sp.cosh: "np.cosh", sp.asin: "np.arcsin", sp.acos: "np.arccos",
    sp.atan: "np.arctan", S.absolute: "np.abs", sp.Abs: "np.abs", S.sign: "np.sign",
    S.logaddexp: "np.logaddexp", S.maximum: "np.maximum", S.minimum: "np.minimum",
    S.sigmoid: "_sigmoid", sp.atan2: "np.arctan2", sp.asinh: "np.arcsinh",
    sp.acosh: "np.arccosh", sp.atanh: "np.arctanh", S.hypot: "np.hypot", S.cbrt: "np.cbrt",
    S.sinc: "np.sinc", S.floor: "np.floor", S.ceil: "np.ceil", S.trunc: "np.trunc",
    S.rint: "np.rint", S.mod: "np.mod", S.fmod: "np.fmod", S.fmax: "np.fmax", S.fmin: "np.fmin",
    S.heaviside: "_heaviside", S.isnan: "np.isnan", S.isinf: "np.isinf",
    S.isfinite: "np.isfinite",
}
# functions whose spelling is a helper that each target defines in its own terms
HELPER_FUNCTIONS = {S.sigmoid: "_sigmoid", S.heaviside: "_heaviside"}


class UnprintableError(TypeError):
    pass


def nan_kept(expr: sp.Piecewise) -> sp.Piecewise:
    """``where(c, v, where(isnan(v), nan, 0))`` as ``where(c | isnan(v), v, 0)``: a NaN kept
    where it is selected is the value itself (the adjoint of a ReLU mask, NaN in, NaN out)."""
    pieces = list(expr.args)
    for i in range(len(pieces) - 1):
        (value, condition), (after, test) = pieces[i], pieces[i + 1]
        if after is sp.nan and test == S.isnan(value):
            pieces[i:i + 2] = [(value, sp.Or(condition, test))]
            return nan_kept(sp.Piecewise(*pieces))
    return expr


def may_warn_where_not_selected(expr: sp.Basic) -> bool:
    """Whether computing the branches of ``expr``'s selections everywhere may divide by zero
    or overflow where a branch is not selected: not where each branch is a value as it is, and
    each condition compares sums and products (which the forward pass computed already)."""
    quiet_condition = (sp.Symbol, sp.Number, sp.Add, sp.Mul, sp.core.relational.Relational,
                       sp.And, sp.Or, sp.Not, S.FloatTest, sp.logic.boolalg.BooleanAtom)
    for piecewise in expr.atoms(sp.Piecewise):
        for value, condition in piecewise.args:
            if not (value.is_Atom or value is sp.nan):
                return True
            if any(not isinstance(e, quiet_condition) for e in sp.preorder_traversal(condition)):
                return True
    return False


def print_value(printer: NumpyPrinter, expr: sp.Basic, floating: bool,
                cast: str | None = None) -> str:
    """A kernel's value; a float kernel that folded to an integer stays a float (1.0, not 1).
    ``cast``: the float dtype of a kernel computed from integers and booleans only (a size, a
    condition), which would otherwise compute integers (``-x.shape[0]``)."""
    if floating and expr.is_Number and expr.is_finite:
        return repr(float(expr))
    text = printer.doprint(expr)
    if cast is not None and floating and _computes_integers(expr):
        return printer.cast(text, cast)
    return text


_INTEGER_FUNCTIONS = (sp.Piecewise, S.maximum, S.minimum, S.sign, S.absolute, S.stop_gradient)
# (floor and the like compute floats in NumPy even from integers)


def _computes_integers(expr: sp.Basic) -> bool:
    """Whether ``expr`` over integers computes an integer in Python and NumPy: no float or
    fraction, no division, no function but selections and extrema."""
    return not any(n.is_Number and not n.is_Integer for n in expr.atoms(sp.Number)) and \
        all(p.exp.is_Integer and p.exp >= 0 for p in expr.atoms(sp.Pow)) and \
        all(isinstance(f, _INTEGER_FUNCTIONS) for f in expr.atoms(sp.Function))


def integer_inputs(inputs: list, node: Any) -> str | None:
    """``node``'s dtype when it is a float kernel whose ``inputs`` (nodes) are all integers or
    booleans: the cast ``print_value`` needs."""
    return node.dtype if node.is_float and not any(n.is_float for n in inputs) else None


class NumpyPrinter(StrPrinter):
    """Prints a scalar kernel as a broadcasting NumPy expression."""

    FUNCTIONS = FUNCTIONS
    HELPER_FUNCTIONS = HELPER_FUNCTIONS
    SQRT, INF, NAN, E, PI = "np.sqrt", "np.inf", "np.nan", "np.e", "np.pi"

    def __init__(self, names: Mapping[sp.Symbol, str]):
        super().__init__({"order": "none"})
        self.names = names
        self.helpers: set[str] = set()

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self.names.get(expr, expr.name)

    def operand(self, expr: sp.Basic) -> str:
        """``expr`` as an argument of a function (the Array API printer makes a Python number
        an array there)."""
        return self._print(expr)

    def named(self, symbol: sp.Symbol, expr: sp.Basic) -> None:
        """``symbol`` now names ``expr``, computed before the kernel (a common subexpression)."""

    def cast(self, text: str, dtype: str) -> str:
        """``text`` (computed from integers) as a number or array of the float ``dtype``:
        ``np.float64(a)`` of an array of one element is a number in NumPy before 2.3."""
        return f"np.asarray({text}, dtype={numpy_dtype(dtype)})"

    def _print_Function(self, expr: sp.Function) -> str:
        # (SymPy looks up a subclass's own _print_<name> method only)
        if isinstance(expr, SpecialFunction):
            return self.print_special(expr)
        if isinstance(expr, UnsupportedDerivative):
            raise UnsupportedError(expr.message)
        if isinstance(expr, S.stop_gradient):
            return self._print(expr.args[0])
        name = self.FUNCTIONS.get(type(expr))
        if name is None:
            raise UnprintableError(f"no NumPy spelling for {type(expr).__name__}")
        if type(expr) in self.HELPER_FUNCTIONS:
            self.helpers.add(name)
        return f"{name}({', '.join(self.operand(a) for a in expr.args)})"

    def _print_FloatTest(self, expr: S.FloatTest) -> str:  # isnan, isinf, isfinite
        return self._print_Function(expr)

    def print_special(self, expr: SpecialFunction) -> str:
        """A SciPy function, called through the helper the module defines (``_gammaln(x)``)."""
        name, args = expr.printed()
        self.helpers.add(helper_name(name))
        return f"{helper_name(name)}({', '.join(self._print(a) for a in args)})"

    def _print_Add(self, expr: sp.Add, order=None) -> str:
        """Positive terms first: ``sigmoid(z) - y`` rather than ``-y + sigmoid(z)``."""
        terms = sorted(self._as_ordered_terms(expr, order=None),
                       key=lambda t: t.could_extract_minus_sign())
        text = ""
        for t in terms:
            negative = t.could_extract_minus_sign()
            piece = self.parenthesize(-t if negative else t, precedence(expr))
            if not text:
                text = f"-{piece}" if negative else piece
            else:
                text += f" - {piece}" if negative else f" + {piece}"
        return text

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, e = expr.args
        if e == sp.S.Half:
            return f"{self.SQRT}({self.operand(base)})"
        if e == -sp.S.Half:
            return f"1/{self.SQRT}({self.operand(base)})"
        if e == -1:
            return f"1/{self.parenthesize(base, precedence(expr))}"
        return super()._print_Pow(expr, rational)

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Exp1(self, expr) -> str:
        return self.E

    def _print_Pi(self, expr) -> str:
        return self.PI

    def _print_Infinity(self, expr) -> str:
        return self.INF

    def _print_NegativeInfinity(self, expr) -> str:
        return "-" + self.INF

    def _print_NaN(self, expr) -> str:
        return self.NAN

    def _print_ImaginaryUnit(self, expr) -> str:
        # a formula that is complex where it is evaluated (log(-2) = log(2) + i pi, the
        # derivative of (-2.0) ** x): NaN in real arithmetic, as NumPy's np.log(-2.0) is
        return self.NAN

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        *pieces, (last, cond) = nan_kept(expr).args
        text = self._print(last) if cond == sp.true else f"np.where({self._print(cond)}, " \
            f"{self._print(last)}, {self.NAN})"
        for value, c in reversed(pieces):
            text = f"np.where({self._print(c)}, {self._print(value)}, {text})"
        return text

    def _print_Relational(self, expr) -> str:
        return f"{self.parenthesize(expr.lhs, 45)} {expr.rel_op} " \
            f"{self.parenthesize(expr.rhs, 45)}"

    # logic on whole arrays; a subclass printing one element at a time uses and/or/not. Not ~:
    # on a Python bool (a comparison of Python floats) ~True is -2, which is true.
    AND, OR, NOT = " & ", " | ", "np.logical_not"

    def _print_And(self, expr) -> str:
        return self._junction(expr, self.AND)

    def _print_Or(self, expr) -> str:
        return self._junction(expr, self.OR)

    def _junction(self, expr, joiner: str) -> str:
        """Comparisons first, tests for NaN after them (``(h > 0) | np.isnan(bh)``); a call or
        a name needs no parentheses, a comparison does (``|`` binds tighter than ``>``)."""
        def bare(a: sp.Basic) -> bool:
            return isinstance(a, (S.FloatTest, sp.Symbol))
        ordered = sorted(expr.args, key=bare)
        return joiner.join(self._print(a) if bare(a) else f"({self._print(a)})" for a in ordered)

    def _print_Not(self, expr) -> str:
        return f"{self.NOT}({self.operand(expr.args[0])})"

    def _print_ITE(self, expr) -> str:
        """SymPy's boolean if-then-else, which simplifying nested branches can produce."""
        c, a, b = (f"({self._print(e)})" for e in expr.args)
        return f"({c}{self.AND}{a}){self.OR}({self.NOT}{c}{self.AND}{b})"

    def _print_BooleanTrue(self, expr) -> str:
        return "True"

    def _print_BooleanFalse(self, expr) -> str:
        return "False"

    def emptyPrinter(self, expr) -> str:
        raise UnprintableError(f"no NumPy spelling for {type(expr).__name__}")

    def _print_Derivative(self, expr) -> str:
        raise UnprintableError("unevaluated derivative")

    _print_Subs = _print_Derivative
    _print_DiracDelta = _print_Derivative
    _print_Heaviside = _print_Derivative
    _print_ComplexInfinity = _print_Derivative
