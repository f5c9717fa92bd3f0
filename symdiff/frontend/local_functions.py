"""Functions defined inside traced code: a nested ``def`` or a ``lambda``."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from symdiff.frontend.source import FunctionSource


@dataclass(eq=False)
class LocalFunction:
    """A function defined inside traced code (a nested ``def`` or a ``lambda``): the names it
    does not bind are those of the function around it, read when it is called, as a Python
    closure reads them."""

    name: str
    source: FunctionSource
    signature: inspect.Signature
    enclosing: Any  # the Tracer of the function around it
    key: int  # identity, for recursion checks
    __symdiff_with_source__ = True  # symdiff.grad takes it as a function (markers.has_source)

    def __post_init__(self) -> None:  # named as a function is, for messages
        self.__name__ = self.__qualname__ = self.name

    def lookup(self, ident: str) -> Any:
        if ident in self.enclosing.env:
            return self.enclosing.env[ident]
        return self.enclosing.outside(ident, None)
