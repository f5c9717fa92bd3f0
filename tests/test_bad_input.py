"""Bad input at call time: each case raises a clear symdiff error, never a deep traceback.

Source-level cases (unsupported syntax and calls, with file:line:col) are in test_errors.py;
together they form the bad-input corpus counted in docs/reliability.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import symdiff
from symdiff import ArgumentError, SizeError, SymdiffError, UnsupportedError


def product(x, y):
    return np.sum(x * y)


def linear(X, w):
    return np.sum(X @ w)


def vector(x):
    return x * 2.0


def not_a_pair(x):
    return np.sum(x)


def dict_aux(x):
    return np.sum(x), {"x": x}


def finite(x):
    return np.sum(x ** 2)


ONES = np.ones(3)
CASES = {
    "too few arguments": (lambda: symdiff.grad(product)(ONES), ArgumentError, "missing"),
    "too many arguments": (lambda: symdiff.grad(product)(ONES, ONES, ONES), ArgumentError,
                           "too many"),
    "unknown keyword": (lambda: symdiff.grad(product)(ONES, ONES, z=ONES), ArgumentError,
                        "unexpected keyword"),
    "a tuple of arrays used as an array": (
        lambda: symdiff.grad(product, 1)(ONES, (ONES, ONES)), UnsupportedError,
        "expected an array or a number, got a tuple of 2 values"),
    "a dict argument used as an array": (lambda: symdiff.grad(product, 0)(ONES, {"a": 1}),
                                         UnsupportedError, "expected an array or a number, "
                                         "got dict"),
    "an integer array": (lambda: symdiff.grad(product)(np.ones(3, int), ONES), ArgumentError,
                         "integer array"),
    "a boolean array": (lambda: symdiff.grad(product)(np.ones(3, bool), ONES), ArgumentError,
                        "boolean array"),
    "a complex array": (lambda: symdiff.grad(product)(np.ones(3, complex), ONES),
                        ArgumentError, "complex array"),
    "a Python int": (lambda: symdiff.grad(product)(3, ONES), ArgumentError, "int 3"),
    "mismatched sizes": (lambda: symdiff.grad(product)(ONES, np.ones(4)), SizeError,
                         r"test_bad_input.py:\d+:\d+: shapes \(3,\), \(4,\) cannot be broadcast"),
    "mismatched inner sizes": (lambda: symdiff.grad(linear)(np.ones((2, 3)), np.ones(4)),
                               SizeError, "inner dimensions 3 and 4 differ"),
    "argnums out of range": (lambda: symdiff.grad(product, 2), ArgumentError, "out of range"),
    "argnums repeated": (lambda: symdiff.grad(product, (0, 0)), ArgumentError, "twice"),
    "has_aux without a pair": (lambda: symdiff.grad(not_a_pair, has_aux=True)(ONES),
                               UnsupportedError, "pair"),
    "non-scalar output": (lambda: symdiff.grad(vector)(ONES), UnsupportedError,
                          "scalar output"),
    "a dict in aux": (lambda: symdiff.grad(dict_aux, has_aux=True)(ONES), UnsupportedError,
                      "dict expressions are not supported"),
    "NaN input to check_grad": (lambda: symdiff.check_grad(finite, np.array([np.nan])),
                                ArgumentError, "NaN"),
    "inf input to check_grad": (lambda: symdiff.check_grad(finite, np.array([np.inf])),
                                ArgumentError, "NaN or inf"),
    "unknown backend": (lambda: symdiff.grad(product, backend="tpu"), ArgumentError,
                        "not available"),
    "a builtin function": (lambda: symdiff.grad(math.sin), SymdiffError, "Python function"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_a_clear_error(name):
    call, error, text = CASES[name]
    with pytest.raises(error, match=text):
        call()


def test_float16_on_numba_is_refused_by_name():
    x = np.ones(3, dtype=np.float16)
    np.testing.assert_allclose(symdiff.grad(float16_loss, backend="numpy")(x), 2 * x)
    with pytest.raises(symdiff.ArgumentError, match="'x' is a float16 array, which Numba"):
        symdiff.grad(float16_loss, backend="numba")(x)


def float16_loss(x):
    return np.sum(x ** 2)
