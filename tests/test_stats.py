"""scipy.stats distributions: gradients against finite differences and JAX, values against
SciPy's, the normal's log distribution function in the far tail, and what is refused."""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy import stats

import symdiff
from symdiff.errors import SymdiffError, UnsupportedError
from tests.conftest import jax_or_skip


def f_norm(x, loc, scale):
    return np.sum(stats.norm.logpdf(x, loc, scale) + stats.norm.pdf(x, loc=loc, scale=scale)
                  + stats.norm.cdf(x, loc, scale) + stats.norm.sf(x, loc, scale)
                  + stats.norm.logcdf(x, loc, scale) + stats.norm.logsf(x, loc, scale))


def f_t(x, df, scale):
    return np.sum(stats.t.logpdf(x, df, 0.5, scale) + stats.t.pdf(x, df))


def f_gamma(x, a, scale):
    return np.sum(stats.gamma.logpdf(x, a, scale=scale) + stats.gamma.pdf(x, a))


def f_beta(x, a, b):
    return np.sum(stats.beta.logpdf(x, a, b) + stats.beta.pdf(x, a, b))


def f_chi2(x, df):
    return np.sum(stats.chi2.logpdf(x, df) + stats.chi2.pdf(x, df))


def f_poisson(k, mu):
    return np.sum(stats.poisson.logpmf(k, mu) + stats.poisson.pmf(k, mu))


def f_dirichlet(x, alpha):
    return stats.dirichlet.logpdf(x, alpha)


def f_logcdf(x):
    return np.sum(stats.norm.logcdf(x))


def f_t_cdf_df(x, df):
    return np.sum(stats.t.cdf(x, df))


def t_tails(x, loc, scale):
    return np.sum(stats.t.cdf(x, 3.0, loc, scale) + stats.t.logsf(x, 2.5, loc, scale) +
                  stats.t.sf(x, 0.9) + stats.t.logcdf(x, 7.0, scale=scale))


def beta_tails(x, loc, scale):
    return np.sum(stats.beta.cdf(x, 2.0, 3.0) + stats.beta.logcdf(x, 1.5, 0.7, loc, scale) +
                  stats.beta.sf(x, 2.0, 1.2, loc) + stats.beta.logsf(x, 0.8, 2.5, scale=scale))


def beta_tails_jax(x):
    return np.sum(stats.beta.cdf(x, 2.0, 3.0) + stats.beta.logcdf(x, 1.5, 0.7) +
                  stats.beta.sf(x, 2.0, 1.2) + stats.beta.logsf(x, 0.8, 2.5))


def beta_outside(x):
    return np.sum(stats.beta.cdf(x, 2.0, 3.0) + stats.beta.sf(x, 0.7, 1.2))


def mvn_entropy(cov):
    return stats.multivariate_normal.entropy(np.zeros(3), cov @ cov.T + np.eye(3)) + \
        stats.multivariate_normal.entropy(np.zeros(3), np.exp(cov[0])) + \
        stats.multivariate_normal.entropy(np.ones(4), cov[1, 1] ** 2) + \
        stats.multivariate_normal.entropy(cov=cov[2, 0] ** 2)


def f_poisson_float(k, mu):
    return np.sum(stats.poisson.logpmf(k, mu))


def _cases():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 0.9, 4)
    return {
        "norm": (f_norm, (rng.normal(size=5), 0.3, 1.7), (0, 1, 2)),
        "t": (f_t, (rng.normal(size=5), 3.5, 1.3), (0, 1, 2)),
        "gamma": (f_gamma, (rng.uniform(0.2, 4, 5), 2.5, 1.5), (0, 1, 2)),
        "beta": (f_beta, (rng.uniform(0.1, 0.9, 5), 2.5, 1.5), (0, 1, 2)),
        "chi2": (f_chi2, (rng.uniform(0.2, 4, 5), 3.0), (0, 1)),
        "poisson": (f_poisson, (np.array([0, 1, 3, 7]), rng.uniform(0.5, 4, 4)), (1,)),
        "dirichlet": (f_dirichlet, (p / p.sum(), rng.uniform(0.5, 3, 4)), (1,)),
    }


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_against_finite_differences_and_scipy(name, backend):
    fun, args, argnums = CASES[name]
    symdiff.check_grad(fun, *args, argnums=argnums, backend=backend)
    value, _ = symdiff.value_and_grad(fun, argnums, backend=backend)(*args)
    np.testing.assert_allclose(value, fun(*args), rtol=1e-12)


