"""The public API: ``grad``, ``value_and_grad`` and ``stop_gradient``.

A gradient function generates code the first time it sees an argument signature (ranks,
dtypes, which dimensions are 1, static values), then reuses it: later calls with the same
signature do no generation work.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.errors import ArgumentError, SymdiffError
from symdiff.signature import ArgSpec, Options

BACKENDS = ("numba", "numpy", "cuda")


def stop_gradient(x: Any) -> Any:
    """The identity in value; its derivative is zero, so no gradient flows through ``x``."""
    return x


def _normalise_argnums(fun: Callable, argnums: int | Sequence[int] | None,
                       wrt: str | Sequence[str] | None) -> tuple[tuple[int, ...], bool]:
    params = list(inspect.signature(fun).parameters.values())
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise ArgumentError(f"{fun.__qualname__} takes *args or **kwargs; symdiff needs named "
                            "positional parameters")
    if wrt is not None and argnums is not None:
        raise ArgumentError("give either argnums or wrt, not both")
    if wrt is not None:
        single = isinstance(wrt, str)
        wanted = (wrt,) if single else tuple(wrt)
        for w in wanted:
            if w not in names:
                raise ArgumentError(f"wrt={w!r}: {fun.__qualname__} has no parameter {w!r} "
                                    f"(its parameters: {', '.join(names)})")
        positions = tuple(names.index(w) for w in wanted)
    else:
        argnums = 0 if argnums is None else argnums
        single = not isinstance(argnums, (tuple, list))
        raw = (argnums,) if single else tuple(argnums)
        positions = []
        for a in raw:
            if not isinstance(a, int) or isinstance(a, bool):
                raise ArgumentError(f"argnums must be integers, got {a!r}")
            if not -len(names) <= a < len(names):
                raise ArgumentError(f"argnums={a} is out of range: {fun.__qualname__} has "
                                    f"{len(names)} positional parameters")
            positions.append(a % len(names))
        positions = tuple(positions)
    if len(set(positions)) != len(positions):
        raise ArgumentError(f"argnums/wrt names an argument twice: {positions}")
    if not positions:
        raise ArgumentError("argnums/wrt is empty: nothing to differentiate")
    return positions, single


def _arg_spec(name: str, value: Any, differentiated: bool) -> ArgSpec:
    if isinstance(value, float):
        return ArgSpec(name, "float")
    if isinstance(value, (np.ndarray, np.generic)):
        kind = value.dtype.kind
        if differentiated and kind != "f":
            what = {"i": "an integer", "u": "an unsigned integer", "b": "a boolean",
                    "c": "a complex"}.get(kind, f"a {value.dtype}")
            raise ArgumentError(f"argument {name!r} is {what} array; only float arrays can be "
                                "differentiated")
        if kind not in "fiub":
            raise ArgumentError(f"argument {name!r} has dtype {value.dtype}, which symdiff does "
                                "not support")
        return ArgSpec(name, "array", value.dtype.name, tuple(d == 1 for d in value.shape))
    if differentiated:
        raise ArgumentError(f"argument {name!r} is {type(value).__name__} {value!r}; only "
                            "floats and float arrays can be differentiated")
    if isinstance(value, (int, str, bool, type(None), tuple)):
        return ArgSpec(name, "static", value=value)
    raise ArgumentError(f"argument {name!r} of type {type(value).__name__} is not supported; "
                        "pass NumPy arrays, floats, or static ints/strings")


@dataclass
class CachedModule:
    """A generated module found in the disk cache: its text and function names."""

    source: str
    grad_name: str
    value_and_grad_name: str
    signature: tuple
    size_checks: tuple = ()


class GradFunction:
    """A gradient function, specialised and cached per argument signature."""

    def __init__(self, fun: Callable, argnums: tuple[int, ...], single: bool, has_aux: bool,
                 backend: str, with_value: bool):
        if backend not in BACKENDS:
            raise ArgumentError(f"backend={backend!r} is not available; choose from "
                                f"{', '.join(BACKENDS)}")
        self.fun = fun
        self.options = Options(argnums, single, has_aux, backend)
        self.with_value = with_value
        self._signature = inspect.signature(fun)
        self._names = list(self._signature.parameters)
        self._cache: dict[tuple, tuple[Any, Callable]] = {}
        self._fast: dict[tuple, Callable] = {}  # cheap argument key -> compiled function
        self._lock = threading.Lock()
        self._last: Any = None  # the GeneratedModule of the latest call
        functools.update_wrapper(self, fun)

    def _bind(self, args: tuple, kwargs: dict) -> list[Any]:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ArgumentError(f"{self.fun.__qualname__}: {exc}") from None
        bound.apply_defaults()
        return [bound.arguments[n] for n in self._names]

    def specialise(self, *args: Any, **kwargs: Any) -> Any:
        """Generate (or fetch) the code for the signature of these arguments."""
        return self._compiled(self._bind(args, kwargs))[0]

    def _compiled(self, values: list[Any]) -> tuple[Any, Callable]:
        specs = tuple(
            _arg_spec(name, _as_array(v), i in self.options.argnums)
            for i, (name, v) in enumerate(zip(self._names, values, strict=True)))
        entry = self._cache.get(specs)
        if entry is None:
            with self._lock:
                entry = self._cache.get(specs)
                if entry is None:
                    entry = self._recall(specs) or self._generate(specs)
                    self._cache[specs] = entry
        self._last = entry[0]
        return entry

    def _recall(self, specs: tuple) -> tuple[Any, Callable] | None:
        """A module compiled by an earlier process: no SymPy, no libcst, no generation."""
        if self.options.backend != "numba":
            return None
        from symdiff import cache

        key = cache.index_key(self.fun, specs, self.options)
        found = cache.recall(key) if key else None
        if found is None:
            return None
        path, names = found
        module = cache.import_file(path)
        loaded = CachedModule(path.read_text(), names["grad"], names["value_and_grad"], specs,
                              tuple(tuple(c) for c in names.get("size_checks", ())))
        return loaded, getattr(module, loaded.value_and_grad_name if self.with_value
                               else loaded.grad_name)

    def _generate(self, specs: tuple) -> tuple[Any, Callable]:
        from symdiff.pipeline import generate  # the compiler loads only when needed

        module = generate(self.fun, specs, self.options)
        entry = _load(module, self.with_value, self.options.backend)
        if self.options.backend == "numba":
            from symdiff import cache

            key = cache.index_key(self.fun, specs, self.options)
            if key is not None:
                cache.remember(key, cache.module_file(module.source, module.grad_name),
                               {"grad": module.grad_name,
                                "value_and_grad": module.value_and_grad_name,
                                "size_checks": module.size_checks},
                               [getattr(c, "fun", None) for c in module.read])
        return entry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = _fast_key(args) if not kwargs else None
        fast = self._fast.get(key) if key is not None else None
        if fast is not None:  # a signature seen before: no binding, no specs
            values: Any = args
            compiled, checks = fast
        else:
            values = [_as_array(v) for v in self._bind(args, kwargs)]
            module, compiled = self._compiled(values)
            checks = module.size_checks
            if key is not None and len(args) == len(self._names):
                self._fast[key] = (compiled, checks)
        for i, a, j, b in checks:
            if values[i].shape[a] != (b if j is None else values[j].shape[b]):
                self._size_error(values, i, a, j, b)
        try:
            result = compiled(*values)
        except Exception as exc:
            if type(exc).__module__.startswith("numba"):  # it failed to compile
                raise SymdiffError(
                    f"Numba could not compile the gradient of {self.fun.__qualname__} "
                    f"({type(exc).__name__}); backend='numpy' runs the same code uncompiled. "
                    f"Numba said: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
            raise
        self._check_shapes(result, values)
        return result

    def _size_error(self, values: list[Any], i: int, a: int, j: int | None, b: int) -> None:
        left = f"{self._names[i]}.shape[{a}] is {values[i].shape[a]}"
        right = f"{b}" if j is None else f"{self._names[j]}.shape[{b}], which is " \
            f"{values[j].shape[b]}"
        raise ArgumentError(f"{self.fun.__qualname__}: {left}, but the function combines it "
                            f"with {right}: they must be equal")

    def _check_shapes(self, result: Any, values: list[Any]) -> None:
        """Generated code assumes sizes derived by slicing (``x[1:]``) are not 1 where they
        meet other sizes; if NumPy broadcast one anyway, say so rather than return a gradient
        of the wrong shape."""
        grads = result[1] if self.with_value else result
        if self.options.has_aux and not self.with_value:
            grads = grads[0]
        if self.options.single:
            grads = (grads,)
        for g, a in zip(grads, self.options.argnums, strict=True):
            if np.shape(g) != np.shape(values[a]):
                raise SymdiffError(
                    f"the gradient for {self._names[a]!r} came out with shape {np.shape(g)} "
                    f"instead of {np.shape(values[a])}: a size computed from slicing was 1 "
                    "where the function broadcasts it; symdiff does not support that yet")

    @property
    def source(self) -> str:
        """The generated module for the most recent call's signature."""
        if self._last is None:
            raise ArgumentError("no code has been generated yet: call the gradient function "
                                "(or .specialise(*args)) first")
        return self._last.source

    def _repr_markdown_(self) -> str | None:
        if self._last is None:
            return None
        return f"```python\n{self._last.source}\n```"


