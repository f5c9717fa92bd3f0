"""Functions with branches and loops, with the arguments each is checked at.

Most loops here are short enough to be written out while generating (constants, static
arguments, tuples); those over an argument's length run in the generated code;
conditions may depend on data. Points are away from kinks, where finite differences disagree
with any derivative.
"""

import math

import numpy as np


def relu_like(x):
    if x > 0:
        y = x * 2.0
    else:
        y = -x * 0.5
    return y ** 2


def early_return(x):
    if x > 1.0:
        return np.log(x)
    return x - 1.0


def guarded_sqrt(x):
    if x < 0.0:
        return 0.0 * x
    return np.sqrt(x)


def three_pieces(x):
    if x < -1.0:
        y = -2.0 * x - 1.0
    elif x < 1.0:
        y = x ** 2
    else:
        y = 2.0 * x - 1.0
    return y * np.exp(-0.1 * x)


def nested_branches(x, y):
    if x > 0:
        if y > 0:
            z = x * y
        else:
            z = x - y
    else:
        z = np.sin(x) + y ** 2
    return z


def huber(r, delta=1.0):
    total = 0.0
    for i in range(3):
        a = np.abs(r[i])
        if a < delta:
            total = total + 0.5 * a ** 2
        else:
            total = total + delta * (a - 0.5 * delta)
    return total


def reduction_option(x, reduction="mean"):
    if reduction == "mean":
        return np.mean(x ** 2)
    return np.sum(x ** 2)


def iterated_power(x):
    y = x
    for _ in range(4):
        y = y * x
    return y


def newton_sqrt(a):
    x = a
    for _ in range(6):
        x = 0.5 * (x + a / x)
    return x


def newton_until_converged(a):
    x = a
    for _ in range(8):
        x_new = 0.5 * (x + a / x)
        if np.abs(x_new - x) < 1e-3:
            break
        x = x_new
    return x


def horner(x, coefficients=(0.5, -2.0, 3.0, 1.0)):
    y = 0.0
    for c in coefficients:
        y = y * x + c
    return y


def horner_array(c, x, degree):
    y = c[0]
    for k in range(1, degree + 1):
        y = y * x + c[k]
    return y


def cumulative_sum(x, n):
    s = 0.0
    total = 0.0
    for i in range(n):
        s = s + x[i]
        total = total + s ** 2
    return total


def accumulate(x):
    s = 0.0
    for i in range(3):
        s += x[i] ** 2
    return s


def double_loop(a, n):
    total = 0.0
    for i in range(n):
        for j in range(n):
            total = total + a[i, j] * (i - j) ** 2
    return total


def while_counter(x):
    i = 0
    y = x
    while i < 3:
        y = np.sin(y) + 0.5 * y
        i += 1
    return y


def skip_large(x):
    s = 0.0
    for i in range(5):
        v = x * i
        if v > 2.0:
            continue
        s = s + v ** 2
    return s


def running_max(x):
    m = x[0]
    for i in range(1, 4):
        if x[i] > m:
            m = x[i]
    return m ** 2


def first_above(x, threshold=0.5):
    for i in range(4):
        if x[i] > threshold:
            return x[i] * 3.0
    return np.sum(x)


def fill_array(x):
    y = np.zeros(3)
    y[0] = x[0] * 2
    y[1:] = x[1:] ** 2
    y[2] += 1.0
    return np.sum(y * y)


def scatter_loop(x, w):
    out = np.zeros(4)
    for i in range(4):
        out[i] += x[i] * w
    return np.sum(np.sin(out))


def recurrent_cell(W, U, xs, h0, steps):
    h = h0
    for t in range(steps):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h ** 2)


def recurrent_history(W, xs, h0, steps):
    h = np.zeros((steps + 1, 3))
    h[0] = h0
    for t in range(steps):
        h[t + 1] = np.tanh(W @ h[t] + xs[t])
    return np.sum(h[1:] ** 2)


def euler(k, x0, steps=20, dt=0.05):
    x = x0
    t = 0.0
    for _ in range(steps):
        x = x + dt * (-k * x + np.sin(t))
        t = t + dt
    return x


def midpoint(k, x0, steps=10, dt=0.1):
    x = x0
    for _ in range(steps):
        half = x + 0.5 * dt * (-k * x ** 3)
        x = x + dt * (-k * half ** 3)
    return x


def fixed_point_cosine(x):
    y = x
    for _ in range(8):
        y = np.cos(y) * 0.5 + 0.5 * x
    return y


def zipped(a, b):
    total = 0.0
    for i, j in zip(range(3), (2, 1, 0), strict=True):
        total = total + a[i] * b[j]
    return total


def enumerated(x, weights=(1.0, 0.5, 0.25)):
    total = 0.0
    for i, w in enumerate(weights):
        total = total + w * x[i] ** (i + 1)
    return total


def loop_else(x):
    y = x
    for i in range(3):
        y = y * 1.5
        if i > 5:
            break
    else:
        y = y + 1.0
    return y ** 2


def while_with_break(x):
    i = 0
    y = x
    while i < 6:
        y = 0.5 * y + np.tanh(y)
        if y > 1.5:
            break
        i += 1
    return y


