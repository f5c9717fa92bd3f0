"""Scans (cumsum, cumprod), products, orderings (sort, argsort, argmax, argmin, the running
extremes of maximum/minimum.accumulate), median, and the reductions NumPy users call.

Every function is checked against central finite differences on each backend and against JAX;
sizes 0 and 1, negative axes, keepdims and the method spellings are checked as users write them.
Ties that finite differences cannot decide follow the documented conventions: sorting is
stable (the gradient of each sorted position goes to the element that sorts there), and max/min
reductions and running extremes share their gradient equally between tied elements.
"""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

import symdiff
from symdiff.errors import SizeError, UnsupportedError
from tests.conftest import jax_or_skip

BACKENDS = ("numpy", "numba", "cuda")


# --- the functions, as users write them ----------------------------------------------------

def cumulative_sums(x):
    w = np.arange(x.shape[1])
    return np.sum(np.sin(np.cumsum(x, axis=0)) * w) + np.sum(np.cumsum(x, axis=-1) ** 2) + \
        np.sum(np.cos(np.cumsum(x)) * np.arange(x.size)) + np.sum(x.cumsum(1) ** 2)


def cumulative_products(x):
    return np.sum(np.cumprod(x, axis=1) * np.arange(x.shape[1])) + np.sum(np.cumprod(x, 0)) + \
        np.sum(x.cumprod() * np.arange(x.size)) + np.sum(x.cumprod(axis=-2) ** 2)


def products(x):
    return np.sum(np.prod(x, axis=1) ** 2) + np.prod(x) + np.sum(x.prod(axis=-2, keepdims=True))


def products_of_axes(s, x):
    return np.sum(np.prod(x, axis=(0, 2)) * np.arange(x.shape[1])) + \
        x.prod(axis=(-1, 0)).sum() + np.prod(s) * np.prod(x, initial=2.0)


def sorts(x):
    order = np.argsort(x, axis=-1)
    return np.sum(np.sort(x) * np.arange(x.shape[-1])) + np.sum(np.sort(x, axis=0)[0] ** 2) + \
        np.sum(np.sort(x, axis=None) * np.arange(x.size)) + \
        np.sum(np.take_along_axis(x, order, axis=-1) * np.arange(x.shape[-1])) + \
        np.sum(np.take_along_axis(x, x.argsort(axis=0), axis=0)[-1])


def extreme_positions(x):
    best = np.take_along_axis(x, np.argmax(x, axis=-1, keepdims=True), axis=-1)
    worst = x[np.argmin(x, axis=0), np.arange(x.shape[1])]
    return np.sum(best ** 2) + np.sum(np.sin(worst)) + np.sum(x[np.arange(x.shape[0]),
                                                                x.argmax(axis=1)]) + \
        x.ravel()[np.argmax(x)] * 2.0 - x.ravel()[x.argmin()]


def running_extremes(x, v):
    return np.sum(np.maximum.accumulate(x, axis=1) * np.arange(x.shape[1])) + \
        np.sum(np.minimum.accumulate(x) ** 2) + \
        np.sum(np.maximum.accumulate(v) * np.arange(v.shape[0])) - \
        np.sum(np.minimum.accumulate(v, axis=-1))


def medians(x):
    """Of an even count (all 20, 4 down axis 0) and an odd one (5 along the last axis)."""
    return np.median(x) + np.sum(np.median(x, axis=0) ** 2) + \
        np.sum(np.median(x, axis=-1, keepdims=True))


def quantiles(x):
    middle = np.quantile(x, np.array([0.25, 0.5, 1.0]), axis=0)
    return np.percentile(x, 30) + np.sum(middle ** 2) + \
        np.sum(np.quantile(x, 0.9, axis=-1, keepdims=True)) + np.percentile(x, 70.0, axis=None)


def quantile_values(x):
    """Positions that fall on elements, between them, and on the float rounding of q * (n - 1)
    (0.3 * 10 is 3.0000000000000004 in NumPy's arithmetic)."""
    q = np.array([0.0, 0.1, 0.3, 0.25, 0.5, 0.7, 0.99, 1.0])
    percents = [0, 10, 30, 25, 50, 70, 99, 100]
    return np.sum(x), (np.quantile(x, q, axis=0), np.percentile(x, percents),
                       np.percentile(x, 35.0, axis=1, keepdims=True))


