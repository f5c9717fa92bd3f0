"""Failures found by the random-program tests, as fixed regression cases."""

import numpy as np
import pytest

import symdiff
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
