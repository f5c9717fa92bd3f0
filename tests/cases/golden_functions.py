"""Functions whose generated gradients are kept as golden files in tests/golden/."""

import numpy as np

import symdiff
from symdiff import nn


def bce_layer(x, y, w, b):
    z = np.matmul(x, w) + b
    return nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))


def mean_of_squares(x):
    y = x * x
    z = y.mean()
    return z


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def mlp(x, y, w1, b1, w2, b2):
    h = nn.sigmoid(x @ w1 + b1)
    z = h @ w2 + b2
    return nn.binary_cross_entropy_with_logits(z, y)


def softmax_cross_entropy(logits, labels):
    return nn.cross_entropy(logits, labels)


def piecewise(x):
    return np.sum(np.where(x < 1, x, np.sqrt(x)))


def logistic_regression(X, y, w):
    margins = X @ w
    return np.mean(nn.softplus(margins) - y * margins)


def damped_wave(x):
    return np.sum(np.sin(x) * np.exp(-x ** 2) / (1 + x ** 2))


def stopped(x, y):
    out = np.matmul(x, y) + symdiff.stop_gradient(np.matmul(x, y))
    return np.sum(out)


rng = np.random.default_rng(0)
CASES = {
    "bce_layer": (bce_layer, (np.ones(5), np.zeros(3), rng.standard_normal((5, 3)),
                              rng.standard_normal(3)), (2, 3)),
    "mean_of_squares": (mean_of_squares, (np.array([1.0, 2.0, 3.0]),), 0),
    "rosenbrock": (rosenbrock, (rng.standard_normal(10),), 0),
    "mlp": (mlp, (rng.standard_normal((8, 4)), rng.integers(0, 2, (8, 1)).astype(float),
                  rng.standard_normal((4, 6)), np.zeros(6), rng.standard_normal((6, 1)),
                  np.zeros(1)), (2, 3, 4, 5)),
    "softmax_cross_entropy": (softmax_cross_entropy, (rng.standard_normal((6, 3)),
                                                      rng.integers(0, 3, 6)), 0),
    "piecewise": (piecewise, (np.array([0.0, 0.5, 4.0]),), 0),
    "logistic_regression": (logistic_regression, (rng.standard_normal((7, 3)),
                                                  rng.integers(0, 2, 7).astype(float),
                                                  rng.standard_normal(3)), 2),
    "damped_wave": (damped_wave, (rng.standard_normal(9),), 0),
    "stopped": (stopped, (rng.standard_normal((2, 3)), rng.standard_normal((3, 3))), 0),
}
