"""Adjacent loops over the same range become one loop, where that computes the same values.

Compiled code writes each array operation as its own loop; the value, the adjoint of each
input and each slice's scatter then pass over the data one after another, where a hand-written
gradient makes one pass. Two loops ``for i in range(n)`` are fused when no iteration of one
needs what another iteration of the other computes. That is decided on names, conservatively:

- a name one loop assigns (a temporary, an accumulator) is not used by the other, unless both
  assign it before reading it (a temporary of each iteration);
- an array one loop stores into is not used by the other, unless every use of it in both is
  at the row of the iteration by one name (``a[i]``, ``a[i, j]``; a view may shift the
  rows), so that iteration ``i`` of the second loop sees all that iteration ``i`` of the
  first wrote there, or every use in both is an accumulation ``a[...] += e`` (sums commute;
  the order of two additions may change the last bit, as any reordering of a sum does);
- names that may share memory (a view ``v = a[1:]``, or any value computed from ``a``) count
  as one array; ``a.shape`` reads no data, and new arrays (``np.zeros``) share nothing.

Statements between the two loops move above the first (an allocation of the second's
output) or below the second, where they are independent of the loop they pass. Only loops over
``range`` are fused: a ``prange`` loop's iterations run at once, so an accumulation at
another iteration's row would race.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

_CONTROL = (cst.Break, cst.Continue, cst.Return, cst.Yield, cst.Raise)


def fuse_loops(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """``statements`` (a function's body) with adjacent loops over the same range fused."""
    groups = _Aliases(statements)
    out: list[cst.BaseStatement] = []
    for statement in statements:
        if isinstance(statement, cst.For) and _range_loop(statement):
            fused = _fuse_with_previous(out, statement, groups)
            if fused is not None:
                out = fused
                continue
        out.append(statement)
    return out


def _fuse_with_previous(out: list[cst.BaseStatement], loop: cst.For,
                        groups: _Aliases) -> list[cst.BaseStatement] | None:
    """``out`` with ``loop`` fused into the last loop of ``out``, or None where it cannot be
    (the statements between them move above or below the fused loop)."""
    at = next((k for k in range(len(out) - 1, -1, -1) if isinstance(out[k], cst.For)), None)
    if at is None:
        return None
    first = out[at]
    if not _range_loop(first) or _header(first) != _header(loop):
        return None
    first_use, second_use = _Use.of(first, groups), _Use.of(loop, groups)
    if not _independent(first_use, second_use):
        return None
    in_header = _all_names(loop.iter)
    if in_header & first_use.bound.keys():
        return None  # the first loop changes the second's range
    above: list[cst.BaseStatement] = []
    below: list[cst.BaseStatement] = []
    sunk: list[_Use] = []  # what the statements moved below do
    for between in out[at + 1:]:
        if not isinstance(between, cst.SimpleStatementLine):
            return None
        use = _Use.of(between, groups)
        if in_header & use.bound.keys():
            return None  # the statement changes the second loop's range
        # above, it would pass the first loop and the statements moved below before it
        if _separate(use, first_use) and all(_separate(use, s) for s in sunk):
            above.append(between)
        elif _separate(use, second_use):
            below.append(between)
            sunk.append(use)
        else:
            return None
    # the comments of an allocation moved above (the source line, the start of the backward
    # pass) say what the second loop's part computes
    moved_comments = [line for s in above for line in s.leading_lines if line.comment]
    above = [s.with_changes(leading_lines=[]) for s in above]
    second_body = list(loop.body.body)
    comments = moved_comments + [line for line in loop.leading_lines if line.comment]
    second_body[0] = second_body[0].with_changes(
        leading_lines=[*comments, *second_body[0].leading_lines])
    merged = first.with_changes(body=first.body.with_changes(
        body=[*first.body.body, *second_body]))
    return [*out[:at], *above, merged, *below]


def _range_loop(loop: cst.For) -> bool:
    iterator = loop.iter
    return isinstance(iterator, cst.Call) and isinstance(iterator.func, cst.Name) and \
        iterator.func.value == "range" and isinstance(loop.target, cst.Name) and \
        loop.orelse is None and not _has(loop.body, _CONTROL)


def _header(loop: cst.For) -> tuple[str, str]:
    module = cst.Module(body=[])
    return module.code_for_node(loop.target), module.code_for_node(loop.iter)


def _all_names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

    node.visit(Names())
    return names


def _has(node: cst.CSTNode, kinds: tuple[type, ...]) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def on_visit(self, visited: cst.CSTNode) -> bool:
            nonlocal found
            found = found or isinstance(visited, kinds)
            return not found

    node.visit(Finder())
    return found


class _Aliases:
    """Names that may share memory, as groups: a name assigned a view of an array (``a[1:]``,
    ``a.T``, ``np.reshape(a, ...)``), the array itself, or what a call of an unknown function
    (a helper) returns, joins the arrays it may be. Arithmetic and NumPy's other functions make
    new arrays."""

    def __init__(self, statements: Iterable[cst.BaseStatement]) -> None:
        self.parent: dict[str, str] = {}
        aliases = self

        class Assignments(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        for name in _may_be(node.value):
                            aliases.join(target.target.value, name)

        for statement in statements:
            statement.visit(Assignments())

    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


# NumPy's functions and array methods that may return (a view of) their argument
_VIEWS = frozenset({
    "reshape", "transpose", "ravel", "squeeze", "expand_dims", "broadcast_to", "asarray",
    "ascontiguousarray", "asfortranarray", "atleast_1d", "atleast_2d", "atleast_3d",
    "swapaxes", "moveaxis", "diagonal", "diag", "flip", "fliplr", "flipud", "real", "imag",
    "view", "T", "flat", "broadcast_arrays", "split", "array_split", "hsplit", "vsplit",
    "require", "asanyarray", "matrix_transpose", "permute_dims", "astype", "array"})


def _may_be(value: cst.BaseExpression) -> set[str]:
    """The arrays ``value`` may be, or be a view of (conservatively)."""
    if isinstance(value, cst.Name):
        return {value.value}
    if isinstance(value, cst.Subscript):  # an element, or a view
        return _may_be(value.value)
    if isinstance(value, cst.Attribute):
        return _may_be(value.value) if value.attr.value in _VIEWS else set()
    if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison,
                          cst.BooleanOperation, cst.BaseNumber, cst.BaseString)):
        return set()  # a new value
    if isinstance(value, cst.IfExp):
        return _may_be(value.body) | _may_be(value.orelse)
    if isinstance(value, (cst.Tuple, cst.List)):
        return set().union(*(_may_be(e.value) for e in value.elements))
    if isinstance(value, cst.Call):
        arguments = set().union(*(_may_be(a.value) for a in value.args))
        func = value.func
        if isinstance(func, cst.Attribute) and _is_module(func.value):
            return arguments if func.attr.value in _VIEWS else set()
        if isinstance(func, cst.Attribute):  # a method: x.reshape(...), x.sum()
            return _may_be(func.value) if func.attr.value in _VIEWS else set()
        return arguments  # a helper may return an argument
    return _data_names(value)


