"""What a gradient function does on every call, without the compiler: the signature of the call
(argument specs, argnums), the cheap key of the fast path, the sizes pinned for a call, the
generated modules (loaded, or recalled from the disk cache), and the gradients handed back as
arrays the caller owns."""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from symdiff import cache
from symdiff.arrays import is_array_api_array, namespace_of
from symdiff.cache import import_file, module_file
from symdiff.errors import ArgumentError, SymdiffError
from symdiff.signature import ArgSpec, Options, outer_key, passed
from symdiff.size_checks import SizeChecked
from symdiff.trees import is_structured


def signature_of(fun: Any) -> inspect.Signature:
    """A function's signature; a function read from a file that is never run carries its
    own (``symdiff.frontend.static_module.StaticFunction``)."""
    own = getattr(fun, "signature", None)
    return own if isinstance(own, inspect.Signature) else inspect.signature(fun)


def normalise_argnums(fun: Callable, argnums: int | Sequence[int] | None,
                      wrt: str | Sequence[str] | None) -> tuple[tuple[int, ...], bool]:
    params = list(signature_of(fun).parameters.values())
    who = getattr(fun, "__qualname__", None) or getattr(fun, "name", "the function")
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise ArgumentError(f"{who} takes *args or **kwargs; symdiff needs named "
                            "positional parameters")
    if wrt is not None and argnums is not None:
        raise ArgumentError("give either argnums or wrt, not both")
    if wrt is not None:
        single = isinstance(wrt, str)
        wanted = (wrt,) if single else tuple(wrt)
        for w in wanted:
            if w not in names:
                raise ArgumentError(f"wrt={w!r}: {who} has no parameter {w!r} "
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
                raise ArgumentError(f"argnums={a} is out of range: {who} has "
                                    f"{len(names)} positional parameters")
            positions.append(a % len(names))
        positions = tuple(positions)
    if len(set(positions)) != len(positions):
        raise ArgumentError(f"argnums/wrt names an argument twice: {positions}")
    if not positions:
        raise ArgumentError("argnums/wrt is empty: nothing to differentiate")
    return positions, single


_KINDS = {"f": "float", "i": "integer", "u": "unsigned integer", "b": "bool"}


def array_api_dtype(value: Any) -> np.dtype | None:
    """The dtype of an array of another Array API library (array-api-strict, PyTorch, CuPy)
    as NumPy names it, found with its own namespace's ``isdtype``; None for one symdiff does
    not support (complex)."""
    xp = namespace_of(value)
    for name in ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
                 "uint64", "uint32", "uint16", "uint8", "bool"):
        dtype = getattr(xp, name, None)
        if dtype is not None and value.dtype == dtype:
            return np.dtype(name)
    return None


def shape_of(value: Any) -> tuple:
    """An argument's shape, without converting an array of another library to NumPy."""
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def arg_spec(name: str, value: Any, differentiated: bool, array_api: bool = False) -> ArgSpec:
    """``array_api``: arrays of any Array API library are taken (``backend="array_api"``)."""
    if isinstance(value, float):
        return ArgSpec(name, "float")
    foreign = array_api and is_array_api_array(value)
    if isinstance(value, (np.ndarray, np.generic)) or foreign:
        dtype = array_api_dtype(value) if foreign else value.dtype
        if dtype is None:
            raise ArgumentError(f"argument {name!r} has dtype {value.dtype}, which symdiff does "
                                "not support")
        kind = dtype.kind
        if differentiated and kind != "f":
            what = {"i": "an integer", "u": "an unsigned integer", "b": "a boolean",
                    "c": "a complex"}.get(kind, f"a {value.dtype}")
            raise ArgumentError(f"argument {name!r} is {what} array; only float arrays can be "
                                "differentiated")
        if kind not in "fiub":
            raise ArgumentError(f"argument {name!r} has dtype {value.dtype}, which symdiff does "
                                "not support")
        return ArgSpec(name, "array", dtype.name, tuple(d == 1 for d in value.shape))
    if is_array_api_array(value):
        raise ArgumentError(f"argument {name!r} is an array of {type(value).__module__}: "
                            "backend='array_api' takes arrays of any Array API library; the "
                            "other backends take NumPy arrays")
    if differentiated:
        raise ArgumentError(f"argument {name!r} is {type(value).__name__} {value!r}; only "
                            "floats and float arrays can be differentiated")
    if isinstance(value, (int, str, bool, type(None), tuple)):
        return ArgSpec(name, "static", value=value)
    if callable(value) and not isinstance(value, type):
        # a function (np.tanh, a Python function, a partial) the code calls: traced where it
        # is called, the code generated for each function passed
        return ArgSpec(name, "static", value=value)
    if isinstance(value, (np.random.Generator, np.random.RandomState)):
        raise ArgumentError(f"argument {name!r} is a random number generator: random draws "
                            "inside the function are not supported yet; draw the numbers "
                            "outside it and pass them as an argument")
    raise ArgumentError(f"argument {name!r} of type {type(value).__name__} is not supported; "
                        "pass NumPy arrays, floats, functions, or static ints/strings")


