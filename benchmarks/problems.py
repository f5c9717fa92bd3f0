"""The benchmark problems: symdiff's source, and hand-written NumPy and fused Numba gradients.

Each problem gives ``data(quick)``, the loss as plain NumPy (what symdiff reads), the positions
to differentiate, and hand-written ``value_and_grad`` functions that every method is checked
against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from symdiff import nn


@dataclass
class Problem:
    key: str
    title: str
    data: Callable[[bool], tuple]
    loss: Callable
    argnums: tuple[int, ...]
    numpy_vg: Callable
    numba_vg: Callable
    jax_loss: Callable | None = None  # written with jax.numpy, built lazily


# --- P1: seed 000's BCE-with-logits layer (call overhead) -------------------------------------

def p1_loss(x, y, w, b):
    z = np.matmul(x, w) + b
    return nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))


def p1_data(quick):
    rng = np.random.default_rng(0)
    return np.ones(5), np.zeros(3), rng.standard_normal((5, 3)), rng.standard_normal(3)


def p1_numpy(x, y, w, b):
    z = x @ w + b
    value = np.mean(np.logaddexp(0.0, z) - y * z)
    dz = (np.exp(-np.logaddexp(0.0, -z)) - y) / z.size
    return value, (np.outer(x, dz), dz)


@numba.njit(cache=True)
def p1_numba(x, y, w, b):
    n, m = w.shape
    gw = np.empty((n, m))
    gb = np.empty(m)
    total = 0.0
    for j in range(m):
        z = b[j]
        for i in range(n):
            z += x[i] * w[i, j]
        total += np.logaddexp(0.0, z) - y[j] * z
        gb[j] = (1.0 / (1.0 + np.exp(-z)) - y[j]) / m
        for i in range(n):
            gw[i, j] = x[i] * gb[j]
    return total / m, (gw, gb)


# --- P2: Rosenbrock ----------------------------------------------------------------------------

def p2_loss(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def p2_data(quick):
    return (np.random.default_rng(0).uniform(-1, 1, 100_000 if quick else 1_000_000),)


def p2_numpy(x):
    a, b = x[:-1], x[1:]
    r = b - a * a
    value = np.sum(100.0 * r * r + (1 - a) ** 2)
    g = np.zeros_like(x)
    g[:-1] = -400.0 * r * a - 2.0 * (1 - a)
    g[1:] += 200.0 * r
    return value, g


@numba.njit(cache=True)
def p2_numba(x):
    n = x.shape[0]
    g = np.zeros(n)
    total = 0.0
    for i in range(n - 1):
        r = x[i + 1] - x[i] * x[i]
        total += 100.0 * r * r + (1.0 - x[i]) ** 2
        g[i] += -400.0 * r * x[i] - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * r
    return total, g


# --- P3: logistic regression -------------------------------------------------------------------

def p3_loss(X, y, w):
    margins = X @ w
    return np.mean(nn.softplus(margins) - y * margins)


def p3_data(quick):
    rng = np.random.default_rng(0)
    n = 10_000 if quick else 100_000
    X = rng.standard_normal((n, 100))
    return X, (rng.random(n) < 0.5).astype(float), rng.standard_normal(100) * 0.1


def p3_numpy(X, y, w):
    m = X @ w
    value = np.mean(np.logaddexp(0.0, m) - y * m)
    return value, X.T @ ((np.exp(-np.logaddexp(0.0, -m)) - y) / len(y))


@numba.njit(cache=True)
def p3_numba(X, y, w):
    m = X @ w
    n = m.shape[0]
    d = np.empty(n)
    total = 0.0
    for i in range(n):
        total += np.logaddexp(0.0, m[i]) - y[i] * m[i]
        d[i] = (1.0 / (1.0 + np.exp(-m[i])) - y[i]) / n
    return total / n, X.T @ d


# --- P4: MLP 100-256-1 -------------------------------------------------------------------------

def p4_loss(x, y, w1, b1, w2, b2):
    h = nn.sigmoid(x @ w1 + b1)
    return nn.binary_cross_entropy_with_logits(h @ w2 + b2, y)


def p4_data(quick):
    rng = np.random.default_rng(0)
    n = 2_000 if quick else 10_000
    return (rng.standard_normal((n, 100)), (rng.random((n, 1)) < 0.5).astype(float),
            rng.standard_normal((100, 256)) * 0.1, np.zeros(256),
            rng.standard_normal((256, 1)) * 0.1, np.zeros(1))


def p4_numpy(x, y, w1, b1, w2, b2):
    h = 1.0 / (1.0 + np.exp(-(x @ w1 + b1)))
    z = h @ w2 + b2
    value = np.mean(np.logaddexp(0.0, z) - y * z)
    dz = (1.0 / (1.0 + np.exp(-z)) - y) / z.size
    dh = (dz @ w2.T) * h * (1 - h)
    return value, (x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0))


@numba.njit(cache=True)
def p4_numba(x, y, w1, b1, w2, b2):
    a = x @ w1
    n, k = a.shape
    h = np.empty((n, k))
    for i in range(n):
        for j in range(k):
            h[i, j] = 1.0 / (1.0 + np.exp(-(a[i, j] + b1[j])))
    z = h @ w2
    dz = np.empty((n, 1))
    total = 0.0
    for i in range(n):
        zi = z[i, 0] + b2[0]
        total += np.logaddexp(0.0, zi) - y[i, 0] * zi
        dz[i, 0] = (1.0 / (1.0 + np.exp(-zi)) - y[i, 0]) / n
    dh = np.empty((n, k))
    gb1 = np.zeros(k)
    for i in range(n):
        for j in range(k):
            dh[i, j] = dz[i, 0] * w2[j, 0] * h[i, j] * (1.0 - h[i, j])
            gb1[j] += dh[i, j]
    return total / n, (x.T @ dh, gb1, h.T @ dz, np.array([dz.sum()]))


# --- P5: softmax cross-entropy -----------------------------------------------------------------

def p5_loss(X, labels, W):
    return nn.cross_entropy(X @ W, labels)


def p5_data(quick):
    rng = np.random.default_rng(0)
    n = 2_000 if quick else 10_000
    return rng.standard_normal((n, 100)), rng.integers(0, 10, n), rng.standard_normal((100, 10))


def p5_numpy(X, labels, W):
    logits = X @ W
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    n = len(labels)
    value = np.mean(np.log(s[:, 0]) - shifted[np.arange(n), labels])
    p = e / s
    p[np.arange(n), labels] -= 1.0
    return value, X.T @ (p / n)


@numba.njit(cache=True)
def p5_numba(X, labels, W):
    logits = X @ W
    n, c = logits.shape
    d = np.empty((n, c))
    total = 0.0
    for i in range(n):
        m = logits[i, 0]
        for j in range(1, c):
            m = max(m, logits[i, j])
        s = 0.0
        for j in range(c):
            d[i, j] = np.exp(logits[i, j] - m)
            s += d[i, j]
        total += np.log(s) + m - logits[i, labels[i]]
        for j in range(c):
            d[i, j] = d[i, j] / s / n
        d[i, labels[i]] -= 1.0 / n
    return total / n, X.T @ d


# --- P6: a damped wave -------------------------------------------------------------------------

def p6_loss(x):
    return np.sum(np.sin(x) * np.exp(-x ** 2) / (1 + x ** 2))


def p6_data(quick):
    return (np.random.default_rng(0).uniform(-3, 3, 100_000 if quick else 1_000_000),)


def p6_numpy(x):
    s, e, q = np.sin(x), np.exp(-x * x), 1.0 / (1.0 + x * x)
    value = np.sum(s * e * q)
    g = e * q * (np.cos(x) - 2 * x * s - 2 * x * s * q)
    return value, g


@numba.njit(cache=True)
def p6_numba(x):
    g = np.empty_like(x)
    total = 0.0
    for i in range(x.shape[0]):
        xi = x[i]
        s, e = np.sin(xi), np.exp(-xi * xi)
        q = 1.0 / (1.0 + xi * xi)
        total += s * e * q
        g[i] = e * q * (np.cos(xi) - 2.0 * xi * s * (1.0 + q))
    return total, g


PROBLEMS = [
    Problem("P1", "BCE-with-logits, w(5,3) b(3)", p1_data, p1_loss, (2, 3), p1_numpy, p1_numba),
    Problem("P2", "Rosenbrock n=1e6", p2_data, p2_loss, (0,), p2_numpy, p2_numba),
    Problem("P3", "logistic regression 1e5 x 100", p3_data, p3_loss, (2,), p3_numpy, p3_numba),
    Problem("P4", "MLP 100-256-1, N=1e4", p4_data, p4_loss, (2, 3, 4, 5), p4_numpy, p4_numba),
    Problem("P5", "softmax CE 1e4 x 100 x 10", p5_data, p5_loss, (2,), p5_numpy, p5_numba),
    Problem("P6", "sin(x)exp(-x^2)/(1+x^2), n=1e6", p6_data, p6_loss, (0,), p6_numpy, p6_numba),
]


def jax_loss(key: str) -> Callable[..., Any]:
    """The same loss in jax.numpy (JAX cannot run symdiff.nn's NumPy)."""
    import jax
    import jax.numpy as jnp

    softplus = lambda z: jnp.logaddexp(0.0, z)
    losses = {
        "P1": lambda x, y, w, b: jnp.mean(softplus(x @ w + b) - y * (x @ w + b)),
        "P2": lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
        "P3": lambda X, y, w: jnp.mean(softplus(X @ w) - y * (X @ w)),
        "P4": lambda x, y, w1, b1, w2, b2: (lambda z: jnp.mean(softplus(z) - y * z))(
            jax.nn.sigmoid(x @ w1 + b1) @ w2 + b2),
        "P5": lambda X, labels, W: -jnp.mean(jnp.take_along_axis(
            jax.nn.log_softmax(X @ W, axis=1), labels[:, None], axis=1)),
        "P6": lambda x: jnp.sum(jnp.sin(x) * jnp.exp(-x ** 2) / (1 + x ** 2)),
    }
    return losses[key]
