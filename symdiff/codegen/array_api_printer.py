"""Printing fused SymPy kernels in the functions of the Array API standard (2023.12).

The NumPy printer with another table of names (``xp.asin``, not ``np.arcsin``), and one rule
the standard adds: its functions take arrays, not Python numbers (``xp.maximum(x, 0.0)`` is
not standard). An argument computed from Python numbers only (constants, sizes such as
``x.shape[0]``) is made a 0-d array of the kernel's dtype on the arguments' device.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from symdiff.calculus import scalar as S
from symdiff.codegen.printer import NumpyPrinter
from symdiff.errors import UnsupportedError

NAMESPACE, DEVICE = "xp", "_device"  # the names the generated functions give them

FUNCTIONS: dict[type, str] = {
    sp.exp: "xp.exp", sp.log: "xp.log", S.log1p: "xp.log1p", S.expm1: "xp.expm1",
    sp.sin: "xp.sin", sp.cos: "xp.cos", sp.tan: "xp.tan", sp.tanh: "xp.tanh",
    sp.sinh: "xp.sinh", sp.cosh: "xp.cosh", sp.asin: "xp.asin", sp.acos: "xp.acos",
    sp.atan: "xp.atan", S.absolute: "xp.abs", sp.Abs: "xp.abs", S.sign: "xp.sign",
    S.logaddexp: "xp.logaddexp", S.maximum: "xp.maximum", S.minimum: "xp.minimum",
    sp.atan2: "xp.atan2", sp.asinh: "xp.asinh", sp.acosh: "xp.acosh", sp.atanh: "xp.atanh",
    S.hypot: "xp.hypot", S.floor: "xp.floor", S.ceil: "xp.ceil", S.trunc: "xp.trunc",
    # rint rounds half to even, as the standard's round does; np.mod is its remainder
    S.rint: "xp.round", S.mod: "xp.remainder",
    S.isnan: "xp.isnan", S.isinf: "xp.isinf", S.isfinite: "xp.isfinite",
    # not in the standard: helpers of the module, written in its functions
    S.sigmoid: "_sigmoid", S.heaviside: "_heaviside", S.fmax: "_fmax", S.fmin: "_fmin",
    S.cbrt: "_cbrt", S.sinc: "_sinc",
}
HELPER_FUNCTIONS = {f: name for f, name in FUNCTIONS.items() if name.startswith("_")}
# NumPy functions the standard has no counterpart of, with the reason they are refused
REFUSED = {S.fmod: "np.fmod (C's fmod, which the Array API standard does not define)"}


def array_of(text: str, dtype: str) -> str:
    """``text`` (a Python number) as a 0-d array of ``dtype`` on the arguments' device."""
    return f"{NAMESPACE}.asarray({text}, dtype={NAMESPACE}.{dtype}, device={DEVICE})"


def refusal(what: str) -> UnsupportedError:
    return UnsupportedError(f"the array_api backend cannot compute {what} yet; "
                            "backend='numpy' or 'numba' supports it")


class ArrayApiPrinter(NumpyPrinter):
    """Prints a scalar kernel as a broadcasting expression in ``xp.`` terms.

    ``numbers``: the symbols spelled as Python numbers (not arrays); ``dtype``: the dtype
    a Python number passed to a function is made an array of."""

    FUNCTIONS = FUNCTIONS
    HELPER_FUNCTIONS = HELPER_FUNCTIONS
    SQRT, INF, NAN, E, PI = "xp.sqrt", "xp.inf", "xp.nan", "xp.e", "xp.pi"
    NOT = "xp.logical_not"

    def __init__(self, names: Mapping[sp.Symbol, str], numbers: set[sp.Symbol], dtype: str):
        super().__init__(names)
        self.numbers = set(numbers)
        self.dtype = dtype

    def is_number(self, expr: sp.Basic) -> bool:
        """Whether ``expr`` is spelled as a Python number."""
        return expr.free_symbols <= self.numbers

    def named(self, symbol: sp.Symbol, expr: sp.Basic) -> None:
        if self.is_number(expr):
            self.numbers.add(symbol)

    def operand(self, expr: sp.Basic) -> str:
        if not self.is_number(expr):
            return self._print(expr)
        dtype = "bool" if isinstance(expr, sp.logic.boolalg.Boolean) else self.dtype
        return array_of(self._print(expr), dtype)

    def cast(self, text: str, dtype: str) -> str:
        return array_of(text, dtype)

    def _print_Function(self, expr: sp.Function) -> str:
        if type(expr) in REFUSED:
            raise refusal(REFUSED[type(expr)])
        return super()._print_Function(expr)

    def print_special(self, expr: sp.Function) -> str:
        name, _ = expr.printed()
        raise refusal(f"scipy.special.{name}, which the Array API standard does not define")

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        *pieces, (last, cond) = expr.args
        text = self.operand(last) if cond == sp.true else \
            f"xp.where({self.operand(cond)}, {self.operand(last)}, {self.operand(sp.nan)})"
        for value, c in reversed(pieces):
            text = f"xp.where({self.operand(c)}, {self.operand(value)}, {text})"
        return text
