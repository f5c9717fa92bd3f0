"""Emitting a graph as a readable Python function, built as libcst syntax trees.

Contract: ``emit_function(graph, spec, helpers, target)`` turns a fused, dead-code-free graph into a
``libcst.FunctionDef``: one assignment per materialised node in topological order, named after
the source (``z``, adjoints ``bz``, temporaries ``_t0``), each block headed by a comment quoting
the source line it comes from. Leaves (arguments, sizes, constants) are written inline. Only leaf
expressions are text, from the kernel printer or a primitive's ``emit``.
``emit_module`` wraps functions in a module with a header, imports and the helpers they use.
A target (``numpy_target``, ``numba_target``, ``cuda_target``) writes each node; loop nodes are
written by ``loops`` for every target.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import sympy as sp

from symdiff.codegen.helpers import HELPERS
from symdiff.codegen.printer import numpy_dtype
from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Graph, Node
from symdiff.ir.loop import Body, loop_inputs
from symdiff.ir.primitives import helper_definition
from symdiff.rules import primitive

SIMPLE = re.compile(r"^[\w.]+(\[[\w.\[\]]*\])*$")
_INLINE = ("input", "dim")
# operations whose NumPy result may share memory with their input
_VIEW_OPS = ("getitem", "broadcast_to", "reshape", "transpose", "expand_dims", "squeeze")


@dataclass
class Output:
    """A leaf of a function's result: a node, optionally converted to a Python float."""

    node: int
    as_float: bool = False


@dataclass
class FunctionSpec:
    name: str
    params: list[str]
    result: Any  # nested tuples of Output
    doc: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)  # parameter -> its default
    fixed: tuple[str, ...] = ()  # parameters the code was generated for one value of


@dataclass
class Names:
    """Names in use in one function; ``fresh`` gives the source's name, suffixed ``_1``,
    ``_2``, ... when it is taken, or a temporary (``_t0``, ``_t1``, ...) for no name."""

    taken: set[str]
    temp_counter: int = 0
    # named subexpressions already computed in this scope, in terms of node ids of its graph
    available: list[tuple[sp.Basic, str]] = field(default_factory=list)
    temp_prefix: str = "_t"
    # how a taken name is told apart: x_1, x_2 (a target may need names no compiler of its
    # own makes: Numba's parallel lowering spells its versions of x as x_1, x_2)
    suffix: str = "_{}"

    def loop_body(self) -> Names:
        """The names of a loop's body: the function's names in use, but none of its computed
        subexpressions, which are in terms of another graph's node ids (and the body's own
        are computed anew on each iteration, so they are not reused after the loop)."""
        return Names(self.taken, self.temp_counter, [], self.temp_prefix, self.suffix)

    def reassigned(self, name: str) -> None:
        """``name`` now holds another value (a loop carries it): no longer reused."""
        self.available = [(sub, var) for sub, var in self.available if var != name]

    def fresh(self, hint: str | None) -> str:
        if hint is None:
            while f"{self.temp_prefix}{self.temp_counter}" in self.taken:
                self.temp_counter += 1
            hint = f"{self.temp_prefix}{self.temp_counter}"
        name, k = hint, 1
        while name in self.taken:
            name, k = hint + self.suffix.format(k), k + 1
        self.taken.add(name)
        return name


@dataclass
class Context:
    """What a target needs to write one node: the graph, the spelling of each node written so
    far, the names in use, the helpers used, and who uses each node."""

    graph: Graph
    text: dict[int, str]
    names: Names
    helpers: set[str]
    users: dict[int, list[int]]
    outputs: set[int]
    done: set[int] = field(default_factory=set)  # written early, together with another node
    tapes: dict[str, dict[int, str]] = field(default_factory=dict)  # loop tapes' arrays