def scans_on_backends(x):
    """Each scan and product once, as every backend writes them."""
    return np.sum(np.cumsum(x, axis=0) ** 2) + np.sum(np.cumprod(x, axis=1) * x) + \
        np.sum(np.prod(x, axis=0) * np.arange(x.shape[1])) + np.prod(x[0])


def orderings_on_backends(x):
    """Each ordering once, as every backend writes them."""
    return np.sum(np.sort(x, axis=0) * np.arange(x.shape[0])[:, None]) + \
        np.sum(np.percentile(x, 40, axis=0) ** 2) + \
        np.sum(np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), axis=1) ** 2) + \
        np.sum(np.sin(x[np.argmin(x, axis=0), np.arange(x.shape[1])])) + \
        np.sum(np.maximum.accumulate(x, axis=1) * x) + \
        np.sum(np.minimum.accumulate(x, axis=0) ** 2) + np.sum(np.median(x, axis=-1) ** 2)


def statistics_on_backends(x, m):
    """Each of the other reductions once, as every backend writes them."""
    return np.sum(x, where=m) + np.mean(x ** 2, where=m) + np.max(x, initial=0.5) + \
        np.sum(np.average(x, axis=1, weights=x[0] ** 2) ** 2) + np.nansum(x ** 2) + \
        np.nanmean(x) + np.nanmax(x) - np.nanmin(x) + np.ptp(x) + \
        np.sum(np.where(np.all(x > -1.5, axis=1, keepdims=True), x, 2 * x)) + \
        np.count_nonzero(x > 0.5) * np.sum(x) + np.sum(np.where(x.any(axis=0), x, 0.0))


def scan_of_products(x):
    """A product of scans and a scan of products: adjoints of adjoints meet."""
    return np.sum(np.cumsum(np.cumprod(x, axis=0), axis=0) * np.prod(x, axis=0))


def reductions_with_options(x, m):
    return np.sum(x, dtype=np.float64, where=m) + np.sum(x, axis=0, initial=2.0).sum() + \
        x.sum(where=m, axis=1).sum() + np.mean(x, where=m) + \
        np.sum(x.mean(axis=-1, where=m) ** 2) + np.max(x, initial=0.5) + \
        np.min(x, axis=0, where=m, initial=10.0).sum() + x.max(axis=1, initial=-1.0).sum() + \
        np.amax(x, axis=-1, where=m, initial=-5.0).sum()


def averages(x, w):
    return np.average(x) + np.sum(np.average(x, axis=1, weights=w) ** 2) + \
        np.average(x, weights=x * x) + np.sum(np.average(x, axis=0, keepdims=True))


def nans_spreads_and_logic(x):
    nans = np.nansum(x) + np.nanmean(x) + np.sum(np.nanmax(x, axis=1)) + np.nanmin(x) + \
        np.sum(np.nanmean(x, axis=0, keepdims=True) ** 2) + np.sum(np.nansum(x, axis=-1) ** 2)
    spreads = np.ptp(x) + np.sum(np.ptp(x, axis=0) ** 2) + \
        np.sum(np.ptp(x, axis=-1, keepdims=True))
    rows = np.all(x > -1.5, axis=1, keepdims=True)
    cols = (x > 0).any(axis=0)
    logic = np.sum(np.where(rows, x, 2 * x)) + np.sum(np.where(cols, x ** 2, 0.0)) + \
        np.count_nonzero(x > 0.5) * np.sum(x) + np.sum(np.count_nonzero(x > 0, axis=0) * x)
    return nans + spreads + logic


def along_first_axis(x):
    """Everything along axis 0, where sizes 0 and 1 are met: with the values kept as aux."""
    total = np.sum(np.cumsum(x, axis=0) ** 2) + np.sum(np.prod(x, axis=0)) + \
        np.sum(np.sort(x, axis=0) * x) + np.sum(np.maximum.accumulate(x, axis=0) * np.sin(x))
    return total, (np.cumprod(x, axis=0), np.argsort(x, axis=0))


