"""symdiff: differentiate Python/NumPy functions from their source.

>>> import numpy as np, symdiff
>>> def f(x):
...     return np.sum(np.sin(x) ** 2)
>>> symdiff.grad(f)(np.array([0.0, 1.0]))  # doctest: +SKIP
"""

from symdiff import distributed, integrate, nn
from symdiff.api import GradOperation, grad, value_and_grad, vjp
from symdiff.check.finite_diff import check_grad
from symdiff.errors import (
    ArgumentError,
    GradientCheckError,
    SizeError,
    SymdiffError,
    UnsupportedError,
)
from symdiff.forward import hessian, jacfwd, jacobian, jacrev, jvp
from symdiff.log import config
from symdiff.markers import stop_gradient
from symdiff.trees import parameters
from symdiff.version import VERSION as __version__

__all__ = [
    "ArgumentError", "GradOperation", "GradientCheckError", "SizeError", "SymdiffError",
    "UnsupportedError", "__version__", "check_grad", "config", "custom_vjp", "distributed",
    "explain", "extend", "formula", "grad", "graph", "hessian", "integrate", "jacfwd",
    "jacobian", "jacrev", "jvp", "latex", "nn", "parameters", "stop_gradient",
    "value_and_grad", "vjp",
]

_TEACHING = ("explain", "formula", "graph", "latex")


def __getattr__(name: str):
    """``symdiff.extend``, ``symdiff.custom_vjp`` and the teaching tools load the compiler, so
    they load on first use: a process running cached gradients never imports SymPy or libcst."""
    import importlib

    if name in ("extend", "custom_vjp"):
        extend = importlib.import_module("symdiff.extend")
        return extend if name == "extend" else extend.custom_vjp
    if name in _TEACHING:
        return getattr(importlib.import_module("symdiff.teach"), name)
    raise AttributeError(f"module 'symdiff' has no attribute {name!r}")
