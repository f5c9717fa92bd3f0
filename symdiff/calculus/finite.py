"""Which of two equal formulas is no less finite, judged in float64 at extreme points.

Simplification may only replace a kernel's formula by one that is finite wherever the formula
it replaces is finite: ``sympy.simplify`` takes the shift out of a shifted log-sum-exp (it is
mathematically idle), and the result overflows where the user's formula did not. The check
evaluates both formulas in float64 at points made of extreme and ordinary values for each
variable (all combinations for up to three variables, a fixed sample beyond).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import sympy as sp

from symdiff.calculus import scalar as S

PROBES = (-1e10, -800.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 1.0, 2.0, 30.0, 800.0, 1e10)
SAMPLED = 2048  # points beyond three variables (13**3 = 2197 covers three exhaustively)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# float64 meanings of the functions of symdiff.calculus.scalar, as the targets print them
_NUMERIC = {
    "sigmoid": _sigmoid, "logaddexp": np.logaddexp, "log1p": np.log1p, "expm1": np.expm1,
    "maximum": np.maximum, "minimum": np.minimum, "stop_gradient": lambda x: x,
    "sign": np.sign, "absolute": np.abs, "hypot": np.hypot, "cbrt": np.cbrt, "sinc": np.sinc,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "rint": np.rint, "mod": np.mod,
    "fmod": np.fmod, "heaviside": np.heaviside, "fmax": np.fmax, "fmin": np.fmin,
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
}
assert {c.__name__ for c in (S.sigmoid, S.logaddexp, S.log1p, S.expm1, S.maximum, S.minimum,
                             S.stop_gradient, S.sign, S.absolute, S.hypot, S.cbrt, S.sinc,
                             S.floor, S.ceil, S.trunc, S.rint, S.mod, S.fmod, S.heaviside,
                             S.fmax, S.fmin, S.isnan, S.isinf, S.isfinite)} == set(_NUMERIC)


@lru_cache(maxsize=4096)
def no_less_finite(candidate: sp.Basic, original: sp.Basic) -> bool:
    """Whether ``candidate`` is finite at every probe point where ``original`` is."""
    symbols = sorted(original.free_symbols | candidate.free_symbols, key=str)
    points = _points(len(symbols))
    try:
        before = _evaluate(original, symbols, points)
        after = _evaluate(candidate, symbols, points)
    except Exception:  # a function without a float meaning here: keep what the user wrote
        return False
    return not np.any(np.isfinite(before) & ~np.isfinite(after))


def _points(count: int) -> np.ndarray:
    if count == 0:  # a constant: one point of no coordinates
        return np.zeros((1, 0))
    if count <= 3:
        return np.array(list(itertools.product(PROBES, repeat=count)), dtype=float)
    rng = np.random.default_rng(0)
    return rng.choice(np.array(PROBES), size=(SAMPLED, count))


def _evaluate(expr: sp.Basic, symbols: list, points: np.ndarray) -> np.ndarray:
    function = sp.lambdify(symbols, expr, modules=[_NUMERIC, "numpy"])
    with np.errstate(all="ignore"):
        values = function(*points.T)
    return np.broadcast_to(np.asarray(values, dtype=float), (len(points),))
