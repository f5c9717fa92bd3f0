"""Failures found by the random-program tests and the corpora, as fixed regression cases."""

import warnings

import numpy as np
import pytest

import symdiff
from symdiff.errors import UnsupportedError
from tests.cases import regressions


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_scalar_broadcast_into_vector(backend):
    g0, g2 = symdiff.grad(regressions.scalar_broadcast_into_vector, (0, 1),
                          backend=backend)(0.3, np.array([1.0, 2.0]))
    assert g0 == 3.0
    np.testing.assert_allclose(g2, [1.5, 1.5])
    symdiff.check_grad(regressions.scalar_broadcast_into_vector, 0.3, np.array([1.0, 2.0]),
                       argnums=(0, 1), backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sum_of_a_scalar(backend):
    grad = symdiff.grad(regressions.sum_of_a_scalar, (0, 1), backend=backend)
    g0, gw = grad(0.3, np.ones((2, 2)))
    assert g0 == 1.5
    np.testing.assert_array_equal(gw, np.zeros((2, 2)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_last_column(backend):
    a = np.arange(6.0).reshape(3, 2)
    symdiff.check_grad(regressions.last_column, a, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_a_value_compared_with_itself_is_false_at_nan(backend):
    x = np.array([1.0, np.nan, 2.0])
    value, grad = symdiff.value_and_grad(regressions.nan_tests_by_comparison, backend=backend)(x)
    assert value == regressions.nan_tests_by_comparison(x) == 11.0
    np.testing.assert_array_equal(grad, [4.0, 0.0, 6.0])


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_the_adjoint_of_a_strided_slice_computed_in_its_loop(backend):
    """The cuda backend left the kernel a slice adjoint computes in its loop unwritten."""
    symdiff.check_grad(regressions.strided_slice_product, np.arange(5.0) + 0.5, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_repeat_by_a_size(backend):
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((1, 3))
    g = symdiff.grad(regressions.repeat_by_a_size, (0, 1), backend=backend)
    for n in (3, 1, 2):  # one generated function for every batch size
        x = rng.standard_normal((n, 3))
        symdiff.check_grad(regressions.repeat_by_a_size, h0, x, argnums=(0, 1),
                           backend=backend)
        assert g(h0, x)[1].shape == (n, 3)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_sum_of_a_list(backend):
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(3) for _ in range(3)]
    value, _ = symdiff.value_and_grad(regressions.sum_of_a_list, (0, 1, 2),
                                      backend=backend)(*args)
    assert value == pytest.approx(regressions.sum_of_a_list(*args), rel=1e-13)
    symdiff.check_grad(regressions.sum_of_a_list, *args, argnums=(0, 1, 2), backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_helper_with_star_args(backend):
    rng = np.random.default_rng(2)
    args = rng.standard_normal((6, 2)), rng.standard_normal((4, 2)), rng.standard_normal((4, 3))
    value, _ = symdiff.value_and_grad(regressions.helper_with_star_args, (0, 1, 2),
                                      backend=backend)(*args)
    assert value == pytest.approx(regressions.helper_with_star_args(*args), rel=1e-13)
    symdiff.check_grad(regressions.helper_with_star_args, *args, argnums=(0, 1, 2),
                       backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_grows_a_list(backend):
    g = symdiff.grad(regressions.grows_a_list, backend=backend)
    for n in (3, 2, 5) if backend == "numpy" else (3, 2):  # code for each size: compiles
        a = np.random.default_rng(n).standard_normal((n, 2))
        symdiff.check_grad(regressions.grows_a_list, a, backend=backend)
        assert g(a).shape == (n, 2)


@pytest.mark.parametrize("fun", [regressions.appends_in_a_branch_on_data,
                                 regressions.appends_after_a_return_on_data])
def test_a_list_grown_on_a_path_chosen_by_data_is_refused(fun):
    # both paths are traced and share the list: appending on one would be seen on the other
    with pytest.raises(UnsupportedError, match="where the path taken depends on data"):
        symdiff.grad(fun, backend="numpy")(np.ones((3, 2)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])  # cuda runs no loops of run-time length
def test_reshape_before_a_loop(backend):
    rng = np.random.default_rng(3)
    args = rng.standard_normal(6), rng.standard_normal((3, 2, 2)), rng.standard_normal((5, 3))
    symdiff.check_grad(regressions.reshape_before_a_loop, *args, argnums=(0, 2),
                       backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_integer_arrays_on_a_later_axis(backend):
    rng = np.random.default_rng(3)
    y = np.array([0, 3, 3, 1, 2])
    for fun, x in ((regressions.columns_by_index, rng.standard_normal((3, 4))),
                   (regressions.later_axis_by_index, rng.standard_normal((2, 4, 4)))):
        value, _ = symdiff.value_and_grad(fun, backend=backend)(x, y)
        assert value == pytest.approx(fun(x, y), rel=1e-13)
        symdiff.check_grad(fun, x, y, backend=backend)


def test_reading_a_dict_of_parameters():
    w = np.ones(2)
    assert symdiff.grad(regressions.optional_entries)({"w": w})["w"].tolist() == [3.0, 3.0]
    g = symdiff.grad(regressions.optional_entries)({"w": w, "b": np.array(1.5)})
    assert float(g["b"]) == 3.0


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_nan_to_num_of_a_constant_nan_has_derivative_zero(backend):
    x = np.array([0.3, -1.2, 0.7, 2.0])
    value, g = symdiff.value_and_grad(regressions.nan_to_num_of_a_shifted_input,
                                      backend=backend)(x)
    assert value == regressions.nan_to_num_of_a_shifted_input(x)
    np.testing.assert_array_equal(g, [np.cos(0.3), 0.0, 0.0, 0.0])
    # a NaN argument is made 0 too: the function is constant there
    g = symdiff.grad(regressions.nan_to_num_of_a_shifted_input, backend=backend)(
        np.array([np.nan, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_nan_tests_of_expressions_stay_atoms_of_sympys_logic(backend):
    a = np.array([1.3, 2.0, 1.7, 1.5])
    symdiff.check_grad(regressions.dirichlet_density_in_alpha, a, 0.7, argnums=(0, 1),
                       backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_vjp_of_a_scalar_output_takes_a_number_cotangent(backend):
    out, products = symdiff.vjp(regressions.added, 2.0, 3.0, backend=backend)
    assert out == 5.0 and products(1.5) == (1.5, 1.5)
    x = np.array([0.5, 1.5, 2.0])
    out, products = symdiff.vjp(regressions.product_of_all, x, backend=backend)
    np.testing.assert_allclose(products(np.float64(2.0))[0], [6.0, 2.0, 1.5], rtol=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_ragged_list_of_numbers_is_a_structure(backend):
    """NumPy cannot make an array of it: its gradient has its structure."""
    g = symdiff.grad(regressions.second_of_the_rest, backend=backend)([[1.0], 2.0, 1.5])
    assert g == [[0.0], 3.0, 0.0]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_functions_taking_varargs(backend):
    """As JAX takes them: code for each number of arguments, argnums by position."""
    x, y = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25])
    gradient = symdiff.grad(regressions.takes_varargs, backend=backend)
    np.testing.assert_array_equal(gradient(x), [2.0, 2.0, 2.0])
    gx, gy = symdiff.grad(regressions.takes_varargs, (0, 1), backend=backend)(x, y)
    np.testing.assert_array_equal(gy, 2 * y)
    symdiff.check_grad(regressions.takes_varargs, x, y, x, argnums=(0, 1, 2), backend=backend)
    value, products = symdiff.vjp(regressions.takes_varargs, x, y, backend=backend)
    assert value == regressions.takes_varargs(x, y)
    np.testing.assert_array_equal(products(2.0)[1], 4 * y)


def test_what_varargs_cannot_take_is_refused():
    with pytest.raises(symdiff.ArgumentError, match=r"takes \*args: .* by position"):
        symdiff.grad(regressions.takes_varargs, wrt="args")
    with pytest.raises(symdiff.ArgumentError, match=r"takes \*\*options: .* by position"):
        symdiff.grad(regressions.takes_kwargs, wrt="options")
    with pytest.raises(symdiff.ArgumentError, match="too many positional arguments"):
        symdiff.grad(regressions.keyword_only)(np.ones(3), 3.0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_functions_taking_kwargs_and_keyword_only_parameters(backend):
    """Called as Python calls them, keyword arguments included: code for each way of calling
    them, keyword arguments by name (also in wrt)."""
    x = np.array([1.0, -2.0, 0.5])
    with_kwargs = symdiff.grad(regressions.takes_kwargs, backend=backend)
    np.testing.assert_array_equal(with_kwargs(x), np.ones(3))
    np.testing.assert_array_equal(with_kwargs(x, scale=2.5), np.full(3, 2.5))
    keyword_only = symdiff.value_and_grad(regressions.keyword_only, backend=backend)
    value, g = keyword_only(x, scale=3.0)
    assert value == regressions.keyword_only(x, scale=3.0)
    np.testing.assert_allclose(g, 6.0 * x, rtol=1e-15)
    assert symdiff.grad(regressions.keyword_only, wrt="scale", backend=backend)(
        x, scale=3.0) == pytest.approx(np.sum(x ** 2), rel=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_local_functions_taking_args_kwargs_and_keyword_only_parameters(backend):
    x = np.array([1.0, -2.0, 0.5])
    value, g = symdiff.value_and_grad(regressions.local_wrappers, backend=backend)(x)
    assert value == pytest.approx(regressions.local_wrappers(x), rel=1e-15)
    np.testing.assert_allclose(g, np.full(3, 5.5), rtol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_wrappers_taking_args_and_kwargs(backend):
    """autograd's tests differentiate functions wrapped so (symmetrize_matrix_arg)."""
    a = np.array([[1.0, 2.0], [-0.5, 3.0]])
    symmetric = regressions.symmetrize_argument(regressions.matrix_quadratic, 0)
    symdiff.check_grad(symmetric, a, backend=backend)
    for kwargs in ({}, {"weight": 2.0}):
        value, g = symdiff.value_and_grad(symmetric, backend=backend)(a, **kwargs)
        assert value == pytest.approx(symmetric(a, **kwargs), rel=1e-15)
        h = 1e-6
        central = [[(symmetric(a + h * e, **kwargs) - symmetric(a - h * e, **kwargs)) / (2 * h)
                    for e in np.eye(4).reshape(4, 2, 2)[2 * i:2 * i + 2]] for i in range(2)]
        np.testing.assert_allclose(g, central, rtol=1e-7)


@pytest.mark.parametrize("name", ["appends_in_a_long_while", "yields_in_a_long_while",
                                  "takes_from_a_generator_in_a_long_while",
                                  "yields_in_a_while_on_data"])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_an_abandoned_way_of_tracing_a_loop_leaves_no_trace(name, backend):
    """A loop first written out, then traced again another way, must not keep the list
    items, yielded values or generator items of the abandoned iterations."""
    fun = getattr(regressions, name)
    for x in (np.array([1.7, 0.2, 0.4]), np.array([5.0, 0.1, 3.0])):
        value, g = symdiff.value_and_grad(fun, backend=backend)(x)
        assert value == pytest.approx(fun(x), rel=1e-13)
        symdiff.check_grad(fun, x, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_lambdas_sharing_a_line_are_told_apart(backend):
    """By the source positions Python records for each lambda's code."""
    assert symdiff.grad(regressions.power_of(2.5), backend=backend)(1.7) == \
        pytest.approx(2.5 * 1.7 ** 1.5, rel=1e-14)
    sine, cosine = regressions.SINE_AND_COSINE
    assert symdiff.grad(sine, backend=backend)(1.0) == pytest.approx(2 * np.cos(1.0), rel=1e-14)
    assert symdiff.grad(cosine, backend=backend)(1.0) == pytest.approx(-3 * np.sin(1.0),
                                                                       rel=1e-14)
    make = lambda y: lambda x: np.power(x, y)  # noqa: E731  (indented, as in a test)
    assert symdiff.grad(make(1.5), backend=backend)(2.0) == pytest.approx(1.5 * 2.0 ** 0.5,
                                                                          rel=1e-14)


@pytest.mark.parametrize("name, message", [
    ("writes_through_a_slice", "v shares memory with b"),
    ("writes_into_an_alias", "b is also called c"),
    ("writes_into_rows", "row shares memory with m"),
    ("writes_into_a_helpers_argument", "a is also called y"),
    ("writes_under_a_view", "b shares memory with v"),
    ("writes_into_a_list_item", "y is also called ys"),
    ("writes_into_an_alias_in_a_loop", "z is also called y"),
    ("writes_into_a_view_in_a_long_loop", "r shares memory with y"),
    ("writes_into_a_split_part", "p shares memory with b"),
    ("writes_into_a_squeezed_view", "v shares memory with b"),
    ("adds_into_a_list_item", "the item is also called a"),
    ("accumulates_into_a_zero_d_array", "acc is also called history"),
    ("carries_a_view_in_a_loop", "b shares memory with v"),
    ("aliases_in_a_loop_then_writes", "m is also called c"),
    ("writes_into_a_global", "g is an array from outside the function"),
    ("keeps_the_last_row_and_writes_it", "h shares memory with last"),
    ("writes_into_a_diagonal", "v shares memory with b"),
])
def test_a_write_numpy_would_see_through_shared_memory_is_refused(name, message):
    """symdiff computes a new array where NumPy writes in place: where another name, list,
    caller or view holds the same memory, the results would differ, so the write is refused
    at its line instead of giving another function's gradient."""
    with pytest.raises(symdiff.UnsupportedError, match=message) as info:
        symdiff.grad(getattr(regressions, name), backend="numpy")(
            np.array([1.0, 2.0, 3.0, 4.0]))
    assert info.value.filename.endswith("regressions.py")


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_writes_into_arrays_of_their_own_are_numpys(backend):
    x = np.array([0.5, -1.0, 2.0])
    value, g = symdiff.value_and_grad(regressions.writes_into_copies, backend=backend)(x)
    assert value == pytest.approx(regressions.writes_into_copies(x.copy()), rel=1e-13)
    symdiff.check_grad(regressions.writes_into_copies, x, backend=backend)



def negative_base(x):
    return np.sum((-2.0) ** x)


def scaled_by_size(x):
    n = x.shape[0]
    return np.sum(x ** 2) / float(n)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_small_things_users_write(backend):
    """A negative constant base (its derivative is complex: NaN in real arithmetic, as NumPy's
    log(-2.0) and JAX), float() of a size, NumPy scalars of other types than float64."""
    g = symdiff.grad(negative_base, backend=backend)(np.array([1.0, 2.0]))
    assert np.all(np.isnan(g))
    x = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(symdiff.grad(scaled_by_size, backend=backend)(x), 2 * x / 3,
                               rtol=1e-15)
    ga, gb = symdiff.grad(lambda a, b: a * b + np.sin(a), argnums=(0, 1), backend=backend)(
        np.float32(1.0), np.float32(2.0))
    assert float(ga) == pytest.approx(2.0 + np.cos(1.0), rel=1e-6) and float(gb) == 1.0
    cubed = symdiff.grad(lambda v, i: v[i] ** 3, backend=backend)(x, np.int64(2))
    np.testing.assert_allclose(cubed, [0.0, 0.0, 12.0], rtol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_forward_mode_through_branches_on_elements(backend):
    """SymPy could not put the NaN test of a selection into its normal form: it crashed."""
    x = np.array([-0.5, 0.2, 1.3])
    value, tangent = symdiff.jvp(regressions.branches_over_elements, (x,), (np.ones(3),),
                                 backend=backend)
    assert value == pytest.approx(0.5 + 0.2 ** 3 + 1.3 ** 3, rel=1e-14)
    assert tangent == pytest.approx(-1 + 3 * 0.2 ** 2 + 3 * 1.3 ** 2, rel=1e-14)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_reversed(backend):
    for n in (2, 3, 40):
        x = np.linspace(-1.0, 2.0, n)
        value, _ = symdiff.value_and_grad(regressions.backwards, backend=backend)(x)
        assert value == pytest.approx(regressions.backwards(x), rel=1e-13)
        symdiff.check_grad(regressions.backwards, x, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_item_real_imag_and_lists_in_concatenate(backend):
    x = np.array([1.0, 2.0, 3.0])
    value, _ = symdiff.value_and_grad(regressions.items_and_parts, backend=backend)(x)
    assert value == pytest.approx(regressions.items_and_parts(x), rel=1e-14)
    symdiff.check_grad(regressions.items_and_parts, x, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_row_read_then_another_written_is_numpys(backend):
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4], [0.1, 0.9, -0.3]])
    value, _ = symdiff.value_and_grad(regressions.keeps_the_previous_row, backend=backend)(x)
    assert value == pytest.approx(regressions.keeps_the_previous_row(x), rel=1e-13)
    symdiff.check_grad(regressions.keeps_the_previous_row, x, backend=backend)



@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_two_loops_on_data_compute_their_own_subexpressions(backend):
    y0, t = np.array([0.5, 1.5]), np.array([0.0, 1.0, 2.5])
    value, _ = symdiff.value_and_grad(regressions.two_loops_on_data, backend=backend)(y0, t)
    assert value == pytest.approx(regressions.two_loops_on_data(y0, t), rel=1e-13)
    symdiff.check_grad(regressions.two_loops_on_data, y0, t, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_masks_joined_with_bitwise_operators(backend):
    x = np.array([-2.0, -0.5, 0.3, 2.0, 5.0, 11.0])
    value, g = symdiff.value_and_grad(regressions.masks_joined, backend=backend)(x)
    assert value == pytest.approx(regressions.masks_joined(x), rel=1e-14)
    np.testing.assert_allclose(g, [3.0, -1.0, 0.6, 4.0, 3.0, 0.0], rtol=1e-14)
    with pytest.raises(UnsupportedError, match=r"\| is supported on boolean arrays"):
        symdiff.grad(lambda v: np.sum(v | 1), backend=backend)(x)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_raise_on_data_is_checked_on_each_call(backend):
    g = symdiff.grad(regressions.raises_on_data, backend=backend)
    x = np.array([1.0, 4.0])
    np.testing.assert_allclose(g(x), 0.5 / np.sqrt(x), rtol=1e-15)
    with pytest.raises(ValueError, match="x must not be negative"):
        g(np.array([1.0, -4.0]))
    with pytest.raises(OverflowError, match="too large"):
        g(np.full(2, 1e5))
    np.testing.assert_allclose(g(2 * x), 0.5 / np.sqrt(2 * x), rtol=1e-15)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun", [regressions.transpose_before_a_loop,
                                 regressions.transpose_read_in_a_loop,
                                 regressions.transpose_taken_in_a_loop,
                                 regressions.transpose_between_while_loops],
                         ids=lambda f: f.__name__)
def test_a_view_written_inline_keeps_the_value_a_loop_rebinds(fun, backend):
    x = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.2]])
    if fun is regressions.transpose_read_in_a_loop:
        x = x[:2]
    value, _ = symdiff.value_and_grad(fun, backend=backend)(x)
    assert value == pytest.approx(fun(x.copy()), rel=1e-13)
    symdiff.check_grad(fun, x, backend=backend)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_whole_row_written_by_a_loop_counter(backend):
    g = symdiff.value_and_grad(regressions.rows_written_whole, argnums=(0, 1), backend=backend)
    for n, h in ((20, 0.1), (3, 0.2)):
        x = np.linspace(0.5, 1.5, n)
        value, _ = g(x, h)
        assert value == pytest.approx(regressions.rows_written_whole(x, h), rel=1e-13)
        symdiff.check_grad(regressions.rows_written_whole, x, h, argnums=(0, 1),
                           backend=backend)


def product(x, y):
    return np.sum(x * y)


def plain_sum(x, y):
    return np.sum(x) + np.sum(y[1:])


def tail_of_an_argument(x, y):
    return np.sum(x[1:] * y[:-1])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun", [product, plain_sum, tail_of_an_argument],
                         ids=lambda f: f.__name__)
def test_every_gradient_is_a_new_array_the_caller_owns(fun, backend):
    """The gradient of x * y with respect to x is y itself, that of a sum a broadcast of one
    number, of a slice a view: each comes back as an array of its own, writeable, sharing
    memory with no argument and no other gradient."""
    x, y = np.linspace(0.5, 1.5, 6), np.linspace(-1.0, 1.0, 6)
    g = symdiff.value_and_grad(fun, argnums=(0, 1), backend=backend)
    for _ in range(2):  # the first call generates; the second takes the fast path
        _, (gx, gy) = g(x, y)
        for grad in (gx, gy):
            assert grad.flags.writeable and grad.flags.owndata and grad.shape == x.shape
            assert not np.shares_memory(grad, x) and not np.shares_memory(grad, y)
        assert not np.shares_memory(gx, gy)
        want = g(x, y)[1]
        gx[:] = 99.0  # writing into one result changes nothing later
        np.testing.assert_array_equal(g(x, y)[1][0], want[0])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_value_chosen_by_np_where_is_a_number(backend):
    """The NumPy backend's loop with ``continue`` chose its value with np.where, and handed
    back a 0-d array where the function gives a NumPy float."""
    x = np.array([0.1, -0.3, 0.8])
    value, _ = symdiff.value_and_grad(regressions.skips_some_iterations, argnums=(0, 1),
                                      backend=backend)(x, 0.9)
    assert np.ndim(value) == 0 and not isinstance(value, np.ndarray)
    assert value == pytest.approx(regressions.skips_some_iterations(x, 0.9), rel=1e-14)


def test_a_raise_on_data_of_an_exception_of_ones_own_is_refused_at_its_line():
    with pytest.raises(UnsupportedError, match=r"regressions.py:\d+:\d+: a raise on data .*"
                                               "builtin exceptions"):
        symdiff.grad(regressions.raises_its_own_exception, backend="numpy")(np.ones(2))


def test_the_function_table_builds_without_numpy_row_stack(monkeypatch):
    """NumPy 2.5 removed np.row_stack: symdiff's table of NumPy functions must not need it."""
    from symdiff.frontend import functions

    monkeypatch.delattr(np, "row_stack", raising=False)
    monkeypatch.setattr(functions, "_TABLE", None)
    assert functions.function_handler(np.vstack) is not None


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_float32_maximum_is_tested_on_its_operands_not_its_rounded_value(backend):
    """A float32 ReLU's value compared with a bound the compiled code computes in float64
    (0.1, 0.01 * a) is not the comparison of the operands: the mask must not read it."""
    z = np.linspace(-1, 1, 9).astype(np.float32)
    _, g = symdiff.value_and_grad(regressions.max_with_a_float64_constant, backend=backend)(z)
    np.testing.assert_array_equal(g, (z > np.float32(0.1)).astype(np.float32))
    rng = np.random.default_rng(0)
    x, W, V = (rng.standard_normal(s).astype(np.float32) for s in ((6, 4), (4, 5), (5, 3)))
    got = symdiff.grad(regressions.leaky_relu_layer, (1, 2), backend=backend)(x, W, V)
    exact = symdiff.grad(regressions.leaky_relu_layer, (1, 2), backend="numpy")(
        x.astype(float), W.astype(float), V.astype(float))
    for g32, g64 in zip(got, exact, strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5)


def test_a_factor_shared_inside_a_branch_is_computed_under_its_guard():
    """exp(x * y) overflows where x > 0 is false: NumPy's where computes it there too, under
    the guard that keeps that quiet; sharing it between the gradients must not move it out."""
    x, y = np.array([-1.0, 0.5]), np.array([-1000.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = symdiff.grad(regressions.shared_factor_in_a_branch, (0, 1),
                              backend="numpy")(x, y)
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))
