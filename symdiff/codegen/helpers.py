"""Runtime helpers that generated modules define for themselves (they never import symdiff)."""

from __future__ import annotations

from symdiff.calculus.special import SCIPY_FUNCTIONS, helper_name

HELPERS: dict[str, str] = {
    "_sigmoid": '''
def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow."""
    return np.exp(-np.logaddexp(0.0, -x))
''',
    "_heaviside": '''
def _heaviside(x, h0):
    return np.heaviside(x, h0)
''',
    "_index_adjoint": '''
def _index_adjoint(cotangent, like, index):
    """The adjoint of like[index] for basic indexing: no element is read twice."""
    out = np.zeros(np.shape(like), dtype=np.result_type(cotangent, like))
    out[index] = cotangent
    return out
''',
    "_scatter_add": '''
def _scatter_add(cotangent, like, index):
    """The adjoint of like[index] for integer-array indexing: repeated reads accumulate."""
    out = np.zeros(np.shape(like), dtype=np.result_type(cotangent, like))
    np.add.at(out, index, cotangent)
    return out
''',
    "_take_along_axis_adjoint": '''
def _take_along_axis_adjoint(cotangent, like, indices, axis):
    """The adjoint of np.take_along_axis(like, indices, axis)."""
    out = np.zeros(np.shape(like), dtype=np.result_type(cotangent, like))
    index = list(np.indices(cotangent.shape, sparse=True))
    index[axis] = np.broadcast_to(indices, cotangent.shape)
    np.add.at(out, tuple(index), cotangent)
    return out
''',
}


def _scipy_helper(name: str, params: tuple[str, ...]) -> str:
    args = ", ".join(params)
    return f'''
def {helper_name(name)}({args}):
    """scipy.special.{name}"""
    from scipy import special
    return special.{name}({args})
'''


# the special functions of symdiff.calculus.special, called in SciPy
HELPERS.update({helper_name(name): _scipy_helper(name, params)
                for name, params in SCIPY_FUNCTIONS.items()})
