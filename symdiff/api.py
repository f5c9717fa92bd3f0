"""The entry points: ``grad``, ``value_and_grad``, ``vjp`` and ``GradOperation``; each makes a
``symdiff.gradient.GradFunction``."""

from __future__ import annotations

import functools
import inspect
import linecache
import types
from collections.abc import Callable, Sequence
from typing import Any

from symdiff.errors import ArgumentError, UnsupportedError, user_facing
from symdiff.gradient import GradFunction, differentiable
from symdiff.library import library_function, spread_arguments, takes_spread
from symdiff.markers import runs_while_tracing
from symdiff.runtime import (
    generator_states,
    normalise_argnums,
    reachable_generators,
    set_generator_states,
)
from symdiff.trees import is_model, model_method


def _make(fun: Callable | None, argnums, wrt, has_aux: bool, backend: str,
          with_value: bool, frozen: Sequence[str] = (), parallel: bool = False) -> Any:
    if fun is None:
        return user_facing(lambda f: _make(f, argnums, wrt, has_aux, backend, with_value, frozen,
                                           parallel))
    frozen = (frozen,) if isinstance(frozen, str) else tuple(frozen)
    fun = library_function(fun)  # grad(np.sqrt): as if written def sqrt(x): return np.sqrt(x)
    if isinstance(fun, functools.partial):
        return PartialGrad(fun, argnums, wrt, has_aux, backend, with_value, frozen, parallel)
    if isinstance(fun, types.MethodType) and is_model(fun.__self__) and \
            inspect.isfunction(fun.__func__):  # grad(model.loss): its object is a model
        return _model_grad(fun.__self__, argnums, wrt, has_aux, backend, with_value, frozen,
                           fun.__func__, parallel)
    if is_model(fun):
        return _model_grad(fun, argnums, wrt, has_aux, backend, with_value, frozen,
                           parallel=parallel)
    if not differentiable(fun):
        raise ArgumentError(f"{fun!r} is not a Python function: symdiff differentiates "
                            "functions from their source")
    _source_is_readable(fun)
    if takes_spread(fun):
        spread = {p.name: "*" if p.kind is p.VAR_POSITIONAL else "**"
                  for p in inspect.signature(fun, follow_wrapped=False).parameters.values()
                  if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        for name in [wrt] if isinstance(wrt, str) else list(wrt or ()):
            root = name.partition(".")[0]
            if root in spread:
                raise ArgumentError(f"{fun.__qualname__} takes {spread[root]}{root}: name what to "
                                    "differentiate among its arguments by position "
                                    "(argnums), or by a parameter's own name (wrt)")
        return SpreadGrad(fun, lambda f: _make(f, argnums, wrt, has_aux, backend, with_value,
                                               frozen, parallel))
    paths = [wrt] if isinstance(wrt, str) else list(wrt or ())
    if any("." in p for p in paths):  # paths into structured arguments: "params.W"
        names = list(inspect.signature(fun).parameters)
        targets = []
        for p in paths:
            root, _, rest = p.partition(".")
            if root not in names:
                raise ArgumentError(f"wrt={p!r}: {fun.__qualname__} has no parameter {root!r}")
            targets.append((names.index(root), rest or None))
        request = targets[0] if isinstance(wrt, str) else {p: t for p, t in zip(paths, targets,
                                                                                  strict=True)}
        return GradFunction(fun, (targets[0][0],), False, has_aux, backend, with_value,
                            request=request, frozen=frozen, parallel=parallel)
    positions, single = normalise_argnums(fun, argnums, wrt)
    request = None if not frozen else (positions[0], None) if single else \
        [(a, None) for a in positions]
    return GradFunction(fun, positions, single, has_aux, backend, with_value, request=request,
                        frozen=frozen, parallel=parallel)


def _source_is_readable(fun: Any) -> None:
    """A function typed at the interactive prompt or given to ``python -c`` has no source to
    read: said when ``grad`` is applied, not at the first call."""
    code = getattr(inspect.unwrap(fun), "__code__", None)
    if code is None or not code.co_filename.startswith("<") or linecache.getlines(
            code.co_filename):  # a notebook cell's source is there
        return
    raise UnsupportedError(
        f"cannot read the source of {fun.__qualname__!r}: it was defined in "
        f"{code.co_filename}, which keeps no source; symdiff reads functions from their "
        "source, so define them in a file (or a notebook cell)",
        code.co_filename, code.co_firstlineno, 1)


def _model_grad(model: Any, argnums, wrt, has_aux: bool, backend: str, with_value: bool,
                frozen: tuple[str, ...], method: Callable | None = None,
                parallel: bool = False) -> GradFunction:
    """Gradients of a model object's ``method`` (by default its forward, construct or
    __call__) with respect to its inputs (``argnums``) or its parameters (``wrt``, paths such
    as ``"fc1.W"``)."""
    method = method or model_method(model)
    if wrt is not None and argnums is not None:
        raise ArgumentError("give either argnums or wrt, not both")
    if wrt is not None:
        single = isinstance(wrt, str)
        paths = [wrt] if single else list(wrt)
        request: Any = (0, paths[0]) if single else {p: (0, p) for p in paths}
    else:
        inputs = list(inspect.signature(method).parameters)[1:]
        raw = 0 if argnums is None else argnums
        single = not isinstance(raw, (tuple, list))
        positions = (raw,) if single else tuple(raw)
        for a in positions:
            if not isinstance(a, int) or not 0 <= a < len(inputs):
                raise ArgumentError(f"argnums={a!r}: {type(model).__name__}.{method.__name__} "
                                    f"takes {len(inputs)} inputs")
        request = (positions[0] + 1, None) if single else [(a + 1, None) for a in positions]
    return GradFunction(method, (0,), False, has_aux, backend, with_value, request=request,
                        frozen=frozen, model=model, parallel=parallel)


class SpreadGrad:
    """The gradient of a function that takes ``*args``, ``**kwargs`` or keyword-only
    parameters: for each number of positional arguments and set of keyword arguments, that of
    the function of named parameters that calls it (``library.spread_arguments``)."""

    def __init__(self, fun: Callable, make: Callable[[Callable], Any]):
        self.fun, self._make, self._by_call = fun, make, {}
        self.gradient: Any = None  # the one used last: its .source
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = (len(args), tuple(sorted(kwargs)))
        gradient = self._by_call.get(key)
        if gradient is None:
            try:  # a call Python would refuse is refused as Python refuses it
                inspect.signature(self.fun, follow_wrapped=False).bind(*args, **kwargs)
            except TypeError as exc:
                raise ArgumentError(f"{self.fun.__qualname__}: {exc}") from None
            gradient = self._by_call[key] = self._make(spread_arguments(self.fun, *key))
        self.gradient = gradient
        return gradient(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # .source, ...
        gradient = self.__dict__.get("gradient")
        if gradient is None:
            raise AttributeError(f"{name}: the gradient of a function taking *args is "
                                 "generated when it is first called")
        return getattr(gradient, name)


class PartialGrad:
    """The gradient of a ``functools.partial`` object: that of its function, with the
    arguments the partial holds passed on every call (arrays among them are never
    differentiated); ``argnums`` and ``wrt`` name the partial's own parameters."""

    def __init__(self, partial: functools.partial, argnums: Any, wrt: Any, has_aux: bool,
                 backend: str, with_value: bool, frozen: tuple[str, ...], parallel: bool):
        self.partial = partial
        self._signature = inspect.signature(partial.func)
        own = list(inspect.signature(partial).parameters)
        if wrt is None:
            positions, single = normalise_argnums(partial, argnums, None)
            wrt = own[positions[0]] if single else tuple(own[p] for p in positions)
        elif argnums is not None:
            raise ArgumentError("give either argnums or wrt, not both")
        self.gradient = _make(partial.func, None, wrt, has_aux, backend, with_value, frozen,
                              parallel)
        functools.update_wrapper(self, partial.func, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        p = self.partial
        try:
            bound = self._signature.bind(*p.args, *args, **{**p.keywords, **kwargs})
        except TypeError as exc:
            raise ArgumentError(f"{p.func.__qualname__}: {exc}") from None
        return self.gradient(*bound.args, **bound.kwargs)

    def __getattr__(self, name: str) -> Any:  # .source, .specialise, ...
        return getattr(self.__dict__["gradient"], name)


@runs_while_tracing
@user_facing
def grad(fun: Callable | None = None, argnums: int | Sequence[int] | None = None, *,
         wrt: str | Sequence[str] | None = None, has_aux: bool = False,
         backend: str = "numba", frozen: Sequence[str] = (),
         parallel: bool = False) -> GradFunction:
    """The gradient of a scalar function, generated from its source.

    Args:
        fun: a Python function of NumPy arrays and floats returning a scalar, or a model
            object (its ``forward``, ``construct`` or ``__call__`` is differentiated). Also
            usable as a bare decorator, ``@symdiff.grad``, or with options,
            ``@symdiff.grad(argnums=1)``. Arguments may be dicts, lists and tuples of arrays;
            their gradients come back in the same structure.
        argnums: which positional argument(s) to differentiate (default 0). An int gives one
            gradient; a tuple gives a tuple of gradients in that order.
        wrt: the same, by parameter name (``"w"`` or ``("w", "b")``); not with ``argnums``.
            Paths name arrays inside structured arguments (``"params.W"``) or a model's
            parameters (``"fc1.W"``, see :func:`parameters`); a list of paths gives a dict
            keyed by path.
        frozen: paths of parameters that get no gradient (``requires_grad=False``).
        has_aux: ``fun`` returns ``(loss, aux)``; the result is then ``(grads, aux)`` and aux is
            not differentiated.
        backend: ``"numba"`` (default: loops compiled with Numba, cached on disk) or
            ``"numpy"`` (plain NumPy, nothing to compile).
        parallel: with ``backend="numba"``, run the loops whose iterations are independent
            on all cores (``numba.prange``), sums and extrema included: per-thread partial
            results, combined by Numba, so results differ from one core's by rounding only.

    Returns:
        A callable with ``fun``'s parameters returning the gradient(s); ``.source`` shows the
        generated code.
    """
    return _make(fun, argnums, wrt, has_aux, backend, with_value=False, frozen=frozen,
                 parallel=parallel)


@runs_while_tracing
@user_facing
def value_and_grad(fun: Callable | None = None, argnums: int | Sequence[int] | None = None, *,
                   wrt: str | Sequence[str] | None = None, has_aux: bool = False,
                   backend: str = "numba", frozen: Sequence[str] = (),
                   parallel: bool = False) -> GradFunction:
    """Like :func:`grad`, returning ``(value, grads)``; with ``has_aux``,
    ``((value, aux), grads)``."""
    return _make(fun, argnums, wrt, has_aux, backend, with_value=True, frozen=frozen,
                 parallel=parallel)


@runs_while_tracing
@user_facing
def vjp(fun: Callable, *primals: Any, backend: str = "numba") -> tuple[Any, Callable]:
    """JAX's ``vjp``: ``out, f_vjp = vjp(fun, *primals)``; ``f_vjp(cotangent)`` returns the
    tuple of ``cotangent``-weighted gradients, one per primal (a vector-Jacobian product,
    generated symbolically: the forward pass runs again on each call, no Jacobian is formed).
    """
    fun = library_function(fun)
    if not differentiable(fun):
        raise ArgumentError(f"{fun!r} is not a Python function")
    if takes_spread(fun):
        fun = spread_arguments(fun, len(primals))
    normalise_argnums(fun, 0, None)  # named positional parameters, as grad needs
    # numbers the function draws: each product uses those ``out`` was computed with (as a
    # recorded forward pass would) and leaves the generators as it found them
    generators = reachable_generators(fun)
    before = generator_states(generators)
    out = fun(*primals)
    products = GradFunction(fun, (0,), False, False, backend, False,
                            request=[(i, None) for i in range(len(primals))],
                            output="cotangent")

    def vjp_function(cotangent: Any) -> Any:
        now = generator_states(generators)
        set_generator_states(generators, before)
        try:
            result = products(*primals, cotangent)
        finally:
            set_generator_states(generators, now)
        if any(all(source is not g for g in generators) for source in products.random_sources()):
            raise ArgumentError(f"vjp of {fun.__qualname__}: it draws random numbers from a "
                                "generator it reaches through another function's module, so "
                                "the products cannot use the numbers its value was computed "
                                "with; draw them in the function itself, or use grad or "
                                "value_and_grad (one draw per call)")
        return result

    return out, vjp_function


@runs_while_tracing
class GradOperation:
    """MindSpore's ``GradOperation``: ``GradOperation(get_all, get_by_list, sens_param)(fn,
    weights)`` returns the gradient function of ``fn`` (a function or a model object).

    - default: the gradient with respect to the first input;
    - ``get_all``: a tuple of gradients, one per input;
    - ``get_by_list``: a tuple of gradients, one per weight in ``weights`` (parameter paths
      such as ``"z"`` or ``"fc1.W"``; :func:`parameters` lists a model's);
    - both: ``(input gradients, weight gradients)``;
    - ``sens_param``: the gradient function takes one more argument, the sensitivity, shaped
      like the output; without it an array output is summed (a sensitivity of ones).
    """

    def __init__(self, get_all: bool = False, get_by_list: bool = False,
                 sens_param: bool = False):
        self.get_all, self.get_by_list, self.sens_param = get_all, get_by_list, sens_param

    def __call__(self, fn: Any, weights: Sequence[str] | str | None = None, *,
                 backend: str = "numba", frozen: Sequence[str] = ()) -> GradFunction:
        model = fn if is_model(fn) else None
        function = model_method(fn) if model is not None else fn
        if not hasattr(function, "__code__"):
            raise ArgumentError(f"{fn!r} is neither a function nor a model object")
        offset = 1 if model is not None else 0
        count = len(inspect.signature(function).parameters) - offset
        inputs: list[Any] = [(i + offset, None) for i in range(count)]
        request: Any = inputs if self.get_all else inputs[0]
        if self.get_by_list:
            if weights is None:
                raise ArgumentError("GradOperation(get_by_list=True) needs weights: a list of "
                                    "parameter paths, such as symdiff.parameters(model)")
            paths = [weights] if isinstance(weights, str) else list(weights)
            if model is None:
                raise ArgumentError("weights are parameters of a model object; for a function "
                                    "use wrt paths such as 'params.W' with symdiff.grad")
            listed = [(0, p) for p in paths]
            request = [inputs, listed] if self.get_all else listed
        frozen = (frozen,) if isinstance(frozen, str) else tuple(frozen)
        return GradFunction(function, (offset,), False, False, backend, False, request=request,
                            frozen=frozen, output="cotangent" if self.sens_param else "sum",
                            model=model)
