"""A corpus of small differentiable functions. Argument names say what to feed them:
``x``, ``y`` vectors; ``a``, ``b`` matrices; ``s``, ``t`` Python floats; ``p`` positive vectors;
``c`` a column (n, 1)."""

import math

import numpy as np

import symdiff


def helper_square(u):
    return u * u


def polynomial(x):
    return np.sum(3 * x ** 3 - x ** 2 + 2 * x + 1)


def calls_a_helper(x):
    return np.sum(helper_square(np.sin(x)) + helper_square(x))


def scalar_math(s, t):
    return math.exp(s) * math.sin(t) + math.log(1 + s * s) - math.sqrt(t * t + 1)


def mixes_scalars_and_arrays(x, s):
    return np.sum(np.tanh(s * x)) + s ** 2


def tuple_unpacking(x, y):
    u, v = x + y, x - y
    u, v = v, u
    return np.sum(u * np.exp(-v ** 2))


def augmented(x):
    y = x * 1.0
    y += 2.0
    y *= x
    y **= 2
    y /= 3.0
    y -= x
    return np.sum(y)


def method_calls(a, x):
    return a.dot(x).sum() + a.T.mean() + a.max(axis=1).sum() + x.reshape(-1, 1).sum()


def conditional_expression(x):
    return np.sum(np.where(x > 0, x ** 2, -x) + (x * 2 if x.ndim == 1 else x))


def normalised(x):
    centred = x - x.mean()
    return np.sum(centred ** 2) / x.size


def softmax_entropy(x):
    p = symdiff.nn.softmax(x)
    return -np.sum(p * symdiff.nn.log_softmax(x))


def quadratic_form(a, x):
    return x @ a @ x


def frobenius(a, b):
    return np.sum((a @ b.T) ** 2)


def column_broadcast(c, x):
    return np.sum(np.cos(c * x + c))


def logs(p):
    return np.sum(np.log(p) * np.log1p(p) + np.log2(p) - np.log10(p) + np.sqrt(p))


def trig(x):
    return np.sum(np.arctan(x) * np.cosh(x) - np.sinh(x) / (2 + np.cos(x)))


def clip_and_abs(x):
    return np.sum(np.abs(np.clip(x, -0.8, 0.8)) * x)


def keepdims_chain(a):
    m = np.max(a, axis=0, keepdims=True)
    return np.sum(np.exp(a - m) / np.sum(np.exp(a - m), axis=0, keepdims=True) * a)


def shape_driven(a):
    n = a.shape[0]
    return np.sum(a) / n + np.sum(a[n - 1]) + len(a) * np.mean(a)


def expm1_forms(x):
    return np.sum(np.exp(x) - 1 + np.log(1 + x * x))


def relu_network(a, x):
    return np.sum(symdiff.nn.relu(a @ x - 0.1) ** 2)