def emit_function(graph: Graph, spec: FunctionSpec, helpers: set[str],
                  target: Target) -> cst.FunctionDef:
    names = Names(taken=set(spec.params) | {"np", "numba", "math"} | set(HELPERS) |
                  set(target.reserved), suffix=target.name_suffix)
    body: list[cst.BaseStatement] = []
    if spec.doc:
        body.append(cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{spec.doc}"""'))]))
    ctx = Context(graph, {}, names, helpers, graph.consumers(), set(_output_ids(spec.result)))
    body.extend(_fixed_values(spec))
    body.extend(target.prologue(ctx))
    body.extend(emit_nodes(ctx, target, before=body))
    returned = {i: target.returned(ctx, i) for i in _output_ids(spec.result)}
    result = _result_expr(spec.result, returned, _shared_outputs(graph, spec, returned),
                          target.copy_call)
    body.append(cst.SimpleStatementLine([cst.Return(result)]))
    body = target.finished(ctx, body)
    params = cst.Parameters([cst.Param(
        cst.Name(p), default=cst.parse_expression(repr(spec.defaults[p])),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        if p in spec.defaults else cst.Param(cst.Name(p)) for p in spec.params])
    return cst.FunctionDef(name=cst.Name(spec.name), params=params,
                           body=cst.IndentedBlock(body), decorators=target.decorators(),
                           leading_lines=[cst.EmptyLine(), cst.EmptyLine()])


def with_size_checks(function: cst.FunctionDef, checks: Sequence[str]) -> cst.FunctionDef:
    """``function`` checking, before anything else, what its code assumes of the arguments'
    sizes (``checks``: Python conditions over them): for a module that runs without symdiff,
    which would otherwise generate code for sizes that fail them."""
    if not checks:
        return function
    conditions = " and ".join(f"{text}" for text in checks)
    message = f"{function.name.value}: the arguments' sizes must satisfy {', '.join(checks)}"
    statements = [cst.parse_statement(
        f"if not ({conditions}):\n    raise ValueError({message!r})\n")]
    body = list(function.body.body)
    first = 1 if body and _is_docstring(body[0]) else 0
    return function.with_changes(body=function.body.with_changes(
        body=[*body[:first], *statements, *body[first:]]))


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and \
        isinstance(statement.body[0], cst.Expr) and \
        isinstance(statement.body[0].value, cst.SimpleString)


def _fixed_values(spec: FunctionSpec) -> list[cst.BaseStatement]:
    """The code is specialised on these parameters' defaults: any other value is refused."""
    statements = []
    for name in spec.fixed:
        value = spec.defaults[name]
        test = f"{name} is not None" if value is None else f"{name} != {value!r}"
        message = repr(f"{spec.name} was generated for {name}={value!r}; generate it again "
                       f"for another value")
        statements.append(cst.parse_statement(f"if {test}:\n    raise ValueError({message})\n"))
    return statements


def emit_nodes(ctx: Context, target: Any, before: Sequence[cst.BaseStatement] = (),
               in_loop: bool = False) -> list[cst.BaseStatement]:
    """The statements computing ``ctx.graph``'s nodes, each block under a comment quoting its
    source line (``before``: the statements above them); nodes already spelled in
    ``ctx.text`` (a loop body's inputs) are skipped.
    A loop body (``in_loop``) does not mark where the backward pass starts."""
    for node in ctx.graph.nodes:
        if node.op == "loop":
            name_starts(ctx, node)
    body: list[cst.BaseStatement] = []
    text = ctx.text
    last_origin, in_backward = None, in_loop
    for node in ctx.graph.nodes:
        if node.id in text:
            continue
        if node.op in _INLINE or (node.op == "const"):
            text[node.id] = _inline(node)
            continue
        if starts_loops_only(ctx, node):
            text[node.id] = number_text(node)
            continue
        statements = _at_its_line(node, target.assign, ctx, node)
        if not statements:  # written inline where it is used
            continue
        comments: list[str] = []
        if node.adjoint and not in_backward:
            in_backward = True
            comments.append("# backward pass")
            last_origin = None
        if node.origin is not None and node.origin != last_origin:
            comments.append("# " + node.origin.text.strip())
            last_origin = node.origin
        if comments:
            lines = [cst.EmptyLine(comment=cst.Comment(c)) for c in comments]
            previous = body or before
            if comments[0] == "# backward pass" and previous and \
                    not _is_docstring(previous[-1]):
                lines.insert(0, cst.EmptyLine(indent=False))
            statements[0] = statements[0].with_changes(leading_lines=lines)
        body.extend(statements)
    return body


def starts_loops_only(ctx: Context, node: Node) -> bool:
    """A number that only loops start from (``s = 0.0`` before ``s += ...``): written where
    the loop names its variable, not as a temporary of its own."""
    users = ctx.users[node.id]
    return node.op == "fused" and not node.inputs and node.rank == 0 and \
        node.param("expr").is_Number and node.id not in ctx.outputs and bool(users) and \
        all(ctx.graph[u].op == "loop" for u in users)


def number_text(node: Node) -> str:
    value = node.param("expr")
    if node.is_float:
        return repr(float(value))
    return repr(bool(value)) if node.dtype == "bool" else repr(int(value))


def name_starts(ctx: Context, loop: Node) -> None:
    """Name each unnamed value that only starts the loop after the variable it starts, so that
    the loop continues under that name (``bc = np.zeros(...)`` before ``bc = bc + ...``)."""
    body: Body = loop.param("body")
    for init, name in zip(loop_inputs(ctx.graph, loop).init, body.names, strict=True):
        if name and init.name is None and init.op == "fused" and init.id not in ctx.outputs \
                and ctx.users[init.id] == [loop.id]:
            ctx.graph.rename(init, name)


def _output_ids(result: Any) -> list[int]:
    return [out.node for out in _outputs(result)]


def _at_its_line(node: Node, write: Any, *args: Any) -> Any:
    """``write(*args)``; a refusal without a place is placed at the line ``node`` comes from."""
    try:
        return write(*args)
    except UnsupportedError as exc:
        if exc.lineno or node.origin is None:
            raise
        where = node.origin
        placed = type(exc)(exc.reason, where.filename, where.lineno, where.col, where.text)
        placed.sizes = exc.sizes
        raise placed from None


def _inline(node: Node) -> str:
    if node.op == "input":
        return node.param("name")
    if node.op == "const":
        return repr(node.param("value"))
    return primitive(node.op).emit([], node)


def python_floats(ctx: Context) -> list[str]:
    """The arguments that are Python floats (used by the code), by name."""
    return [ctx.graph[i].param("name") for i in ctx.graph.inputs
            if ctx.graph[i].rank == 0 and not ctx.graph[i].param("zero_d", False)
            and (ctx.users.get(i) or i in ctx.outputs)]


def operand(text: str) -> str:
    return text if SIMPLE.match(text) else f"({text})"


class Target:
    """What every target may change besides how it writes a node (``assign``)."""

    # helper -> the helpers it needs; and helpers whose code runs when the module is loaded,
    # which are defined before all others
    helper_requires: dict[str, tuple[str, ...]] = {}
    early_helpers: tuple[str, ...] = ()
    name_suffix = "_{}"  # see Names.suffix
    helpers: dict[str, str] = {}  # helper name -> its source, in the target's terms
    reserved: tuple[str, ...] = ()  # names the target's code gives values of its own
    copy_call = "np.copy({})"  # an output copied so that the caller owns it

    def empty(self, shape: str, dtype: str) -> str:
        """A new array to be filled (a loop's tape)."""
        return f"np.empty({shape}, dtype={numpy_dtype(dtype)})"

    def finished(self, ctx: Context, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """The function's statements, once all are written (a target may drop those of its
        prologue that nothing uses)."""
        return body

    def decorators(self) -> list[cst.Decorator]:
        """Decorators of each generated function and helper."""
        return []

    def helper_decorators(self, name: str) -> list[cst.Decorator]:
        return self.decorators()

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        """Statements before the first node (such as moving the arguments to a device)."""
        return []

    def returned(self, ctx: Context, node_id: int) -> str:
        """How a function returns a node it has computed."""
        return ctx.text[node_id]

    def definitions(self) -> list[cst.FunctionDef]:
        """Module-level functions the target wrote while emitting (such as device kernels)."""
        return []


def assignment(target: str, value: str) -> cst.SimpleStatementLine:
    """``target = value``; the target is a name or an element such as ``out[_i0, _i1]``."""
    node = cst.Name(target) if target.isidentifier() else cst.parse_expression(target)
    return cst.SimpleStatementLine([cst.Assign(
        targets=[cst.AssignTarget(node)], value=cst.parse_expression(value))])


def _shared_outputs(graph: Graph, spec: FunctionSpec, text: dict[int, str]) -> list[Output]:
    """The array outputs that must be copied so that the caller owns each array returned: an
    argument returned as it is, a view (of an argument, or of another output), and a value
    returned a second time."""
    seen: set[str] = set()
    shared = []
    for out in _outputs(spec.result):
        node = graph[out.node]
        if node.rank and (text[out.node] in seen or text[out.node] in spec.params or
                          node.op in _VIEW_OPS):
            shared.append(out)
        seen.add(text[out.node])
    return shared


def _outputs(result: Any) -> list[Output]:
    if isinstance(result, Output):
        return [result]
    if isinstance(result, tuple):
        return [o for r in result for o in _outputs(r)]
    return []


def _result_expr(result: Any, text: dict[int, str], copied: Sequence[Output] = (),
                 copy_call: str = "np.copy({})") -> cst.BaseExpression:
    if isinstance(result, Output):
        name = cst.parse_expression(text[result.node])
        if result.as_float:
            return cst.Call(cst.Name("float"), [cst.Arg(name)])
        if any(result is c for c in copied):
            return cst.parse_expression(copy_call.format(text[result.node]))
        return name
    if isinstance(result, tuple):
        elements = [cst.Element(_result_expr(r, text, copied, copy_call)) for r in result]
        if len(elements) == 1:
            elements[0] = elements[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return cst.Tuple(elements)
        return cst.Tuple(elements, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    if result is None:
        return cst.Name("None")
    return cst.parse_expression(repr(result))


def emit_module(functions: Sequence[cst.FunctionDef], helpers: set[str],
                header: list[str], target: Target) -> str:
    body: list[cst.BaseStatement] = [cst.parse_statement(f"{line}\n") for line in target.imports]
    for name in helper_order(helpers, target):
        source = target.helpers.get(name) or helper_definition(name)
        for statement in cst.parse_module(source.lstrip("\n")).body:
            if isinstance(statement, cst.FunctionDef):
                statement = statement.with_changes(decorators=target.helper_decorators(name))
            body.append(statement.with_changes(leading_lines=[cst.EmptyLine(),
                                                              cst.EmptyLine()]))
    body.extend(target.definitions())
    body.extend(functions)
    module = cst.Module(body=body, header=[cst.EmptyLine(comment=cst.Comment(f"# {h}".rstrip()))
                                           for h in header])
    return module.code


def helper_order(helpers: set[str], target: Target) -> list[str]:
    """``helpers`` with those they need, by name, the target's early helpers first."""
    needed, todo = set(), list(helpers)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(target.helper_requires.get(name, ()))
    return sorted(needed, key=lambda name: (name not in target.early_helpers, name))
