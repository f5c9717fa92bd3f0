"""Random numbers drawn inside a function (``rng.normal(size=(n, d))``, ``np.random.randn(3)``,
``np.random.default_rng(0).uniform(...)``): inputs of the generated code that each call draws,
in the function's order and from the same generator, before running it (see
``symdiff.runtime.RandomDraw``). The code draws standard normal or uniform numbers and applies
``loc``/``scale`` or ``low``/``high`` itself, so those are differentiated (the
reparameterisation trick); the numbers are not."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.frontend import calls
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, to_tensor
from symdiff.ir.graph import Graph
from symdiff.ir.shapes import broadcast_shapes, canon, dim_text, unify
from symdiff.runtime import FreshGenerator, RandomDraw

GENERATOR_TYPES = (np.random.Generator, np.random.RandomState)
MAKERS = (np.random.default_rng, np.random.RandomState)


@dataclass(frozen=True)
class RandomMethod:
    """``rng.normal`` before it is called."""

    source: Any  # a Generator or RandomState, or a FreshGenerator
    name: str


def random_method(callee: Any) -> RandomMethod | None:
    """``rng.normal``, ``rs.randn``, ``np.random.randn`` (a method of NumPy's own generator)."""
    owner = getattr(callee, "__self__", None)
    if isinstance(owner, GENERATOR_TYPES):
        return RandomMethod(owner, callee.__name__)
    return callee if isinstance(callee, RandomMethod) else None


def fresh_generator(graph: Graph, make: Any, args: list[Any], kwargs: dict[str, Any]
                    ) -> FreshGenerator:
    if kwargs or not all(a is None or isinstance(a, int) and not isinstance(a, bool)
                         for a in args):
        raise StaticError(f"np.random.{make.__name__}() inside the function needs a seed "
                          "written as an integer (or none)")
    graph.generators += 1
    return FreshGenerator(make, tuple(args), graph.generators)


def _normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None) -> None: ...
def _uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None) -> None: ...
def _standard(size: Any = None) -> None: ...
def _by_sizes(*dims: Any) -> None: ...


# method -> (numbers drawn, its parameters as a Python signature)
_METHODS = {"standard_normal": ("normal", _standard), "randn": ("normal", _by_sizes),
            "normal": ("normal", _normal), "random": ("uniform", _standard),
            "random_sample": ("uniform", _standard), "rand": ("uniform", _by_sizes),
            "uniform": ("uniform", _uniform)}


def draw(graph: Graph, method: RandomMethod, args: list[Any], kwargs: dict[str, Any],
         refuse: Any) -> Tensor:
    """The numbers ``method(*args, **kwargs)`` draws, as the function computes them from the
    standard ones; ``refuse(message)`` makes the located error to raise."""
    if method.name not in _METHODS:
        raise StaticError(f"{method.name}() draws are not supported; the supported ones are "
                          f"{', '.join(sorted(_METHODS))} (other distributions: transform "
                          "these in the code)")
    kind, parameters = _METHODS[method.name]
    try:
        bound = inspect.signature(parameters).bind(*args, **kwargs)
    except TypeError as exc:
        raise StaticError(f"{method.name}(): {exc}") from None
    bound.apply_defaults()
    given = dict(bound.arguments)
    size = given.pop("dims", None) if parameters is _by_sizes else given.pop("size")
    shape = _shape(size) if size is not None else \
        broadcast_shapes(*(to_tensor(graph, v).shape for v in given.values()))
    if graph.in_loop_body:
        raise StaticError("random numbers cannot be drawn in a loop that runs in the generated "
                          "code; draw them before the loop")
    graph.draws += 1
    source = method.source
    where = f"{type(source).__name__}@{id(source):x}" if isinstance(source, GENERATOR_TYPES) \
        else str(source)
    key = f"random draw {graph.draws - 1}: {kind} {tuple(dim_text(canon(d)) for d in shape)} " \
        f"from {where}"
    found = graph.outer.get(key)
    if found is None:
        error = refuse(f"{method.name}() draws random numbers: the derivatives (grad, vjp, "
                       "jvp, jacfwd, hessian) draw them on each call, but the teaching tools "
                       "and symdiff gen do not yet: draw them outside the function and pass them "
                       "as an argument")
        error.outer = (RandomDraw(key, graph.draws - 1, source, kind,
                                  tuple(dim_text(canon(d)) for d in shape)),)
        raise error
    numbers = Tensor(graph[found])
    for have, want in zip(numbers.shape, shape, strict=True):
        unify(want, have)  # the argument's size stays the name
    first, second = given.values() if given else (0.0, 1.0)
    if kind == "normal":  # loc + scale * z, as NumPy computes it
        scaled = numbers if _is(second, 1.0) else calls.elementwise(graph, "mul", second,
                                                                   numbers)
        return scaled if _is(first, 0.0) else calls.elementwise(graph, "add", first, scaled)
    if _is(first, 0.0) and _is(second, 1.0):  # low + (high - low) * u, as NumPy computes it
        return numbers
    width = calls.elementwise(graph, "sub", second, first)
    return calls.elementwise(graph, "add", first, calls.elementwise(graph, "mul", width,
                                                                    numbers))


def _is(value: Any, number: float) -> bool:
    """A parameter written as this number (so the code leaves the operation out)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == number


def _shape(size: Any) -> tuple:
    dims = size if isinstance(size, (tuple, list)) else (size,)
    out = []
    for d in dims:
        if isinstance(d, SymDim):
            out.append(d.dim)
        elif isinstance(d, int) and not isinstance(d, bool) and d >= 0:
            out.append(d)
        else:
            raise StaticError(f"the size of a random draw must be sizes or non-negative "
                              f"integers, got {describe(d)}")
    return tuple(out)
