"""Scans (cumsum, cumprod), products, orderings (sort, argsort, argmax, argmin, the running
extremes of maximum/minimum.accumulate), median, and the reductions NumPy users call.

Every function is checked against central finite differences on each backend and against JAX;
sizes 0 and 1, negative axes, keepdims and the method spellings are checked as users write them.
Ties that finite differences cannot decide follow the documented conventions: sorting is
stable (the gradient of each sorted position goes to the element that sorts there), a running
extreme is the first element that reaches it, and max/min reductions share between ties.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import symdiff
from tests.conftest import jax_or_skip

BACKENDS = ("numpy", "numba", "cuda")


# --- the functions, as users write them ----------------------------------------------------

def cumsum_axes(x):
    w = np.arange(x.shape[1])
    return np.sum(np.sin(np.cumsum(x, axis=0)) * w) + np.sum(np.cumsum(x, axis=-1) ** 2)


def cumsum_flat(x):
    return np.sum(np.cos(np.cumsum(x)) * np.arange(x.size)) + np.sum(x.cumsum(1) ** 2)


def cumprod_axes(x):
    return np.sum(np.cumprod(x, axis=1) * np.arange(x.shape[1])) + np.sum(np.cumprod(x, 0))


def cumprod_flat(x):
    return np.sum(x.cumprod() * np.arange(x.size)) + np.sum(x.cumprod(axis=-2) ** 2)


def prod_axes(x):
    return np.sum(np.prod(x, axis=1) ** 2) + np.prod(x) + np.sum(x.prod(axis=-2, keepdims=True))


def prod_tuple_axes(x):
    return np.sum(np.prod(x, axis=(0, 2)) * np.arange(x.shape[1])) + x.prod(axis=(-1, 0)).sum()


def prod_scalar(s, x):
    return np.prod(s) * np.prod(x, initial=2.0)


def sort_last(x):
    return np.sum(np.sort(x) * np.arange(x.shape[-1])) + np.sum(np.sort(x, axis=0)[0] ** 2)


def sort_flat(x):
    return np.sum(np.sort(x, axis=None) * np.arange(x.size))


def argsort_take(x):
    order = np.argsort(x, axis=-1)
    return np.sum(np.take_along_axis(x, order, axis=-1) * np.arange(x.shape[-1])) + \
        np.sum(np.take_along_axis(x, x.argsort(axis=0), axis=0)[-1])


def argmax_pick(x):
    return x.ravel()[np.argmax(x)] * 2.0 - x.ravel()[x.argmin()]


def argmax_axis(x):
    best = np.take_along_axis(x, np.argmax(x, axis=-1, keepdims=True), axis=-1)
    worst = x[np.argmin(x, axis=0), np.arange(x.shape[1])]
    return np.sum(best ** 2) + np.sum(np.sin(worst))


def argmax_rows(x):
    return np.sum(x[np.arange(x.shape[0]), x.argmax(axis=1)])


def running_max(x):
    return np.sum(np.maximum.accumulate(x, axis=1) * np.arange(x.shape[1])) + \
        np.sum(np.minimum.accumulate(x) ** 2)


def running_max_1d(v):
    return np.sum(np.maximum.accumulate(v) * np.arange(v.shape[0])) - \
        np.sum(np.minimum.accumulate(v, axis=-1))


def median_all(x):
    return np.median(x) + np.sum(np.median(x, axis=0) ** 2) + \
        np.sum(np.median(x, axis=-1, keepdims=True))


def scan_of_products(x):
    """A product of scans and a scan of products: adjoints of adjoints meet."""
    return np.sum(np.cumsum(np.cumprod(x, axis=0), axis=0) * np.prod(x, axis=0))


# --- gradients against finite differences ---------------------------------------------------

def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _distinct(*shape, seed=0):
    """Values with no ties and no two within 0.05: orderings do not change under the
    finite differences' steps."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - 0.05 * n).reshape(shape) + \
        np.random.default_rng(seed + 1).uniform(0.0, 0.01, shape)


def _with_zeros(*shape, seed=0):
    x = np.random.default_rng(seed).uniform(0.5, 1.5, shape)
    x.flat[1] = 0.0
    x.flat[-1] = 0.0
    x.flat[x.size // 2] = 0.0
    return x


CASES = {
    "cumsum_axes": (cumsum_axes, lambda: [_normal(3, 4)]),
    "cumsum_flat": (cumsum_flat, lambda: [_normal(3, 4)]),
    "cumprod_axes": (cumprod_axes, lambda: [_normal(3, 4)]),
    "cumprod_zeros": (cumprod_axes, lambda: [_with_zeros(3, 4)]),
    "cumprod_flat": (cumprod_flat, lambda: [_with_zeros(4, 3)]),
    "prod_axes": (prod_axes, lambda: [_normal(3, 4)]),
    "prod_zeros": (prod_axes, lambda: [_with_zeros(3, 4)]),
    "prod_tuple_axes": (prod_tuple_axes, lambda: [_normal(2, 3, 2)]),
    "prod_scalar": (prod_scalar, lambda: [1.5, _normal(4)], (0, 1)),
    "sort_last": (sort_last, lambda: [_distinct(3, 5)]),
    "sort_flat": (sort_flat, lambda: [_distinct(3, 4)]),
    "argsort_take": (argsort_take, lambda: [_distinct(4, 3)]),
    "argmax_pick": (argmax_pick, lambda: [_distinct(3, 4)]),
    "argmax_axis": (argmax_axis, lambda: [_distinct(3, 4)]),
    "argmax_rows": (argmax_rows, lambda: [_distinct(3, 4)]),
    "running_max": (running_max, lambda: [_distinct(4, 5)]),
    "running_max_1d": (running_max_1d, lambda: [_distinct(7)]),
    "median_odd": (median_all, lambda: [_distinct(3, 5)]),
    "median_even": (median_all, lambda: [_distinct(4, 6)]),
    "scan_of_products": (scan_of_products, lambda: [_with_zeros(4, 3)]),
}


def _case(name):
    fun, make, *argnums = CASES[name]
    return fun, make(), (argnums[0] if argnums else 0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_finite_differences(name, backend):
    fun, args, argnums = _case(name)
    symdiff.check_grad(fun, *args, argnums=argnums, backend=backend)


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_jax(name):
    jax = jax_or_skip()
    fun, args, argnums = _case(name)
    reference = types.FunctionType(fun.__code__, {**fun.__globals__, "np": jax.numpy})
    expected = jax.grad(reference, argnums=argnums)(*args)
    value, got = symdiff.value_and_grad(fun, argnums, backend="numpy")(*args)
    np.testing.assert_allclose(value, fun(*args), rtol=1e-12)
    if isinstance(argnums, int):
        expected, got = (expected,), (got,)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)
