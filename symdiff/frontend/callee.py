"""Functions the tracer can evaluate from source: live Python functions, or functions read
statically from a file that is never run (``symdiff.frontend.static_module``).

Both give the tracer the same four things: a name, the parsed source, the signature (for
binding arguments and defaults) and a way to look up the names the body uses.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Hashable
from typing import Any, Protocol

from symdiff.errors import ArgumentError
from symdiff.frontend.source import FunctionSource, function_source
from symdiff.markers import trace_hook

MISSING = object()


class Callee(Protocol):
    name: str
    key: Hashable  # identity, for recursion checks
    source: FunctionSource
    signature: inspect.Signature

    def lookup(self, ident: str) -> Any:
        """The value of a free name of the body, or ``MISSING``."""


class LiveFunction:
    """A Python function object: its globals and closure give the values of its free names."""

    def __init__(self, fun: Any):
        self.fun = fun
        self.name = fun.__qualname__
        self.key = fun.__code__
        self.source = function_source(fun)
        self.signature = inspect.signature(fun)
        closure = inspect.getclosurevars(fun) if fun.__closure__ else None
        self._nonlocals = dict(closure.nonlocals) if closure else {}

    def lookup(self, ident: str) -> Any:
        for scope in (self._nonlocals, self.fun.__globals__):
            if ident in scope:
                return scope[ident]
        return getattr(builtins, ident, MISSING)

    def holds(self, ident: str) -> bool:
        """Whether ``ident`` is a closure or global variable of the function (not a
        builtin)."""
        return ident in self._nonlocals or ident in self.fun.__globals__


def as_callee(value: Any) -> Callee | None:
    """The callee for a value the traced code calls, if it is a function with source."""
    if inspect.isfunction(value):
        return LiveFunction(value)
    if hasattr(value, "source") and hasattr(value, "lookup") and hasattr(value, "signature"):
        return value
    return None


def innermost(fun: Any) -> Any:
    """The Python function under transforms (``f`` in ``grad(grad(f))``)."""
    while trace_hook(fun) is not None and hasattr(fun, "fun"):
        fun = fun.fun
    return fun


def source_of(fun: Any) -> Any:
    """The source of the function under ``fun``'s transforms, for names and error locations."""
    callee = as_callee(innermost(fun))
    if callee is None:
        raise ArgumentError(f"{fun!r} is not a Python function with source code")
    return callee.source
