"""Calls in traced code (mixed into ``Tracer``): NumPy functions and array methods through
their handlers, transforms and custom rules through their trace hooks, Python builtins on
static values, and other Python functions traced from their own source."""

from __future__ import annotations

import functools
import inspect
import math
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import libcst as cst
import numpy as np

from symdiff.errors import SkippedStatementWarning, UnsupportedError
from symdiff.frontend import arrangements, calls, functions, masked, random
from symdiff.frontend.aliasing import marked_view
from symdiff.frontend.callee import Callee, as_callee
from symdiff.frontend.generators import (
    TracedGenerator,
    made,
    mutable_ids,
    static_isinstance,
    static_type,
)
from symdiff.frontend.loops import Indexed, range_items
from symdiff.frontend.values import (
    BoundMethod,
    StaticError,
    SymDim,
    Tensor,
    is_number,
    to_tensor,
    wrap_dim,
)
from symdiff.ir.graph import Graph
from symdiff.ir.shapes import canon
from symdiff.ir.sizes import maximum, minimum
from symdiff.markers import runs_as_python, trace_hook
from symdiff.trees import is_model, unbind

# methods that read a dict of values (of parameters) without changing it
_READING_DICTS = ("get", "keys", "values", "items")

# Builtins that are pure functions of static values, safe to call while generating.
_STATIC_BUILTINS = {len, range, int, float, bool, tuple, list, dict, min, max, abs, round,
                    isinstance, sum, str, enumerate, zip, any, all, slice, pow, type, next,
                    sorted, reversed}

# builtins that take every item of an iterable they are given (a generator is run out first)
# functions whose result NumPy makes a new array, even where symdiff's value is the same
_COPIES = (np.copy, np.array, np.ascontiguousarray, np.asfortranarray)
_TAKING_ALL = (sum, list, tuple, min, max, any, all, sorted, dict)


