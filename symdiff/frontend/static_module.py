"""Reading a Python file without running it, for ``symdiff gen``.

Contract: ``StaticModule(path)`` parses the file and builds the namespace its functions see:
imports of trusted libraries (numpy, math, scipy, symdiff) are resolved by importing those
libraries; top-level constants are read when they are literals (numbers, strings, tuples,
negative numbers); top-level functions become :class:`StaticFunction` callees. Nothing in the
file is executed or imported, so generating from an untrusted file runs none of its code. A name
whose value would need execution is kept as an error, raised at the place it is used.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import inspect
from functools import cached_property
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from symdiff.errors import UnsupportedError
from symdiff.frontend.callee import MISSING
from symdiff.frontend.source import FunctionSource, signature_of_parameters, syntax_error

TRUSTED = ("numpy", "math", "scipy", "symdiff")


class StaticModule:
    def __init__(self, path: str):
        self.path = path
        try:
            self.text = Path(path).read_text()
        except OSError as exc:
            raise UnsupportedError(f"cannot read {path}: {exc.strerror}", path, 0, 0) from None
        self.lines = self.text.splitlines(True)
        self.sha256 = hashlib.sha256(self.text.encode()).hexdigest()
        try:
            self.module = cst.parse_module(self.text)
        except cst.ParserSyntaxError as exc:
            raise syntax_error(exc, self.text, path, self.lines) from None
        self.positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(
            PositionProvider)
        self.namespace: dict[str, Any] = {}
        self.functions: dict[str, StaticFunction] = {}
        for statement in self.module.body:
            self._read(statement)

    def location_error(self, node: cst.CSTNode, reason: str) -> UnsupportedError:
        pos = self.positions[node]
        line = self.lines[pos.start.line - 1] if pos.start.line <= len(self.lines) else None
        return UnsupportedError(reason, self.path, pos.start.line, pos.start.column + 1, line)

    def _read(self, statement: cst.BaseStatement) -> None:
        if isinstance(statement, cst.FunctionDef):
            function = StaticFunction(self, statement)
            self.functions[function.name] = function
            self.namespace[function.name] = function
            return
        if isinstance(statement, cst.ClassDef):
            self.namespace[statement.name.value] = self.location_error(
                statement, f"{statement.name.value} is a class; symdiff gen differentiates "
                "functions")
            return
        if not isinstance(statement, cst.SimpleStatementLine):
            return  # if/for/try at the top level: never run, and defines nothing gen uses
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                self._import(small)
            elif isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                self._constant(small)

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = self.module.code_for_node(alias.name)
                bound = alias.evaluated_alias or dotted.split(".")[0]
                target = dotted if alias.asname else dotted.split(".")[0]
                self.namespace[bound] = self._library(dotted, node, target)
            return
        if node.relative or node.module is None:
            for alias in _aliases(node):
                self.namespace[alias] = self.location_error(
                    node, "relative imports are not read by symdiff gen, which never imports "
                    "your code; define the function in this file")
            return
        dotted = self.module.code_for_node(node.module)
        if dotted == "__future__":
            return
        module = self._library(dotted, node, dotted)
        if isinstance(node.names, cst.ImportStar):
            if not isinstance(module, Exception):
                self.namespace.update({k: v for k, v in vars(module).items()
                                       if not k.startswith("_")})
            return
        for alias in node.names:
            name = alias.name.value
            bound = alias.evaluated_alias or name
            if isinstance(module, Exception):
                self.namespace[bound] = module
            else:
                value = getattr(module, name, MISSING)
                self.namespace[bound] = value if value is not MISSING else self.location_error(
                    node, f"{dotted} has no name {name!r}")

    def _library(self, dotted: str, node: cst.CSTNode, target: str) -> Any:
        if dotted.split(".")[0] not in TRUSTED:
            return self.location_error(
                node, f"symdiff gen does not import {dotted}: it never runs code from outside "
                f"{', '.join(TRUSTED)}; define what you need in this file")
        try:
            importlib.import_module(dotted)
            return importlib.import_module(target)
        except ImportError as exc:
            return self.location_error(node, f"cannot import {dotted}: {exc}")

    def _constant(self, node: cst.Assign | cst.AnnAssign) -> None:
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) \
            else [node.target]
        try:
            value: Any = ast.literal_eval(self.module.code_for_node(node.value))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = self.location_error(
                node.value, "this value is computed at the top level of the file, which symdiff "
                "gen does not run; only literal constants (numbers, strings, tuples) are read")
        for target in targets:
            if isinstance(target, cst.Name):
                self.namespace[target.value] = value

    def lookup(self, ident: str) -> Any:
        if ident in self.namespace:
            return self.namespace[ident]
        return getattr(builtins, ident, MISSING)


def _aliases(node: cst.ImportFrom) -> list[str]:
    if isinstance(node.names, cst.ImportStar):
        return []
    return [a.evaluated_alias or a.name.value for a in node.names]


class StaticFunction:
    """A top-level function of a :class:`StaticModule`, traced from the file's text."""

    def __init__(self, module: StaticModule, node: cst.FunctionDef):
        self.module = module
        self.node = node
        self.name = node.name.value
        self.key = (module.path, self.name)
        text = module.module.code_for_node(node)
        self.source = FunctionSource(
            name=self.name, filename=module.path, first_line=1, indent=0, text=text,
            file_lines=module.lines, node=node, positions=module.positions,
            sha256=hashlib.sha256(text.encode()).hexdigest())

    def lookup(self, ident: str) -> Any:
        return self.module.lookup(ident)

    @cached_property
    def signature(self) -> inspect.Signature:
        return signature_of_parameters(self.node.params, self._default)

    def _default(self, node: cst.BaseExpression) -> Any:
        if isinstance(node, cst.Name) and node.value in self.module.namespace:
            value = self.module.namespace[node.value]
            if not isinstance(value, Exception):
                return value
        try:
            return ast.literal_eval(self.module.module.code_for_node(node))
        except (ValueError, SyntaxError, TypeError):
            raise self.module.location_error(
                node, "default values must be literals for symdiff gen") from None

    def annotation(self, name: str) -> str | None:
        """A parameter's annotation as written, e.g. ``"f8[n, d]"`` or ``float``."""
        p = self.node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.name.value == name and param.annotation is not None:
                ann = param.annotation.annotation
                if isinstance(ann, cst.SimpleString):
                    return ann.evaluated_value
                return self.module.module.code_for_node(ann)
        return None
