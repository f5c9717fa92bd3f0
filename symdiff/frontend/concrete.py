"""Decisions taken on the values of the call that code is generated for.

Where every loop is written out (derivatives of derivatives), a while loop whose condition
depends on data has a number of iterations that only the values can tell. When code is
generated for a call, its arguments are known: the tracer asks for each such condition's value
here, writes out as many iterations as the values take, and records each decision it made
(``Graph.decisions``). The generated code computes the same conditions and hands them back, and
the gradient function checks them on every call: arguments that would take the loop another
number of times get code generated for them (JAX, tracing with values, does the same work on
every call). The code is right wherever it is used; it is only specialised.

The values themselves are computed by the layer that knows how code spells each node
(``symdiff.codegen.node_values``), handed in through :func:`values_known`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import numpy as np

from symdiff.frontend.values import StaticError
from symdiff.ir.graph import Graph, Node


class NodeValues(Protocol):
    def value(self, graph: Graph, node: Node) -> Any: ...


_CURRENT: ContextVar[NodeValues | None] = ContextVar("symdiff_concrete", default=None)


@contextlib.contextmanager
def values_known(values: NodeValues | None) -> Iterator[None]:
    """Trace knowing the values of the call the code is for (see the module docstring)."""
    token = _CURRENT.set(values)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def decide(graph: Graph, condition: Node) -> bool | None:
    """The truth value of ``condition`` (a node) at the arguments of the call being generated
    for, recorded in ``graph.decisions``; None where no call's arguments are known."""
    values = _CURRENT.get()
    if values is None:
        return None
    value = np.asarray(values.value(graph, condition))
    if value.size != 1:
        raise StaticError("the truth value of an array with more than one element is "
                          "ambiguous; use a.any() or a.all()")
    truth = bool(value.reshape(()))
    graph.decisions.append((condition.id, truth))
    return truth


def checks_known() -> bool:
    """Whether code is generated for a call, whose function takes the conditions it checks
    after its result (the decisions above, and asserts on data)."""
    return _CURRENT.get() is not None

