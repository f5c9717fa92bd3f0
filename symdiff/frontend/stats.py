"""``scipy.stats`` distributions' log densities, densities and (for the normal) distribution
functions, written with the primitives of ``scipy.special`` and NumPy.

Where SciPy answers NaN for parameters out of their domain (a scale <= 0), so do these; where
it answers -inf outside the support (gamma.logpdf of a negative x), so do these.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from symdiff.frontend.calls import (
    Handler,
    elementwise,
    expand_dims,
    log,
    reduction,
    transpose,
    where,
)
from symdiff.frontend.contractions import diagonal
from symdiff.frontend.linalg import cholesky, solve
from symdiff.frontend.values import (
    StaticError,
    Tensor,
    to_tensor,
    wrap_dim,
)
from symdiff.ir.graph import Graph

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _op(g: Graph, name: str, *args: Any) -> Tensor:
    return elementwise(g, name, *args)


def _valid(g: Graph, value: Tensor, *conditions: Tensor) -> Tensor:
    """``value`` where every condition holds, NaN elsewhere (SciPy's answer)."""
    ok = conditions[0]
    for c in conditions[1:]:
        ok = _op(g, "logical_and", ok, c)
    return where(g, ok, value, math.nan)


def _xlogy(g: Graph, x: Any, y: Any) -> Tensor:
    return where(g, _op(g, "eq", x, 0.0), 0.0, _op(g, "mul", x, log(g, y)))


def _xlog1py(g: Graph, x: Any, y: Any) -> Tensor:
    return where(g, _op(g, "eq", x, 0.0), 0.0, _op(g, "mul", x, _op(g, "log1p", y)))


def _standard(g: Graph, x: Any, loc: Any, scale: Any) -> Tensor:
    return _op(g, "div", _op(g, "sub", x, loc), scale)


def _exp_of(logpdf: Handler) -> Handler:
    def pdf(g: Graph, *args: Any, **kwargs: Any) -> Tensor:
        return _op(g, "exp", logpdf(g, *args, **kwargs))
    pdf.__signature__ = inspect.signature(logpdf)  # binds as the log density does
    return pdf


# --- normal ------------------------------------------------------------------------------------

def norm_logpdf(g: Graph, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    z = _standard(g, x, loc, scale)
    out = _op(g, "sub", _op(g, "mul", -0.5, _op(g, "mul", z, z)),
              _op(g, "add", log(g, scale), _LOG_SQRT_2PI))
    return _valid(g, out, _op(g, "gt", scale, 0.0))


def _log_ndtr(g: Graph, z: Tensor) -> Tensor:
    """log Phi(z): through the scaled erfcx in the left tail (no underflow at z = -40), as
    log1p(-Phi(-z)) on the right."""
    t = _op(g, "div", z, -math.sqrt(2.0))
    left = _op(g, "sub", _op(g, "add", log(g, _op(g, "erfcx", t)), math.log(0.5)),
               _op(g, "mul", t, t))
    right = _op(g, "log1p", _op(g, "mul", -0.5, _op(g, "erfc", _op(g, "neg", t))))
    return where(g, _op(g, "lt", z, 0.0), left, right)


def norm_cdf(g: Graph, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    t = _op(g, "div", _standard(g, x, loc, scale), -math.sqrt(2.0))
    return _valid(g, _op(g, "mul", 0.5, _op(g, "erfc", t)), _op(g, "gt", scale, 0.0))


def norm_sf(g: Graph, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    t = _op(g, "div", _standard(g, x, loc, scale), math.sqrt(2.0))
    return _valid(g, _op(g, "mul", 0.5, _op(g, "erfc", t)), _op(g, "gt", scale, 0.0))


def norm_logcdf(g: Graph, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    return _valid(g, _log_ndtr(g, _standard(g, x, loc, scale)), _op(g, "gt", scale, 0.0))


def norm_logsf(g: Graph, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    z = _op(g, "neg", _standard(g, x, loc, scale))
    return _valid(g, _log_ndtr(g, z), _op(g, "gt", scale, 0.0))


# --- Student's t, gamma, beta, chi-squared -----------------------------------------------------

def t_logpdf(g: Graph, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    z = _standard(g, x, loc, scale)
    half = _op(g, "mul", 0.5, _op(g, "add", df, 1.0))
    norm = _op(g, "sub", _op(g, "gammaln", half), _op(g, "gammaln", _op(g, "mul", 0.5, df)))
    norm = _op(g, "sub", norm, _op(g, "mul", 0.5, log(g, _op(g, "mul", df, math.pi))))
    tail = _op(g, "mul", half, _op(g, "log1p", _op(g, "div", _op(g, "mul", z, z), df)))
    out = _op(g, "sub", _op(g, "sub", norm, tail), log(g, scale))
    return _valid(g, out, _op(g, "gt", df, 0.0), _op(g, "gt", scale, 0.0))


def gamma_logpdf(g: Graph, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    y = _standard(g, x, loc, scale)
    inside = _op(g, "sub", _op(g, "sub", _xlogy(g, _op(g, "sub", a, 1.0), y), y),
                 _op(g, "add", _op(g, "gammaln", a), log(g, scale)))
    out = where(g, _op(g, "ge", y, 0.0), inside, -math.inf)
    return _valid(g, out, _op(g, "gt", a, 0.0), _op(g, "gt", scale, 0.0))


def chi2_logpdf(g: Graph, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    return gamma_logpdf(g, x, _op(g, "mul", 0.5, df), loc, _op(g, "mul", 2.0, scale))


def _gamma_tail(upper: bool, logarithm: bool) -> Handler:
    """``gamma.cdf`` (``upper``: ``sf``) and their logs: the regularised incomplete gamma
    functions, differentiated in ``x`` and ``scale`` (the shape ``a`` has no derivative in
    SciPy's terms: refused if it is needed)."""
    def handler(g: Graph, x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        y = _standard(g, x, loc, scale)
        inside = _op(g, "gammaincc" if upper else "gammainc", a, _op(g, "maximum", y, 0.0))
        outside = 1.0 if upper else 0.0  # below the support
        if logarithm:
            inside, outside = log(g, inside), math.log(outside) if outside else -math.inf
        out = where(g, _op(g, "ge", y, 0.0), inside, outside)
        return _valid(g, out, _op(g, "gt", a, 0.0), _op(g, "gt", scale, 0.0))
    return handler


def _chi2_tail(upper: bool, logarithm: bool) -> Handler:
    gamma = _gamma_tail(upper, logarithm)
    return lambda g, x, df, loc=0.0, scale=1.0: gamma(g, x, _op(g, "mul", 0.5, df), loc,
                                                      _op(g, "mul", 2.0, scale))


def _t_tail(upper: bool, logarithm: bool) -> Handler:
    """``t.cdf`` (``upper``: ``sf``) and their logs through ``scipy.special.stdtr``,
    differentiated in ``x``, ``loc`` and ``scale`` (not in ``df``: refused if needed)."""
    def handler(g: Graph, x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        z = _standard(g, x, loc, scale)
        out = _op(g, "stdtr", df, _op(g, "neg", z) if upper else z)
        if logarithm:
            out = log(g, out)
        return _valid(g, out, _op(g, "gt", df, 0.0), _op(g, "gt", scale, 0.0))
    return handler


def _beta_tail(upper: bool, logarithm: bool) -> Handler:
    """``beta.cdf`` (``upper``: ``sf``) and their logs through ``scipy.special.betainc``,
    differentiated in ``x``, ``loc`` and ``scale`` (not in the shapes: refused if needed)."""
    def handler(g: Graph, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
        y = _op(g, "minimum", _op(g, "maximum", _standard(g, x, loc, scale), 0.0), 1.0)
        # I_{1-y}(b, a) = 1 - I_y(a, b), without the cancellation in the upper tail
        out = _op(g, "betainc", b, a, _op(g, "sub", 1.0, y)) if upper else \
            _op(g, "betainc", a, b, y)
        if logarithm:
            out = log(g, out)
        return _valid(g, out, _op(g, "gt", a, 0.0), _op(g, "gt", b, 0.0),
                      _op(g, "gt", scale, 0.0))
    return handler


def _poisson_tail(upper: bool, logarithm: bool) -> Handler:
    """``poisson.cdf`` (``sf``) of integer ``k``: Q(k + 1, mu) (P(k + 1, mu)), in ``mu``."""
    def handler(g: Graph, k: Any, mu: Any, loc: Any = 0) -> Tensor:
        count = _op(g, "add", _op(g, "floor", _op(g, "sub", k, loc)), 1.0)
        inside = _op(g, "gammainc" if upper else "gammaincc", _op(g, "maximum", count, 1.0), mu)
        outside = 1.0 if upper else 0.0  # below the support
        if logarithm:
            inside, outside = log(g, inside), math.log(outside) if outside else -math.inf
        out = where(g, _op(g, "ge", count, 1.0), inside, outside)
        return _valid(g, out, _op(g, "ge", mu, 0.0))
    return handler


def beta_logpdf(g: Graph, x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Tensor:
    y = _standard(g, x, loc, scale)
    inside = _op(g, "add", _xlogy(g, _op(g, "sub", a, 1.0), y),
                 _xlog1py(g, _op(g, "sub", b, 1.0), _op(g, "neg", y)))
    inside = _op(g, "sub", inside, _op(g, "add", _op(g, "betaln", a, b), log(g, scale)))
    support = _op(g, "logical_and", _op(g, "ge", y, 0.0), _op(g, "le", y, 1.0))
    out = where(g, support, inside, -math.inf)
    return _valid(g, out, _op(g, "gt", a, 0.0), _op(g, "gt", b, 0.0),
                  _op(g, "gt", scale, 0.0))


# --- Poisson, Dirichlet ------------------------------------------------------------------------

def poisson_logpmf(g: Graph, k: Any, mu: Any, loc: Any = 0) -> Tensor:
    """-inf where ``k`` is not a whole number >= 0 (as SciPy: floats holding whole numbers
    count)."""
    k = _op(g, "sub", k, loc)
    out = _op(g, "sub", _op(g, "sub", _xlogy(g, k, mu), _op(g, "gammaln", _op(g, "add", k, 1))),
              mu)
    counts = _op(g, "ge", k, 0)
    if not k.node.dtype.startswith(("int", "uint", "bool")):
        counts = _op(g, "logical_and", counts, _op(g, "eq", _op(g, "floor", k), k))
    out = where(g, counts, out, -math.inf)
    return _valid(g, out, _op(g, "ge", mu, 0.0))


def dirichlet_logpdf(g: Graph, x: Any, alpha: Any) -> Tensor:
    """One point ``x`` (1-d) of the Dirichlet distribution with parameters ``alpha`` (1-d)."""
    x, alpha = to_tensor(g, x), to_tensor(g, alpha)
    if x.rank != 1 or alpha.rank != 1:
        raise StaticError("scipy.stats.dirichlet.logpdf is supported for one point x (1-d) and "
                          "1-d alpha")
    total = reduction("sum")
    terms = total(g, _xlogy(g, _op(g, "sub", alpha, 1.0), x))
    norm = _op(g, "sub", _op(g, "gammaln", total(g, alpha)),
               total(g, _op(g, "gammaln", alpha)))
    ok = _op(g, "gt", reduction("min")(g, alpha), 0.0)
    return _valid(g, _op(g, "add", terms, norm), ok)


# --- multivariate normal -------------------------------------------------------------------

def mvn_logpdf(g: Graph, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False
               ) -> Tensor:
    """``multivariate_normal.logpdf``: points along the last axis of ``x``; ``cov`` a matrix
    (through its Cholesky factor, which reads its lower triangle as NumPy's does), a vector
    (a diagonal) or a number."""
    if allow_singular:
        raise StaticError("multivariate_normal.logpdf(allow_singular=True) is not supported")
    x = to_tensor(g, x)
    if x.rank == 0:
        x = expand_dims(g, x, 0)
    mean = elementwise(g, "mul", x, 0.0) if mean is None else to_tensor(g, mean)
    cov = to_tensor(g, cov)
    deviation = _op(g, "sub", x, mean)
    dims = deviation.shape[-1]  # the points' dimension, once x and mean broadcast
    if cov.rank == 2:
        factor = cholesky(g, cov)
        if deviation.rank > 2:
            raise StaticError("multivariate_normal.logpdf takes one point or a matrix of points")
        whitened = solve(g, factor, transpose(g, deviation))
        distance = reduction("sum")(g, _op(g, "square", whitened), 0)
        log_det = _op(g, "mul", 2.0, reduction("sum")(g, log(g, diagonal(g, factor))))
    else:
        distance = reduction("sum")(g, _op(g, "div", _op(g, "square", deviation), cov), -1)
        log_det = reduction("sum")(g, log(g, cov)) if cov.rank == 1 else \
            _op(g, "mul", wrap_dim(dims), log(g, cov))
    constant = _op(g, "mul", wrap_dim(dims), 2 * _LOG_SQRT_2PI)
    return _op(g, "mul", -0.5, _op(g, "add", _op(g, "add", constant, log_det), distance))


def mvn_entropy(g: Graph, mean: Any = None, cov: Any = 1, allow_singular: bool = False
                ) -> Tensor:
    """``multivariate_normal.entropy``: (d * (1 + log(2 pi)) + log det cov) / 2, the
    determinant through the Cholesky factor (a vector ``cov`` is a diagonal)."""
    if allow_singular:
        raise StaticError("multivariate_normal.entropy(allow_singular=True) is not supported")
    cov = to_tensor(g, cov)
    if cov.rank == 1 and mean is None:
        raise StaticError("multivariate_normal.entropy: a vector cov (a diagonal) needs the "
                          "mean, whose length is the dimension (SciPy refuses it too)")
    if cov.rank == 2:
        log_det = _op(g, "mul", 2.0, reduction("sum")(g, log(g, diagonal(g, cholesky(g, cov)))))
        dims = cov.shape[-1]
    elif cov.rank == 1:
        log_det, dims = reduction("sum")(g, log(g, cov)), cov.shape[0]
    else:  # a number: the variance of each of the mean's dimensions (one without a mean)
        mean = None if mean is None else to_tensor(g, mean)
        dims = 1 if mean is None or mean.rank == 0 else mean.shape[-1]
        log_det = _op(g, "mul", wrap_dim(dims), log(g, cov))
    constant = _op(g, "mul", wrap_dim(dims), 1.0 + 2 * _LOG_SQRT_2PI)
    return _op(g, "mul", 0.5, _op(g, "add", constant, log_det))


def stats_table(stats: Any) -> dict[Any, Handler]:
    """The handlers of ``scipy.stats``'s distributions (bound methods compare equal)."""
    table = {
        stats.norm.logpdf: norm_logpdf, stats.norm.pdf: _exp_of(norm_logpdf),
        stats.norm.cdf: norm_cdf, stats.norm.logcdf: norm_logcdf, stats.norm.sf: norm_sf,
        stats.norm.logsf: norm_logsf,
        stats.t.logpdf: t_logpdf, stats.t.pdf: _exp_of(t_logpdf),
        stats.gamma.logpdf: gamma_logpdf, stats.gamma.pdf: _exp_of(gamma_logpdf),
        stats.beta.logpdf: beta_logpdf, stats.beta.pdf: _exp_of(beta_logpdf),
        stats.chi2.logpdf: chi2_logpdf, stats.chi2.pdf: _exp_of(chi2_logpdf),
        stats.poisson.logpmf: poisson_logpmf, stats.poisson.pmf: _exp_of(poisson_logpmf),
        stats.dirichlet.logpdf: dirichlet_logpdf,
        stats.dirichlet.pdf: _exp_of(dirichlet_logpdf),
        stats.multivariate_normal.logpdf: mvn_logpdf,
        stats.multivariate_normal.pdf: _exp_of(mvn_logpdf),
        stats.multivariate_normal.entropy: mvn_entropy,
    }
    for method, upper, logarithm in (("cdf", False, False), ("logcdf", False, True),
                                     ("sf", True, False), ("logsf", True, True)):
        table[getattr(stats.gamma, method)] = _gamma_tail(upper, logarithm)
        table[getattr(stats.chi2, method)] = _chi2_tail(upper, logarithm)
        table[getattr(stats.poisson, method)] = _poisson_tail(upper, logarithm)
        table[getattr(stats.t, method)] = _t_tail(upper, logarithm)
        table[getattr(stats.beta, method)] = _beta_tail(upper, logarithm)
    return table
