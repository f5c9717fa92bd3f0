"""Functions whose loops run in the generated code, with the arguments each is checked at.

Each loop here is long (more than ``symdiff.frontend.loops.UNROLLED`` iterations), has a length
known only when the code runs, or is a ``while`` on data: the gradient is a ``for`` or
``while`` loop in the generated code and a reverse loop over a tape.
"""

import numpy as np

rng = np.random.default_rng(8)
W = 0.4 * rng.standard_normal((4, 4))
U = 0.4 * rng.standard_normal((4, 3))
XS = rng.standard_normal((100, 3))
H0 = 0.1 * rng.standard_normal(4)


def euler_scalar(x, h):
    for _ in range(400):
        x = x + h * (np.sin(x) - x ** 3)
    return x


def euler_two_states(k, x0, steps=50, dt=0.02):
    x, v = x0, 0.0
    for _ in range(steps):
        x, v = x + dt * v, v + dt * (-k * x - 0.1 * v)
    return x ** 2 + v


def recurrent_cell(W, U, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return np.sum(h ** 2)


def recurrent_history(W, U, xs, h0):
    h = np.zeros((xs.shape[0] + 1, h0.shape[0]))
    h[0] = h0
    for t in range(xs.shape[0]):
        h[t + 1] = np.tanh(W @ h[t] + U @ xs[t])
    return np.sum(h[1:] ** 2) / xs.shape[0]


def sum_of_squares(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


def int_start(x):
    s = 0
    for v in x:
        s = s + v * v
    return np.sqrt(s)


def rows_into_vector(X, w):
    s = 0.0
    for row in X:
        s = s + np.tanh(row * w)
    return np.sum(s ** 2)


def zipped_rows(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y, strict=True)):
        s = s + (i + 1) * a * b
    return s


def newton_while(a):
    x = a
    while np.abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def until_small_change(a):
    x, change = a, 1.0  # the test reads a Python float first, data after one iteration
    while change > 1e-12:
        new = np.cos(x) * 0.5 + 0.2 * a
        change = np.abs(new - x)
        x = new
    return x


def doubling_while(x):
    while x < 10.0:
        x = x * 2.0
    return x


def descent_with_break(x):
    for _ in range(200):
        step = 0.1 * (x - np.cos(x))
        x = x - step
        if np.abs(step) < 1e-10:
            break
    return x


def counter_while(x):
    i = 0
    while i < 40:
        x = 0.95 * x + 0.05 * np.sin(x)
        i += 1
    return x


def inner_static_loop(x, c=(0.5, -0.25, 0.125)):
    y = x
    for _ in range(30):
        z = 0.0
        for ck in c:
            z = z * y + ck
        y = y + 0.01 * z
    return y


def loop_in_a_branch(x):
    if x > 0.0:
        for _ in range(25):
            x = np.sqrt(x + 1.0)
    else:
        x = x * 2.0
    return x


def skip_in_loop(x):
    s = 0.0
    for v in x:
        if v < 0.0:
            continue
        s = s + v ** 3
    return s


def cumulative_products(x):
    p = 1.0
    total = 0.0
    for v in x:
        p = p * v
        total = total + p
    return total


FUNCTIONS = {
    "euler_scalar": [(0.5, 0.01), (-0.3, 0.02)],
    "euler_two_states": [(1.5, 0.8)],
    "recurrent_cell": [(W, U, XS, H0)],
    "recurrent_history": [(W, U, XS, H0)],
    "sum_of_squares": [(np.linspace(-1.0, 2.0, 25),)],
    "int_start": [(np.linspace(0.5, 2.0, 20),)],
    "rows_into_vector": [(rng.standard_normal((20, 3)), np.array([0.5, -1.0, 2.0]))],
    "zipped_rows": [(np.linspace(0.0, 1.0, 18), np.linspace(1.0, -1.0, 18))],
    "newton_while": [(2.0,), (9.5,)],
    "until_small_change": [(0.4,), (1.3,)],
    "doubling_while": [(0.7,), (3.1,)],
    "descent_with_break": [(0.2,)],
    "counter_while": [(1.2,)],
    "inner_static_loop": [(0.3,)],
    "loop_in_a_branch": [(1.5,), (-0.5,)],
    "skip_in_loop": [(np.linspace(-1.0, 1.5, 21),)],
    "cumulative_products": [(np.linspace(0.6, 1.3, 19),)],
}
