"""Finding and parsing the source of a Python function.

Contract: ``function_source(fun)`` returns a :class:`FunctionSource` holding the parsed libcst
function definition (or lambda), its metadata wrapper for positions, and enough about the file to
turn any CST node into a ``file:line:col`` location. Nothing here evaluates code.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from symdiff.errors import UnsupportedError


@dataclass(frozen=True)
class Location:
    """A point in a source file: 1-based line and column, plus the line's text."""

    filename: str
    lineno: int
    col: int
    text: str

    def error(self, reason: str, kind: type[UnsupportedError] = UnsupportedError
              ) -> UnsupportedError:
        return kind(reason, self.filename, self.lineno, self.col, self.text)


@dataclass
class FunctionSource:
    """A parsed function: its definition node and how to locate its nodes in the file."""

    name: str
    filename: str
    first_line: int  # file line number of the first line of ``text``
    indent: int  # columns removed by dedenting
    text: str  # the dedented source
    file_lines: list[str]
    node: cst.FunctionDef | cst.Lambda
    positions: Any = field(repr=False)  # node -> CodeRange
    sha256: str = ""

    def location(self, node: cst.CSTNode) -> Location:
        pos = self.positions.get(node)
        if pos is None:
            return Location(self.filename, self.first_line, 1, self.line_text(self.first_line))
        lineno = self.first_line + pos.start.line - 1
        return Location(self.filename, lineno, pos.start.column + 1 + self.indent,
                        self.line_text(lineno))

    def line_text(self, lineno: int) -> str:
        if 1 <= lineno <= len(self.file_lines):
            return self.file_lines[lineno - 1].rstrip("\n")
        return ""

    def error(self, node: cst.CSTNode, reason: str,
              kind: type[UnsupportedError] = UnsupportedError) -> UnsupportedError:
        return self.location(node).error(reason, kind)


_CACHE: dict[Any, FunctionSource] = {}


def syntax_error(exc: cst.ParserSyntaxError, text: str, filename: str, file_lines: list[str],
                 first_line: int = 1, indent: int = 0) -> UnsupportedError:
    """A syntax error where Python reports it, with Python's message (``'(' was never
    closed``): libcst's points past the error and lists the tokens it expected. ``text`` is
    the source from ``first_line`` of the file on, dedented by ``indent``."""
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        lineno = first_line + (error.lineno or 1) - 1
        line = file_lines[lineno - 1] if 0 < lineno <= len(file_lines) else None
        return UnsupportedError(f"syntax error: {error.msg}", filename, lineno,
                                (error.offset or 1) + indent, line)
    lineno = first_line + exc.raw_line - 1  # Python reads it; libcst cannot
    line = file_lines[lineno - 1] if 0 < lineno <= len(file_lines) else None
    return UnsupportedError(f"libcst cannot parse this: {exc.message.splitlines()[0]}",
                            filename, lineno, exc.raw_column + 1 + indent, line)


def function_source(fun: Any) -> FunctionSource:
    """Parse the source of ``fun`` (a Python function or lambda)."""
    code = getattr(fun, "__code__", None)
    if code is None:
        raise UnsupportedError(f"{fun!r} is not a Python function with source code")
    key = (code, code.co_filename, code.co_firstlineno)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    filename = code.co_filename
    try:
        lines, first_line = inspect.getsourcelines(fun)
    except (OSError, TypeError) as exc:
        raise UnsupportedError(
            f"cannot read the source of {getattr(fun, '__qualname__', fun)!r} ({exc}); "
            "symdiff reads functions from their source, so define them in a file",
            filename, code.co_firstlineno, 1) from None
    file_lines = _file_lines(filename, lines, first_line)
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    indent = _leading_width(raw) - _leading_width(text)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise syntax_error(exc, text, filename, file_lines, first_line, indent) from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    node = _find_definition(module, fun, positions, filename, first_line, indent, file_lines)
    source = FunctionSource(
        name=fun.__name__, filename=filename, first_line=first_line, indent=indent, text=text,
        file_lines=file_lines, node=node, positions=positions,
        sha256=hashlib.sha256(text.encode()).hexdigest())
    _CACHE[key] = source
    return source


def _lambdas_holding(fun: Any, lambdas: list[cst.Lambda], positions: Any, first_line: int,
                     indent: int) -> list[cst.Lambda]:
    """The innermost of ``lambdas`` whose body spans every source position of ``fun``'s
    code (Python records them for each instruction), as a list of one, or empty."""
    spans = [(line, column, end_line, end_column) for line, end_line, column, end_column
             in fun.__code__.co_positions() if None not in (line, end_line, column, end_column)
             and (line, column) != (end_line, end_column)]  # not the empty entry and exit
    if not spans:
        return []
    start = min((line, column) for line, column, _, _ in spans)
    end = max((end_line, end_column) for _, _, end_line, end_column in spans)

    def where(node: cst.CSTNode) -> tuple[tuple[int, int], tuple[int, int]]:
        at = positions[node]
        return ((first_line + at.start.line - 1, at.start.column + indent),
                (first_line + at.end.line - 1, at.end.column + indent))
    holding = [n for n in lambdas if where(n.body)[0] <= start and end <= where(n.body)[1]]
    holding.sort(key=lambda n: where(n.body)[0], reverse=True)  # the innermost first
    return holding[:1]


def _leading_width(text: str) -> int:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return len(first) - len(first.lstrip())


def _file_lines(filename: str, lines: list[str], first_line: int) -> list[str]:
    import linecache

    all_lines = linecache.getlines(filename)
    if all_lines:
        return all_lines
    return [""] * (first_line - 1) + list(lines)


def _find_definition(module: cst.Module, fun: Any, positions: Any, filename: str,
                     first_line: int, indent: int, file_lines: list[str]
                     ) -> cst.FunctionDef | cst.Lambda:
    if fun.__name__ == "<lambda>":
        lambdas = [n for n in positions if isinstance(n, cst.Lambda)]
        if len(lambdas) > 1:  # several on its lines: the one whose body holds its code
            lambdas = _lambdas_holding(fun, lambdas, positions, first_line, indent)
        if len(lambdas) != 1:
            raise UnsupportedError(
                "cannot tell which lambda on this line to differentiate; "
                "give it a name with def", filename, first_line, 1,
                file_lines[first_line - 1] if first_line <= len(file_lines) else None)
        return lambdas[0]
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            return statement
    raise UnsupportedError(f"no function definition found in the source of {fun.__name__}",
                           filename, first_line, 1)


def signature_of_parameters(params: cst.Parameters,
                            default: Callable[[cst.BaseExpression], Any]) -> inspect.Signature:
    """The signature a ``def`` or ``lambda`` with these parameters has, every kind of
    parameter in Python's order; ``default``: the value of a default's expression."""
    kinds = inspect.Parameter

    def made(param: cst.Param, kind: Any) -> inspect.Parameter:
        value = kinds.empty if param.default is None else default(param.default)
        return inspect.Parameter(param.name.value, kind, default=value)
    made_params = [made(p, kinds.POSITIONAL_ONLY) for p in params.posonly_params]
    made_params += [made(p, kinds.POSITIONAL_OR_KEYWORD) for p in params.params]
    if isinstance(params.star_arg, cst.Param):
        made_params.append(inspect.Parameter(params.star_arg.name.value, kinds.VAR_POSITIONAL))
    made_params += [made(p, kinds.KEYWORD_ONLY) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        made_params.append(inspect.Parameter(params.star_kwarg.name.value, kinds.VAR_KEYWORD))
    return inspect.Signature(made_params)

