"""Checking a gradient the way a user would: the function run by NumPy itself is the reference
for the value, central finite differences in float64 for the gradient, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff import SymdiffError

CPU_BACKENDS = ("numpy", "numba")


def finite_difference(f, args, position, eps=1e-6):
    """Central differences of ``f`` with respect to argument ``position``."""
    base = args[position]
    if isinstance(base, float):
        up, down = list(args), list(args)
        up[position], down[position] = base + eps, base - eps
        return (float(f(*up)) - float(f(*down))) / (2 * eps)
    grad = np.zeros_like(base, dtype=float)
    for idx in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (float(f(*_with(args, position, up))) -
                     float(f(*_with(args, position, down)))) / (2 * eps)
    return grad


def _with(args, position, value):
    return [value if i == position else a for i, a in enumerate(args)]


def assert_agrees(f, *args, argnums=0, backends=CPU_BACKENDS, functions=None):
    """``value_and_grad(f)`` equals NumPy's value and the finite-difference gradient on each
    backend; ``functions`` (backend -> gradient function) reuses functions across calls."""
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    expected_value = f(*args)
    expected = [finite_difference(f, args, p) for p in positions]
    for backend in backends:
        vg = functions[backend] if functions else \
            symdiff.value_and_grad(f, positions, backend=backend)
        value, grads = vg(*args)
        np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12,
                                   err_msg=f"value on {backend}")
        for p, g, e in zip(positions, grads, expected, strict=True):
            assert np.shape(g) == np.shape(args[p]), f"gradient shape on {backend}"
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6,
                                       err_msg=f"gradient {p} on {backend}")


def assert_refused_as_numpy(f, *args, argnums=0, match=None,
                            numpy_raises=(ValueError, IndexError)):
    """NumPy (or Python) raises ``numpy_raises`` for these arguments; so does every backend,
    with a symdiff error."""
    with pytest.raises(numpy_raises):
        f(*args)
    for backend in CPU_BACKENDS:
        with pytest.raises(SymdiffError, match=match):
            symdiff.grad(f, argnums, backend=backend)(*args)
