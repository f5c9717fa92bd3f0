"""The helpers generated CUDA modules define for themselves: device functions (one element,
``math`` only), kernels, and host functions that launch and move arrays."""

from __future__ import annotations

from symdiff.codegen.helpers import HELPERS
from symdiff.codegen.numba_helpers import NUMBA_HELPERS

THREADS = 256  # threads per block

DEVICE_HELPERS = {
    "_d_erfcx": '''
def _d_erfcx(x):
    """exp(x**2) * erfc(x): directly up to 25, by its asymptotic series beyond."""
    if x < -26.6:
        return math.inf  # exp(x**2) overflows
    if x < 25.0:
        return math.exp(x * x) * math.erfc(x)
    r = 1.0 / (2.0 * x * x)
    return (1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r * (1.0 - 7.0 * r * (1.0 - 9.0 * r)))))\
        / (x * math.sqrt(math.pi))
''',
    "_d_sigmoid": '''
def _d_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, with one exp."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
''',
    "_d_logaddexp": '''
def _d_logaddexp(a, b):
    """log(exp(a) + exp(b)) without overflow."""
    if a == b:  # also both infinite
        return a + math.log(2.0)
    hi = max(a, b)
    return hi + math.log1p(math.exp(-abs(a - b)))
''',
    "_d_sign": '''
def _d_sign(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # 0 and NaN are their own sign
''',
    "_d_maximum": '''
def _d_maximum(a, b):
    """np.maximum: NaN wins."""
    if a != a or a >= b:
        return a
    return b
''',
    "_d_minimum": '''
def _d_minimum(a, b):
    """np.minimum: NaN wins."""
    if a != a or a <= b:
        return a
    return b
''',
}
_EXACT = 4503599627370496.0  # 2**52: every float64 at least this large is an integer
DEVICE_HELPERS.update({
    "_d_floor": f'''
def _d_floor(x):
    """np.floor as a float (math.floor gives an integer, which cannot hold 1e300)."""
    if not abs(x) < {_EXACT}:
        return x  # already an integer, or inf or NaN
    return float(math.floor(x))
''',
    "_d_ceil": f'''
def _d_ceil(x):
    if not abs(x) < {_EXACT}:
        return x
    return float(math.ceil(x))
''',
    "_d_trunc": f'''
def _d_trunc(x):
    if not abs(x) < {_EXACT}:
        return x
    return float(math.trunc(x))
''',
    "_d_rint": f'''
def _d_rint(x):
    """Rounding half to even, as np.rint."""
    if not abs(x) < {_EXACT}:
        return x
    down = float(math.floor(x))
    gap = x - down
    if gap > 0.5 or (gap == 0.5 and down % 2.0 != 0.0):
        return down + 1.0
    return down
''',
    "_d_mod": '''
def _d_mod(a, b):
    """np.mod: the remainder with the sign of b."""
    r = math.fmod(a, b)
    if r != 0.0 and (r < 0.0) != (b < 0.0):
        r += b
    return r
''',
    "_d_cbrt": '''
def _d_cbrt(x):
    return math.copysign(abs(x) ** (1.0 / 3.0), x)
''',
    "_d_sinc": '''
def _d_sinc(x):
    if x == 0.0:
        return 1.0
    y = math.pi * x
    return math.sin(y) / y
''',
    "_d_fmax": '''
def _d_fmax(a, b):
    """np.fmax: a NaN operand loses."""
    if b != b or a >= b:
        return a
    return b
''',
    "_d_fmin": '''
def _d_fmin(a, b):
    if b != b or a <= b:
        return a
    return b
''',
    # one element, as on the CPU
    "_d_heaviside": NUMBA_HELPERS["_heaviside"].replace("def _heaviside", "def _d_heaviside"),
})
KERNEL_HELPERS = {
    "_fill": '''
def _fill(out, value):
    k = cuda.grid(1)
    if k < out.size:
        out[k] = value
''',
}
HOST_HELPERS = {
    "_sigmoid": NUMBA_HELPERS["_sigmoid"],
    "_heaviside": NUMBA_HELPERS["_heaviside"],
    "_grid": f'''
def _grid(size):
    """Blocks of {THREADS} threads covering ``size`` elements (at least one block)."""
    return max(1, (size + {THREADS - 1}) // {THREADS})
''',
    "_full": '''
def _full(shape, value, dtype):
    """A device array filled with ``value``."""
    out = cuda.device_array(int(np.prod(shape)), dtype=dtype)
    _fill[_grid(out.size), THREADS](out, value)
    return out.reshape(shape)
''',
    "_to_device": '''
def _to_device(x):
    """An argument on the device: NumPy arrays are copied there, device arrays kept."""
    if hasattr(x, "copy_to_host"):
        return x
    return cuda.to_device(np.ascontiguousarray(x))
''',
}
CUDA_HELPERS = {**HELPERS, **HOST_HELPERS, **DEVICE_HELPERS, **KERNEL_HELPERS}
