"""Every example of the seed documents, with their numbers."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff

X = np.array([[0.8, 0.6, 0.2], [1.8, 1.3, 1.1]])
Y = np.array([[0.11, 3.3, 1.1], [1.1, 0.2, 1.4], [1.1, 2.2, 0.3]])


def matmul_net(x, y, z):
    """Seed 001's Net: out = matmul(x * z, y), with the default sensitivity of ones."""
    out = np.matmul(x * z, y)
    return np.sum(out)


def matmul_stopped(x, y):
    out1 = np.matmul(x, y)
    out2 = np.matmul(x, y)
    out2 = symdiff.stop_gradient(out2)
    out = out1 + out2
    return np.sum(out)


def matmul_not_stopped(x, y):
    out1 = np.matmul(x, y)
    out2 = np.matmul(x, y)
    out = out1 + out2
    return np.sum(out)


def test_seed001_gradient_with_respect_to_x():
    dx = symdiff.grad(matmul_net)(X, Y, np.array([1.0]))
    np.testing.assert_allclose(dx, [[4.51, 2.7, 3.6], [4.51, 2.7, 3.6]], rtol=1e-12)


def test_seed001_gradient_with_respect_to_all_inputs():
    dx, dy = symdiff.grad(matmul_net, (0, 1))(X, Y, np.array([1.0]))
    np.testing.assert_allclose(dx, [[4.51, 2.7, 3.6]] * 2, rtol=1e-12)
    np.testing.assert_allclose(dy, [[2.6] * 3, [1.9] * 3, [1.3] * 3], rtol=1e-12)


@pytest.mark.parametrize("z", [np.array([1.0]), 1.0])
def test_seed001_gradient_with_respect_to_the_weight(z):
    dz = symdiff.grad(matmul_net, wrt="z")(X, Y, z)
    np.testing.assert_allclose(dz, 21.536, rtol=1e-12)
    assert np.shape(dz) == np.shape(z)
    assert isinstance(dz, float) == isinstance(z, float)


def test_seed001_stop_gradient():
    dx = symdiff.grad(matmul_stopped)(X, Y)
    np.testing.assert_allclose(dx, [[4.51, 2.7, 3.6]] * 2, rtol=1e-12)
    doubled = symdiff.grad(matmul_not_stopped)(X, Y)
    np.testing.assert_allclose(doubled, [[9.02, 5.4, 7.2]] * 2, rtol=1e-12)


def seed002_mean_square(x):
    y = x * x
    z = y.mean()
    return z


def test_seed002_mean_of_squares():
    dx = symdiff.grad(seed002_mean_square)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(dx, [2 / 3, 4 / 3, 2.0], rtol=1e-12)
    np.testing.assert_allclose(np.round(dx, 4), [0.6667, 1.3333, 2.0])


def seed002_model(x, w, b):
    return 1 / (np.exp(-(w * x + b)) + 1)


def test_seed002_sigmoid_model():
    gx, gw, gb = symdiff.grad(seed002_model, (0, 1, 2))(1.0, 0.0, 0.0)
    assert (gx, gw, gb) == (0.0, 0.25, 0.25)
    assert all(isinstance(g, float) for g in (gx, gw, gb))


def seed003_product(a, b):
    c = a * symdiff.stop_gradient(b)
    return c


def test_seed003_stop_gradient_on_b():
    ga, gb = symdiff.grad(seed003_product, (0, 1))(2.0, 5.0)
    assert ga == 5.0
    assert gb == 0.0


def seed000_function(x, y, w, b):
    z = np.matmul(x, w) + b
    return symdiff.nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))


def test_seed000_binary_cross_entropy_with_logits():
    rng = np.random.default_rng(0)
    x, y = np.ones(5), np.zeros(3)
    w, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    gw, gb = symdiff.grad(seed000_function, (2, 3))(x, y, w, b)
    assert gw.shape == (5, 3) and gb.shape == (3,)
    sigmoid = 1 / (1 + np.exp(-(x @ w + b)))
    np.testing.assert_allclose(gb, (sigmoid - y) / 3, rtol=1e-12)
    np.testing.assert_allclose(gw, np.outer(x, (sigmoid - y) / 3), rtol=1e-12)
    symdiff.check_grad(seed000_function, x, y, w, b, argnums=(2, 3))


def jax_tanh(x):
    return np.tanh(x)


def test_jax_documented_tanh_derivative():
    assert round(symdiff.grad(jax_tanh)(0.2), 6) == 0.961043
