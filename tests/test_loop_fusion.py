"""Adjacent loops over one range fused in compiled code, only where that computes the same."""

import libcst as cst
import numpy as np
import pytest

import symdiff
from symdiff.codegen.fusion import fuse_loops


def fused(source: str) -> str:
    module = cst.parse_module(source)
    return module.with_changes(body=fuse_loops(list(module.body))).code


def loop_count(source: str) -> int:
    return sum(line.lstrip().startswith("for ") and line.startswith("for ")
               for line in source.splitlines())


ROW_READ = """
a = np.empty(n)
for i in range(n):
    a[i] = x[i] * 2
b = np.empty(n)
for i in range(n):
    b[i] = a[i] + 1
"""

SHIFTED_READ = """
a = np.empty(n)
for i in range(n):
    a[i] = x[i] * 2
b = np.empty(n - 1)
for i in range(n - 1):
    b[i] = a[i + 1]
"""

VIEW_READ = """
a = np.zeros(n + 1)
v = a[1:]
for i in range(n):
    a[i] = x[i] * 2
for i in range(n):
    y[i] = v[i]
"""

ACCUMULATOR_READ = """
total = 0.0
for i in range(n):
    total += x[i]
mean = total / n
for i in range(n):
    y[i] = x[i] - mean
"""

SCATTERS = """
g = np.zeros(n + 1)
for i in range(n):
    g[i] += x[i]
for i in range(n):
    g[i + 1] += 2 * x[i]
"""

SCATTER_THEN_READ = """
g = np.zeros(n + 1)
for i in range(n):
    g[i + 1] += x[i]
for i in range(n):
    y[i] = g[i]
"""

SHARED_TEMPORARY = """
for i in range(n):
    t = x[i] * 2
    y[i] = t
for i in range(n):
    t = x[i] + 1
    z[i] = t
"""

CARRIED = """
t = 0.0
for i in range(n):
    t = t + x[i]
    y[i] = t
for i in range(n):
    t = x[i]
    z[i] = t
"""

RANGE_CHANGED = """
for i in range(n):
    y[i] = x[i]
n = n - 1
for i in range(n):
    z[i] = x[i]
"""


HELPER_RESULT = """
a = np.zeros(n)
v = same(a)
for i in range(n):
    a[i] = x[i] * 2
for i in range(n):
    y[i] = v[n - 1 - i]
"""

NEW_ARRAY = """
a = np.zeros(n) + 1
c = a * 2.0
for i in range(n):
    a[i] = x[i] * 2
for i in range(n):
    y[i] = c[n - 1 - i] + a[i]
"""


@pytest.mark.parametrize("source, loops", [
    (ROW_READ, 1), (SHIFTED_READ, 2), (VIEW_READ, 2), (ACCUMULATOR_READ, 2), (SCATTERS, 1),
    (SCATTER_THEN_READ, 2), (SHARED_TEMPORARY, 1), (CARRIED, 2), (RANGE_CHANGED, 2),
    (HELPER_RESULT, 2), (NEW_ARRAY, 1)],
    ids=["row-read", "shifted-read", "view-read", "accumulator-read", "scatters",
         "scatter-then-read", "shared-temporary", "carried", "range-changed", "helper-result",
         "new-array"])
def test_loops_fuse_only_when_the_values_stay(source, loops):
    out = fused(source)
    assert loop_count(out) == loops, out
    x = np.linspace(-1.0, 2.0, 7)
    before, after = ({"np": np, "x": x, "n": 7, "same": lambda a: a} for _ in range(2))
    for scope in (before, after):
        scope.update(y=np.zeros(7), z=np.zeros(7))
    exec(source, before)
    exec(out, after)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_allclose(after[name], value, rtol=1e-15, atol=0, err_msg=name)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def centred(x):
    return np.sum((x - np.mean(x)) ** 2 * np.exp(x[::-1]))


@pytest.mark.parametrize("fun", [rosenbrock, centred])
@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_fused_gradients_agree_with_numpy_and_differences(fun, n):
    x = np.cos(np.arange(n) * 1.7) + 0.3
    value, grad = symdiff.value_and_grad(fun, backend="numba")(x)
    reference_value, reference = symdiff.value_and_grad(fun, backend="numpy")(x)
    np.testing.assert_allclose(value, reference_value, rtol=1e-13)
    np.testing.assert_allclose(grad, reference, rtol=1e-12, atol=1e-13)
    step = 1e-6
    differences = [(fun(x + step * e) - fun(x - step * e)) / (2 * step) for e in np.eye(n)]
    np.testing.assert_allclose(grad, differences, rtol=1e-6, atol=1e-8)


def test_rosenbrock_value_and_gradient_in_one_pass():
    g = symdiff.value_and_grad(rosenbrock, backend="numba")
    g(np.ones(4))
    code = g.source[g.source.index("def value_and_grad"):]
    assert code.count("for _i0 in range") == 1, code