def _fast_key(args: tuple) -> tuple | None:
    """A cheap key that determines the signature, or None where only the slow path can tell."""
    key = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            key.append((a.dtype, a.ndim, tuple(d == 1 for d in a.shape) if 1 in a.shape else 0))
        elif kind is float:
            key.append(float)
        elif kind in (int, str, bool, type(None)):
            key.append((kind, a))
        else:
            return None
    return tuple(key)


def _as_array(value: Any) -> Any:
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return value


def _load(module: Any, with_value: bool, backend: str) -> tuple[Any, Callable]:
    name = module.value_and_grad_name if with_value else module.grad_name
    if backend == "numba":  # a real file, so that Numba can cache the compiled code
        from symdiff.cache import import_file, module_file

        return module, getattr(import_file(module_file(module.source, module.grad_name)), name)
    filename = f"<symdiff-generated {module.grad_name} {abs(hash(module.source)):x}>"
    linecache.cache[filename] = (len(module.source), None, module.source.splitlines(True),
                                 filename)
    namespace: dict[str, Any] = {}
    exec(compile(module.source, filename, "exec"), namespace)
    return module, namespace[name]


def _make(fun: Callable | None, argnums, wrt, has_aux: bool, backend: str,
          with_value: bool) -> Any:
    if fun is None:
        return lambda f: _make(f, argnums, wrt, has_aux, backend, with_value)
    if not hasattr(fun, "__code__"):
        raise ArgumentError(f"{fun!r} is not a Python function: symdiff differentiates "
                            "functions from their source")
    positions, single = _normalise_argnums(fun, argnums, wrt)
    return GradFunction(fun, positions, single, has_aux, backend, with_value)