def for_the_code(specs: Sequence[ArgSpec], values: Sequence[Any]) -> list[Any]:
    """``values`` as the generated code takes them: a function passed as an argument is traced
    into the code, which takes None in its place (Numba cannot take a Python function)."""
    return [None if s.kind == "static" and callable(s.value) else v
            for s, v in zip(specs, values, strict=True)]


def specs_for(names: Sequence[str], values: Sequence[Any], differentiated: Sequence[int],
              array_api: bool = False) -> tuple[ArgSpec, ...]:
    """The signature of a call: one spec per argument, ``differentiated`` by position
    (``array_api``: see ``arg_spec``)."""
    return tuple(arg_spec(name, v, i in differentiated, array_api)
                 for i, (name, v) in enumerate(zip(names, values, strict=True)))


@dataclass(eq=False)
class CachedModule(SizeChecked):
    """A generated module found in the disk cache: its text and function names."""

    source: str
    grad_name: str
    value_and_grad_name: str
    signature: tuple
    size_checks: tuple = ()


@dataclass(frozen=True)
class OuterArray:
    """An array the function reads from outside itself, a global or closure variable of
    ``fun``: the generated code takes it as the argument ``param``, and every call passes its
    value at that moment (a global rebound between calls is seen)."""

    fun: Any
    name: str
    param: str

    @property
    def key(self) -> str:
        return outer_key(self.fun, self.name)

    def value(self) -> Any:
        try:
            return scope_value(self.fun, self.name)
        except KeyError:
            raise ArgumentError(f"{self.fun.__qualname__} reads the global {self.name!r}, "
                                "which no longer exists") from None


@dataclass(frozen=True)
class FreshGenerator:
    """A random generator the function makes itself (``np.random.default_rng(0)``): made
    again, the same way, on each call. ``site`` tells two such generators apart."""

    make: Any  # np.random.default_rng or np.random.RandomState
    args: tuple
    site: int

    def __str__(self) -> str:
        args = ", ".join(map(repr, self.args))
        return f"np.random.{self.make.__name__}({args}) #{self.site}"


@dataclass(frozen=True)
class RandomDraw:
    """Numbers the function draws (``rng.normal(size=(n, d))``, ``np.random.randn(3)``): the
    generated code takes them as the argument ``param``, and each call draws them, in the
    order the function draws them, from the same generator (standard normal or uniform
    numbers; the function's ``loc`` and ``scale`` are applied in the code, so that they are
    differentiated)."""

    key: str
    index: int  # the function's draws, counted from 0 in the order it makes them
    source: Any  # a Generator or RandomState, or a FreshGenerator
    kind: str  # "normal" or "uniform"
    shape: tuple[str, ...]  # each size as a Python expression over the parameters
    param: str = ""

    def value(self, arguments: dict[str, Any], made: dict[Any, Any] | None) -> np.ndarray:
        """This call's numbers; ``made``: the generators made so far in this call (None: an
        array of the shape the numbers will have, drawing none)."""
        shape = tuple(int(eval(size, {}, arguments)) for size in self.shape)
        if made is None:
            return np.broadcast_to(np.float64(0.0), shape)
        source = self.source
        if isinstance(source, FreshGenerator):
            if source not in made:
                made[source] = source.make(*source.args)
            source = made[source]
        if self.kind == "normal":
            return np.asarray(source.standard_normal(shape), dtype=np.float64)
        draw = source.random if isinstance(source, np.random.Generator) else \
            source.random_sample
        return np.asarray(draw(shape), dtype=np.float64)


