"""What user code calls or carries to speak to symdiff, light enough for any module to import.

``stop_gradient`` is the identity that differentiation treats as a constant. An object with a
``__symdiff_trace__`` method (a gradient function, ``jvp``, a custom rule) is traced into the
caller's graph when differentiated code calls it, instead of being read from its source. A
function marked ``runs_while_tracing`` (``grad``, ``jvp``: functions of functions) runs as
Python when differentiated code calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TRACE_HOOK = "__symdiff_trace__"
# set (True) on objects that stand for a Python function with source while tracing (a
# function defined inside differentiated code): transforms take them as they take functions
WITH_SOURCE = "__symdiff_with_source__"


def has_source(fun: Any) -> bool:
    """Whether ``fun`` is a Python function, or stands for one while tracing."""
    return hasattr(fun, "__code__") or getattr(fun, WITH_SOURCE, False)


def stop_gradient(x: Any) -> Any:
    """The identity in value; its derivative is zero, so no gradient flows through ``x``."""
    return x


def trace_hook(fun: Any) -> Any:
    """``fun``'s way of being traced into a graph, or None for plain functions."""
    return getattr(fun, TRACE_HOOK, None)


def runs_while_tracing(fun: Callable) -> Callable:
    """Mark a function of functions and options (``grad``, ``jvp``...): called inside
    differentiated code, it runs as Python while tracing instead of being traced."""
    fun.__symdiff_static__ = True  # type: ignore[attr-defined]
    return fun


def runs_as_python(fun: Any) -> bool:
    """Marked with ``runs_while_tracing``."""
    return getattr(fun, "__symdiff_static__", False)