def test_cuda():
    """digamma of a scalar parameter runs on the host; of an array, it is refused by name."""
    for name in ("norm", "gamma"):
        fun, args, argnums = CASES[name]
        symdiff.check_grad(fun, *args, argnums=argnums, backend="cuda")
    fun, (x, a, scale), argnums = CASES["gamma"]
    with pytest.raises(UnsupportedError, match="cuda backend has no scipy.special.digamma"):
        symdiff.grad(fun, argnums, backend="cuda")(x, np.full(5, a), scale)


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_jax(name):
    jax = jax_or_skip()
    from jax.scipy import stats as jax_stats

    fun, args, argnums = CASES[name]
    reference = types.FunctionType(fun.__code__, {**fun.__globals__, "np": jax.numpy,
                                                  "stats": jax_stats})
    expected = jax.grad(reference, argnums=argnums)(*args)
    got = symdiff.grad(fun, argnums, backend="numpy")(*args)
    if len(argnums) == 1:
        expected, got = (expected,), (got,)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_logcdf_far_left_tail(backend):
    x = np.array([-40.0, -38.5, -10.0, -1.0, 0.0, 3.0, 40.0])
    value, g = symdiff.value_and_grad(f_logcdf, backend=backend)(x)
    np.testing.assert_allclose(value, np.sum(stats.norm.logcdf(x)), rtol=1e-13)
    # d log Phi / dx = pdf / cdf = exp(logpdf - logcdf)
    np.testing.assert_allclose(g, np.exp(stats.norm.logpdf(x) - stats.norm.logcdf(x)),
                               rtol=1e-11)
    value, g = symdiff.value_and_grad(f_logcdf, backend=backend)(np.array([-40.0]))  # size 1
    np.testing.assert_allclose(value, stats.norm.logcdf(-40.0), rtol=1e-13)


def test_outside_support_and_domain_as_scipy():
    x = np.array([-1.0, 0.5, 2.0])
    for fun, args in ((f_gamma, (x, 2.5, 1.5)), (f_beta, (x, 2.5, 1.5)),
                      (f_norm, (x, 0.0, -1.0)), (f_t, (x, -1.0, 1.0))):
        value, _ = symdiff.value_and_grad(fun, backend="numpy")(*args)
        np.testing.assert_equal(value, fun(*args))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_distribution_functions_of_t_and_beta(backend):
    x = np.array([-1.5, 0.3, 0.0, 2.2, 0.7])
    value, _ = symdiff.value_and_grad(t_tails, (0, 1, 2), backend=backend)(x, 0.2, 1.4)
    assert value == pytest.approx(t_tails(x, 0.2, 1.4), rel=1e-12)
    symdiff.check_grad(t_tails, x, 0.2, 1.4, argnums=(0, 1, 2), backend=backend)
    y = np.array([0.15, 0.4, 0.65, 0.85])
    value, _ = symdiff.value_and_grad(beta_tails, (0, 1, 2), backend=backend)(y, 0.05, 0.9)
    assert value == pytest.approx(beta_tails(y, 0.05, 0.9), rel=1e-12)
    symdiff.check_grad(beta_tails, y, 0.05, 0.9, argnums=(0, 1, 2), backend=backend)
    # outside the support: 0 and 1 as SciPy, constant
    out = np.array([-0.5, 1.5])
    value, g = symdiff.value_and_grad(beta_outside, backend=backend)(out)
    assert value == beta_outside(out) == 2.0 and np.all(g == 0)


