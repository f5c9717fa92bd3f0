"""``scipy.special``: its elementwise functions as the primitives of
``symdiff.calculus.special``, and those written with other primitives (``softmax``,
``xlog1py``, ``multigammaln``, ...)."""

from __future__ import annotations

import math
from typing import Any

from symdiff.frontend.calls import (
    Handler,
    axes_of,
    elementwise,
    log,
    shifted_logsumexp,
    where,
)
from symdiff.frontend.values import StaticError, Tensor, describe, is_number, to_tensor
from symdiff.ir.graph import Graph


def _unary(op: str) -> Handler:
    return lambda g, x: elementwise(g, op, x)


def _binary(op: str) -> Handler:
    return lambda g, a, b: elementwise(g, op, a, b)


def _bessel(op: str, order: int | None = None) -> Handler:
    """``jv(v, x)``; with ``order``, SciPy's function of that order (``j0(x)``)."""
    if order is None:
        return lambda g, v, x: elementwise(g, op, v, x)
    return lambda g, x: elementwise(g, op, order, x)


def _static_int(name: str, what: str, value: Any, least: int) -> int:
    if is_number(value) and not isinstance(value, (bool, Tensor)) and \
            float(value).is_integer() and int(value) >= least:
        return int(value)
    raise StaticError(f"scipy.special.{name}: {what} must be an integer >= {least} known when "
                      f"the gradient is generated, got {describe(value)}")


def polygamma(g: Graph, n: Any, x: Any) -> Tensor:
    return elementwise(g, "polygamma", _static_int("polygamma", "n", n, 0), x)


def xlog1py(g: Graph, x: Any, y: Any) -> Tensor:
    """``x * log1p(y)``, 0 where ``x`` is 0."""
    product = elementwise(g, "mul", x, elementwise(g, "log1p", y))
    return where(g, elementwise(g, "eq", x, 0.0), 0.0, product)


def entr(g: Graph, x: Any) -> Tensor:
    """``-x * log(x)`` for x > 0, 0 at 0, -inf below."""
    inside = elementwise(g, "neg", elementwise(g, "mul", x, log(g, x)))
    return where(g, elementwise(g, "gt", x, 0.0), inside,
                 where(g, elementwise(g, "eq", x, 0.0), 0.0, -math.inf))


def multigammaln(g: Graph, a: Any, d: Any) -> Tensor:
    """log of the multivariate gamma function of dimension ``d``: a sum of ``gammaln``; NaN
    where SciPy raises (a <= (d - 1) / 2)."""
    d = _static_int("multigammaln", "d", d, 1)
    out = elementwise(g, "gammaln", a)
    for j in range(1, d):
        out = elementwise(g, "add", out, elementwise(g, "gammaln",
                                                     elementwise(g, "sub", a, j / 2)))
    if d > 1:
        out = elementwise(g, "add", out, d * (d - 1) / 4 * math.log(math.pi))
    return where(g, elementwise(g, "gt", a, (d - 1) / 2), out, math.nan)


def _log_softmax(g: Graph, x: Any, axis: Any) -> Tensor:
    x = to_tensor(g, x)
    axes = axes_of(x, axis)
    total = shifted_logsumexp(g, x.node, tuple(range(x.rank)) if axes is None else axes,
                              keepdims=True)
    return elementwise(g, "sub", x, total)


def log_softmax(g: Graph, x: Any, axis: Any = None) -> Tensor:
    """``x - logsumexp(x, axis, keepdims=True)``, shifted by the maximum."""
    return _log_softmax(g, x, axis)


def softmax(g: Graph, x: Any, axis: Any = None) -> Tensor:
    """``exp(log_softmax(x, axis))``: no overflow."""
    return elementwise(g, "exp", _log_softmax(g, x, axis))


def special_table(special: Any) -> dict[Any, Handler]:
    """The handlers of ``scipy.special``'s functions (the module is passed in: it is imported
    only by the user's code)."""
    table: dict[Any, Handler] = {
        getattr(special, name): _unary(name)
        for name in ("erf", "erfc", "erfcx", "erfinv", "erfcinv", "gammaln", "gamma", "rgamma")}
    table.update({
        special.digamma: _unary("digamma"), special.psi: _unary("digamma"),
        special.polygamma: polygamma, special.beta: _binary("beta"),
        special.betaln: _binary("betaln"), special.gammainc: _binary("gammainc"),
        special.gammaincc: _binary("gammaincc"), special.gammasgn: _unary("gammasgn"),
        special.betainc: lambda g, a, b, x: elementwise(g, "betainc", a, b, x),
        special.stdtr: _binary("stdtr"),
        special.jv: _bessel("jv"), special.j0: _bessel("jv", 0), special.j1: _bessel("jv", 1),
        special.yv: _bessel("yv"), special.yn: _bessel("yv"), special.y0: _bessel("yv", 0),
        special.y1: _bessel("yv", 1),
        special.iv: _bessel("iv"), special.i0: _bessel("iv", 0), special.i1: _bessel("iv", 1),
        special.ive: _bessel("ive"), special.i0e: _bessel("ive", 0),
        special.i1e: _bessel("ive", 1),
        special.xlog1py: xlog1py, special.entr: entr, special.multigammaln: multigammaln,
        special.softmax: softmax, special.log_softmax: log_softmax,
    })
    return table
