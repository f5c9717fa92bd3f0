"""The few names of autograd's own API that its test files call on ``np`` besides NumPy's,
written here in plain NumPy (the harness's own code) so that the tests that use them run.

They are not NumPy functions and are never counted as such. For the JAX engine the harness
rebinds ``np`` in copies of these functions to ``jax.numpy``.
"""

import numpy as np


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """Arrays with ``D``'s last axis on the diagonal of two new last axes: the form the tests
    use (offset 0, axes -1 and -2); other offsets and axes are not covered."""
    return D[..., None] * np.eye(D.shape[-1])


def linalg_dot(a, b):
    """A product of stacks of matrices."""
    return np.matmul(a, b)


def linalg_T(a):
    """The transpose of the last two axes."""
    return np.swapaxes(a, -1, -2)
