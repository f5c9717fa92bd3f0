"""symdiff: differentiate Python/NumPy functions from their source.

>>> import numpy as np, symdiff
>>> def f(x):
...     return np.sum(np.sin(x) ** 2)
>>> symdiff.grad(f)(np.array([0.0, 1.0]))  # doctest: +SKIP
"""

from symdiff import nn  # noqa: E402,I001  (nn uses stop_gradient above)
from symdiff.api import GradOperation, grad, stop_gradient, value_and_grad, vjp
from symdiff.check.finite_diff import check_grad
from symdiff.errors import (
    ArgumentError,
    GradientCheckError,
    SymdiffError,
    UnsupportedError,
)
from symdiff.trees import parameters
from symdiff.version import VERSION as __version__

__all__ = [
    "ArgumentError", "GradOperation", "GradientCheckError", "SymdiffError", "UnsupportedError",
    "__version__", "check_grad", "grad", "nn", "parameters", "stop_gradient", "value_and_grad",
    "vjp",
]
