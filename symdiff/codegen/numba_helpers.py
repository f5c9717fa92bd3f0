"""The helpers generated Numba modules define for themselves: NumPy's helpers, and those
written one element at a time or in Numba's terms."""

from __future__ import annotations

from symdiff.codegen.helpers import HELPERS
from symdiff.codegen.special_helpers import NUMBA_SPECIAL_HELPERS

NUMBA_HELPERS = {**HELPERS, "_blas_dot": '''
def _blas_dot(a, b):
    """np.dot by BLAS, compiled on its own: in a function compiled with parallel=True, Numba
    would write a product of a matrix and a vector as a loop, slower than BLAS."""
    return np.dot(a, b)
''', "_lower_symmetric": '''
def _lower_symmetric(a):
    """The symmetric matrix that the lower triangle of ``a`` stands for (as NumPy reads it)."""
    return np.tril(a) + np.tril(a, -1).T
''', "_in_bounds": '''
def _in_bounds(index, size):
    """An index read from data, as NumPy takes it: negative from the end, past it an error."""
    if index < -size or index >= size:
        raise IndexError("an index array holds an index out of bounds")
    return index + size if index < 0 else index
''', "_sigmoid": '''
def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, with one exp."""
    if x >= 0.0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)
''', "_heaviside": '''
def _heaviside(x, h0):
    """np.heaviside of one element (Numba has no np.heaviside)."""
    if x < 0.0:
        return 0.0
    if x > 0.0:
        return 1.0
    return h0 if x == 0.0 else x
''', **NUMBA_SPECIAL_HELPERS}