def reachable_generators(fun: Any) -> list[Any]:
    """The random generators a function can draw from without making one: NumPy's global one
    (``np.random.randn``) and those in its globals and closure."""
    found = [np.random.mtrand._rand]
    code = getattr(fun, "__code__", None)
    cells = [c.cell_contents for c in getattr(fun, "__closure__", None) or ()
             if c.cell_contents is not None] if code is not None else []
    names = [fun.__globals__.get(n) for n in code.co_names] if code is not None else []
    for value in (*cells, *names):
        if isinstance(value, (np.random.Generator, np.random.RandomState)) and \
                all(value is not f for f in found):
            found.append(value)
    return found


def generator_states(generators: Sequence[Any]) -> list[Any]:
    return [g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()
            for g in generators]


def set_generator_states(generators: Sequence[Any], states: Sequence[Any]) -> None:
    for g, state in zip(generators, states, strict=True):
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = state
        else:
            g.set_state(state)


def outer_values(outer: Sequence[Any], arguments: dict[str, Any], draw: bool = True
                 ) -> list[Any]:
    """The values of the arrays a call passes besides its arguments, in order: arrays read
    from outside the function, and the numbers it draws (``draw=False``: arrays of their
    shape, for generating the code without using up numbers)."""
    made: dict[Any, Any] | None = {} if draw else None
    return [o.value(arguments, made) if isinstance(o, RandomDraw) else o.value()
            for o in outer]


def scope_value(fun: Any, name: str) -> Any:
    """The value ``name`` has now in ``fun``'s closure or globals (KeyError if none); for a
    parameter of ``fun``, its default (``def predict(x, params=params)``)."""
    code = fun.__code__
    if name in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]:
        return default_value(fun, name)
    if name in code.co_freevars:
        return fun.__closure__[code.co_freevars.index(name)].cell_contents
    return fun.__globals__[name]


def default_value(fun: Any, name: str) -> Any:
    """The default value of the parameter ``name`` of ``fun`` now (KeyError if it has none)."""
    keywords = fun.__kwdefaults__ or {}
    if name in keywords:
        return keywords[name]
    code, defaults = fun.__code__, fun.__defaults__ or ()
    positional = code.co_varnames[:code.co_argcount]
    at = positional.index(name) - (len(positional) - len(defaults)) if name in positional else -1
    if at < 0:
        raise KeyError(name)
    return defaults[at]


