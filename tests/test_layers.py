"""The layers of ``docs/design.md``: every import in ``symdiff/`` (those inside functions too)
goes down a layer or stays in its own, and no modules import each other in a cycle.

An import inside a function is allowed only where it keeps the compiler (SymPy, libcst) out of
a process that runs cached gradients, or loads a command-line subcommand: those are listed in
``DEFERRED`` with their reason. Anything else belongs at the top of its module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symdiff"

# lowest first; a module belongs to the first layer with a prefix that names it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("symdiff.errors", "symdiff.version", "symdiff.markers", "symdiff.signature",
              "symdiff.log", "symdiff.arrays", "symdiff.trees", "symdiff.cache")),
    ("call time", ("symdiff.size_checks", "symdiff.structured", "symdiff.runtime",
                   "symdiff.decisions", "symdiff.library")),
    ("ir", ("symdiff.ir",)),
    ("calculus", ("symdiff.calculus",)),
    ("rules", ("symdiff.rules",)),
    ("ad", ("symdiff.ad",)),
    ("frontend", ("symdiff.frontend",)),
    ("simplify", ("symdiff.simplify",)),
    ("codegen", ("symdiff.codegen",)),
    ("pipeline", ("symdiff.pipeline",)),
    ("api", ("symdiff.distributed", "symdiff.gradient", "symdiff.api")),
    ("public", ("symdiff.forward", "symdiff.check", "symdiff.nn", "symdiff.extend")),
    ("tools", ("symdiff.teach", "symdiff.gen", "symdiff.cli", "symdiff.__main__")),
    ("package", ("symdiff",)),
]

COMPILER = "the compiler loads only when code is generated"
SUBCOMMAND = "a subcommand loads what it runs"
DEFERRED: dict[tuple[str, str], str] = {
    ("symdiff.gradient", "symdiff.pipeline"): COMPILER,
    ("symdiff.gradient", "symdiff.frontend.transforms"): COMPILER,
    ("symdiff.forward", "symdiff.pipeline"): COMPILER,
    ("symdiff.forward", "symdiff.frontend.callee"): COMPILER,
    ("symdiff.forward", "symdiff.frontend.transforms"): COMPILER,
    ("symdiff.forward", "symdiff.frontend.values"): COMPILER,
    ("symdiff.cli", "symdiff.gen"): SUBCOMMAND,
    ("symdiff.cli", "symdiff.teach.explain"): SUBCOMMAND,
    ("symdiff.cli", "symdiff.frontend.static_module"): SUBCOMMAND,
}


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def _resolve(name: str) -> str | None:
    """The module of ``symdiff`` that an imported name lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> list[tuple[str, bool]]:
    """(imported module of symdiff, whether the import is inside a function), without the
    imports only type checkers read."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and \
                    child.test.id == "TYPE_CHECKING":
                continue
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                targets = [f"{base}.{alias.name}" for alias in child.names]
            else:
                visit(child, inside)
                continue
            for target in targets:
                resolved = _resolve(target) if target.startswith("symdiff") else None
                if resolved and resolved != module:
                    found.append((resolved, inside))

    visit(ast.parse(path.read_text()), False)
    return found


def layer(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_every_import_goes_down_or_stays_in_its_layer():
    upward = [f"{m} ({LAYERS[layer(m)][0]}) imports {t} ({LAYERS[layer(t)][0]})"
              for m in MODULES for t, _ in imports(m) if layer(t) > layer(m)]
    assert not upward, "\n".join(upward)


def test_imports_inside_functions_are_the_listed_ones():
    deferred = {(m, t) for m in MODULES for t, inside in imports(m) if inside}
    unlisted = sorted(deferred - set(DEFERRED))
    assert not unlisted, "move these to the top of the module, or list them with a reason: " \
        + ", ".join(f"{m} -> {t}" for m, t in unlisted)
    stale = sorted(set(DEFERRED) - deferred)
    assert not stale, f"listed but no longer deferred: {stale}"


def test_no_modules_import_each_other_in_a_cycle():
    graph = {m: {t for t, _ in imports(m)} for m in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_layer_test_sees_imports_inside_functions():
    # the reader itself: a deferred import in a known module is found and marked as deferred
    assert ("symdiff.pipeline", True) in imports("symdiff.gradient")
    assert all(not inside for _, inside in imports("symdiff.ir.graph"))
