"""scipy.special's functions: gradients against finite differences on every backend and against
JAX, values against SciPy's own, extreme arguments, and what is refused."""

from __future__ import annotations

import types
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.special as special
from scipy import special as sc

import symdiff
from symdiff.errors import SymdiffError, UnsupportedError
from tests.conftest import jax_or_skip

# --- the functions (at module level: symdiff reads their source) ------------------------------


def f_erf(x):
    return np.sum(special.erf(x) * x + special.erfc(x) ** 2)


def f_erfinv(p):
    return np.sum(special.erfinv(p) ** 2 + special.erfcinv(p + 0.5))


def f_gammaln(x):
    return np.sum(special.gammaln(x) * x)


def f_digamma(x):
    return np.sum(special.digamma(x) ** 2 + special.psi(x))


def f_polygamma(x):
    return np.sum(special.polygamma(1, x) + special.polygamma(3, x) * x)


def f_gamma(x):
    return np.sum(special.gamma(x) + special.rgamma(x) * x)


def f_beta(a, b):
    return np.sum(special.beta(a, b) + special.betaln(a, b) * a)


def f_bessel(x):
    return np.sum(special.j0(x) + special.j1(x) * special.y0(x) + special.y1(x)
                  + special.i0(x) * special.i1(x))


def f_bessel_order(x):
    return np.sum(special.jv(2.5, x) + special.yv(2, x) + special.iv(3, x)
                  + special.ive(1.5, x) + special.i0e(x) + special.i1e(x))


def f_gammainc(x):
    return np.sum(special.gammainc(2.5, x) + special.gammaincc(0.7, x) * x)


def f_betainc(x):
    return np.sum(special.betainc(2.0, 3.5, x) * x + special.betainc(0.7, 1.3, x))


def f_stdtr(x):
    return np.sum(special.stdtr(3.0, x) ** 2 + special.stdtr(0.8, x))


def f_gammasgn(x):
    return np.sum(special.gammasgn(x) * x ** 2)


def f_xlog1py(x, y):
    return np.sum(special.xlog1py(x, y))


def f_entr(x):
    return np.sum(special.entr(x))


def f_multigammaln(a):
    return special.multigammaln(a, 3) + special.multigammaln(a, 1)


def f_softmax(x, w):
    return np.sum(special.softmax(x, axis=-1) * w) + np.sum(special.softmax(x) * w)


def f_log_softmax(x, w):
    return np.sum(special.log_softmax(x, axis=0) * w) + np.sum(sc.log_softmax(x) * w)


def f_data_order(v, x):
    return np.sum(special.iv(v, x))


def f_gammainc_shape(a, x):
    return np.sum(special.gammainc(a, x))


def f_polygamma_traced(n, x):
    return np.sum(special.polygamma(n, x))


def f_values(x):
    return (np.sum(special.gammaln(x)) + np.sum(special.erf(x)) + np.sum(special.digamma(x))
            + np.sum(special.polygamma(2, x)) + np.sum(special.j1(x)))


# --- the table ---------------------------------------------------------------------------------

@dataclass
class Case:
    fun: object
    inputs: tuple  # functions of a random generator
    argnums: tuple = (0,)
    jax: bool = True  # JAX has these functions
    cuda: bool = False  # the GPU has them (else refused)
    extra: dict = field(default_factory=dict)


def uniform(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape)