class Calls:
    """The evaluator's calls (mixed into ``Tracer``)."""

    graph: Graph

    def expr(self, node: Any) -> Any: ...
    def inline(self, callee: Callee, args: list[Any], kwargs: dict[str, Any]) -> Any: ...
    # from LoopTracing, which follows this class in Tracer's bases
    offset: Callable[..., Any]
    sequence: Callable[[Any], Any]

    def call(self, node: cst.Call) -> Any:
        callee = self.expr(node.func)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for arg in node.args:
            value = self.expr(arg.value)
            if arg.star == "*":
                args.extend(value)
            elif arg.star == "**":
                kwargs.update(value)
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        result = self.apply(callee, args, kwargs, node)
        # x.reshape(...), np.transpose(x), x.T...: NumPy's result is a view of x
        if isinstance(callee, BoundMethod):
            if callee.name == "diagonal":  # a read-only view in NumPy: never written
                return replace(result, view_of=callee.tensor)
            if callee.name not in ("copy", "flatten", "astype"):
                return marked_view(self.graph, result, callee.tensor)
        elif callee is np.diagonal and isinstance(result, Tensor) and args:
            return replace(result, view_of=args[0])
        elif args and callee not in _COPIES:
            return marked_view(self.graph, result, args[0])
        return result

    def apply(self, callee: Any, args: list[Any], kwargs: dict[str, Any], node: cst.Call
              ) -> Any:
        """``callee(*args, **kwargs)`` on evaluated arguments, for the call at ``node``."""
        if isinstance(callee, BoundMethod):
            return functions.bind_call(functions.METHODS[callee.name], self.graph,
                              [callee.tensor, *args], kwargs, f".{callee.name}()")
        if callee is print:
            # the generated code computes values, not effects: say so where the print is
            warnings.warn(str(self.error(node, "print() is not run by the generated code; "
                                         "it is skipped", UnsupportedError)),
                          SkippedStatementWarning, stacklevel=2)
            return None
        if callee in random.MAKERS:  # np.random.default_rng(0): made again on each call
            return random.fresh_generator(self.graph, callee, args, kwargs)
        method = random.random_method(callee)
        if method is not None:
            if self.guard is not None:
                raise StaticError("random numbers cannot be drawn under a condition on data "
                                  "(NumPy draws them only on the path taken); draw them before "
                                  "the condition")
            return random.draw(self.graph, method, args, kwargs,
                               lambda message: self.error(node, message, UnsupportedError))
        if callee is functools.partial:  # a Python object holding a function and values
            return functools.partial(*args, **kwargs)
        while isinstance(callee, functools.partial):  # the function, with what it holds
            args, kwargs = [*callee.args, *args], {**callee.keywords, **kwargs}
            callee = callee.func
        traced = trace_hook(callee)
        if traced is not None:  # grad, jvp, custom rules: they build on this graph themselves
            return traced(self.graph, args, kwargs)
        if runs_as_python(callee):  # symdiff.grad(f) makes a function
            if any(isinstance(a, (Tensor, SymDim)) for a in [*args, *kwargs.values()]):
                raise StaticError(f"{functions.callee_name(callee)} takes functions and options, "
                                  "not arrays")
            return callee(*args, **kwargs)
        model, callee = unbind(callee)  # a model's method, or a model called
        if model is not None:
            tracer = functions.op_tracer(type(object.__getattribute__(model, "_obj")))
            if callee.__name__ == "forward" and self.graph.custom_rules and tracer is not None:
                return tracer(self.graph, model, args, kwargs)  # an Op with its own backward
            return self.inline(as_callee(callee), [model, *args], kwargs)
        size = _size_reduction(callee, args, kwargs)
        if size is not None:  # np.prod(x.shape[1:]): a size, as NumPy gives an integer
            return size
        handler = functions.function_handler(callee)
        if handler is not None and masked.holds_masked([*args, *kwargs.values()]):
            if isinstance(callee, np.ufunc) and not kwargs:  # np.exp(x[mask]): every element
                return masked.elementwise(
                    lambda *a: functions.bind_call(handler, self.graph, list(a), {},
                                                   functions.callee_name(callee)), args)
            return masked.reduce(self.graph, callee, args, dict(kwargs))
        if handler is not None:
            if all(functions.static_number(a) for a in [*args, *kwargs.values()]):
                folded = callee(*args, **kwargs)  # a constant, such as np.log(2.0)
                if is_number(folded):
                    return folded
            return functions.bind_call(handler, self.graph, args, kwargs,
                                       functions.callee_name(callee))
        if callee in (map, filter):
            return self.map_or_filter(callee, args, kwargs, node)
        if callee in _STATIC_BUILTINS:
            return self.static_builtin(callee, args, kwargs)
        owner = getattr(callee, "__self__", None)
        if isinstance(owner, dict) and getattr(callee, "__name__", "") in _READING_DICTS:
            return callee(*args, **kwargs)  # params.get("b", 0.0): a lookup, as Python does it
        library = library_name(callee)
        if library is not None:  # NumPy's or SciPy's own Python code: not traced into
            raise StaticError(f"{library} is not supported: symdiff has no derivative rule "
                              f"for it, and does not differentiate through the library's own "
                              f"code{_WHAT_INSTEAD.get(library, '')}")
        function = as_callee(callee)
        if function is not None:
            return self.inline(function, args, kwargs)
        op = getattr(callee, "__self__", callee)  # an Op object, or one of its methods
        if functions.op_tracer(type(op)) is not None:  # its backward is the user's: not traced
            raise StaticError(f"{type(op).__name__} is a registered Op, but this object is "
                              "not part of a model the gradient is taken of; make it an "
                              "attribute of the model (self.op = Op()) and differentiate the "
                              "model")
        helper = helper_method(callee)
        if helper is not None:  # parser.get(w, "W"): the method from its source, self static
            owner, method = helper
            return self.inline(as_callee(method), [owner, *args], kwargs)
        if _draws_random_numbers(callee):
            raise StaticError(f"{functions.callee_name(callee)} is not supported: the random "
                              "draws supported are the methods "
                              "standard_normal/normal/randn/random/rand/uniform")
        raise StaticError(f"{functions.callee_name(callee)} is not supported: symdiff has no "
                          "derivative rule for it")

    def map_or_filter(self, fun: Any, args: list[Any], kwargs: dict[str, Any],
                      node: cst.Call) -> TracedGenerator:
        """``map(f, xs, ...)`` and ``filter(f, xs)`` over items listed while generating: the
        calls are made now, and the results handed out once each, as Python's iterators do."""
        if kwargs or len(args) < 2 or fun is filter and len(args) != 2:
            raise StaticError(f"{fun.__name__}() takes a function and "
                              f"{'iterables' if fun is map else 'one iterable'}")
        f, *iterables = args
        listed = []
        for iterable in iterables:
            items = self.sequence(iterable)
            listed.append(list(items))
        out = []
        if fun is map:
            for items in zip(*listed, strict=False):  # as long as the shortest, as map is
                out.append(self.apply(f, list(items), {}, node))
        else:
            for item in listed[0]:
                keep = item if f is None else self.apply(f, [item], {}, node)
                if isinstance(keep, (Tensor, SymDim)):
                    raise StaticError("filter()'s condition must be known while generating; "
                                      "use np.where for a condition on data")
                if keep:
                    out.append(item)
        generator = TracedGenerator(f"{fun.__name__}()", fun, out,
                                    mutable_ids([f, *listed, *out]))
        return made(self.graph, generator)

    def static_builtin(self, fun: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if fun is isinstance:
            if kwargs or len(args) != 2:
                raise StaticError("isinstance() takes two arguments")
            return static_isinstance(self.graph, *args)
        if fun is type:
            if kwargs or len(args) != 1:
                raise StaticError("type() takes one argument here (type(x))")
            return static_type(self.graph, args[0])
        if fun is next and not kwargs and 1 <= len(args) <= 2 and \
                isinstance(args[0], TracedGenerator):
            try:
                return next(args[0])
            except StopIteration:
                if len(args) == 2:
                    return args[1]
                raise StaticError(f"next(): {args[0].name} has no more items (Python raises "
                                  "StopIteration)") from None
        if fun in _TAKING_ALL and args and isinstance(args[0], TracedGenerator):
            args = [list(args[0]), *args[1:]]
        if fun is len and len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].rank == 0:
                raise StaticError("len() of a scalar")
            return wrap_dim(args[0].shape[0])
        if fun is int and len(args) == 1 and not kwargs and isinstance(args[0], SymDim):
            return args[0]  # a size is an int already
        if fun is float and len(args) == 1 and isinstance(args[0], SymDim):
            return calls.astype(self.graph, to_tensor(self.graph, args[0]), "float64")
        if fun is float and len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].rank != 0:
                raise StaticError("float() needs a scalar")
            return calls.astype(self.graph, args[0], "float64")
        if fun in (max, min) and not kwargs and any(isinstance(a, SymDim) for a in args) and \
                all(isinstance(a, (SymDim, int)) and not isinstance(a, bool) for a in args):
            pick = maximum if fun is max else minimum
            return wrap_dim(pick(*(a.dim if isinstance(a, SymDim) else a for a in args)))
        if fun is range and any(isinstance(a, SymDim) for a in args) and not kwargs:
            start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
            return range_items(start, stop, step, self.offset)
        if fun is reversed and len(args) == 1 and not kwargs:
            if isinstance(args[0], Indexed):
                if args[0].reverse is None:
                    raise StaticError("reversed() of a sequence of run-time length is "
                                      "supported for ranges; index it backwards")
                return args[0].reverse()
            if isinstance(args[0], Tensor):  # the rows, last first
                return arrangements.flip(self.graph, args[0], 0)
            return list(reversed(args[0]))
        if fun in (enumerate, zip):  # lazily, over sequences that may be long
            sequences = [self.sequence(a) if isinstance(a, (Tensor, Indexed, range)) else a
                         for a in args]
            if any(isinstance(a, Indexed) for a in sequences):
                return self.by_position(fun, sequences, kwargs)
            args = [list(a) if isinstance(a, Indexed) else a for a in sequences]
        traced = [*args, *kwargs.values()]
        if fun in (sum, pow, max, min) and any(
                isinstance(a, (Tensor, SymDim)) or _holds_traced(a) for a in traced):
            return self.builtin_on_arrays(fun, args, kwargs)
        if fun is dict or fun in (list, tuple) and len(args) == 1 and \
                isinstance(args[0], (list, tuple, dict, range)):
            return fun(*args, **kwargs)  # a container of traced values, as Python makes it
        if any(isinstance(a, (Tensor, SymDim)) for a in traced):
            raise StaticError(f"{fun.__name__}() on arrays is not supported; use the NumPy "
                              "function")
        return fun(*args, **kwargs)

    def builtin_on_arrays(self, fun: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """``sum``, ``pow``, and ``max``/``min`` of scalars, on traced values as Python
        computes them with NumPy's operators (``abs`` is NumPy's own)."""
        g = self.graph
        if fun is sum and not kwargs and 1 <= len(args) <= 2 and \
                isinstance(args[0], (list, tuple)):
            total = args[1] if len(args) == 2 else None  # no start: the first item is one
            for item in args[0]:  # Python's order: ((start + a) + b) + ...
                total = item if total is None else calls.elementwise(g, "add", total, item)
            return 0 if total is None else total
        if fun is sum and not kwargs and 1 <= len(args) <= 2 and isinstance(args[0], Tensor) \
                and args[0].rank:  # Python adds the rows: the sum over the first axis
            rows = calls.reduction("sum")(g, args[0], 0)
            return rows if len(args) == 1 else calls.elementwise(g, "add", args[1], rows)
        if fun is pow and len(args) == 2 and not kwargs:
            return calls.elementwise(g, "pow", *args)
        if fun in (max, min) and not kwargs:
            items = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) \
                else list(args)
            op = "maximum" if fun is max else "minimum"
            if items and all(not isinstance(v, Tensor) or v.rank == 0 for v in items):
                out = items[0]
                for item in items[1:]:
                    out = calls.elementwise(g, op, out, item)
                return out
            raise StaticError(f"{fun.__name__}() of arrays compares whole arrays, which Python "
                              f"refuses; use np.{fun.__name__} or np.{op}")
        raise StaticError(f"{fun.__name__}() on arrays is not supported; use the NumPy "
                          "function")

    def by_position(self, fun: Any, sequences: list[Any], kwargs: dict[str, Any]) -> Indexed:
        """``enumerate`` and ``zip`` of sequences walked by position."""
        if fun is enumerate:
            (sequence, *rest), start = sequences, kwargs.get("start", 0)
            start = rest[0] if rest else start
            return Indexed(sequence.count,
                           lambda k: (self.offset(k, start, "add"), sequence.item(k)))
        kwargs = {k: v for k, v in kwargs.items() if k != "strict"}  # zip(a, b, strict=True)
        if kwargs or not all(isinstance(s, Indexed) for s in sequences):
            raise StaticError("zip() of arrays takes arrays, ranges and other zips")
        counts = [s.count for s in sequences]
        if all(isinstance(c, int) for c in counts):
            count: Any = min(counts)
        elif all(canon(getattr(c, "dim", c)) == canon(getattr(counts[0], "dim", counts[0]))
                 for c in counts):
            count = counts[0]
        else:
            count = wrap_dim(minimum(*(getattr(c, "dim", c) for c in counts)))
        return Indexed(count, lambda k: tuple(s.item(k) for s in sequences))


