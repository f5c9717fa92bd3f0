"""The errors symdiff raises. Every one of them derives from :class:`SymdiffError`."""

from __future__ import annotations


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
