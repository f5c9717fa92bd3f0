"""Helpers that Array API modules define for themselves, in the standard's functions only.

Each takes its namespace from its arguments, as the generated functions do. Gathers and their
adjoints are written with one-hot selections (``xp.where`` over a comparison with
``xp.arange``, summed): exact, since each element of a sum but one is zero, and with no
in-place update (``np.add.at`` has no counterpart in the standard).
"""

from __future__ import annotations

ARRAY_API_HELPERS: dict[str, str] = {
    "_sigmoid": '''
def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow."""
    xp = array_api_compat.array_namespace(x)
    return xp.exp(-xp.logaddexp(xp.zeros_like(x), -x))
''',
    "_heaviside": '''
def _heaviside(x, h0):
    """np.heaviside: 0 below zero, 1 above, h0 at zero, NaN at NaN."""
    xp = array_api_compat.array_namespace(x, h0)
    one = xp.ones_like(x)
    return xp.where(x > 0, one, xp.where(x < 0, 0 * one, xp.where(x == 0, h0 * one, x)))
''',
    "_fmax": '''
def _fmax(a, b):
    """np.fmax: the larger, ignoring a NaN unless both are NaN."""
    xp = array_api_compat.array_namespace(a, b)
    return xp.where(xp.isnan(b), a, xp.where(xp.isnan(a), b, xp.maximum(a, b)))
''',
    "_fmin": '''
def _fmin(a, b):
    """np.fmin: the smaller, ignoring a NaN unless both are NaN."""
    xp = array_api_compat.array_namespace(a, b)
    return xp.where(xp.isnan(b), a, xp.where(xp.isnan(a), b, xp.minimum(a, b)))
''',
    "_cbrt": '''
def _cbrt(x):
    """The real cube root (negative for negative x)."""
    xp = array_api_compat.array_namespace(x)
    return xp.sign(x) * xp.abs(x) ** (1 / 3)
''',
    "_sinc": '''
def _sinc(x):
    """np.sinc: sin(pi x) / (pi x), 1 at 0."""
    xp = array_api_compat.array_namespace(x)
    zero = x == 0
    y = xp.pi * xp.where(zero, xp.ones_like(x), x)
    return xp.where(zero, xp.ones_like(x), xp.sin(y) / y)
''',
    "_take": '''
def _take(x, indices, axis):
    """x read at ``indices`` (1-d; negative ones count from the end) along ``axis``."""
    xp = array_api_compat.array_namespace(x, indices)
    indices = xp.where(indices < 0, indices + x.shape[axis], indices)
    return xp.take(x, indices, axis=axis)
''',
    "_take_adjoint": '''
def _take_adjoint(cotangent, indices, size, axis):
    """The adjoint of _take(x, indices, axis) for an axis of ``size``: each cotangent added
    where it was read, repeated reads accumulating."""
    xp = array_api_compat.array_namespace(cotangent, indices)
    indices = xp.where(indices < 0, indices + size, indices)
    positions = xp.arange(size, dtype=indices.dtype, device=array_api_compat.device(indices))
    read = indices[:, None] == positions[None, :]  # (read, position): one True a row
    moved = xp.moveaxis(cotangent, axis, -1)[..., :, None]
    zero = xp.zeros((), dtype=cotangent.dtype, device=array_api_compat.device(cotangent))
    return xp.moveaxis(xp.sum(xp.where(read, moved, zero), axis=-2), -1, axis)
''',
    "_take_along_axis": '''
def _take_along_axis(x, indices, axis):
    """np.take_along_axis(x, indices, axis), as a one-hot selection."""
    xp = array_api_compat.array_namespace(x, indices)
    size = x.shape[axis]
    indices = xp.moveaxis(indices, axis, -1)
    indices = xp.where(indices < 0, indices + size, indices)
    positions = xp.arange(size, dtype=indices.dtype, device=array_api_compat.device(indices))
    read = indices[..., :, None] == positions  # (..., read, position)
    values = xp.moveaxis(x, axis, -1)[..., None, :]
    zero = xp.zeros((), dtype=x.dtype, device=array_api_compat.device(x))
    return xp.moveaxis(xp.sum(xp.where(read, values, zero), axis=-1), -1, axis)
''',
    "_take_along_axis_adjoint": '''
def _take_along_axis_adjoint(cotangent, like, indices, axis):
    """The adjoint of _take_along_axis(like, indices, axis): repeated reads accumulate."""
    xp = array_api_compat.array_namespace(cotangent, like, indices)
    size = like.shape[axis]
    cotangent = xp.broadcast_to(cotangent, indices.shape)
    indices = xp.moveaxis(indices, axis, -1)
    indices = xp.where(indices < 0, indices + size, indices)
    positions = xp.arange(size, dtype=indices.dtype, device=array_api_compat.device(indices))
    read = indices[..., :, None] == positions  # (..., read, position)
    moved = xp.moveaxis(cotangent, axis, -1)[..., :, None]
    zero = xp.zeros((), dtype=cotangent.dtype, device=array_api_compat.device(cotangent))
    out = xp.moveaxis(xp.sum(xp.where(read, moved, zero), axis=-2), -1, axis)
    return xp.broadcast_to(out, like.shape)
''',
    "_exclusive_cumsum": '''
def _exclusive_cumsum(x, axis, reverse=False):
    """The sum of the elements before each one along ``axis`` (after it, if ``reverse``):
    0 for the first."""
    xp = array_api_compat.array_namespace(x)
    if reverse:
        x = xp.flip(x, axis=axis)
    total = xp.cumulative_sum(x, axis=axis, include_initial=True)
    total = xp.take(total, xp.arange(x.shape[axis], device=array_api_compat.device(x)),
                    axis=axis)
    return xp.flip(total, axis=axis) if reverse else total
''',
}
