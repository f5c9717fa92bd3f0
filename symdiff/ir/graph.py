"""The expression DAG: whole arrays as nodes.

Contract: a :class:`Graph` is an append-only list of :class:`Node` in topological order (a node's
inputs always come before it). ``Graph.add`` hash-conses pure nodes, so building the same
expression twice gives the same node; this is the forward pass's common-subexpression
elimination and it also shares work between the forward and the backward pass.

Nodes are frozen. Name hints (from the source), source origins (for comments) and whether a node
belongs to the backward pass are kept beside the structure, so that passes can rebuild a graph
and carry them over.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from symdiff.ir.primitives import lookup
from symdiff.ir.shapes import Shape

Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Origin:
    """The source line a node comes from, quoted by generated code."""

    filename: str
    lineno: int
    text: str
    col: int = 1  # where the statement starts


@dataclass(frozen=True, eq=False)
class Node:
    id: int
    op: str
    inputs: tuple[int, ...]
    params: Params
    shape: Shape
    dtype: str  # a NumPy dtype name: float64, float32, int64, bool
    name: str | None = None
    origin: Origin | None = None
    adjoint: bool = False  # built by the backward pass

    @property
    def rank(self) -> int:
        return len(self.shape)

    def param(self, key: str, default: Any = None) -> Any:
        for k, v in self.params:
            if k == key:
                return v
        return default

    @property
    def is_float(self) -> bool:
        return self.dtype.startswith("float")


def adjoint_name(name: str | None) -> str | None:
    """What generated code calls the adjoint of the value named ``name``: ``bz`` for ``z``."""
    return None if name is None else "b" + name


def make_params(**kwargs: Any) -> Params:
    return tuple(sorted(kwargs.items()))


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    # state used while building
    origin: Origin | None = None
    adjoint: bool = False
    wanted: list[bool] | None = None  # while differentiating: which nodes need a cotangent
    custom_rules: bool = True  # False: differentiate what custom rules stand for instead
    # long loops and loops of run-time length become loop nodes; False: every loop is written
    # out iteration by iteration (for derivatives taken twice, and for tools that show each one)
    loops: bool = True
    in_loop_body: int = 0  # while tracing the body of such a loop
    in_data_branch: int = 0  # while tracing a branch taken on a condition on data
    # generators (and map/filter objects) made while tracing, whose items are handed out later
    live_generators: list = field(default_factory=list)
    read: list = field(default_factory=list)  # every function whose source the graph used
    # the values of arrays written as literals in the code (np.array([0, 2])), by node id
    literals: dict[int, Any] = field(default_factory=dict)
    # the input nodes of arrays read from outside the function, by ArgSpec.outer
    outer: dict[str, int] = field(default_factory=dict)
    # (function, name, value) of what the code was generated with from globals and closures
    # other than arrays: helper functions and numbers, fixed in the code
    names_read: list = field(default_factory=list)
    # ids of the lists among those values (and inside them), which the code must not grow
    outside_lists: set = field(default_factory=set)
    # nodes whose value Python computes as a Python float, with none of an array's attributes:
    # float arguments, arithmetic of them only, and values chosen by data between them
    python_floats: set[int] = field(default_factory=set)
    # random numbers drawn so far, and generators made, in the order the function does it
    draws: int = 0
    generators: int = 0
    # (condition node id, truth) of each decision taken on the values of the call the code is
    # generated for (symdiff.frontend.concrete): the code hands the conditions back to check
    decisions: list[tuple[int, bool]] = field(default_factory=list)
    # (condition node id, exception, message) of each check on data (``assert``, ``if ...:
    # raise``): the code hands the conditions back too, after the decisions, and a call whose
    # condition is false raises the exception (a builtin's name) with the message
    assertions: list[tuple[int, str, str]] = field(default_factory=list)
    # the tracers running, innermost last: what the traced code holds (frontend.aliasing)
    frames: list = field(default_factory=list)
    _interned: dict[tuple, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def loops_written_out(self) -> Iterator[None]:
        """Trace with every loop written out: for code that is differentiated twice (a loop
        node's backward pass cannot be differentiated again yet)."""
        saved, self.loops = self.loops, False
        try:
            yield
        finally:
            self.loops = saved

    def __getitem__(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def add(self, op: str, inputs: Sequence[Node], params: Params = (),
            name: str | None = None) -> Node:
        """Append (or find) the node ``op(*inputs)``; shape and dtype come from the rule table."""
        prim = lookup(op)
        shape, dtype = prim.infer(list(inputs), dict(params))
        return self.add_raw(op, tuple(n.id for n in inputs), params, shape, dtype, name,
                            intern=prim.pure)

    def add_raw(self, op: str, inputs: tuple[int, ...], params: Params, shape: Shape,
                dtype: str, name: str | None = None, intern: bool = True,
                origin: Origin | None = None, adjoint: bool | None = None) -> Node:
        key = (op, inputs, params, shape, dtype)
        if intern:
            found = self._interned.get(key)
            if found is not None:
                node = self.nodes[found]
                if name and node.name is None and not node.adjoint:
                    node = self.rename(node, name)
                return node
        node = Node(len(self.nodes), op, inputs, params, shape, dtype, name,
                    origin if origin is not None else self.origin,
                    self.adjoint if adjoint is None else adjoint)
        self.nodes.append(node)
        if intern:
            self._interned[key] = node.id
        return node

    def rename(self, node: Node, name: str) -> Node:
        renamed = replace(node, name=name)
        self.nodes[node.id] = renamed
        return renamed

    def args(self, node: Node) -> list[Node]:
        return [self.nodes[i] for i in node.inputs]

    def consumers(self, live: list[bool] | None = None) -> dict[int, list[int]]:
        """Map each node id to the ids of the nodes that use it (among ``live`` ones)."""
        users: dict[int, list[int]] = {n.id: [] for n in self.nodes if live is None or live[n.id]}
        for n in self.nodes:
            if live is None or live[n.id]:
                for i in n.inputs:
                    users[i].append(n.id)
        return users

    def reachable(self, outputs: Iterable[int]) -> list[bool]:
        """Which nodes the outputs depend on (dead-code elimination's mark phase)."""
        live = [False] * len(self.nodes)
        stack = list(outputs)
        while stack:
            i = stack.pop()
            if not live[i]:
                live[i] = True
                stack.extend(self.nodes[i].inputs)
        return live