CASES = {
    "erf": Case(f_erf, (uniform(-2, 2, 5),), cuda=True),
    "erfinv": Case(f_erfinv, (uniform(-0.4, 0.4, 5),), jax=False),
    "gammaln": Case(f_gammaln, (uniform(0.2, 4, 5),)),
    "digamma": Case(f_digamma, (uniform(0.2, 4, 5),)),
    "polygamma": Case(f_polygamma, (uniform(0.3, 4, 5),)),
    "gamma": Case(f_gamma, (uniform(0.3, 3, 5),), jax=False),
    "beta": Case(f_beta, (uniform(0.5, 3, 4), uniform(0.5, 3, 4)), (0, 1)),
    "bessel": Case(f_bessel, (uniform(0.5, 4, 5),), jax=False),
    "bessel_order": Case(f_bessel_order, (uniform(0.5, 4, 5),), jax=False),
    "gammainc": Case(f_gammainc, (uniform(0.2, 4, 5),)),
    "betainc": Case(f_betainc, (uniform(0.1, 0.9, 5),)),
    "stdtr": Case(f_stdtr, (uniform(-3, 3, 5),), jax=False),
    "gammasgn": Case(f_gammasgn, (uniform(-3.5, 3.5, 6),)),
    "xlog1py": Case(f_xlog1py, (uniform(-1, 1, 4), uniform(0, 2, 4)), (0, 1), cuda=True),
    "entr": Case(f_entr, (uniform(0.1, 3, 5),), cuda=True),
    "multigammaln": Case(f_multigammaln, (uniform(1.5, 4, 1),), cuda=True),  # a scalar: host code
    "softmax": Case(f_softmax, (uniform(-3, 3, 3, 4), uniform(-1, 1, 3, 4)), cuda=True),
    "log_softmax": Case(f_log_softmax, (uniform(-3, 3, 3, 4), uniform(-1, 1, 3, 4)),
                        cuda=True),
}


def _args(case: Case, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    args = [make(rng) for make in case.inputs]
    if case.fun is f_multigammaln:
        args[0] = float(args[0][0])
    return args


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_against_finite_differences(name, backend):
    case = CASES[name]
    symdiff.check_grad(case.fun, *_args(case), argnums=case.argnums, backend=backend)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.cuda))
def test_cuda(name):
    case = CASES[name]
    symdiff.check_grad(case.fun, *_args(case), argnums=case.argnums, backend="cuda")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if not c.cuda))
def test_cuda_refuses_by_name(name):
    case = CASES[name]
    with pytest.raises(UnsupportedError, match=r"cuda backend has no scipy\.special\.\w+.*"
                                               r"backend='numba' or 'numpy'"):
        symdiff.grad(case.fun, case.argnums, backend="cuda")(*_args(case))


def test_cuda_computes_gammaln_and_gamma_values():
    """Their values run on the GPU; their derivatives (digamma) do not."""
    x = np.linspace(0.3, 4.0, 6)
    out = symdiff.value_and_grad(f_erf, backend="cuda")(x)
    ref = symdiff.value_and_grad(f_erf, backend="numpy")(x)
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-13)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.jax))
def test_against_jax(name):
    jax = jax_or_skip()
    import jax.scipy.special as jsp

    case = CASES[name]
    args = _args(case, seed=1)
    spelled = types.SimpleNamespace(psi=jsp.digamma, **{
        n: getattr(jsp, n) for n in ("erf", "erfc", "gammaln", "digamma", "polygamma", "beta",
                                     "betaln", "gammainc", "gammaincc", "betainc", "gammasgn",
                                     "xlog1py", "entr", "multigammaln", "softmax", "log_softmax")})
    reference = types.FunctionType(case.fun.__code__, {**case.fun.__globals__,
                                                       "np": jax.numpy, "special": spelled,
                                                       "sc": spelled})
    expected = jax.grad(reference, argnums=case.argnums)(*args)
    got = symdiff.grad(case.fun, case.argnums, backend="numpy")(*args)
    if len(case.argnums) == 1:
        expected, got = (expected,), (got,)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_values_equal_scipy(backend):
    value_and_grad = symdiff.value_and_grad(f_values, backend=backend)
    for x in (np.linspace(0.1, 6.0, 7), np.array([2.5]), np.linspace(0.5, 30.0, 40)):
        value, _ = value_and_grad(x)
        expected = (np.sum(sc.gammaln(x)) + np.sum(sc.erf(x)) + np.sum(sc.digamma(x))
                    + np.sum(sc.polygamma(2, x)) + np.sum(sc.j1(x)))
        np.testing.assert_allclose(value, expected, rtol=1e-13)
    value, g = value_and_grad(np.zeros(0))  # no elements
    assert value == 0.0 and g.shape == (0,)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_each_function_value_and_size(backend):
    """Every case's value is SciPy's (the function evaluated with SciPy), also for another
    size with the same gradient function."""
    for case in CASES.values():
        value_and_grad = symdiff.value_and_grad(case.fun, case.argnums, backend=backend)
        for seed in (0, 3):
            args = _args(case, seed)
            if seed == 3 and case.fun is not f_multigammaln:  # other sizes, same code
                args = [np.concatenate([a, a]) if np.ndim(a) == 1 else a for a in args]
            value, _ = value_and_grad(*args)
            np.testing.assert_allclose(value, case.fun(*args), rtol=1e-12)