def grad(fun: Callable | None = None, argnums: int | Sequence[int] | None = None, *,
         wrt: str | Sequence[str] | None = None, has_aux: bool = False,
         backend: str = "numba") -> GradFunction:
    """The gradient of a scalar function, generated from its source.

    Args:
        fun: a Python function of NumPy arrays and floats returning a scalar. Also usable as a
            bare decorator, ``@symdiff.grad``, or with options, ``@symdiff.grad(argnums=1)``.
        argnums: which positional argument(s) to differentiate (default 0). An int gives one
            gradient; a tuple gives a tuple of gradients in that order.
        wrt: the same, by parameter name (``"w"`` or ``("w", "b")``); not with ``argnums``.
        has_aux: ``fun`` returns ``(loss, aux)``; the result is then ``(grads, aux)`` and aux is
            not differentiated.
        backend: ``"numba"`` (default: loops compiled with Numba, cached on disk) or
            ``"numpy"`` (plain NumPy, nothing to compile).

    Returns:
        A callable with ``fun``'s parameters returning the gradient(s); ``.source`` shows the
        generated code.
    """
    return _make(fun, argnums, wrt, has_aux, backend, with_value=False)


def value_and_grad(fun: Callable | None = None, argnums: int | Sequence[int] | None = None, *,
                   wrt: str | Sequence[str] | None = None, has_aux: bool = False,
                   backend: str = "numba") -> GradFunction:
    """Like :func:`grad`, returning ``(value, grads)``; with ``has_aux``,
    ``((value, aux), grads)``."""
    return _make(fun, argnums, wrt, has_aux, backend, with_value=True)