def sign_switch(x):
    total = 0.0
    for i in range(3):
        if np.sum(x) * (i - 1) > 0:
            total = total + np.sum(np.exp(0.1 * x))
        else:
            total = total - np.sum(x ** 2)
    return total


def horner_by_length(c, x):
    y = 0.0
    for k in range(len(c)):
        y = y * x + c[k]
    return y


def running_sums(x):
    s = 0.0
    total = 0.0
    for v in x:
        s = s + v
        total = total + s ** 2
    return total


def recurrent_over_inputs(W, U, xs, h0):
    h = np.zeros((xs.shape[0] + 1, h0.shape[0]))
    h[0] = h0
    for t in range(xs.shape[0]):
        h[t + 1] = np.tanh(W @ h[t] + U @ xs[t])
    return np.sum(h[-1] ** 2)


def head_or_all(x):
    if x.shape[0] > 3:
        y = x[:3]
    else:
        y = x
    return np.sum(y ** 2)


def count_up(x):
    i = 0
    s = 0.0
    while i < x.shape[0]:
        s = s + x[i] ** 3
        i += 1
    return s


def scaled_by_size(x):
    if x.shape[0] > 3:
        return np.sum(x) * 2.0
    return np.sum(x ** 2)


def math_loop(x):
    y = x
    for k in range(3):
        y = y + math.sin(y) / (k + 1)
    return y


FUNCTIONS = {
    "relu_like": [(1.3,), (-0.7,)],
    "early_return": [(2.5,), (0.5,)],
    "guarded_sqrt": [(-1.0,), (4.0,)],
    "three_pieces": [(-2.0,), (0.3,), (1.7,)],
    "nested_branches": [(0.5, 1.5), (0.5, -1.5), (-0.5, 0.3)],
    "huber": [(np.array([0.3, -2.0, 0.7]),)],
    "reduction_option": [(np.array([0.3, -2.0, 0.7]),), (np.array([0.3, -2.0]), "sum")],
    "iterated_power": [(1.1,)],
    "newton_sqrt": [(2.0,)],
    "newton_until_converged": [(2.0,), (9.0,)],
    "horner": [(0.7,)],
    "horner_array": [(np.array([1.0, -2.0, 0.5, 3.0]), 0.8, 3)],
    "cumulative_sum": [(np.array([0.4, -1.1, 0.7, 2.0]), 4)],
    "accumulate": [(np.array([0.4, -1.1, 0.7]),)],
    "double_loop": [(np.arange(9.0).reshape(3, 3) / 7 - 0.5, 3)],
    "while_counter": [(0.3,)],
    "skip_large": [(0.7,)],
    "running_max": [(np.array([0.1, 0.9, -0.3, 0.5]),)],
    "first_above": [(np.array([0.1, 0.9, -0.3, 0.5]),), (np.array([0.1, 0.2, -0.3, 0.4]),)],
    "fill_array": [(np.array([0.3, -1.2, 0.8]),)],
    "scatter_loop": [(np.array([0.3, -1.2, 0.8, 0.1]), 0.7)],
    "recurrent_cell": [(np.eye(3) * 0.5 + 0.1, np.full((3, 2), 0.2),
                        np.linspace(-1, 1, 20).reshape(10, 2), np.array([0.1, -0.2, 0.3]), 10)],
    "recurrent_history": [(np.eye(3) * 0.4 - 0.1, np.linspace(-1, 1, 15).reshape(5, 3),
                           np.array([0.1, -0.2, 0.3]), 5)],
    "euler": [(0.8, 1.2)],
    "midpoint": [(0.5, 0.9)],
    "fixed_point_cosine": [(0.4,)],
    "zipped": [(np.array([0.5, 1.0, -2.0]), np.array([1.5, -0.5, 0.2]))],
    "enumerated": [(np.array([0.5, -1.5, 2.0]),)],
    "loop_else": [(0.8,)],
    "while_with_break": [(0.2,), (-2.0,)],
    "sign_switch": [(np.array([0.3, 0.4]),), (np.array([-0.3, -0.4]),)],
    "math_loop": [(0.6,)],
    "head_or_all": [(np.linspace(0.1, 1.0, 2),), (np.linspace(0.1, 1.0, 5),)],
    "count_up": [(np.linspace(0.1, 1.0, 2),), (np.linspace(0.1, 1.0, 5),)],
    "scaled_by_size": [(np.linspace(0.1, 1.0, 2),), (np.linspace(0.1, 1.0, 5),)],
    "horner_by_length": [(np.array([1.0, -2.0, 0.5]), 0.8), (np.array([1.0, -2.0, 0.5, 3.0]), 0.8)],
    "running_sums": [(np.array([0.4, -1.1, 0.7, 2.0]),), (np.array([0.4, -1.1]),)],
    "recurrent_over_inputs": [(np.eye(3) * 0.5 + 0.1, np.full((3, 2), 0.2),
                               np.linspace(-1, 1, 12).reshape(6, 2), np.array([0.1, -0.2, 0.3]))],
}
