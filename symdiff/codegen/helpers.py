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
    "_partition_order": '''
def _partition_order(x, kth, axis):
    """Where each element of np.partition(x, kth, axis) is in x: the i-th smallest element of
    the partition is the i-th smallest of x (equal elements matched in order)."""
    arranged = np.partition(x, kth, axis=axis)
    order = np.empty(np.shape(x), dtype=np.int64)
    np.put_along_axis(order, np.argsort(arranged, axis=axis, kind="stable"),
                      np.argsort(x, axis=axis, kind="stable"), axis)
    return order
''',
    "_exclusive_cumprod": '''
def _exclusive_cumprod(x, axis, reverse=False):
    """The product of the elements before each one along ``axis`` (after it, if ``reverse``):
    1 for the first."""
    x = np.moveaxis(x, axis, -1)
    if reverse:
        x = x[..., ::-1]
    out = np.ones(x.shape, dtype=x.dtype)
    np.cumprod(x[..., :-1], axis=-1, out=out[..., 1:])
    if reverse:
        out = out[..., ::-1]
    return np.moveaxis(out, -1, axis)
''',
    "_cumprod_adjoint": '''
def _cumprod_adjoint(cotangent, x, axis, reverse=False, exclusive=False, transposed=False):
    """The adjoint of np.cumprod along ``axis`` without dividing by ``x`` (exact at zeros):
    the product of the elements before each times r[k] = g[k] + x[k + 1] * r[k + 1];
    ``transposed``: its transpose, cumprod's derivative along the tangent ``cotangent``,
    s[i] = x[i] * s[i - 1] + u[i] * (the product of the elements before i)."""
    g = np.moveaxis(np.broadcast_to(cotangent, np.shape(x)), axis, 0)
    x = np.moveaxis(x, axis, 0)
    order = range(len(x) - 1, -1, -1) if reverse else range(len(x))  # the scan's order
    out = np.empty(x.shape, dtype=np.result_type(g, x))
    before = np.ones(x.shape[1:], dtype=out.dtype)  # the product of the elements before k
    if transposed:
        total = np.zeros(x.shape[1:], dtype=out.dtype)
        for k in order:
            if exclusive:
                out[k] = total
            total = total * x[k] + g[k] * before
            if not exclusive:
                out[k] = total
            before = before * x[k]
        return np.moveaxis(out, 0, axis)
    total = np.zeros(x.shape[1:], dtype=out.dtype)
    for k in reversed(order):  # from the end of the scan back to its start
        if exclusive:
            out[k] = total
            total = total * x[k] + g[k]
        else:
            total = total + g[k]
            out[k] = total
            total = total * x[k]
    for k in order:  # times the product of the elements before each
        out[k] *= before
        before = before * x[k]
    return np.moveaxis(out, 0, axis)
''',
}
HELPERS["_running_extreme_adjoint"] = '''
def _running_extreme_adjoint(cotangent, x, index, axis, transposed=False):
    """The adjoint of x read at its running argmax ``index`` along ``axis``: each running
    extreme's cotangent shared equally between the elements tied for it so far (``transposed``:
    the transpose of that linear map, for derivatives of derivatives)."""
    g = np.moveaxis(np.broadcast_to(cotangent, np.shape(x)), axis, 0)
    x, index = np.moveaxis(x, axis, 0), np.moveaxis(index, axis, 0)
    n = len(x)
    positions = np.arange(n).reshape((-1,) + (1,) * (x.ndim - 1))
    tied = (x == np.take_along_axis(x, index, 0)) | (index == positions)
    new_run = np.ones(x.shape, dtype=bool)
    new_run[1:] = index[1:] != index[:-1]
    counts = np.empty(x.shape, dtype=np.float64)
    count = np.zeros(x.shape[1:])
    for k in range(n):  # how many elements are tied for the running extreme at k
        count = np.where(new_run[k], 0.0, count) + tied[k]
        counts[k] = count
    out = np.empty(x.shape, dtype=np.result_type(g, x))
    total = np.zeros(x.shape[1:], dtype=out.dtype)
    if transposed:
        for k in range(n):
            total = np.where(new_run[k], 0.0, total) + np.where(tied[k], g[k], 0.0)
            out[k] = total / counts[k]
    else:
        for k in range(n - 1, -1, -1):
            total = total + g[k] / counts[k]
            out[k] = np.where(tied[k], total, 0.0)
            total = np.where(new_run[k], 0.0, total)
    return np.moveaxis(out, 0, axis)
'''
for _name, _better in (("argmax", ">"), ("argmin", "<")):
    HELPERS[f"_running_{_name}"] = f'''
def _running_{_name}(x, axis):
    """The index of the first {_name[3:]}imum of x[:k + 1] along ``axis``, for every k (a NaN
    is the {_name[3:]}imum from where it appears on, as in np.{_name[3:]}imum.accumulate)."""
    x = np.moveaxis(x, axis, 0)
    before = np.{_name[3:]}imum.accumulate(x, axis=0)[:-1]  # the extreme before each element
    new = np.ones(x.shape, dtype=bool)
    new[1:] = (x[1:] {_better} before) | ((x[1:] != x[1:]) & (before == before))
    positions = np.arange(len(x)).reshape((-1,) + (1,) * (x.ndim - 1))
    index = np.maximum.accumulate(np.where(new, positions, 0), axis=0)
    return np.moveaxis(index, 0, axis)
'''


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
