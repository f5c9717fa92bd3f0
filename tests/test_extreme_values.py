"""Gradients at extreme values: 0, +-1e-8, +-1, +-800, +-inf and NaN.

At finite points inside a function's domain, the gradient must match the derivative computed
by mpmath with 50 digits: finite wherever that derivative is a finite float64 (also where a
naive formula would overflow), and infinite only where it overflows float64 itself. The
behaviour at +-inf and NaN is documented in docs/reliability.md and pinned down here.
"""

from __future__ import annotations

import math

import mpmath as mp
import numba
import numpy as np
import pytest

import symdiff
from tests.cases import extreme

mp.mp.dps = 50
FINITE = [0.0, 1e-8, -1e-8, 1.0, -1.0, 800.0, -800.0]
# Numba's CUDA simulator runs kernels as Python, where 1/0 and exp(800) raise; on a GPU they
# give inf as NumPy does. So the CUDA backend meets extreme values only on a real GPU.
BACKENDS = ["numpy", "numba"] + ([] if numba.config.ENABLE_CUDASIM else ["cuda"])


def sig(x):
    return 1 / (1 + mp.exp(-x))


# d/dx of each function in tests/cases/extreme.py, and its domain
DERIVATIVES = {
    "exp": (mp.exp, None), "log": (lambda x: 1 / x, lambda x: x > 0),
    "log1p": (lambda x: 1 / (1 + x), lambda x: x > -1), "expm1": (mp.exp, None),
    "sqrt": (lambda x: 1 / (2 * mp.sqrt(x)), lambda x: x > 0), "sin": (mp.cos, None),
    "cos": (lambda x: -mp.sin(x), None), "tan": (lambda x: 1 / mp.cos(x) ** 2, None),
    "tanh": (lambda x: 1 / mp.cosh(x) ** 2, None), "sinh": (mp.cosh, None),
    "cosh": (mp.sinh, None), "arcsin": (lambda x: 1 / mp.sqrt(1 - x * x), lambda x: abs(x) < 1),
    "arccos": (lambda x: -1 / mp.sqrt(1 - x * x), lambda x: abs(x) < 1),
    "arctan": (lambda x: 1 / (1 + x * x), None), "absolute": (mp.sign, None),
    "square": (lambda x: 2 * x, None), "sign": (lambda x: 0, None),
    "reciprocal": (lambda x: -1 / (x * x), lambda x: x != 0),
    "sigmoid": (lambda x: sig(x) * sig(-x), None), "softplus": (sig, None),
    "relu": (lambda x: 1 if x > 0 else 0, None),
    "naive_sigmoid": (lambda x: sig(x) * sig(-x), None), "naive_softplus": (sig, None),
    "bce_positive": (lambda x: sig(x) - 1, None), "bce_negative": (sig, None),
    "mse": (lambda x: 2 * x, None),
    # log(p) is clamped at -100 as in PyTorch; at p = 1 the clamped log(1 - p) has slope 0
    "bce_probability": (lambda p: -1 / p, lambda p: 0 < p <= 1),
    "logaddexp_pair": (mp.tanh, None),
    # maximum(x, x/2): a tie between two variables splits the gradient: 1/2 + 1/2 * 1/2
    "maximum_pair": (lambda x: 1 if x > 0 else (0.5 if x < 0 else 0.75), None),
    "minimum_pair": (lambda x: 0.5 if x > 0 else (1 if x < 0 else 0.75), None),
    "where_pair": (lambda x: 1 if x > 0 else 2, None),
    "power": (lambda x: 2.5 * x ** 1.5, lambda x: x > 0),
}


def expected(name: str, x: float) -> float:
    derivative, domain = DERIVATIVES[name]
    return float(derivative(mp.mpf(x)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_finite_points_match_mpmath(name, backend):
    domain = DERIVATIVES[name][1]
    points = np.array([x for x in FINITE if domain is None or domain(mp.mpf(x))])
    with np.errstate(all="ignore"):
        got = symdiff.grad(getattr(extreme, name), backend=backend)(points)
    for x, g in zip(points, got, strict=True):
        want = expected(name, x)
        if math.isfinite(want):
            assert np.isfinite(g), f"{name}'({x}) = {g}, should be {want}"
            assert g == pytest.approx(want, rel=1e-9, abs=1e-300), f"{name}'({x})"
        else:
            assert g == want, f"{name}'({x}) = {g}: the derivative overflows float64"


LIMITS = {  # the gradient at -inf and +inf: the limit of the derivative, where it exists
    "exp": (0.0, math.inf), "tanh": (0.0, 0.0), "arctan": (0.0, 0.0), "sigmoid": (0.0, 0.0),
    "softplus": (0.0, 1.0), "relu": (0.0, 1.0), "absolute": (-1.0, 1.0),
    "square": (-math.inf, math.inf), "bce_positive": (-1.0, 0.0), "bce_negative": (0.0, 1.0),
    "sin": (math.nan, math.nan),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(LIMITS))
def test_infinities(name, backend):
    with np.errstate(all="ignore"):
        got = symdiff.grad(getattr(extreme, name), backend=backend)(np.array([-np.inf, np.inf]))
    np.testing.assert_array_equal(got, LIMITS[name])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_nan_in_nan_out(name, backend):
    if name in ("sign", "relu", "where_pair", "maximum_pair", "minimum_pair"):
        pytest.skip("piecewise: NaN selects a branch, whose derivative is a constant")
    with np.errstate(all="ignore"):
        got = symdiff.grad(getattr(extreme, name), backend=backend)(np.array([np.nan, 1.0]))
    assert np.isnan(got[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_vector_functions_at_800(backend):
    x = np.array([800.0, -800.0, 0.0, 1e-8, -1e-8, 1.0, -1.0])
    e = [mp.exp(mp.mpf(v)) for v in x]
    softmax = np.array([float(v / sum(e)) for v in e])
    np.testing.assert_allclose(symdiff.grad(extreme.logsumexp, backend=backend)(x), softmax,
                               rtol=1e-12, atol=1e-300)
    target = softmax.copy()
    target[0] -= 1.0
    np.testing.assert_allclose(symdiff.grad(extreme.cross_entropy_first, backend=backend)(x),
                               target, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(symdiff.grad(extreme.log_softmax_first, backend=backend)(x),
                               -target, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(symdiff.grad(extreme.softmax_first, backend=backend)(x),
                               -softmax[0] * target, rtol=1e-12, atol=1e-300)