def _view_of(statement: cst.BaseStatement) -> tuple[str, set[str]] | None:
    """``(v, {a})`` for a statement ``v = a.reshape(...)``, ``a.T``, ``a[1:]`` or
    ``np.broadcast_to(a, ...)``: a view, or an array made of a number."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 or \
            not isinstance(assign.targets[0].target, cst.Name):
        return None
    value = assign.value
    if isinstance(value, cst.Attribute) and value.attr.value == "T":
        base = value.value
    elif isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and (
            value.func.attr.value == "reshape" and not _is_module(value.func.value) or
            _is_module(value.func.value) and value.func.attr.value == "broadcast_to"):
        base = value.args[0].value if _is_module(value.func.value) else value.func.value
    elif isinstance(value, cst.Subscript) and all(
            isinstance(element.slice, cst.Slice) for element in value.slice):
        base = value.value
    else:
        return None
    if not isinstance(base, cst.Name):
        return None
    return assign.targets[0].target.value, {base.value}


def _is_module(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value in ("np", "numba", "math")


def _data_names(node: cst.CSTNode) -> set[str]:
    """The names whose data ``node`` reads (``a.shape`` reads none; ``np.exp`` is a module)."""
    names: set[str] = set()

    class Reader(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            if attribute.attr.value in ("shape", "ndim", "size", "dtype"):
                return False
            if isinstance(attribute.value, cst.Name) and \
                    attribute.value.value in ("np", "numba", "math"):
                return False
            return True

        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

    node.visit(Reader())
    return names


@dataclass
class _Use:
    """What a statement does with each group of names: plain names it binds (and whether each
    is bound before it is read), arrays it stores into, how it uses each group."""

    bound: dict[str, bool] = field(default_factory=dict)  # name -> bound before any read
    read: set[str] = field(default_factory=set)  # plain names read
    stored: set[str] = field(default_factory=set)  # groups of arrays stored into
    # group -> how it is used: "row a" (array a read or stored at the iteration's row),
    # "row-add a" and "add" (accumulated into, at the row or elsewhere), "other"
    ways: dict[str, set[str]] = field(default_factory=dict)

    @staticmethod
    def of(statement: cst.BaseStatement, groups: _Aliases) -> _Use:
        use = _Use()
        view = _view_of(statement)
        if view is not None:  # reads no data: it sees what is stored later, moved or not
            use.bound[view[0]] = True
            use.read.update(view[1])
            return use
        loop_name = statement.target.value if isinstance(statement, cst.For) else None
        _collect(statement, use, groups, loop_name)
        return use

    def way(self, name: str, groups: _Aliases, how: str) -> None:
        self.ways.setdefault(groups.find(name), set()).add(how)

    def groups_used(self) -> set[str]:
        return set(self.ways)


def _collect(statement: cst.BaseStatement, use: _Use, groups: _Aliases,
             loop_name: str | None) -> None:
    """Walk ``statement`` in order of execution within each line (values before targets)."""

    def read(expression: cst.CSTNode) -> None:
        for name in _data_names(expression):
            if name not in use.bound:
                use.read.add(name)
        _record_reads(expression, use, groups, loop_name)

    def bind(target: cst.BaseExpression, how: str) -> None:
        if isinstance(target, cst.Name):
            if how != "assign":
                use.read.add(target.value)
            use.bound.setdefault(target.value, target.value not in use.read)
            use.way(target.value, groups, "other")
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            array = target.value.value
            use.stored.add(groups.find(array))
            at_row = _at_row(target, loop_name)
            if how == "add":
                use.way(array, groups, f"row-add {array}" if at_row else "add")
            else:
                use.way(array, groups, f"row {array}" if at_row and how == "assign" else "other")
            for element in target.slice:
                read(element)
        else:
            read(target)
            use.way("<unknown>", groups, "other")

    class Walker(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> bool:
            read(node.value)
            for target in node.targets:
                bind(target.target, "assign")
            return False

        def visit_AugAssign(self, node: cst.AugAssign) -> bool:
            read(node.value)
            additive = isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign))
            bind(node.target, "add" if additive else "update")
            return False

        def visit_For(self, node: cst.For) -> bool:
            read(node.iter)
            bind(node.target, "assign")
            return True

        def visit_Expr(self, node: cst.Expr) -> bool:  # a call for its effect: on anything
            read(node.value)
            for name in _data_names(node.value):
                use.stored.add(groups.find(name))
                use.way(name, groups, "other")
            return False

        def visit_If(self, node: cst.If) -> bool:
            read(node.test)
            return True

        def visit_While(self, node: cst.While) -> bool:
            read(node.test)
            return True

        def visit_With(self, node: cst.With) -> bool:
            for item in node.items:
                read(item.item)
            return True

    statement.visit(Walker())


def _record_reads(expression: cst.CSTNode, use: _Use, groups: _Aliases,
                  loop_name: str | None) -> None:
    """How ``expression`` reads each group: at the iteration's row, or otherwise."""
    rows: set[int] = set()

    class Reader(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> bool:
            if isinstance(node.value, cst.Name) and _at_row(node, loop_name):
                use.way(node.value.value, groups, f"row {node.value.value}")
                rows.add(id(node.value))
            return True

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            return node.attr.value not in ("shape", "ndim", "size", "dtype") and not (
                isinstance(node.value, cst.Name) and node.value.value in ("np", "numba", "math"))

        def visit_Name(self, node: cst.Name) -> None:
            if id(node) not in rows:
                use.way(node.value, groups, "other")

    expression.visit(Reader())


def _at_row(subscript: cst.Subscript, loop_name: str | None) -> bool:
    """``a[i]`` or ``a[i, ...]`` for the loop's own variable ``i``."""
    if loop_name is None or not subscript.slice:
        return False
    first = subscript.slice[0].slice
    return isinstance(first, cst.Index) and isinstance(first.value, cst.Name) and \
        first.value.value == loop_name


def _independent(first: _Use, second: _Use) -> bool:
    """Whether two loops compute the same fused as one after the other (see the module)."""
    for a, b in ((first, second), (second, first)):
        for name in a.bound:
            if name in b.bound or name in b.read:
                if not (a.bound[name] and b.bound.get(name) and name not in b.read):
                    return False
    for group in (first.stored | second.stored) & first.groups_used() & second.groups_used():
        ways = first.ways[group] | second.ways[group]
        kinds = {way.split()[0] for way in ways}
        # rows of one array (a view of it may be shifted: a[1:][i] is a[i + 1])
        at_rows = kinds <= {"row", "row-add"} and len({way.split()[1] for way in ways}) == 1
        if not at_rows and not kinds <= {"add", "row-add"}:
            return False
    return True


def _separate(statement: _Use, loop: _Use) -> bool:
    """Whether a statement and a loop neither bind nor store what the other uses."""
    if any(name in loop.bound or name in loop.read for name in statement.bound):
        return False
    if any(name in statement.read for name in loop.bound):
        return False
    shared = statement.groups_used() & loop.groups_used()
    return not (shared & (statement.stored | loop.stored))
