"""Sizes the generated code computes or assumes: printed as they mean, proven or checked on
every call, and a call whose sizes break an assumption gets NumPy's answer or its error.

Each case is a program whose gradient was wrong (or read out of bounds) before; the reference
is NumPy running the function itself, and central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.ir import sizes
from tests.sizes_reference import CPU_BACKENDS, assert_agrees, assert_refused_as_numpy

# -- size arithmetic is a tree printed with precedence ------------------------------------------

def test_sizes_print_with_the_parentheses_they_need():
    n, m = sizes.argument_size("x", 0), sizes.argument_size("x", 1)
    assert str(sizes.mul(sizes.sub(n, 1), m)) == "(x.shape[0] - 1) * x.shape[1]"
    assert str(sizes.scale(sizes.floordiv(n, 2), -1)) == "-(x.shape[0] // 2)"
    assert str(sizes.mul(3, sizes.floordiv(sizes.add(n, 1), 2))) == "3 * ((x.shape[0] + 1) // 2)"
    assert sizes.add(sizes.sub(n, 1), 1) == n  # one normal form: equal sizes compare equal
    for x_shape in [(0, 3), (1, 1), (5, 2)]:
        for d in (sizes.mul(sizes.sub(n, 1), m), sizes.ceildiv(sizes.sub(n, 3), 2),
                  sizes.maximum(sizes.sub(n, 3), 0)):
            array = type("Array", (), {"shape": x_shape})
            assert eval(str(d), {"x": array}) == d.evaluate(lambda _, a, s=x_shape: s[a])


def mean_of_tail(x):
    return np.mean(x[1:])


def size_of_tail(x):
    return np.sum(x[1:] ** 2) / x[1:].size


def reshaped_tail(x):
    return np.sum(np.tanh(x[1:].reshape(-1)) * np.arange(x[1:].size))


@pytest.mark.parametrize("f", [mean_of_tail, size_of_tail, reshaped_tail])
def test_derived_sizes_in_means_sizes_and_reshapes(f):
    assert_agrees(f, np.arange(12.0).reshape(3, 4) / 7)
    assert_agrees(f, np.arange(6.0).reshape(2, 3) / 7)


# -- a derived size that is 1 at run time, where NumPy broadcasts ---------------------------


def sum_with_shorter(x, y):
    return np.sum(x + y[:-1])


def test_a_derived_size_of_one_broadcasts_as_in_numpy():
    assert_agrees(sum_with_shorter, np.ones(3), np.ones(2), argnums=(0, 1))
    value, (gx, gy) = symdiff.value_and_grad(sum_with_shorter, (0, 1))(np.ones(3), np.ones(2))
    assert value == 6.0 and list(gy) == [3.0, 0.0]


def test_one_gradient_function_serves_every_size():
    functions = {b: symdiff.value_and_grad(sum_with_shorter, (0, 1), backend=b)
                 for b in CPU_BACKENDS}
    rng = np.random.default_rng(0)
    for n, m in [(3, 4), (3, 2), (1, 2), (5, 6), (1, 3), (7, 8)]:
        x, y = rng.standard_normal(n), rng.standard_normal(m)
        if n == m - 1 or m - 1 == 1 or n == 1:
            assert_agrees(sum_with_shorter, x, y, argnums=(0, 1), functions=functions)
        else:
            assert_refused_as_numpy(sum_with_shorter, x, y, argnums=(0, 1),
                                    match="broadcast")


def test_sizes_that_do_not_broadcast_are_refused_at_the_line():
    assert_refused_as_numpy(sum_with_shorter, np.ones(4), np.ones(3), match="broadcast")


def spread_over_rows(x):
    return np.sum(np.broadcast_to(x, (3, 4)) * np.arange(4) * 1.5)


def test_broadcast_to_takes_sizes_that_are_one_or_equal():
    assert_agrees(spread_over_rows, np.arange(4.0))
    assert_agrees(spread_over_rows, np.array([2.0]))
    assert_refused_as_numpy(spread_over_rows, np.ones(3), match="cannot broadcast shape")
    assert_refused_as_numpy(spread_over_rows, np.ones((2, 4)), match="cannot broadcast shape")


def products_of_shifted(x, y):
    return np.sum(x[1:] * y[:-1])


def test_shifted_slices_of_different_arguments():
    assert_agrees(products_of_shifted, np.arange(4.0), np.arange(4.0) + 1, argnums=(0, 1))
    assert_agrees(products_of_shifted, np.arange(2.0), np.arange(5.0)[:2] + 1, argnums=(0, 1))
    assert_agrees(products_of_shifted, np.arange(2.0), np.arange(5.0), argnums=(0, 1))
    assert_refused_as_numpy(products_of_shifted, np.ones(4), np.ones(6), argnums=(0, 1))


# -- constant slice bounds on a run-time size ------------------------------------------------


def mean_of_last_three(x):
    return np.mean(x[-3:])


def squares_of_first_three(x):
    return np.sum(x[:3] ** 2)


def middle(x):
    return np.sum(np.sin(x[1:-1]))


def stepped(x):
    return np.sum(x[1::2] ** 2) + np.sum(np.cos(x[::2]))


def reversed_head(x):
    return np.sum(x[2::-1] ** 3) + np.mean(x[:-3:-1])


@pytest.mark.parametrize("f", [mean_of_last_three, squares_of_first_three, middle, stepped,
                               reversed_head])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_constant_bounds_clamp_like_python(f, n):
    assert_agrees(f, np.arange(1.0, n + 1.0))


def differences_of_a_tail(x):
    v = x[1:]
    return np.sum(v[:-1] - v[1:] ** 2)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_slices_of_a_slice(n):
    # the adjoints of v[:-1] and v[1:] add up, then go into x[1:]: two levels of slice adjoints
    assert_agrees(differences_of_a_tail, np.arange(1.0, n + 1.0))


def test_an_empty_slice_gives_a_zero_gradient():
    g = symdiff.grad(middle)
    np.testing.assert_array_equal(g(np.ones(2)), [0.0, 0.0])
    np.testing.assert_allclose(g(np.zeros(4)), [0.0, 1.0, 1.0, 0.0])


# -- indices out of range are refused, never read -------------------------------------------


def fourth_squared(x):
    return x[3] ** 2


def row_tail(x):
    return np.sum(x[2, 1:] ** 2)


def test_a_constant_index_past_the_end_is_refused():
    assert_agrees(fourth_squared, np.arange(5.0))
    assert_refused_as_numpy(fourth_squared, np.arange(3.0), match="out of bounds")


def test_a_row_past_the_end_is_refused():
    assert_agrees(row_tail, np.arange(12.0).reshape(3, 4))
    assert_refused_as_numpy(row_tail, np.ones((2, 3)), match="out of bounds")


def last_of_size(x):
    n = x.shape[0]
    return x[n - 1] * x[n - 2]


def test_indices_computed_from_sizes():
    assert_agrees(last_of_size, np.arange(1.0, 5.0))
    assert_agrees(last_of_size, np.arange(1.0, 3.0))
    assert_agrees(last_of_size, np.array([3.0]))  # x[0] * x[-1]


# -- found by review: empty slices, leading size-1 axes, reductions without identity ----------


def mean_of_far_tail(x):
    return np.mean(x[5:] ** 2)


def sum_over_tail_size(x):
    return np.sum(x[1:] ** 2) / x[1:].size


def mean_of_columns_from_two(x):
    return np.sum(np.mean(x[:, 2:], axis=1))


@pytest.mark.parametrize("f, shapes", [
    (mean_of_far_tail, [(3,), (7,)]), (sum_over_tail_size, [(0,), (1,), (4,)]),
    (mean_of_columns_from_two, [(3, 1), (3, 2), (3, 4)]), (mean_of_tail, [(1,), (3,)])])
def test_means_of_empty_slices_are_nan_as_in_numpy(f, shapes):
    for shape in shapes:
        x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
        with np.errstate(all="ignore"):
            expected = f(x)
        for backend in CPU_BACKENDS:
            with np.errstate(all="ignore"):
                value, g = symdiff.value_and_grad(f, backend=backend)(x)
            np.testing.assert_allclose(value, expected, equal_nan=True)
            assert g.shape == x.shape
            if np.isfinite(expected):
                assert_agrees(f, x, backends=(backend,))


def times_leading_unit(x, w):
    return np.sum(x * w)


def tail_times_last_row(x, w):
    return np.sum(x[..., 1:] * w[-1])


def test_a_cotangent_with_leading_axes_of_size_one():
    assert_agrees(times_leading_unit, np.array([[2.0]]), np.array([3.0, 4.0]), argnums=(0, 1))
    assert_agrees(tail_times_last_row, np.array([[2.0, 5.0]]), np.array([[3.0, 4.0]]),
                  argnums=(0, 1))


def largest_of_tail(x):
    return np.sum(np.max(x[1:], axis=0) * x[0])


def test_the_maximum_of_nothing_is_refused_as_numpy_refuses_it():
    assert_agrees(largest_of_tail, np.arange(6.0).reshape(2, 3))
    assert_refused_as_numpy(largest_of_tail, np.ones((1, 3)), match="zero-size")


def test_code_for_pinned_sizes_does_not_take_over_the_fast_path(monkeypatch):
    g = symdiff.value_and_grad(products_of_shifted, (0, 1), backend="numpy")
    g(np.ones(3), np.ones(2))  # fails a check of the shape-generic code: sizes as numbers
    g(np.ones(5), np.ones(5))
    g(np.ones(6), np.ones(6))  # a size seen once takes the fast path from then on
    slow = []
    original = g._compiled
    monkeypatch.setattr(g, "_compiled", lambda values: slow.append(values) or original(values))
    value, (gx, gy) = g(np.ones(6), np.arange(6.0))
    g(np.ones(5), np.ones(5))
    assert not slow  # the shape-generic code serves calls from the fast path again
    np.testing.assert_allclose(gx, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0])
