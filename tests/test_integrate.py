"""symdiff.integrate.odeint: the solution it computes, and gradients that are the exact
derivatives of that solution (checked with finite differences of the solver itself)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

import symdiff
from symdiff.integrate import odeint
from tests.conftest import jax_or_skip

A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
Y0 = np.array([2.0, 0.0])
T = np.linspace(0.0, 1.5, 4)


def linear(y, t, a):
    return y @ a


def forced(y, t, rate):
    return -rate * y + np.sin(3.0 * t)


def network(y, t, params):
    for w, b in params:
        out = y @ w + b
        y = np.maximum(0.0, out)
    return out


def decay_at_end(rate, y0):
    return np.sum(odeint(forced, y0, np.array([0.0, 0.8]), args=(rate,), rtol=1e-4,
                         atol=1e-6)[-1] ** 2)


def trajectory_loss(params, y0):
    pred = odeint(network, y0, T, args=(params,), rtol=0.01)
    return np.mean(np.abs(pred - np.cos(T)[:, None]))


def exact_decay(rate, y0):
    return np.sum(odeint(forced, y0, np.array([0.0, 0.5, 1.0]), args=(rate,), rtol=1e-10,
                         atol=1e-12))


def test_solution_is_the_odes():
    got = odeint(linear, Y0, T, args=(A,), rtol=1e-10, atol=1e-12)
    exact = np.stack([Y0 @ scipy.linalg.expm(A * t) for t in T])
    np.testing.assert_allclose(got, exact, rtol=1e-8, atol=1e-10)
    assert got.shape == scipy.integrate.odeint(linear, Y0, T, args=(A,)).shape


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_gradient_is_the_derivative_of_the_solvers_solution(backend):
    """Step sizes depend on the arguments too: the gradient includes that, so it agrees with
    finite differences of odeint itself to rounding, not to the solver's tolerance."""
    value, _ = symdiff.value_and_grad(decay_at_end, argnums=(0, 1), backend=backend)(
        0.7, np.array([1.0, -2.0]))
    assert value == pytest.approx(decay_at_end(0.7, np.array([1.0, -2.0])), rel=1e-14)
    symdiff.check_grad(decay_at_end, 0.7, np.array([1.0, -2.0]), argnums=(0, 1),
                       backend=backend)


def test_gradient_through_a_network_of_a_list_of_layers():
    rs = np.random.RandomState(0)
    params = [(0.5 * rs.randn(2, 6), 0.1 * rs.randn(6)), (0.5 * rs.randn(6, 2),
                                                          0.1 * rs.randn(2))]
    value, _ = symdiff.value_and_grad(trajectory_loss, argnums=(0, 1), backend="numpy")(
        params, Y0)
    assert value == pytest.approx(trajectory_loss(params, Y0), rel=1e-14)
    symdiff.check_grad(trajectory_loss, params, Y0, argnums=(0, 1), backend="numpy")


def test_gradient_at_a_tight_tolerance_is_the_odes():
    """dy/dt = -r y + sin(3t) has a closed-form solution; so has its derivative in r."""
    def solution(rate, y0, t):
        forcing = (rate * np.sin(3 * t) - 3 * np.cos(3 * t) + 3 * np.exp(-rate * t)) / \
            (rate ** 2 + 9)
        return y0 * np.exp(-rate * t) + forcing

    rate, y0, h = 0.7, np.array([1.0, -2.0]), 1e-6
    times = np.array([0.0, 0.5, 1.0])
    d_rate = (solution(rate + h, y0[:, None], times) -
              solution(rate - h, y0[:, None], times)).sum() / (2 * h)
    g_rate, g_y0 = symdiff.grad(exact_decay, argnums=(0, 1), backend="numpy")(rate, y0)
    assert g_rate == pytest.approx(d_rate, rel=1e-7)
    np.testing.assert_allclose(g_y0, np.exp(-rate * times).sum() * np.ones(2), rtol=1e-8)


def test_gradient_agrees_with_jaxs_adjoint_at_a_tight_tolerance():
    jax = jax_or_skip()
    import jax.numpy as jnp
    from jax.experimental.ode import odeint as jax_odeint

    def jax_decay(rate, y0):
        def rhs(y, t, r):
            return -r * y + jnp.sin(3.0 * t)
        return jnp.sum(jax_odeint(rhs, y0, jnp.array([0.0, 0.5, 1.0]), rate, rtol=1e-10,
                                  atol=1e-12))

    rate, y0 = 0.7, np.array([1.0, -2.0])
    want = jax.grad(jax_decay, argnums=(0, 1))(rate, jnp.asarray(y0))
    got = symdiff.grad(exact_decay, argnums=(0, 1), backend="numpy")(rate, y0)
    assert got[0] == pytest.approx(float(want[0]), rel=1e-7)
    np.testing.assert_allclose(got[1], np.asarray(want[1]), rtol=1e-8)


def few_steps(rate):
    return np.sum(odeint(forced, np.array([1.0]), np.array([0.0, 10.0]), args=(rate,),
                         rtol=1e-10, mxstep=3))


def test_too_many_steps_raise_in_the_function_and_its_gradient():
    with pytest.raises(RuntimeError, match="mxstep"):
        few_steps(0.5)
    with pytest.raises(RuntimeError, match="mxstep"):
        symdiff.grad(few_steps, backend="numpy")(0.5)


def test_scipys_odeint_is_refused_pointing_here():
    def loss(rate):
        return np.sum(scipy.integrate.odeint(forced, np.array([1.0]), T, args=(rate,)))
    with pytest.raises(symdiff.UnsupportedError, match="symdiff.integrate.odeint"):
        symdiff.grad(loss, backend="numpy")(0.5)
