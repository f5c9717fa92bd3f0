"""Derivatives of derivatives, forward mode and Jacobians: JAX's documented numbers, finite
differences of symdiff's own gradients, and JAX where installed."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import ArgumentError, UnsupportedError

BACKENDS = ["numpy", "numba"]


def numeric_jacobian(f, x, eps=1e-6):
    """Central differences of an array function, shaped output then input."""
    x = np.asarray(x, dtype=float)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        jac[(...,) + idx] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps)
    return jac


def tanh(x):
    return np.tanh(x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tanh_derivatives_of_orders_one_to_three(backend):
    d1 = symdiff.grad(tanh, backend=backend)
    d2 = symdiff.grad(d1, backend=backend)
    d3 = symdiff.grad(d2, backend=backend)
    t = np.tanh(2.0)
    assert d1(2.0) == pytest.approx(1 - t ** 2, rel=1e-14)
    assert d2(2.0) == pytest.approx(-2 * t * (1 - t ** 2), rel=1e-14)
    assert d3(2.0) == pytest.approx(-2 * (1 - t ** 2) * (1 - 3 * t ** 2), rel=1e-14)
    # JAX's documented values are computed in float32: 0.070650816, -0.13621868, 0.25265405
    for d, documented in ((d1, 0.070650816), (d2, -0.13621868), (d3, 0.25265405)):
        assert d(2.0) == pytest.approx(documented, rel=1e-6)  # a few float32 ulps
    assert "def grad_grad_grad_tanh(x)" in d3.source


def jax_hessian_example(x):
    return x[0] ** 3 - 2 * x[0] * x[1] - x[1] ** 6


def jax_jacobian_example(x):
    return np.array([x[0], 5 * x[2], 4 * x[1] ** 2 - 2 * x[2], x[2] * np.sin(x[0])])


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_reproduces_jax(backend):
    h = symdiff.hessian(jax_hessian_example, backend=backend)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, [[6.0, -2.0], [-2.0, -480.0]], rtol=1e-12)


@pytest.mark.parametrize("jac", [symdiff.jacfwd, symdiff.jacrev, symdiff.jacobian])
@pytest.mark.parametrize("backend", BACKENDS)
def test_jacobian_reproduces_jax(jac, backend):
    x = np.array([1.0, 2.0, 3.0])
    expected = [[1, 0, 0], [0, 0, 5], [0, 16, -2], [3 * np.cos(1.0), 0, np.sin(1.0)]]
    np.testing.assert_allclose(jac(jax_jacobian_example, backend=backend)(x), expected,
                               rtol=1e-12, atol=1e-15)


def layer(w, x):
    return np.tanh(x @ w) * np.exp(-w[0])


@pytest.mark.parametrize("jac", [symdiff.jacfwd, symdiff.jacrev])
def test_jacobian_shapes_and_values_against_finite_differences(jac):
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    jw, jx = jac(layer, argnums=(0, 1))(w, x)
    assert jw.shape == (4, 2, 3, 2) and jx.shape == (4, 2, 4, 3)
    np.testing.assert_allclose(jw, numeric_jacobian(lambda v: layer(v, x), w), atol=1e-8)
    np.testing.assert_allclose(jx, numeric_jacobian(lambda v: layer(w, v), x), atol=1e-8)


def energy(x):
    return np.sum(np.sin(x) * x) + np.sum(x[1:] * x[:-1]) ** 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_against_finite_differences_of_the_gradient(backend):
    x = np.random.default_rng(2).standard_normal(5)
    g = symdiff.grad(energy, backend=backend)
    np.testing.assert_allclose(symdiff.hessian(energy, backend=backend)(x),
                               numeric_jacobian(g, x), atol=1e-6)


def penalised(x):
    return np.sum(x ** 2) + np.sum(symdiff.grad(energy)(x) ** 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gradient_inside_a_differentiated_function(backend):
    x = np.random.default_rng(3).standard_normal(4)
    symdiff.check_grad(penalised, x, backend=backend)


def inner_product(y, x):
    return np.sum(x * y)


def outer(x):
    # d/dy sum(x * y) at y = x is x, so this is sum(x ** 2); differentiating the inner sum by
    # the node x itself (both arguments) would give 2x here and 4x below
    return np.sum(symdiff.grad(inner_product)(x, x) * x)


def test_an_inner_derivative_does_not_see_where_its_argument_came_from():
    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(symdiff.grad(outer, backend="numpy")(x), 2 * x, rtol=1e-12)


def sigmoid_loss(x):
    return np.sum(np.log(1 + np.exp(x)) * x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_jvp_of_grad_is_a_hessian_vector_product_without_the_hessian(backend):
    n = 200_000
    rng = np.random.default_rng(4)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    out, hv = symdiff.jvp(symdiff.grad(sigmoid_loss), (x,), (v,), backend=backend)
    s = 1 / (1 + np.exp(-x))
    # atol: the reference itself cancels where the two terms nearly meet
    np.testing.assert_allclose(out, x * s + np.log1p(np.exp(x)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hv, (2 * s + x * s * (1 - s)) * v, rtol=1e-10, atol=1e-12)
    # the generated code is elementwise: no n-by-n array, no loop over basis vectors
    source = symdiff.forward._jvp_function(symdiff.grad(sigmoid_loss), None, backend).source
    assert "matmul" not in source and "np.dot" not in source and "x_dot" in source


@pytest.mark.parametrize("backend", BACKENDS)
def test_jvp_against_finite_differences(backend):
    rng = np.random.default_rng(5)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    tw, tx = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    out, tangent = symdiff.jvp(layer, (w, x), (tw, tx), backend=backend)
    eps = 1e-6
    numeric = (layer(w + eps * tw, x + eps * tx) - layer(w - eps * tw, x - eps * tx)) / (2 * eps)
    np.testing.assert_allclose(out, layer(w, x), rtol=1e-12)
    np.testing.assert_allclose(tangent, numeric, atol=1e-8)


def test_jvp_and_jacobians_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def layer_jax(w, x):
        return jnp.tanh(x @ w) * jnp.exp(-w[0])

    rng = np.random.default_rng(6)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    tw, tx = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    _, ours = symdiff.jvp(layer, (w, x), (tw, tx))
    _, theirs = jax.jvp(layer_jax, (w, x), (tw, tx))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(symdiff.jacrev(layer)(w, x), jax.jacrev(layer_jax)(w, x),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(symdiff.hessian(energy)(x[0]),
                               jax.hessian(lambda v: jnp.sum(jnp.sin(v) * v) +
                                           jnp.sum(v[1:] * v[:-1]) ** 2)(x[0]),
                               rtol=1e-10, atol=1e-12)


def test_stack_and_array_of_traced_values_on_every_backend():
    x = np.array([1.0, 2.0, 3.0])
    for backend in ("numpy", "numba", "cuda"):
        g = symdiff.grad(lambda x: np.sum(jax_jacobian_example(x) * np.array([1.0, 2, 3, 4])),
                         backend=backend)(x)
        np.testing.assert_allclose(g, [1 + 12 * np.cos(1.0), 48, 4 + 4 * np.sin(1.0)],
                                   rtol=1e-12)


def vjp_inside(x):
    out, f_vjp = symdiff.vjp(tanh, x)
    return np.sum(f_vjp(x)[0])


def test_functions_of_functions_run_while_tracing_and_refuse_arrays():
    with pytest.raises(UnsupportedError, match=r"takes functions and options, not arrays"):
        symdiff.grad(vjp_inside, backend="numpy")(np.ones(3))


def test_errors():
    with pytest.raises(ArgumentError, match="tangent of 'x' has shape"):
        symdiff.jvp(tanh, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ArgumentError, match="1 primals to differentiate but 2 tangents"):
        symdiff.jvp(tanh, (np.ones(3),), (np.ones(3), np.ones(3)))
    with pytest.raises(UnsupportedError, match="vjp for vector outputs"):
        symdiff.grad(symdiff.grad(energy))(np.ones(3))
    with pytest.raises(ArgumentError, match="jacrev needs a function returning one array"):
        symdiff.jacrev(lambda x: (x, x))(np.ones(2))


def test_hessian_and_jvp_generate_code_for_the_sizes_they_need():
    """Loops over a length are written out in derivatives of derivatives: the code is
    generated for each length, as grad does, instead of being refused."""
    from tests.cases import regressions

    hessian = symdiff.hessian(regressions.cubes_by_index, backend="numpy")
    for n in (3, 5):
        x = np.linspace(0.5, 2.0, n)
        np.testing.assert_allclose(hessian(x), np.diag(6 * x), rtol=1e-13)
        value, derivative = symdiff.jvp(regressions.quantile_times_energy, (x,),
                                        (np.ones(n),))
        h = 1e-6
        fd = (regressions.quantile_times_energy(x + h) -
              regressions.quantile_times_energy(x - h)) / (2 * h)
        assert value == pytest.approx(regressions.quantile_times_energy(x), rel=1e-13)
        assert derivative == pytest.approx(fd, rel=1e-7)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_derivative_inside_differentiated_code_selects_branches_without_nan(backend):
    """The inner derivative is taken before fusion, as where(c, 1, 0) * derivative: at a > 0
    the branch not taken, 1 / sqrt(-a), is NaN, and its product with 0 was NaN."""
    from tests.cases import regressions

    inner = symdiff.grad(regressions.root_of_either_sign, backend=backend)
    both = symdiff.value_and_grad(inner, backend=backend)
    for a in (0.7, -0.7):
        value, second = both(a)
        assert value == pytest.approx(np.sign(a) / (2 * np.sqrt(abs(a))), rel=1e-14)
        assert second == pytest.approx(-1 / (4 * abs(a) ** 1.5), rel=1e-14)


def sines_and_cosines(parts):
    return np.sum(np.sin(parts[0])) + np.sum(np.cos(parts[1]))


def of_its_gradient(parts):
    """autograd's test_list.test_grads: a gradient of a list, taken inside the function."""
    g = symdiff.grad(sines_and_cosines)(parts)
    return np.sum(g[0]) + np.sum(np.sin(g[0])) + np.sum(np.sin(g[1])) + np.sum(g[2])


def of_a_dict_gradient(p):
    g = symdiff.grad(lambda q: np.sum(np.sin(q["a"]) * q["b"][0]))(p)
    return np.sum(g["a"] ** 2) + np.sum(np.cos(g["b"][0]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_of_structures_inside_differentiated_code(backend):
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=(5, 6)), rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    g = symdiff.grad(of_its_gradient, backend=backend)(parts)
    assert isinstance(g, list) and [a.shape for a in g] == [(5, 6), (4, 3), (2, 4)]
    np.testing.assert_array_equal(g[2], 0.0)  # the inner gradient's third part is zeros
    symdiff.check_grad(of_its_gradient, parts, backend=backend)
    p = {"a": rng.normal(size=3), "b": (rng.normal(size=3),)}
    symdiff.check_grad(of_a_dict_gradient, p, backend=backend)
