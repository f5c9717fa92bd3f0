"""The errors symdiff raises. Every one of them derives from :class:`SymdiffError`."""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class SymdiffError(Exception):
    """Base class of every error symdiff raises on purpose."""


class UnsupportedError(SymdiffError):
    """Source that symdiff cannot differentiate, located like a compiler error.

    Attributes:
        filename: the file the offending code is in.
        lineno: 1-based line number in that file.
        col: 1-based column number.
        reason: the message without the location and the caret.
        sizes: where the code needed an argument's size as a number (a loop's length), the
            ``(argument, axis)`` pairs it depends on: a gradient specialised on those sizes
            can be generated.
        outer: where the code read arrays from outside the function (``(function, name)``
            of a global or closure variable) that the generation was not given: a gradient
            function that passes them as arguments can be generated.
    """

    sizes: tuple[tuple[str, int], ...] = ()
    outer: tuple[tuple[object, str], ...] = ()

    def __init__(
        self,
        reason: str,
        filename: str = "<unknown>",
        lineno: int = 0,
        col: int = 0,
        source_line: str | None = None,
    ) -> None:
        self.reason = reason
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.source_line = source_line
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"{self.filename}:{self.lineno}:{self.col}: {self.reason}"
        if self.source_line is not None:
            line = self.source_line.rstrip("\n")
            stripped = line.lstrip()
            indent = len(line) - len(stripped)
            caret = " " * max(self.col - 1 - indent, 0) + "^"
            text += f"\n    {stripped}\n    {caret}"
        return text


class ArgumentError(SymdiffError, ValueError):
    """Misuse of arguments: bad ``argnums``/``wrt``, wrong arity, non-float inputs."""


class SizeError(UnsupportedError, ArgumentError):
    """Arguments whose sizes the function cannot combine, as NumPy would refuse them (shapes
    that do not broadcast, an index past the end), located at the operation combining them."""


class GradientCheckError(SymdiffError, AssertionError):
    """A gradient disagrees with finite differences (raised by :func:`symdiff.check_grad`)."""


class SkippedStatementWarning(UserWarning):
    """A statement in differentiated code that the generated code leaves out (``print``)."""


# -- tracebacks without symdiff's own frames ----------------------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def filtering() -> bool:
    """Whether user-facing errors hide symdiff's frames: on, unless the environment variable
    ``SYMDIFF_TRACEBACK_FILTERING`` is ``off`` (to debug symdiff itself)."""
    return os.environ.get("SYMDIFF_TRACEBACK_FILTERING", "on").lower() not in (
        "off", "0", "false", "no")


def shown_frames(exc: BaseException) -> types.TracebackType | None:
    """``exc``'s traceback without the frames of symdiff's own modules (unless
    ``filtering()`` is off): what is left is the user's code, and the message (with its
    located source line and caret) says the rest."""
    if not filtering():
        return exc.__traceback__
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for frame in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return rebuilt


def user_facing(fun: Callable[P, R]) -> Callable[P, R]:
    """``fun``, raising symdiff's errors with symdiff's frames left out of their tracebacks
    (errors of other kinds, symdiff's own bugs, keep every frame)."""

    @functools.wraps(fun)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fun(*args, **kwargs)
        except SymdiffError as exc:  # (SYMDIFF_TRACEBACK_FILTERING=off shows symdiff's frames)
            raise exc.with_traceback(shown_frames(exc)) from exc.__cause__

    return call
