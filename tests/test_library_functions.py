"""NumPy's and SciPy's elementwise functions given directly, as autograd's and JAX's examples
write them: ``grad(np.sqrt)``, ``grad(grad(np.sin))``, ``value_and_grad(gammaln)``. They are
differentiated as if written ``def sqrt(x): return np.sqrt(x)``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from scipy.integrate import odeint

import symdiff
from tests.conftest import jax_or_skip
from tests.test_higher_order import tanh as tanh_elsewhere

BACKENDS = ["numpy", "numba"]


def _difference(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fun, x", [(np.sqrt, 2.0), (np.tanh, 0.7), (np.sin, -1.2),
                                    (np.log1p, 0.3), (scipy.special.gammaln, 3.5),
                                    (scipy.special.expit, -0.4)])
def test_grad_of_a_ufunc_matches_finite_differences(backend, fun, x):
    assert symdiff.grad(fun, backend=backend)(x) == pytest.approx(_difference(fun, x),
                                                                  rel=1e-8)
    value, gradient = symdiff.value_and_grad(fun, backend=backend)(x)
    assert value == pytest.approx(fun(x), rel=1e-15)
    assert gradient == symdiff.grad(fun, backend=backend)(x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_derivatives_of_derivatives_of_a_ufunc(backend):
    second = symdiff.grad(symdiff.grad(np.sin, backend=backend), backend=backend)
    third = symdiff.grad(second, backend=backend)
    assert second(0.5) == pytest.approx(-np.sin(0.5), rel=1e-15)
    assert third(0.5) == pytest.approx(-np.cos(0.5), rel=1e-15)
    assert symdiff.hessian(np.tanh, backend=backend)(0.3) == pytest.approx(
        _difference(symdiff.grad(np.tanh, backend="numpy"), 0.3), rel=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_binary_ufunc_takes_both_its_arguments(backend):
    g = symdiff.grad(np.arctan2, (0, 1), backend=backend)
    dy, dx = g(1.0, 2.0)
    assert dy == pytest.approx(_difference(lambda y: np.arctan2(y, 2.0), 1.0), rel=1e-8)
    assert dx == pytest.approx(_difference(lambda x: np.arctan2(1.0, x), 2.0), rel=1e-8)
    assert "def grad_arctan2(x1, x2)" in g.source


@pytest.mark.parametrize("backend", BACKENDS)
def test_elementwise_derivatives_by_forward_mode_at_changing_sizes(backend):
    """autograd's tanh example: the derivative of tanh at every point of a grid."""
    for n in (200, 7, 1):
        x = np.linspace(-7, 7, n)
        out, slope = symdiff.jvp(np.tanh, (x,), (np.ones(n),), backend=backend)
        np.testing.assert_allclose(out, np.tanh(x), rtol=1e-15)
        np.testing.assert_allclose(slope, _difference(np.tanh, x), rtol=1e-6, atol=1e-10)
        jacobian = symdiff.jacfwd(np.sqrt, backend=backend)(x[:3] ** 2 + 1)
        np.testing.assert_allclose(jacobian, np.diag(0.5 / np.sqrt(x[:3] ** 2 + 1)),
                                   rtol=1e-15)


def test_matches_jax():
    jax = jax_or_skip()
    jnp = jax.numpy
    assert symdiff.grad(np.sqrt, backend="numpy")(2.0) == pytest.approx(
        float(jax.grad(jnp.sqrt)(2.0)), rel=1e-15)
    assert symdiff.grad(symdiff.grad(np.tanh))(0.8) == pytest.approx(
        float(jax.grad(jax.grad(jnp.tanh))(0.8)), rel=1e-14)
    x = np.linspace(0.5, 4.0, 5)
    np.testing.assert_allclose(symdiff.jvp(scipy.special.gammaln, (x,), (np.ones(5),))[1],
                               jax.jvp(jax.scipy.special.gammaln, (x,), (jnp.ones(5),))[1],
                               rtol=1e-13)


def test_the_same_function_reuses_its_code():
    first = symdiff.grad(np.cos, backend="numpy")
    first(0.1)
    assert symdiff.grad(np.cos, backend="numpy").fun is first.fun
    assert "<symdiff: np.cos>" in first.source.splitlines()[0]


def test_library_functions_that_are_not_ufuncs_are_still_refused():
    with pytest.raises(symdiff.ArgumentError, match="is not a Python function"):
        symdiff.grad(np.sum)


def integrate_with_odeint(a):
    return np.sum(odeint(decay, np.array([1.0]), np.linspace(0.0, 1.0, 5), (a,)))


def decay(y, t, a):
    return -a * y


def test_library_code_outside_the_table_is_refused_by_name_at_the_users_line():
    """autograd's ode_net calls scipy.integrate.odeint: refused where the user calls it, not
    traced into SciPy's own source."""
    with pytest.raises(symdiff.UnsupportedError,
                       match=r"test_library_functions.py:\d+:\d+: scipy.integrate.odeint is "
                       "not supported: .*use symdiff.integrate.odeint"):
        symdiff.grad(integrate_with_odeint, backend="numpy")(0.5)
    with pytest.raises(symdiff.ArgumentError, match="scipy.integrate._odepack_py.odeint is "
                       "scipy's own code"):
        symdiff.grad(odeint)


def uses_a_helper_from_another_file(x):
    return tanh_elsewhere(x) ** 2


def test_helpers_in_other_user_files_are_still_traced():
    g = symdiff.grad(uses_a_helper_from_another_file, backend="numpy")
    t = np.tanh(1.5)
    assert g(1.5) == pytest.approx(2 * t * (1 - t ** 2), rel=1e-14)
