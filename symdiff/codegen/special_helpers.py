"""SciPy's special functions in compiled code: the helpers a Numba module defines for itself.

``scipy.special.cython_special`` exports SciPy's scalar kernels as C functions. A generated
module binds each one it uses to a symbol of its own (``_cython_special``) and calls it as a
Numba external function, which, unlike a ctypes pointer, lets Numba cache the compiled code.
SciPy has no exported polygamma: ``_polygamma`` sums the Hurwitz zeta function itself.
"""

from __future__ import annotations

import sympy as sp

from symdiff.calculus.special import SCIPY_FUNCTIONS, helper_name

# SciPy's exported name of each function's float64 kernel (fused kernels are numbered)
CYTHON_NAMES = {
    "erf": "__pyx_fuse_1erf", "erfc": "__pyx_fuse_1erfc", "erfcx": "__pyx_fuse_1erfcx",
    "erfinv": "__pyx_fuse_0erfinv",
    "erfcinv": "erfcinv", "gammaln": "gammaln", "digamma": "__pyx_fuse_1psi",
    "gamma": "__pyx_fuse_1gamma", "rgamma": "__pyx_fuse_1rgamma", "beta": "beta",
    "betaln": "betaln", "jv": "__pyx_fuse_1jv", "j0": "j0", "j1": "j1", "yv": "__pyx_fuse_1yv",
    "y0": "y0", "y1": "y1", "iv": "__pyx_fuse_1iv", "i0": "i0", "i1": "i1",
    "ive": "__pyx_fuse_1ive", "i0e": "i0e", "i1e": "i1e", "gammainc": "gammainc",
    "gammaincc": "gammaincc", "betainc": "__pyx_fuse_0betainc", "stdtr": "__pyx_fuse_0stdtr",
    "gammasgn": "gammasgn",
}

CYTHON_SPECIAL = "_cython_special"  # defined first, undecorated: it runs when the module loads

_BINDER = '''
def _cython_special(name, arity):
    """SciPy's compiled float64 kernel ``name`` (scipy.special.cython_special), bound to a
    symbol of its own and called from compiled code as an external function. The kernel's
    exported name differs between SciPy versions (``__pyx_fuse_0stdtr``, ``stdtr``): the one
    taking and returning doubles is found by its signature."""
    import ctypes

    import scipy.special.cython_special as cython_special
    from llvmlite import binding
    from numba.extending import get_cython_function_address
    base = name[len("__pyx_fuse_0"):] if name.startswith("__pyx_fuse_") else name
    signature = "double (" + ", ".join(["double"] * arity + ["int __pyx_skip_dispatch"]) + ")"
    capsule_name = ctypes.pythonapi.PyCapsule_GetName
    capsule_name.restype, capsule_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    exported = cython_special.__pyx_capi__
    found = [n for n in [name, base] + [f"__pyx_fuse_{k}{base}" for k in range(4)]
             if n in exported and capsule_name(exported[n]).decode() == signature]
    if not found:
        raise ImportError(f"scipy.special.cython_special has no float64 kernel {base}")
    symbol = "scipy_special_" + found[0]
    binding.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special",
                                                           found[0]))
    f8 = numba.types.float64
    return numba.types.ExternalFunction(symbol, f8(*(f8,) * arity, numba.types.int32))
'''


def _kernel_helper(name: str, params: tuple[str, ...]) -> str:
    args = ", ".join(params)
    return f'''
_{name}_kernel = _cython_special("{CYTHON_NAMES[name]}", {len(params)})


def {helper_name(name)}({args}):
    """scipy.special.{name}"""
    return _{name}_kernel({args}, 0)
'''


_TERMS = ", ".join(repr(float(sp.bernoulli(2 * j) / sp.factorial(2 * j))) for j in range(1, 13))

_POLYGAMMA = f'''
def _polygamma(n, x):
    """scipy.special.polygamma for an integer n >= 0: digamma for n = 0, else
    (-1)**(n + 1) * n! * zeta(n + 1, x), the Hurwitz zeta function summed term by term until
    x >= 15 + n and by the Euler-Maclaurin formula from there."""
    if n == 0:
        return _digamma(x)
    if not (x > -1e6 and x < np.inf):
        return np.nan  # far left: too many terms; nan: not a number, not a wrong one
    s = n + 1.0
    total = 0.0
    while x < 15.0 + n:
        total += x ** -s
        x += 1.0
    total += x ** (1.0 - s) / (s - 1.0) + 0.5 * x ** -s
    power = s * x ** (-s - 1.0)  # s (s + 1) ... (s + 2j - 2) x ** (-s - 2j + 1)
    k = 1.0
    for b in ({_TERMS}):  # B(2j) / (2j)!
        total += b * power
        power *= (s + k) * (s + k + 1.0) / (x * x)
        k += 2.0
    factorial = 1.0
    for m in range(2, n + 1):
        factorial *= m
    return factorial * total if n % 2 == 1 else -factorial * total
'''

NUMBA_SPECIAL_HELPERS: dict[str, str] = {
    CYTHON_SPECIAL: _BINDER, "_polygamma": _POLYGAMMA,
    **{helper_name(name): _kernel_helper(name, params)
       for name, params in SCIPY_FUNCTIONS.items() if name in CYTHON_NAMES},
}
# what each helper needs defined with it
NUMBA_SPECIAL_REQUIRES: dict[str, tuple[str, ...]] = {
    "_polygamma": ("_digamma",),
    **{helper_name(name): (CYTHON_SPECIAL,) for name in CYTHON_NAMES},
}
