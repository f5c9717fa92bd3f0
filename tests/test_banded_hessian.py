"""Hessians of vectors whose gradients are banded: assembled from one Hessian-vector product per
diagonal of the band, equal to the dense Hessian (one product per element) and to JAX's."""

import numpy as np
import pytest

import symdiff


def separable(x):
    return np.sum(np.log1p(np.exp(x)) * x)


def tridiagonal(x):
    return np.sum(np.sin(x)) + 0.5 * np.sum(x[1:] * x[:-1])


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def five_diagonal(x):
    return np.sum(np.cos(x) * x) + np.sum(x[2:] * x[:-2] ** 2)


def one_sided(x):
    return np.sum(np.exp(x[3:] - x[:-3]))


def with_data(x, y, scale):
    return scale * np.sum((x - y) ** 2 * np.tanh(x))


def branches(x):
    return np.sum(np.where(x > 0, x ** 3, np.sin(x)))


def squared_sum(x):  # dense: every element meets every other in the square
    return np.sum(x) ** 2 + np.sum(x ** 4)


def reversed_product(x):  # x[::-1] pairs far elements: dense to the analysis
    return np.sum(x * x[::-1] ** 2)


def normalised(x):
    return np.sum(x ** 2) / np.sum(np.exp(x))


CASES = [(separable, 1), (tridiagonal, 3), (rosenbrock, 3), (five_diagonal, 5),
         (one_sided, 7), (branches, 1), (squared_sum, None), (reversed_product, None),
         (normalised, None)]


@pytest.mark.parametrize("fun, products", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
@pytest.mark.parametrize("n", [1, 2, 4, 30])
def test_banded_hessian_equals_the_dense_one(fun, products, n):
    x = np.cos(np.arange(n) * 1.3) * 0.8 + 0.1
    hessian = symdiff.hessian(fun)
    h = hessian(x)
    dense = hessian.dense(x)
    assert h.shape == (n, n) and h.dtype == dense.dtype
    np.testing.assert_allclose(h, dense, rtol=1e-13, atol=1e-13)
    banded = products is not None and products < n
    assert hessian.products == (products if banded else n)


def test_banded_hessian_with_other_arguments_and_reuse_at_other_sizes():
    hessian = symdiff.hessian(with_data)
    for n in (5, 12, 1):
        x, y = np.linspace(-1.0, 1.5, n), np.linspace(0.3, -0.2, n)
        h = hessian(x, y, 1.5)
        np.testing.assert_allclose(h, hessian.dense(x, y, 1.5), rtol=1e-13, atol=1e-13)
        assert hessian.products == 1
    x = np.linspace(-1.0, 1.5, 4)
    np.testing.assert_allclose(symdiff.hessian(with_data, argnums=1)(x, x[::-1], 2.0),
                               np.diag(4.0 * np.tanh(x)), rtol=1e-13)


def test_banded_hessian_matches_finite_differences():
    x = np.linspace(-0.9, 1.1, 11)
    h = symdiff.hessian(rosenbrock)(x)
    g = symdiff.grad(rosenbrock)
    step = 1e-6
    columns = [(g(x + step * e) - g(x - step * e)) / (2 * step) for e in np.eye(len(x))]
    np.testing.assert_allclose(h, np.stack(columns, axis=1), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("fun", [separable, tridiagonal, rosenbrock, five_diagonal],
                         ids=lambda f: f.__name__)
def test_banded_hessian_matches_jax(fun):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    import types

    jax_fun = types.FunctionType(fun.__code__, {**fun.__globals__, "np": jnp})
    x = np.linspace(-0.7, 1.3, 17)
    np.testing.assert_allclose(symdiff.hessian(fun)(x), np.asarray(jax.hessian(jax_fun)(x)),
                               rtol=1e-12, atol=1e-12)