def orderings_as_data(x):
    """Values NumPy computes with NaNs present: kept as aux, compared with NumPy's."""
    return np.sum(x), (np.sort(x), np.argsort(x, axis=0), np.argmax(x, axis=1),
                       np.argmin(x, axis=0), np.maximum.accumulate(x, axis=1),
                       np.median(x, axis=1), np.nanmax(x, axis=0), np.nanmean(x, axis=1),
                       np.all(x > 0, axis=0), np.any(x > 5), np.count_nonzero(x, axis=1))


def integer_data(x, k):
    order = np.argsort(k)
    return np.sum(x * np.cumsum(k)) + np.sum(x[order] * np.arange(x.size)) + \
        np.prod(k + 1) * np.sum(x) + x[np.argmax(k)] + np.sum(x * np.cumprod(k))


def ties_in_orderings(x):
    return np.sum(np.sort(x) * np.arange(x.size)) + np.median(x) + x[np.argmax(x)] * 3.0


def ties_in_reductions(x):
    return np.max(x) + np.prod(x) + np.sum(np.cumprod(x) * np.arange(x.size)) + np.ptp(x)


def twice(x):
    running = np.sum(np.maximum.accumulate(x) ** 3 * (np.arange(x.size) + 1.0)) + \
        np.sum(np.minimum.accumulate(x) ** 2)
    return running + np.sum(np.cumsum(x) ** 3) + np.sum(np.sort(x) ** 2 * np.arange(x.size)) + \
        np.median(x) ** 2 + np.nanmax(x) ** 3 + np.average(x, weights=x * x)


def first_running_max(x):
    return np.sum(np.maximum.accumulate(x) * (np.arange(x.size) + 1.0))


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
    "cumulative_sums": (cumulative_sums, lambda: [_normal(3, 4)]),
    "cumulative_products": (cumulative_products, lambda: [_with_zeros(3, 4)]),
    "products": (products, lambda: [_with_zeros(3, 4)]),
    "products_of_axes": (products_of_axes, lambda: [1.5, _normal(2, 3, 2)], (0, 1)),
    "sorts": (sorts, lambda: [_distinct(4, 5)]),
    "extreme_positions": (extreme_positions, lambda: [_distinct(3, 4)]),
    "running_extremes": (running_extremes, lambda: [_distinct(4, 5), _distinct(7, seed=3)],
                         (0, 1)),
    "medians": (medians, lambda: [_distinct(4, 5)]),
    "scan_of_products": (scan_of_products, lambda: [_with_zeros(4, 3)]),
    "reductions_with_options": (reductions_with_options,
                                lambda: [_distinct(3, 4), _normal(3, 4, seed=1) > -0.3]),
    "averages": (averages, lambda: [_normal(3, 4), _normal(4, seed=1) ** 2 + 0.5], (0, 1)),
    "nans_spreads_and_logic": (nans_spreads_and_logic, lambda: [_distinct(3, 4)]),
    "quantiles": (quantiles, lambda: [_distinct(5, 7)]),
    "scans_on_backends": (scans_on_backends, lambda: [_with_zeros(3, 4)]),
    "orderings_on_backends": (orderings_on_backends, lambda: [_distinct(4, 5)]),
    "statistics_on_backends": (statistics_on_backends,
                               lambda: [_distinct(3, 4), _normal(3, 4, seed=1) > -0.3]),
}
# Spellings (methods, keepdims, axis=None, tuples of axes) are the frontend's: checked on the
# numpy backend. Each function's code on every backend: the cases below.
ON_EVERY_BACKEND = ("scans_on_backends", "orderings_on_backends", "statistics_on_backends",
                    "scan_of_products")


def _case(name):
    fun, make, *argnums = CASES[name]
    return fun, make(), (argnums[0] if argnums else 0)


@pytest.mark.parametrize("name, backend", [(n, "numpy") for n in sorted(CASES)] +
                         [(n, b) for n in ON_EVERY_BACKEND for b in BACKENDS[1:]])
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