def _size_reduction(callee: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``np.prod``, ``math.prod``, ``np.sum`` or ``sum`` of a tuple (or list) of sizes, such
    as ``x.shape[1:]``: the size it is (None where the call is something else). Empty, NumPy's
    answer is the float 1.0 or 0.0, and so is this."""
    product = callee in (np.prod, math.prod)
    if not (product or callee in (np.sum, sum)) or len(args) != 1 or \
            not isinstance(args[0], (tuple, list)) or \
            not all(isinstance(d, (int, SymDim)) and not isinstance(d, bool) for d in args[0]):
        return None
    dtype = kwargs.get("dtype")
    if set(kwargs) - {"dtype"} or callee in (math.prod, sum) and kwargs or \
            dtype is not None and np.dtype(dtype).kind not in "iu":
        return None
    if not args[0]:
        return 1 if callee is math.prod else 0 if callee is sum else \
            (1 if dtype is not None else 1.0) if product else (0 if dtype is not None else 0.0)
    total: Any = args[0][0]
    for d in args[0][1:]:
        total = total * d if product else total + d
    return total


def helper_method(callee: Any) -> tuple[Any, Any] | None:
    """For a method of a plain object of the user's (``parser.get``, ``layer.forward_pass``),
    or such an object called (its class's ``__call__``): (the object, the function), to run
    from source with ``self`` the object, whose attributes are read as they are while
    generating. None for anything else, among them the methods of NumPy's and SciPy's
    objects, which have derivative rules or none."""
    if isinstance(callee, types.MethodType):
        owner, function = callee.__self__, callee.__func__
    elif is_model(callee):
        owner = callee
        function = inspect.getattr_static(type(callee), "__call__", None)
    else:
        return None
    cls = owner if inspect.isclass(owner) else type(owner)
    if not inspect.isfunction(function) or \
            cls.__module__.split(".")[0] in ("builtins", "numpy", "scipy"):
        return None
    return owner, function


def _holds_traced(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and \
        any(isinstance(v, (Tensor, SymDim)) or _holds_traced(v) for v in value)


def _draws_random_numbers(callee: Any) -> bool:
    """``np.random.randn``, ``np.random.default_rng``, ``rng.normal``, ``rs.randn``..."""
    owner = getattr(callee, "__self__", None)
    module = getattr(callee, "__module__", None) or ""
    return isinstance(owner, random.GENERATOR_TYPES) or \
        module.startswith("numpy.random") or owner is np.random.mtrand._rand


_LIBRARIES = ("numpy", "scipy")
_WHAT_INSTEAD = {
    "scipy.integrate.odeint": " (an adaptive ODE solver in compiled code); use "
    "symdiff.integrate.odeint, which takes the same arguments and is differentiated step by "
    "step",
    "scipy.integrate.solve_ivp": " (an adaptive ODE solver); use symdiff.integrate.odeint, "
    "which is differentiated step by step",
}


def library_name(callee: Any) -> str | None:
    """``scipy.integrate.odeint`` for a Python function of NumPy's or SciPy's own (which the
    function table does not hold), by its public spelling where there is one; None for any
    other callable (a user's helper, in whichever file, is traced)."""
    module = getattr(callee, "__module__", None) or ""
    if not inspect.isfunction(callee) or module.split(".")[0] not in _LIBRARIES:
        return None
    name = callee.__name__
    parts = module.split(".")
    public = ".".join(parts[:next((i for i, p in enumerate(parts) if p.startswith("_")),
                                   len(parts))])
    if getattr(sys.modules.get(public), name, None) is callee:
        module = public
    return f"{'np' + module[len('numpy'):] if parts[0] == 'numpy' else module}.{name}"