def frozen(value: Any, depth: int = 0) -> Any:
    """``value`` as code is generated with it, for ``WatchedNames`` to compare with later:
    dicts, lists and tuples are copied (their items too), so that a change to what they hold
    is seen; anything else is the object itself."""
    if depth > 16:
        return value
    if type(value) is dict:
        return {k: frozen(v, depth + 1) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(frozen(v, depth + 1) for v in value)
    return value


def read_again(owner: Any, name: str) -> Any:
    """What was read as ``name`` from ``owner`` while generating, read now: a global or
    closure variable (or a default) of a function, or an attribute of an object."""
    if inspect.isfunction(owner):
        return scope_value(owner, name)
    try:
        return getattr(owner, name)
    except AttributeError:
        raise KeyError(name) from None


class WatchedNames:
    """The helper functions, numbers and containers code was generated with, from global or
    closure variables or attributes of objects, each once: checked on every call, so that
    code is generated again when one has been rebound or changed (it would be stale). Each
    one's reader is resolved when it is added, to keep the check cheap."""

    def __init__(self) -> None:
        self.entries: list[tuple[Any, str, Any]] = []
        self._checks: list[tuple[Callable[[], Any], Any]] = []
        self._seen: set[tuple[int, str]] = set()

    def add(self, names_read: Sequence[tuple[Any, str, Any]]) -> None:
        for owner, name, value in names_read:
            if (id(owner), name) not in self._seen:
                self._seen.add((id(owner), name))
                self.entries.append((owner, name, value))
                self._checks.append((_reader(owner, name), value))

    def changed(self) -> bool:
        try:
            for read, value in self._checks:
                if read() is not value and not _same(read(), value):
                    return True
        except (KeyError, ValueError):  # deleted, or an empty cell
            return True
        return False

    def clear(self) -> None:
        self.entries, self._checks, self._seen = [], [], set()


def _reader(owner: Any, name: str) -> Callable[[], Any]:
    """``read_again(owner, name)`` as a function of no arguments, with the scope it reads
    (a function's globals dict or closure cell, which never change) found once."""
    if inspect.isfunction(owner):
        code = owner.__code__
        if name in code.co_freevars:
            cell = owner.__closure__[code.co_freevars.index(name)]
            return lambda: cell.cell_contents
        if name not in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]:
            scope = owner.__globals__
            return lambda: scope[name]
    return lambda: read_again(owner, name)


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether ``a`` is what ``b`` was frozen from (see ``frozen``): containers item by item,
    arrays by identity (their values are read on each call, or refused), the rest by ``==``."""
    if a is b:
        return True
    if type(a) is not type(b) or isinstance(a, np.ndarray) or depth > 16:
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - values without a plain equality are simply different
        return False


def numbers_for(module: Any) -> set[tuple[str, int]]:
    """The ``(argument, axis)`` sizes ``module`` was generated for as numbers."""
    return {(s.name, axis) for s in passed(module.signature)
            for axis, size in enumerate(s.sizes) if size is not None}


def call_compiled(compiled: Callable, values: Sequence[Any]) -> Any:
    """``compiled(*values)``; if Numba's cache files for it are damaged, they are removed and
    the code compiled again."""
    try:
        return compiled(*values)
    except Exception as exc:
        if not hasattr(compiled, "py_func"):
            raise
        if not cache.numba_cache_damaged(exc):
            raise
        cache.drop_numba_cache(compiled)
        return compiled(*values)


def owned_gradients(grads: tuple, differentiated: list[tuple[str, Any]]) -> tuple:
    """Each gradient as a new array the caller owns, of its argument's type, dtype and shape
    (a float's gradient is a float): generated code may return a broadcast view (the gradient
    of a sum), an argument itself, one array for two gradients, an integer or a scalar for a
    0-d array. ``grads`` itself when every gradient is already so (checked cheaply: this runs
    on every call)."""
    out = None
    for k, (g, (name, value)) in enumerate(zip(grads, differentiated, strict=True)):
        # an argument or another output is never returned as it is (the code copies it);
        # an array Numba returns holds its data through Numba's own base: copied, so that the
        # caller gets an array that owns its data (``flags.owndata``), as NumPy's results do
        same_kind = type(g) is np.ndarray and type(value) is np.ndarray and \
            g.shape == value.shape and g.dtype == value.dtype
        if same_kind and g.base is None or type(value) is float and type(g) is float:
            continue
        if type(g) is type(value) and type(g) is not np.ndarray and \
                shape_of(g) == shape_of(value) and g.dtype == value.dtype:
            continue  # an array of another library (backend="array_api"), new and owned
        if out is None:
            out = list(grads)
        if same_kind:  # the common case, cheaply
            out[k] = g.copy()
        elif type(value) is float:
            out[k] = float(g)
        elif shape_of(g) != shape_of(value):
            raise SymdiffError(f"the gradient for {name!r} came out with shape {shape_of(g)} "
                               f"instead of {shape_of(value)}")
        elif is_array_api_array(value):  # in its library, dtype and device
            xp = namespace_of(value)
            out[k] = xp.asarray(g, dtype=value.dtype, device=value.device, copy=True)
        else:
            out[k] = np.array(g, dtype=getattr(value, "dtype", np.float64))
    return grads if out is None else tuple(out)


def pin_sizes(specs: tuple, values: dict[str, Any], pinned: frozenset) -> tuple:
    """``specs`` with the ``pinned`` (argument, axis) sizes written in."""
    if not pinned:
        return specs
    out = []
    for spec in specs:
        axes = {axis for name, axis in pinned if name == spec.name}
        if axes and spec.kind == "array":
            shape = shape_of(values[spec.name])
            spec = replace(spec, sizes=tuple(shape[i] if i in axes else None
                                             for i in range(len(shape))))
        out.append(spec)
    return tuple(out)


def fast_key(args: tuple) -> tuple | None:
    """A cheap key of the arguments' types and sizes, or None where only the slow path can
    tell: the code for a call, and whether its sizes pass the code's size checks, depend on
    nothing else."""
    key = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            key.append((a.dtype, a.shape))
        elif kind is float:
            key.append(float)
        elif kind in (int, str, bool, type(None)):
            key.append((kind, a))
        elif is_array_api_array(a):  # another library's (backend="array_api")
            key.append((kind, a.dtype, tuple(a.shape)))
        else:
            return None
    return tuple(key)


def disk_cached(fun: Any, specs: tuple, options: Options) -> bool:
    """Compiled Numba modules of plain functions are indexed on disk for plain signatures; a
    structured one may hold a model object, which no later process can be known to share."""
    return options.backend == "numba" and options.output == "scalar" and \
        hasattr(fun, "__code__") and all(s.kind != "tree" for s in specs) and \
        not any(s.kind == "static" and callable(s.value) for s in specs)  # known by identity


def as_array(value: Any) -> Any:
    """A list of numbers as the array NumPy makes of it; a ragged one stays a list (a
    structure of numbers); a NumPy scalar (but ``np.float64``, a Python float) as a 0-d
    array, which compiled code takes."""
    if isinstance(value, list) and not is_structured(value):
        try:
            return np.asarray(value, dtype=float)
        except ValueError:
            return value
    if isinstance(value, np.generic) and not isinstance(value, (float, bool)):
        return np.asarray(value)  # np.float32(1.0), np.int64(2): a 0-d array, as compiled
    return value


def load(module: Any, with_value: bool, backend: str) -> tuple[Any, Callable]:
    name = module.value_and_grad_name if with_value else module.grad_name
    if backend == "numba":  # a real file, so that Numba can cache the compiled code
        compiled = getattr(import_file(module_file(module.source, module.grad_name)), name)
    else:
        filename = f"<symdiff-generated {module.grad_name} {abs(hash(module.source)):x}>"
        linecache.cache[filename] = (len(module.source), None, module.source.splitlines(True),
                                     filename)
        namespace: dict[str, Any] = {}
        exec(compile(module.source, filename, "exec"), namespace)
        compiled = namespace[name]
    return module, compiled


def checked_cotangent(cotangent: Any, module: Any, scope: dict[str, Any]) -> Any:
    """The cotangent as an array of the output's shape (the generated code would broadcast a
    wrong one silently) and dtype (compiled code is typed for it); ``scope``: the generated
    code's arguments by name."""
    ct = np.asarray(cotangent, dtype=module.cotangent_dtype)
    expected = tuple(d if isinstance(d, int) else d.evaluate(lambda n, a: scope[n].shape[a])
                     for d in module.cotangent_shape)
    if ct.shape != expected:
        raise ArgumentError(f"the cotangent (sensitivity) has shape {ct.shape}, but the "
                            f"function's output has shape {expected}")
    return ct[()] if ct.ndim == 0 else ct  # a number, as the code takes a scalar output's
