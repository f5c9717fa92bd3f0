"""Functions beyond the corpus that the array_api backend writes in the standard's terms:
loops with tapes, linear algebra, branches, orderings and gathers, NumPy functions that the
standard lacks (written as helpers)."""

import numpy as np

import symdiff


def loop(x, w):
    h = x
    for _ in range(3):
        h = np.tanh(w @ h)
    return np.sum(h ** 2)


def linear_algebra(a, x):
    m = a @ a.T + np.eye(3)
    return np.sum(np.linalg.solve(m, x)) + np.linalg.slogdet(m)[1] + \
        np.sum(np.linalg.inv(a + 3 * np.eye(3)))


def branches(x):
    return np.sum(np.where(x < 1, x, np.sqrt(x))) + np.sum(np.maximum(x, 0.0)) + \
        np.sum(symdiff.nn.sigmoid(x))


def ordering(x, a):
    i = np.argsort(x)
    return np.sum(np.take_along_axis(a, np.argsort(a, axis=1), axis=1) * np.arange(3)) + \
        np.sum(x[i] * np.arange(4)) + np.sum(np.sort(x)[1:] ** 2)


def gathers(x, a):
    i = np.array([0, 2, -1, 0])
    return np.sum(x[i] ** 2) + np.sum(a[:, [1, 0]] ** 2) + np.sum(np.cumsum(x) * x)


def not_in_the_standard(x):
    return np.sum(np.fmax(x, 0.5) + np.cbrt(x) + np.sinc(x) + np.heaviside(x, 0.5) * x +
                  np.mean(x > 0) * x)


def refused(x):
    return np.sum(np.cumprod(x))