# --- sizes, reuse, ties, NaNs and data ------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_sizes_zero_and_one_and_reuse(backend):
    """One gradient function called with sizes 0 and 1 and others: values equal to NumPy's,
    gradients to JAX's (through the numpy backend's, checked against JAX here too)."""
    jax = jax_or_skip()
    reference = jax.grad(lambda x: types.FunctionType(
        along_first_axis.__code__, {**along_first_axis.__globals__, "np": jax.numpy})(x)[0])
    fun = symdiff.value_and_grad(along_first_axis, has_aux=True, backend=backend)
    numpy_grad = symdiff.grad(along_first_axis, has_aux=True, backend="numpy")
    for shape in [(4, 3), (0, 3), (1, 3), (6, 2)]:
        x = _normal(*shape, seed=shape[0])
        if x.size:
            x.flat[0] = 0.0
        (value, aux), g = fun(x)
        want_value, want_aux = along_first_axis(x)
        np.testing.assert_allclose(value, want_value, rtol=1e-12)
        for got, want in zip(aux, want_aux, strict=True):
            assert np.shape(got) == np.shape(want)
            np.testing.assert_allclose(got, want, rtol=1e-12)
        expected = reference(x) if backend == "numpy" else numpy_grad(x)[0]
        np.testing.assert_allclose(g, np.asarray(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_nans_as_numpy_computes_them(backend):
    """The mean of a slice of NaNs only is 0 / 0, NaN with NumPy's warning, as in NumPy."""
    x = _distinct(4, 5)
    x[1, 2] = x[3, 0] = x[3, 4] = np.nan
    x[2, :] = np.nan
    x[0, 1] = 0.0
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        want = orderings_as_data(x)[1]
    (_, got), _ = symdiff.value_and_grad(orderings_as_data, has_aux=True, backend=backend)(x)
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).dtype.kind == np.asarray(w).dtype.kind
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
def test_quantiles_as_numpy_computes_them(backend):
    """Values as NumPy's (positions depend on the axis' length: each length is generated)."""
    fun = symdiff.value_and_grad(quantile_values, has_aux=True, backend=backend)
    for shape in [(11, 3), (1, 2)]:
        x = _normal(*shape, seed=shape[0])
        (_, got), _ = fun(x)
        for g, w in zip(got, quantile_values(x)[1], strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_data(backend):
    x, k = _normal(5), np.array([3, 0, 4, 1, 2])
    value, g = symdiff.value_and_grad(integer_data, backend=backend)(x, k)
    np.testing.assert_allclose(value, integer_data(x, k), rtol=1e-12)
    symdiff.check_grad(integer_data, x, k, backend=backend)


TIED = [np.array([1.0, 2.0, 2.0, 0.5, 2.0, 0.5]), np.array([0.0, 3.0, 0.0, 2.0, 0.0, 1.0]),
        np.array([2.0, 0.0, 3.0, 3.0, 1.0, 0.0])]


@pytest.mark.parametrize("fun, backends", [(ties_in_orderings, BACKENDS),
                                           (ties_in_reductions, ("numpy",))])
def test_ties_match_jax(fun, backends):
    """Ties that finite differences cannot decide: sorting is stable on every backend (as
    JAX's), max, ptp and median share, products with several zeros are exact (their code on
    the other backends is checked with zeros above)."""
    jax = jax_or_skip()
    reference = jax.jit(jax.grad(types.FunctionType(fun.__code__,
                                                    {**fun.__globals__, "np": jax.numpy})))
    grads = [symdiff.grad(fun, backend=backend) for backend in backends]
    for x in TIED:
        expected = np.asarray(reference(x))
        for g in grads:
            np.testing.assert_allclose(g(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_running_extreme_ties_share(backend):
    """A running extreme's gradient is shared equally between the elements tied for it, as
    np.max's is: JAX's split for two tied elements; for more JAX's split follows its scan."""
    g = symdiff.grad(first_running_max, backend=backend)
    np.testing.assert_array_equal(g(np.array([1.0, 3.0, 0.5, 3.0, 2.0, 4.0])),
                                  [1.0, 9.5, 0.0, 4.5, 0.0, 6.0])
    np.testing.assert_array_equal(g(np.array([1.0, 1.0, 0.5, 2.0, 2.0, 1.0])),
                                  [3.5, 2.5, 0.0, 9.5, 5.5, 0.0])
    np.testing.assert_array_equal(g(np.array([2.0, 2.0, 2.0, 1.0])),
                                  [1.0 + 1.0 + 1.0 + 4 / 3, 1.0 + 1.0 + 4 / 3, 1.0 + 4 / 3, 0.0])
    if backend == "numpy":
        jax = jax_or_skip()
        reference = jax.grad(types.FunctionType(first_running_max.__code__, {
            **first_running_max.__globals__, "np": jax.numpy}))
        x = np.array([1.0, 3.0, 0.5, 3.0, 2.0, 4.0, 1.0, 4.0])
        np.testing.assert_array_equal(g(x), np.asarray(reference(x)))


@pytest.mark.parametrize("backend", ("numpy", "numba"))
def test_derivatives_of_derivatives(backend):
    """Hessians and forward mode through scans, sorts, medians and running extremes (whose
    adjoint is linear in its cotangent, its own adjoint its transpose), against JAX's, also at
    ties of two."""
    jax = jax_or_skip()
    reference = types.FunctionType(twice.__code__, {**twice.__globals__, "np": jax.numpy})
    hessian = symdiff.hessian(twice, backend=backend)
    for x in [np.array([1.0, 3.0, 0.5, 3.0, 2.0, 4.0]), _distinct(6)]:
        np.testing.assert_allclose(hessian(x), np.asarray(jax.hessian(reference)(x)),
                                   rtol=1e-12, atol=1e-12)
        t = _normal(6, seed=5)
        _, got = symdiff.jvp(twice, (x,), (t,), backend=backend)
        _, want = jax.jvp(reference, (x,), (t,))
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-12)


def test_generated_code_reads_like_numpy():
    x = _normal(3, 4)
    numpy_source = symdiff.grad(cumulative_sums, backend="numpy")
    numpy_source(x)
    assert "np.cumsum(x, axis=0)" in numpy_source.source
    assert "np.flip(np.cumsum(np.flip(" in numpy_source.source
    numba_grad = symdiff.grad(cumulative_products, backend="numba")
    numba_grad(x)
    source = numba_grad.source
    assert "for _i1 in range(x.shape[1] - 1, -1, -1):" in source  # the adjoint runs backwards
    assert "/" not in source.split("backward pass")[1]  # no division: exact at zeros
    sort_grad = symdiff.grad(sorts, backend="numba")
    sort_grad(_distinct(3, 5))
    assert 'np.argsort(x[_i0, :], kind="mergesort")' in sort_grad.source


# --- refusals -------------------------------------------------------------------------------

def out_of_cumsum(x):
    y = np.empty_like(x)
    return np.sum(np.cumsum(x, out=y))


def out_of_sum(x):
    return np.sum(x, out=None) + np.sum(x, axis=0, out=np.zeros(x.shape[1])).sum()


def sorts_in_place(x):
    x.sort()
    return np.sum(x)


def sorted_in_place(x):
    return np.sum(x.sort())


def integer_dtype(x):
    return np.sum(x, dtype=np.int32)


def average_returned(x, w):
    return np.average(x, weights=w, returned=True)[0]


def masked_max_without_initial(x, m):
    return np.max(x, where=m)


def cumsum_of_axes(x):
    return np.sum(np.cumsum(x, axis=(0, 1)))


def hessian_of_prod(x):
    return np.prod(x) + np.sum(np.cumprod(x))


@pytest.mark.parametrize("fun, args, message", [
    (out_of_sum, [_normal(3, 4)], "np.sum: out= is not supported: assign the result"),
    (sorts_in_place, [_normal(4)], "an expression statement has no effect"),
    (sorted_in_place, [_normal(4)], "x = np.sort(x)"),
    (integer_dtype, [_normal(4)], "np.sum: only float dtypes are supported"),
    (average_returned, [_normal(4), _normal(4) ** 2], "returned=True is not supported"),
    (masked_max_without_initial, [_normal(4), _normal(4) > 0], "specify 'initial'"),
    (cumsum_of_axes, [_normal(3, 4)], "np.cumsum takes one axis"),
])
def test_refused_with_a_clear_message(fun, args, message):
    with pytest.raises(UnsupportedError, match=re.escape(message)):
        symdiff.grad(fun, backend="numpy")(*args)


def argmax_of(x):
    return np.sum(x * np.argmax(x, axis=0))


def test_argmax_of_an_empty_axis_fails_as_in_numpy():
    fun = symdiff.grad(argmax_of, backend="numpy")
    fun(_normal(3, 2))
    with pytest.raises(SizeError, match="argmax or argmin of an empty sequence"):
        fun(_normal(0, 2))


def quantile_of_data(x):
    return np.quantile(x, x[0])


def quantile_other_method(x):
    return np.quantile(x, 0.5, method="nearest")


def test_quantiles_refused():
    with pytest.raises(UnsupportedError, match="q must be numbers known while generating"):
        symdiff.grad(quantile_of_data, backend="numpy")(_normal(4))
    with pytest.raises(UnsupportedError, match="only the default method='linear'"):
        symdiff.grad(quantile_other_method, backend="numpy")(_normal(4))


def products_forward(x):
    return np.sum(np.cumprod(x, axis=0) * np.arange(x.shape[0])[:, None]) + \
        np.sum(np.prod(x, axis=1) ** 2) + np.prod(x) + np.sum(x.cumprod(axis=1) ** 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_mode_of_products(backend):
    """jvp needs only the transpose of cumprod's adjoint in its cotangent (the derivative of
    cumprod along the tangent, also for the exclusive and reverse products of prod's adjoint),
    exact at zeros."""
    jax = jax_or_skip()
    reference = types.FunctionType(products_forward.__code__,
                                   {**products_forward.__globals__, "np": jax.numpy})
    x, t = _with_zeros(3, 4), _normal(3, 4, seed=2)
    value, tangent = symdiff.jvp(products_forward, (x,), (t,), backend=backend)
    want_value, want_tangent = jax.jvp(reference, (x,), (t,))
    np.testing.assert_allclose(value, products_forward(x), rtol=1e-12)
    np.testing.assert_allclose(tangent, np.asarray(want_tangent), rtol=1e-12, atol=1e-12)


def test_second_derivatives_of_products_are_refused():
    with pytest.raises(UnsupportedError, match="second derivatives of np.cumprod and np.prod"):
        symdiff.hessian(hessian_of_prod)(_normal(3))


# --- np.partition: NumPy's own arrangement ---------------------------------------------------

def partitions(x, w):
    """Depends on the order NumPy leaves the elements around the k-th ones in."""
    return np.sum(np.partition(x, (3, -40)) * w)


def partition_rows(x, w):
    return np.sum(np.partition(x, 1, axis=0) * w) + np.sum(x[np.argpartition(x[:, 0], 1)[:2]]) + \
        np.partition(x, -1, axis=None)[-1]


def test_partition_is_numpys_arrangement():
    """Of a long array, whose arrangement np.argpartition does not share: value and gradient
    of the function as NumPy computes it, ties included, one gradient function for all sizes."""
    rng = np.random.default_rng(4)
    value_and_grad = symdiff.value_and_grad(partitions, backend="numpy")
    for n in (1000, 50):
        x, w = rng.standard_normal(n), rng.standard_normal(n)
        assert value_and_grad(x, w)[0] == partitions(x, w)
        symdiff.check_grad(partitions, x, w, backend="numpy")
        x[::4] = 0.25  # ties: each element of a tie gets the cotangent of one of its places
        value, g = value_and_grad(x, w)
        assert value == partitions(x, w)
        arranged = np.partition(x, (3, -40))
        for v in np.unique(x):
            assert g[x == v].sum() == pytest.approx(w[arranged == v].sum(), rel=1e-12)
            if np.count_nonzero(x == v) == 1:
                assert g[x == v][0] == w[arranged == v][0]
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    symdiff.check_grad(partition_rows, x, w, backend="numpy")
    assert symdiff.value_and_grad(partition_rows, backend="numpy")(x, w)[0] == \
        pytest.approx(partition_rows(x, w), rel=1e-15)


def partition_out_of_bounds(x):
    return np.sum(np.partition(x, 9))


@pytest.mark.parametrize("backend", ["numba", "cuda"])
def test_partition_is_refused_where_numpy_does_not_compute_it(backend):
    x = np.arange(60.0)
    with pytest.raises(UnsupportedError, match="cannot compute np.partition or np.argpartition"
                                               ".*use backend='numpy', or np.sort"):
        symdiff.grad(partitions, backend=backend)(x, x)
    with pytest.raises(SizeError, match=r"kth\(=9\) out of bounds \(6\)"):
        symdiff.grad(partition_out_of_bounds, backend="numpy")(x[:6])
