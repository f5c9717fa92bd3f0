"""Arrays of other libraries (PyTorch, CuPy, JAX, Dask, array-api-strict), as the Array API
standard sees them: found without importing any of those libraries, their namespace through
``array_api_compat`` (an optional dependency: ``pip install symdiff[array-api]``)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.cache
def _compat() -> Any:
    try:
        import array_api_compat
    except ImportError:
        return None
    return array_api_compat


def is_array_api_array(value: Any) -> bool:
    """An array of a library other than NumPy: one with ``__array_namespace__``, or one that
    ``array_api_compat`` knows (a PyTorch tensor has no namespace of its own)."""
    if isinstance(value, (np.ndarray, np.generic, float, int, bool)) or value is None:
        return False
    if hasattr(type(value), "__array_namespace__"):
        return True
    compat = _compat()
    return compat is not None and compat.is_array_api_obj(value)


def namespace_of(value: Any) -> Any:
    """The Array API namespace of an array of another library."""
    compat = _compat()
    return compat.array_namespace(value) if compat is not None else \
        value.__array_namespace__()


def is_dask_array(value: Any) -> bool:
    """A Dask array (found without importing Dask)."""
    return type(value).__module__.startswith("dask.array")
