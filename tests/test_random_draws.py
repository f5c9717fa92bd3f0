"""Random numbers drawn inside the function: each call draws them, in the function's order and
from the same generator, so values are NumPy's own; ``loc``/``scale`` and ``low``/``high`` are
differentiated (the reparameterisation trick)."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import SymdiffError
from tests.cases import drawing_helper

RS = np.random.RandomState(0)


def elbo(params, data):
    """Black-box variational inference, as autograd's example writes it: samples from a
    global RandomState, shifted and scaled by the variational parameters."""
    mean, log_std = params[:2], params[2:]
    samples = RS.randn(data.shape[0], 2) * np.exp(log_std) + mean
    log_density = -0.5 * np.sum((samples - data[:, :2]) ** 2, axis=1)
    return np.mean(log_density) + np.sum(log_std)


def elbo_with_noise(params, data, noise):
    mean, log_std = params[:2], params[2:]
    samples = noise * np.exp(log_std) + mean
    log_density = -0.5 * np.sum((samples - data[:, :2]) ** 2, axis=1)
    return np.mean(log_density) + np.sum(log_std)


def seeded(w, x):
    """A generator made in the function with a seed: the same numbers on every call."""
    rng = np.random.default_rng(7)
    e = rng.normal(1.0, np.exp(w), size=(x.shape[0], 2))
    u = rng.uniform(-1.0, w[0], size=x.shape[0])
    return np.sum(e * x) + np.sum(u ** 2) + np.sum(rng.standard_normal(2) * w)


def module_draws(w):
    return np.sum(np.random.randn(3) * w) + np.random.normal(0.5, 2.0) * w[0] + \
        np.sum(np.random.rand(2) * w[:2])


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_draws_from_a_global_generator_are_numpys_own(backend):
    data = np.random.default_rng(1).standard_normal((6, 3))
    params = np.array([0.1, -0.2, 0.3, -0.4])
    g = symdiff.value_and_grad(elbo, backend=backend)
    for rows in (6, 4):  # the draws' size follows the arguments'
        RS.seed(3)
        value, grad = g(params, data[:rows])
        after = RS.randn()  # the generator moved on exactly as the function moves it
        RS.seed(3)
        noise = RS.randn(rows, 2)
        assert RS.randn() == after
        assert value == pytest.approx(elbo_with_noise(params, data[:rows], noise), rel=1e-13)
        expected = symdiff.grad(elbo_with_noise, backend="numpy")(params, data[:rows], noise)
        np.testing.assert_allclose(grad, expected, rtol=1e-13)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_a_seeded_generator_made_inside_is_made_again_on_each_call(backend):
    w, x = np.array([0.3, -0.2]), np.random.default_rng(2).standard_normal((4, 2))
    symdiff.check_grad(seeded, w, x, backend=backend)  # deterministic, so differences work
    value, _ = symdiff.value_and_grad(seeded, backend=backend)(w, x)
    assert value == pytest.approx(seeded(w, x), rel=1e-13)


def test_numpys_module_functions_draw_from_its_global_generator():
    w = np.array([0.5, -1.0, 2.0])
    np.random.seed(4)
    value, grad = symdiff.value_and_grad(module_draws)(w)
    np.random.seed(4)
    assert value == pytest.approx(module_draws(w), rel=1e-13)
    np.random.seed(4)
    z, n, u = np.random.randn(3), np.random.normal(0.5, 2.0), np.random.rand(2)
    np.testing.assert_allclose(grad, z + np.array([n, 0, 0]) + np.r_[u, 0], rtol=1e-13)


def draw_under_a_condition(w):
    if np.sum(w) > 0:
        w = w + RS.randn(2)
    return np.sum(w ** 2)


def draw_in_a_loop(w):
    for _ in range(w.shape[0]):
        w = w * RS.randn(2)
    return np.sum(w)


def test_a_loop_draws_on_each_iteration_as_numpy_does():
    w = np.array([0.5, -1.5])
    RS.seed(8)
    value, grad = symdiff.value_and_grad(draw_in_a_loop)(w)
    RS.seed(8)
    first, second = RS.randn(2), RS.randn(2)
    assert value == pytest.approx(np.sum(w * first * second), rel=1e-13)
    np.testing.assert_allclose(grad, first * second, rtol=1e-13)


def unsupported_distribution(w): return np.sum(w * RS.exponential(size=2))


def draw_from_an_argument(w, rng): return np.sum(w * rng.standard_normal(2))


@pytest.mark.parametrize("fun, message", [
    (draw_under_a_condition, "under a condition on data"),
    (unsupported_distribution, "exponential\\(\\) draws are not supported"),
])
def test_draws_that_cannot_match_numpy_are_refused_at_their_line(fun, message):
    with pytest.raises(SymdiffError, match=f"test_random_draws.py:\\d+:\\d+: .*{message}"):
        symdiff.grad(fun)(np.ones(2))


def test_a_generator_argument_is_refused_saying_what_to_do():
    with pytest.raises(symdiff.ArgumentError, match="'rng' is a random number generator"):
        symdiff.grad(draw_from_an_argument)(np.ones(2), np.random.default_rng(1))


def test_vjp_draws_too():
    w, x = np.array([0.3, -0.2]), np.ones((3, 2))
    out, products = symdiff.vjp(seeded, w, x)
    gw, gx = products(2.0)
    assert out == pytest.approx(seeded(w, x), rel=1e-13)
    expected = symdiff.grad(seeded, (0, 1), backend="numpy")(w, x)
    np.testing.assert_allclose(gw, 2 * expected[0], rtol=1e-13)
    np.testing.assert_allclose(gx, 2 * expected[1], rtol=1e-13)


def through_a_helper(w):
    return np.sum(drawing_helper.noisy(w) ** 2)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_vjp_products_use_the_numbers_the_value_was_computed_with(backend):
    """As a recorded forward pass: every product uses the draws of ``out``, and leaves the
    generators where the plain call left them."""
    params, data = np.array([0.1, -0.3, 0.2, -0.5]), np.ones((5, 3))
    RS.seed(4)
    out, products = symdiff.vjp(elbo, params, data, backend=backend)
    after = RS.get_state()
    first, second = products(1.0), products(3.0)
    assert RS.get_state()[1].tolist() == after[1].tolist()
    noise = np.random.RandomState(4).randn(5, 2)
    assert out == pytest.approx(elbo_with_noise(params, data, noise), rel=1e-13)
    expected = symdiff.grad(elbo_with_noise, (0, 1), backend="numpy")(params, data, noise)
    for g, e in zip(first, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    np.testing.assert_allclose(second[0], 3 * first[0], rtol=1e-12)


def test_vjp_of_draws_it_cannot_replay_is_refused():
    out, products = symdiff.vjp(through_a_helper, np.ones(3), backend="numpy")
    with pytest.raises(symdiff.ArgumentError, match="reaches through another function's module"):
        products(1.0)


def test_tools_that_do_not_draw_yet_say_so():
    w, x = np.array([0.3, -0.2]), np.ones((3, 2))
    with pytest.raises(SymdiffError, match="draw them outside the function and pass them"):
        symdiff.explain(seeded, w, x)


def _noise_differences(params, data, noise, direction, eps=1e-6):
    """Central differences of the gradient with the noise passed, along ``direction``."""
    g = symdiff.grad(elbo_with_noise, backend="numpy")
    return (g(params + eps * direction, data, noise) -
            g(params - eps * direction, data, noise)) / (2 * eps)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_forward_mode_draws_on_each_call(backend):
    data = np.random.default_rng(1).standard_normal((6, 3))
    params, v = np.array([0.1, -0.2, 0.3, -0.4]), np.array([1.0, 0.5, -2.0, 0.25])
    for rows in (6, 1):
        RS.seed(3)
        out, tangent = symdiff.jvp(elbo, (params, data[:rows]),
                                   (v, np.zeros((rows, 3))), backend=backend)
        after = RS.randn()
        RS.seed(3)
        noise = RS.randn(rows, 2)
        assert RS.randn() == after  # drawn once, as the function draws
        assert out == pytest.approx(elbo_with_noise(params, data[:rows], noise), rel=1e-13)
        expected = symdiff.grad(elbo_with_noise, backend="numpy")(params, data[:rows], noise)
        assert tangent == pytest.approx(expected @ v, rel=1e-12)
        RS.seed(3)
        hvp = symdiff.jvp(symdiff.grad(elbo, backend=backend), (params, data[:rows]),
                          (v, np.zeros((rows, 3))), backend=backend)[1]
        np.testing.assert_allclose(hvp, _noise_differences(params, data[:rows], noise, v),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_hessian_draws_once_for_all_its_columns(backend):
    data = np.random.default_rng(2).standard_normal((5, 3))
    params = np.array([0.3, 0.1, -0.5, 0.2])
    RS.seed(9)
    h = symdiff.hessian(elbo, backend=backend)(params, data)
    after = RS.randn()
    RS.seed(9)
    noise = RS.randn(5, 2)
    assert RS.randn() == after
    columns = [_noise_differences(params, data, noise, e) for e in np.eye(4)]
    np.testing.assert_allclose(h, np.stack(columns, axis=1), rtol=1e-6, atol=1e-6)


def noisy_scaling(w):
    return RS.randn(3) * w


def test_jacrev_of_a_drawing_function_is_refused_and_jacfwd_draws_once():
    with pytest.raises(symdiff.ArgumentError, match="jacfwd draws them once"):
        symdiff.jacrev(noisy_scaling, backend="numpy")(np.ones(3))
    RS.seed(1)
    jacobian = symdiff.jacfwd(noisy_scaling, backend="numpy")(np.ones(3))
    RS.seed(1)
    np.testing.assert_allclose(jacobian, np.diag(RS.randn(3)), rtol=1e-15)
