"""Programs written outside this project that symdiff once got wrong, each the smallest form of
what was found. The reference is NumPy running the function, with central finite differences
(and JAX where it is installed); every CPU backend must agree."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from tests.conftest import jax_or_skip
from tests.sizes_reference import assert_agrees, assert_refused_as_numpy

# -- a selection keeps the values its branches read --------------------------------------------


def where_of_a_root(x):
    r = np.sqrt(x)
    return np.sum(np.where(x > 0, r, x))


def test_a_named_root_does_not_rewrite_its_argument():
    # x became r**2 where r = sqrt(x) was reused, which is NaN for negative x
    assert_agrees(where_of_a_root, np.array([-1.0, 4.0, -0.5, 2.0]))


def maximum_of_a_where(x):
    c = x > 0
    return np.sum(np.maximum(np.where(c, 2 * x, -x), 0.5 * x)) + np.sum(np.where(c, x, 0.0))


def where_of_a_where(x):
    c = x > 0
    return np.sum(np.where(np.where(c, x, -2 * x) > 1, x ** 2, x))


def minimum_of_wheres(x):
    c = x > 0
    return np.sum(np.minimum(np.where(c, x, -x), np.where(x < 1, 0.5 * x, 3 * x)))


@pytest.mark.parametrize("f", [maximum_of_a_where, where_of_a_where, minimum_of_wheres])
def test_conditions_inside_comparisons_of_selections(f):
    # the comparison max() makes of where(c, 2x, -x) kept only the first branch
    assert_agrees(f, np.array([-2.0, -0.3, 0.3, 2.0]))


def test_maximum_of_a_where_matches_jax():
    jax = jax_or_skip()
    jnp = jax.numpy

    def reference(x):
        c = x > 0
        return jnp.sum(jnp.maximum(jnp.where(c, 2 * x, -x), 0.5 * x)) + \
            jnp.sum(jnp.where(c, x, 0.0))

    x = np.array([-2.0, -0.5, 0.3, 2.0])
    np.testing.assert_allclose(symdiff.grad(maximum_of_a_where)(x),
                               np.asarray(jax.grad(reference)(x)), rtol=1e-12)
    np.testing.assert_allclose(symdiff.grad(maximum_of_a_where)(x), [-1.0, -1.0, 3.0, 3.0])


# -- simplification keeps a shift that makes a formula finite -------------------------------


def softmin3(a, b, c):
    mn = np.minimum(np.minimum(a, b), c)
    return mn - np.log(np.exp(mn - a) + np.exp(mn - b) + np.exp(mn - c))


def test_a_shifted_soft_minimum_stays_shifted():
    # SymPy takes the shift out (it cancels in exact arithmetic): -inf and NaN gradients
    for backend in ("numpy", "numba"):
        value, grads = symdiff.value_and_grad(softmin3, (0, 1, 2), backend=backend)(
            1e10, 1.0, 2.0)
        np.testing.assert_allclose(value, 1.0 - np.log1p(np.exp(-1.0)), rtol=1e-12)
        np.testing.assert_allclose(grads, [0.0, 1 / (1 + np.exp(-1.0)),
                                           1 - 1 / (1 + np.exp(-1.0))], rtol=1e-12)
    assert_agrees(softmin3, 0.3, 1.0, 2.0, argnums=(0, 1, 2))


def soft_dtw(x, y):
    d = (x[:, None] - y[None, :]) ** 2
    r = np.zeros((4, 3))
    r[0, 0] = d[0, 0]
    for j in range(1, 3):
        r[0, j] = d[0, j] + r[0, j - 1]
    for i in range(1, 4):
        r[i, 0] = d[i, 0] + r[i - 1, 0]
        for j in range(1, 3):
            r[i, j] = d[i, j] + softmin3(r[i - 1, j - 1], r[i - 1, j], r[i, j - 1])
    return r[3, 2]


def test_a_soft_dtw_recurrence_has_finite_gradients_equal_to_jax():
    jax = jax_or_skip()
    jnp = jax.numpy

    def reference(x, y):
        d = (x[:, None] - y[None, :]) ** 2
        soft = lambda a, b, c: -jax.nn.logsumexp(-jnp.stack([a, b, c]))  # noqa: E731
        previous = [d[0, 0]]
        for j in range(1, 3):
            previous.append(d[0, j] + previous[j - 1])
        for i in range(1, 4):
            row = [d[i, 0] + previous[0]]
            for j in range(1, 3):
                row.append(d[i, j] + soft(previous[j - 1], previous[j], row[j - 1]))
            previous = row
        return previous[2]

    for scale in (1.0, 1e3, 1e5):
        x = np.array([0.0, 1.0, 3.0, 2.0]) * scale
        y = np.array([0.5, 2.5, 1.0]) * scale
        expected_value = float(reference(x, y))
        expected = [np.asarray(g) for g in jax.grad(reference, (0, 1))(x, y)]
        for backend in ("numpy", "numba"):
            value, grads = symdiff.value_and_grad(soft_dtw, (0, 1), backend=backend)(x, y)
            assert np.isfinite(value) and all(np.all(np.isfinite(g)) for g in grads)
            np.testing.assert_allclose(value, expected_value, rtol=1e-10)
            for g, e in zip(grads, expected, strict=True):
                np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-8 * scale)


# -- rank-0 values, integer-valued cotangents and Python floats -----------------------------


def where_of_a_0d_array(a):
    return np.where(a > 0, a, 0.0) * 2.0


def logsumexp_over_the_only_axis(x):
    return np.sum(symdiff.nn.logsumexp(x, axis=0))


def tanh_of_column_sums(x, w):
    return np.sum(np.tanh(x.sum(axis=0, keepdims=True) + w))


def minus_a_product(w, x):
    return np.sum(w - x @ w)


def branch_on_a_float(a, b):
    if a >= 0:
        a = a ** b
    else:
        a = (-a) ** b
    return a


def sum_as_float32(a):
    return np.sum(a.astype(np.float32))


def test_rank_0_values_compile():
    assert_agrees(where_of_a_0d_array, np.array(1.5))
    assert_agrees(where_of_a_0d_array, np.array(-1.5))
    assert_agrees(logsumexp_over_the_only_axis, np.array([1.0, 2.0, 3.0]))
    assert_agrees(tanh_of_column_sums, np.ones((3, 4)) * 0.1, 0.5, argnums=(0, 1))


def test_a_0d_arrays_gradient_is_a_0d_float_array():
    for backend in ("numpy", "numba"):
        g = symdiff.grad(where_of_a_0d_array, backend=backend)(np.array(1.5))
        assert type(g) is np.ndarray and g.shape == () and g.dtype == np.float64 and g == 2.0


def test_a_cotangent_computed_from_sizes_is_a_float():
    assert_agrees(minus_a_product, np.ones((2, 4)), np.ones(2), argnums=(0, 1))


def test_the_branch_not_taken_computes_with_numpys_floats():
    # (-2.0) ** 0.5 in Python is complex; the branch not taken computes it too
    for a, b in [(-2.0, 0.5), (2.0, 0.5), (-2.0, 3.0)]:
        assert_agrees(branch_on_a_float, a, b, argnums=(0, 1))


def test_a_cast_of_the_cotangent_of_a_sum():
    for backend in ("numpy", "numba"):
        np.testing.assert_array_equal(symdiff.grad(sum_as_float32, backend=backend)(np.ones(3)),
                                      np.ones(3))


# -- every derivative SymPy gives prints ----------------------------------------------------


def root_of_square(x):
    return np.sum(np.sqrt(x * x))


def softsign(u):
    return u / (1 + np.abs(u))


def largest_of_three(u):
    return np.maximum(np.maximum(u, 0.5 * u), 0.1)


def step_times(u):
    return np.heaviside(u, 0.5) * u


def _register_formulas():
    import sympy

    extend = symdiff.extend
    extend.register_elementwise(softsign, lambda u: u / (1 + sympy.Abs(u)))
    largest = lambda u: sympy.Max(u, u / 2, sympy.Rational(1, 10))  # noqa: E731
    extend.register_elementwise(largest_of_three, largest)
    extend.register_elementwise(step_times, lambda u: sympy.Heaviside(u) * u)


def softsign_loss(x):
    return np.sum(softsign(x) * x)


def largest_loss(x):
    return np.sum(largest_of_three(x) ** 2)


def step_loss(x):
    return np.sum(step_times(x))


@pytest.mark.parametrize("f", [root_of_square, softsign_loss, largest_loss, step_loss])
def test_derivatives_with_sign_abs_max_and_steps_print(f):
    _register_formulas()
    assert_agrees(f, np.array([-2.0, -0.3, 0.05, 0.7, 3.0]))


# -- gradients the caller owns ----------------------------------------------------------------


def total(x, y):
    return np.sum(x) + np.sum(x * y)


def test_gradients_are_fresh_writable_arrays():
    x, y = np.ones(3), np.arange(3.0)
    for backend in ("numpy", "numba"):
        gx, gy = symdiff.grad(total, (0, 1), backend=backend)(x, y)
        for g in (gx, gy):
            assert g.flags.writeable and g.flags.owndata
            assert g is not x and g is not y
        gx *= 0.1  # an optimiser's update in place
        gy *= 0.1
        np.testing.assert_allclose(gx, 0.1 * (1 + y))
        np.testing.assert_allclose(gy, 0.1 * x)
        np.testing.assert_array_equal(x, np.ones(3))


# -- indices read from data are checked, as NumPy checks them --------------------------------


def gathered(x, idx):
    return np.sum(x[idx] ** 2)


def labelled(logits, labels):
    return symdiff.nn.cross_entropy(logits, labels)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_an_index_array_past_the_end_raises(backend):
    g = symdiff.grad(gathered, backend=backend)
    np.testing.assert_allclose(g(np.arange(4.0), np.array([0, -1, 2])), [0.0, 0.0, 4.0, 6.0])
    for bad in (np.array([0, 4]), np.array([-5])):
        with pytest.raises(IndexError):
            g(np.arange(4.0), bad)
    with pytest.raises(IndexError):
        symdiff.grad(labelled, backend=backend)(np.zeros((2, 3)), np.array([0, 3]))


# -- found by the random programs ------------------------------------------------------------


def shifted_against_clamped(x0, x2):
    v0 = x2[:3]
    return np.sum(v0[1:] * v0 * 2.5) + np.sum(x0)


def softplus_of_a_constant(x0, x1):
    v0 = np.sum(x0, keepdims=True)
    return np.sum(np.logaddexp(v0, x0) * 1.5) + np.sum(symdiff.nn.softplus(x1 - x1) * 2.5)


def test_shapes_refused_under_an_assumption_the_sizes_do_not_meet():
    # x1[1:3] of two rows has one: the code for three rows refuses the dot, NumPy does not
    x = np.array([[1.0], [0.3]])
    assert_agrees(lambda_free_dot, x, x, argnums=(0, 1))
    assert_agrees(shifted_against_clamped, np.arange(5.0), np.array([1.4, -0.6]), argnums=(0, 1))


def lambda_free_dot(x0, x1):
    v0 = x1[1:3]
    return np.sum(np.dot(v0, v0.T)) + np.sum(v0 * 2.5)


def test_a_kernel_that_folds_to_a_constant():
    assert_agrees(softplus_of_a_constant, np.array([1.0, 0.3, -0.6, -1.3, 1.4]), 0.289,
                  argnums=(0, 1))


def picked_by_list(x):
    return np.sum(x[[0, 2, 2]] ** 2)


def columns_by_list(x):
    return np.sum(x[:, [1, 0]] * x[[1, 0, 2], :2])


def test_lists_of_integers_index_like_arrays():
    assert_agrees(picked_by_list, np.arange(4.0))
    assert_agrees(columns_by_list, np.arange(9.0).reshape(3, 3), backends=("numpy",))


def broadcast_then_summed(x1, x2):
    v2 = np.broadcast_to(x2, x1.shape)
    return np.sum(x1 / len(x1) * 1.5) + np.sum(v2 * 3.5)


def broadcast_row(x0, x1):
    return np.sum(np.broadcast_to(x0, x1.shape) * 1.5) + np.sum(np.arctan(x0.reshape(-1)))


def ratio_of_the_maximum(x1):
    v0 = np.max(x1, axis=0, keepdims=True)
    return np.sum(v0 / (v0 * v0 + 0.5) * 1.5)


def test_broadcast_to_counts_its_copies():
    # a scalar cotangent of a broadcast value stands for all its copies
    rng = np.random.default_rng(1)
    assert_agrees(broadcast_then_summed, rng.standard_normal((3, 2)), rng.standard_normal(2),
                  argnums=(0, 1))
    assert_agrees(broadcast_row, rng.standard_normal(5), rng.standard_normal((2, 5)),
                  argnums=(0, 1))


def test_the_maximums_selection_is_negated_as_a_float():
    assert_agrees(ratio_of_the_maximum, np.random.default_rng(2).standard_normal((3, 3)))


def chosen_by_size(x0):
    v1 = x0 @ x0.T
    v2 = np.min(x0, axis=0, keepdims=True) if x0.shape[0] > 2 else np.exp(-v1 * v1)
    return np.sum(v2 * 1.5)


def test_a_conditional_expression_picks_one_whole_value():
    # np.where broadcast the (1, 1) minimum to (n, n): four times NumPy's value
    x = np.array([[1.0], [0.29], [-0.63]])
    assert_agrees(chosen_by_size, x)
    assert_agrees(chosen_by_size, x[:2])


# -- integer arrays next to slices and integers -----------------------------------------------

def rows_then_tail(x, rows):
    return np.sum(x[rows, 1:] ** 2)


def rows_then_column(x, rows):
    return np.sum(np.sin(x[rows, 2]))


def listed_rows_new_axis(x):
    return np.sum(x[[0, 2], None, :-1] * x[[2, 2], None, 1:])


def columns_picked(x, cols):
    return np.sum(x[0, :, cols] ** 2)  # indices on separated axes: numba gathers on leading ones


@pytest.mark.parametrize("rows", [[0, 2], [2, 2, 0], [1]])
def test_integer_arrays_on_leading_axes_with_slices_after(rows):
    x = np.arange(12.0).reshape(3, 4) / 7.0
    rows = np.array(rows)
    assert_agrees(rows_then_tail, x, rows)
    assert_agrees(rows_then_column, x, rows)
    assert_agrees(listed_rows_new_axis, x)


def test_a_refusal_while_compiling_names_the_line():
    x, cols = np.ones((2, 3, 3)), np.array([0, 2])
    assert_agrees(columns_picked, x, cols, backends=("numpy",))
    with pytest.raises(symdiff.UnsupportedError, match=r"test_outside_programs.py:\d+:\d+: "
                       "the numba backend compiles integer-array indexing only"):
        symdiff.grad(columns_picked, backend="numba")(x, cols)


# -- sizes, as Python and NumPy give them ------------------------------------------------------

def scaled_by_sizes(x, y):
    return np.sum(x) * max(x.shape[0], y.shape[0]) + np.sum(y) / min(np.size(x), 7, len(y))


def scaled_by_shape_functions(x):
    return np.sum(x * np.shape(x)[-1]) / np.size(x, 0) + np.ndim(x)


@pytest.mark.parametrize("n, m", [(3, 4), (4, 3), (9, 8), (1, 1)])
def test_builtin_max_and_min_of_sizes(n, m):
    assert_agrees(scaled_by_sizes, np.arange(n) + 1.0, np.arange(m) * 2.0, argnums=(0, 1))
    assert_agrees(scaled_by_shape_functions, np.ones((n, m)) / 3.0)


def outer_of_anything(x, y):
    return np.sum(np.outer(x, y) ** 2 * np.arange(np.size(y)))


def test_outer_flattens_its_operands_as_numpy_does():
    for x, y in [(np.ones((1, 3)), np.arange(2.0)), (np.ones((2, 2)), np.arange(3.0)[:, None]),
                 (np.array(2.0), np.ones(1))]:
        assert_agrees(outer_of_anything, x, y, argnums=(0, 1))


def size_of_a_float(x, a):
    return np.sum(x) * a.size


def test_a_python_float_has_no_array_attributes():
    assert_refused_as_numpy(size_of_a_float, np.ones(3), 2.0, numpy_raises=AttributeError,
                            match="'float' object has no attribute")
    assert_agrees(size_of_a_float, np.ones(3), np.array(2.0), argnums=(0, 1))


def unused_literal_gather(x0, x1):
    picked = x1[np.array([0, 0]), np.array([0, 2])]  # noqa: F841 (NumPy still checks it)
    return np.sum(x0 * 2.5) + np.sum(x1)


def literal_rows(x):
    rows = np.array([[1], [0]])
    return np.sum(x[rows] ** 2)


def test_literal_index_arrays_are_checked_like_lists():
    assert_agrees(unused_literal_gather, np.ones(3), np.arange(9.0).reshape(3, 3),
                  argnums=(0, 1))
    assert_refused_as_numpy(unused_literal_gather, np.ones(3), np.ones((3, 2)),
                            match="index 2 is out of bounds")
    assert_agrees(literal_rows, np.arange(4.0))
    assert_refused_as_numpy(literal_rows, np.ones(1), match="index 1 is out of bounds")


def reductions_of_a_scalar(x):
    s = np.sum(x)
    return np.max(s, axis=0, keepdims=True) + np.sum(s, axis=-1) * np.min(x[0], axis=0)


def mean_of_a_scalar_on_an_axis(x):
    return np.mean(np.sum(x), axis=0)


def test_reductions_of_a_scalar_along_its_axis_0_as_numpy_takes_them():
    assert_agrees(reductions_of_a_scalar, np.array([0.5, -1.5, 2.0]))
    assert_refused_as_numpy(mean_of_a_scalar_on_an_axis, np.ones(2),
                            numpy_raises=np.exceptions.AxisError, match="axis 0 is out of bounds")


def sum_of_a_stacked_array(a, x):
    stacked = np.array([a, a * x[0], 1.0])
    return np.sum(np.sum(stacked, keepdims=True) * 1.5) + np.max(np.stack([x[1] * a, x[2]]))


def test_a_concatenation_feeding_a_reduction_compiles():
    assert_agrees(sum_of_a_stacked_array, 1.25, np.array([0.5, -2.0, 3.0]), argnums=(0, 1))


def size_after_a_branch_on_data(x0, x1):
    if np.mean(x1) < 0.25:
        x1 = np.tanh(x1)
    if x1.size < 4:
        x0 = np.sin(x0)
    return np.sum(x0 * 1.5)


def test_a_value_that_may_be_a_python_float_has_no_array_attributes():
    assert_refused_as_numpy(size_after_a_branch_on_data, np.ones(3), 1.27,
                            numpy_raises=AttributeError, match="'float' object has no attribute")
