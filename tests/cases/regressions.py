"""Programs the random-program tests once found wrong, kept so they stay right."""

import numpy as np


def scalar_broadcast_into_vector(x0, x2):
    # A scalar cotangent stood for a whole vector: reducing it to the scalar input x0 must
    # multiply by the vector's length (d/dx0 = 1.5 * len(x2)), not pass it through.
    v2 = x0 + x2
    return np.sum(v2 * 1.5)


def sum_of_a_scalar(x0, w):
    # np.sum of a rank-0 value made the Numba target emit an empty loop nest; w has no
    # gradient at all (zeros of its shape).
    v0 = np.exp(-x0 * x0)  # noqa: F841
    return np.sum(x0 * 1.5)


def last_column(a):
    # a[:, -1:] has one column whatever a's width; it was sized as a.shape[1] - a.shape[1] - 1
    # and taken to be as wide as a, so its adjoint did not fit.
    return np.sum(a[:1, :] * a + a[:, -1:])


def nan_tests_by_comparison(x):
    """x != x is NumPy's idiom for isnan; x == x and x <= x are false at NaN."""
    return np.sum(np.where(x != x, 0.0, x)) + np.sum(np.where(x == x, x ** 2, 0.0)) + \
        np.sum(np.where(x <= x, x, 0.0)) + np.sum(np.where(x < x, x, 0.0))


def strided_slice_product(x):
    return np.sum(x[::2] * 2.0 * x[::2])


def cubes_by_index(x):
    """A loop over an argument's length, which derivatives of derivatives write out."""
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] ** 3
    return s


def quantile_times_energy(x):
    return np.quantile(x, 0.3) * np.sum(x ** 2)


def root_of_either_sign(a):
    if a >= 0:
        r = np.sqrt(a)
    else:
        r = np.sqrt(-a)
    return r
