"""Tracing a function call: the entry points that make a ``Tracer`` for a function with
source (or hand the call to an object that traces itself, such as a gradient function)."""

from __future__ import annotations

from typing import Any

from symdiff.errors import SymdiffError, UnsupportedError
from symdiff.frontend import functions
from symdiff.frontend.callee import as_callee
from symdiff.frontend.evaluator import Tracer, _bind
from symdiff.frontend.generators import is_generator_function
from symdiff.frontend.outside import default_arrays
from symdiff.frontend.values import StaticError
from symdiff.ir.graph import Graph
from symdiff.markers import trace_hook


def trace_call(graph: Graph, fun: Any, args: list[Any], kwargs: dict[str, Any],
               top_level: bool = False) -> Any:
    """Call ``fun`` (a function with source, or an object that traces itself, such as a
    gradient function) on traced values; ``top_level``: its lines are the origins of what it
    builds (otherwise they are the caller's line)."""
    traced = trace_hook(fun)
    if traced is not None:
        return traced(graph, args, kwargs, top_level=top_level)
    callee = as_callee(fun)
    if callee is None:
        raise StaticError(f"{functions.callee_name(fun)} is not a Python function with source")
    if not top_level and is_generator_function(callee.source.node):
        raise StaticError(f"{callee.name} is a generator function; call it in the "
                          "differentiated code and use its items")
    if not top_level:
        env = _bind(callee, args, kwargs)
        default_arrays(graph, callee, env, args, kwargs)
        return Tracer(graph, callee, env, (callee.key,), top_level=False).run()
    return trace(graph, callee, _bind(callee, args, kwargs))


def trace(graph: Graph, fun: Any, args: dict[str, Any]) -> Any:
    """Evaluate ``fun`` (a Python function or a Callee) on ``args`` (name -> value); every
    function whose source the evaluation used is listed in ``graph.read``."""
    callee = as_callee(fun)
    if callee is None:
        raise UnsupportedError(f"{fun!r} is not a Python function with source code")
    if is_generator_function(callee.source.node):
        raise callee.source.error(callee.source.node, "the differentiated function is a "
                                  "generator function (it has yield): it must return a value; "
                                  "call the generator from the function and use its items")
    try:
        return Tracer(graph, callee, dict(args), (callee.key,), top_level=True).run()
    except SymdiffError:
        raise
    except RecursionError:
        raise UnsupportedError("the function is too deeply nested to trace",
                               callee.source.filename, callee.source.first_line, 1) from None


__all__ = ["trace", "trace_call"]