def test_beta_distribution_functions_against_jax():
    jax = jax_or_skip()
    from jax.scipy import stats as jax_stats
    y = np.array([0.15, 0.4, 0.65, 0.9])
    reference = types.FunctionType(beta_tails_jax.__code__, {
        **beta_tails_jax.__globals__, "np": jax.numpy, "stats": jax_stats})
    np.testing.assert_allclose(symdiff.grad(beta_tails_jax)(y), jax.grad(reference)(y),
                               rtol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_multivariate_normal_entropy(backend):
    a = np.random.default_rng(2).standard_normal((3, 3))
    value, _ = symdiff.value_and_grad(mvn_entropy, backend=backend)(a)
    assert value == pytest.approx(mvn_entropy(a), rel=1e-12)
    symdiff.check_grad(mvn_entropy, a, backend=backend)


def test_refusals_and_float_counts():
    with pytest.raises(SymdiffError, match=r"scipy.special.stdtr with respect to df is not "):
        symdiff.grad(f_t_cdf_df, 1, backend="numpy")(np.ones(3), 3.0)
    k, mu = np.array([0.0, 2.0, 2.5, -1.0, 3.0]), np.full(5, 1.5)
    with np.errstate(divide="ignore"):
        value, g = symdiff.value_and_grad(f_poisson_float, 1, backend="numpy")(k, mu)
    assert value == -np.inf == f_poisson_float(k, mu)  # k = 2.5 and -1 are not counts
    whole = k[[0, 1, 4]]
    value, g = symdiff.value_and_grad(f_poisson_float, 1, backend="numpy")(whole, mu[:3])
    assert value == pytest.approx(f_poisson_float(whole, mu[:3]), rel=1e-13)
    symdiff.check_grad(f_poisson_float, whole, mu[:3], argnums=(1,), backend="numpy")


def mvn_points(x, mean, cov):
    return np.sum(stats.multivariate_normal.logpdf(x, mean, cov))


def mvn_one_point(x, mean, cov):
    return stats.multivariate_normal.logpdf(x, mean, cov) + \
        stats.multivariate_normal.pdf(x[0], mean=mean, cov=np.exp(mean)) + \
        stats.multivariate_normal.logpdf(x, mean=mean, cov=np.exp(mean[0]))


def _mvn_inputs():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3))
    return rng.standard_normal((4, 3)), rng.standard_normal(3), a @ a.T + np.eye(3)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_multivariate_normal_against_finite_differences_and_scipy(backend):
    x, mean, cov = _mvn_inputs()
    for fun, point in ((mvn_points, x), (mvn_one_point, x[0])):
        value, _ = symdiff.value_and_grad(fun, backend=backend)(point, mean, cov)
        assert value == pytest.approx(fun(point, mean, cov), rel=1e-12)
        # the covariance's gradient as NumPy's Cholesky factor reads it: its lower triangle
        symdiff.check_grad(fun, point, mean, np.tril(cov) + np.tril(cov, -1).T,
                           argnums=(0, 1, 2), backend=backend)


def test_multivariate_normal_against_jax():
    jax = jax_or_skip()
    from jax.scipy import stats as jax_stats
    x, mean, cov = _mvn_inputs()
    expected = jax.grad(lambda *a: jax.numpy.sum(jax_stats.multivariate_normal.logpdf(*a)),
                        (0, 1))(x, mean, cov)
    got = symdiff.grad(mvn_points, (0, 1))(x, mean, cov)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)


def gamma_tails(x, scale):
    return np.sum(stats.gamma.cdf(x, 2.5, scale=scale) + stats.gamma.logsf(x, 2.5, 0.1, scale) +
                  stats.chi2.cdf(x, 3.0) + stats.chi2.logcdf(x, 4.0) + stats.gamma.sf(x, 1.5))


def poisson_tails(mu, k):
    return np.sum(stats.poisson.cdf(k, mu) + stats.poisson.logsf(k, mu) +
                  stats.poisson.logcdf(k, mu) + stats.poisson.sf(k, mu))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_distribution_functions_of_gamma_chi2_and_poisson(backend):
    x = np.array([0.3, 1.5, 4.0, 0.2, -0.5])
    value, _ = symdiff.value_and_grad(gamma_tails, (0, 1), backend=backend)(x, 1.3)
    with np.errstate(divide="ignore"):
        assert value == pytest.approx(gamma_tails(x, 1.3), rel=1e-12)
    symdiff.check_grad(gamma_tails, x[:4], 1.3, argnums=(0, 1), backend=backend)
    mu, k = np.array([0.5, 2.0, 3.0, 1.0]), np.array([0, 2, 5, 1])
    value, _ = symdiff.value_and_grad(poisson_tails, backend=backend)(mu, k)
    assert value == pytest.approx(poisson_tails(mu, k), rel=1e-12)
    symdiff.check_grad(poisson_tails, mu, k, backend=backend)