def test_numba_polygamma_matches_scipy():
    """The Numba module sums the Hurwitz zeta function itself (SciPy exports no polygamma)."""
    x = np.concatenate([np.linspace(0.05, 40.0, 60), [1e-3, 1e3, 1e6, -0.5, -2.3, -7.9]])
    value_and_grad = symdiff.value_and_grad(f_polygamma, backend="numba")
    value, g = value_and_grad(x)
    np.testing.assert_allclose(value, np.sum(sc.polygamma(1, x) + sc.polygamma(3, x) * x),
                               rtol=1e-12)
    np.testing.assert_allclose(g, sc.polygamma(2, x) + sc.polygamma(4, x) * x
                               + sc.polygamma(3, x), rtol=1e-11)


def test_extreme_arguments():
    x = np.array([1e-300, 1e-10, 30.0, 1e5])
    for backend in ("numpy", "numba"):
        value, g = symdiff.value_and_grad(f_gammaln, backend=backend)(x)
        np.testing.assert_allclose(value, np.sum(sc.gammaln(x) * x), rtol=1e-13)
        np.testing.assert_allclose(g, sc.gammaln(x) + x * sc.digamma(x), rtol=1e-13)
        # erfc far in the right tail: tiny and finite, its derivative 0 without NaN
        big = np.array([5.0, 26.0, 30.0, 40.0])
        value, g = symdiff.value_and_grad(f_erf, backend=backend)(big)
        assert np.isfinite(value) and np.all(np.isfinite(g))
        np.testing.assert_allclose(value, np.sum(sc.erf(big) * big + sc.erfc(big) ** 2),
                                   rtol=1e-14)


def test_source_reads_as_scipy():
    g = symdiff.grad(f_gammaln, backend="numpy")
    g(np.ones(3))
    assert "x*_digamma(x) + _gammaln(x)" in g.source
    assert "special.gammaln(x)" in g.source  # the helper calls SciPy
    g = symdiff.grad(f_gammaln, backend="numba")
    g(np.ones(3))
    assert '_cython_special("gammaln", 1)' in g.source


def test_cython_kernels_are_float64():
    """The kernels a Numba module binds take and return float64 (SciPy's numbering of fused
    kernels could change)."""
    from symdiff.codegen.special_helpers import CYTHON_NAMES
    capsules = __import__("scipy.special.cython_special", fromlist=["x"]).__pyx_capi__
    for name, kernel in CYTHON_NAMES.items():
        text = repr(capsules[kernel])
        arguments = text.split("(", 1)[1].split(")")[0].split(", ")
        assert text.split('"')[1].startswith("double ("), name
        assert arguments[-1] == "int __pyx_skip_dispatch", name
        assert all(a == "double" for a in arguments[:-1]), name


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_derivative_with_respect_to_order_is_refused(backend):
    x = np.linspace(0.5, 2.0, 4)
    with pytest.raises(UnsupportedError, match="iv with respect to v is not supported"):
        symdiff.grad(f_data_order, backend=backend)(1.5, x)
    with pytest.raises(UnsupportedError, match="gammainc with respect to a is not supported"):
        symdiff.grad(f_gammainc_shape, backend=backend)(np.full(4, 1.5), x)
    # with respect to x only, a traced order or shape is data
    g = symdiff.grad(f_gammainc_shape, 1, backend=backend)(np.full(4, 1.5), x)
    np.testing.assert_allclose(g, np.exp(0.5 * np.log(x) - x - sc.gammaln(1.5)), rtol=1e-13)
    g = symdiff.grad(f_data_order, 1, backend=backend)(1.5, x)
    np.testing.assert_allclose(g, (sc.iv(0.5, x) + sc.iv(2.5, x)) / 2, rtol=1e-13)


def test_polygamma_order_must_be_static():
    with pytest.raises(SymdiffError, match="polygamma: n must be an integer >= 0"):
        symdiff.grad(f_polygamma_traced, 1, backend="numpy")(np.float64(1.0), np.ones(3))
