"""A gradient function: code generated per argument signature, then called.

A gradient function generates code the first time it sees an argument signature (ranks,
dtypes, which dimensions are 1, static values), then reuses it: later calls with the same
signature do no generation work. A call whose sizes fail a check of the code gets code
generated for its sizes as numbers (``symdiff.size_checks``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from symdiff import cache, distributed
from symdiff.arrays import is_dask_array
from symdiff.decisions import Decided, deciding, load
from symdiff.errors import ArgumentError, SymdiffError, UnsupportedError, shown_frames
from symdiff.log import note, shown_in_notebook
from symdiff.markers import has_source, trace_hook
from symdiff.runtime import (
    CachedModule,
    FreshGenerator,
    OuterArray,
    RandomDraw,
    WatchedNames,
    arg_spec,
    as_array,
    call_compiled,
    checked_cotangent,
    disk_cached,
    fast_key,
    for_the_code,
    numbers_for,
    outer_values,
    owned_gradients,
    pin_sizes,
    shape_of,
    signature_of,
    specs_for,
)
from symdiff.signature import (
    Options,
    check_backend,
    check_parallel,
    outer_key,
    passed,
    shared_outer_key,
)
from symdiff.size_checks import specialised_entry
from symdiff.structured import flatten, rebuild
from symdiff.trees import holds_floats, is_structured

_FAST_ENTRIES = 256  # argument sizes remembered by the fast path


class GradFunction:
    """A gradient function, specialised and cached per argument signature."""

    def __init__(self, fun: Callable, argnums: tuple[int, ...], single: bool, has_aux: bool,
                 backend: str, with_value: bool, *, request: Any = None,
                 frozen: tuple[str, ...] = (), output: str = "scalar", model: Any = None,
                 custom_rules: bool = True, parallel: bool = False):
        """``request``, ``frozen``, ``output`` and ``model``: see symdiff.structured; a
        ``model``'s method ``fun`` is called with the model as its first argument."""
        check_backend(backend)
        check_parallel(backend, parallel)
        self.fun = fun
        self.options = Options(argnums, single, has_aux, backend, output, custom_rules, parallel)
        self.with_value = with_value
        self._array_api = backend == "array_api"  # arrays of any Array API library
        # Dask arguments (symdiff.distributed): how the loss splits over their rows, by
        # signature; the array_api code for those that do not split
        self._splits: dict[tuple, str | None] = {}
        self._lazy: GradFunction | None = None
        self._on_dask = True  # whether Dask arguments go to symdiff.distributed
        self.model = model
        self.frozen = tuple(frozen)
        self.request = request if request is not None else (
            (argnums[0], None) if single else [(a, None) for a in argnums])
        # the plain path: one spec per argument, the code returns what the user gets
        self.plain = request is None and model is None and not frozen and output == "scalar"
        self._signature = signature_of(fun)
        self.parameter_names = list(self._signature.parameters)
        self._position = {n: i for i, n in enumerate(self.parameter_names)}
        self._cache: dict[tuple, tuple[Any, Callable]] = {}
        # the types and sizes of a call's arguments (``fast_key``) -> the compiled function,
        # for calls whose sizes passed its size checks before
        self._fast: dict[tuple, tuple] = {}
        # code generated on the values of earlier calls (decisions.Decided), by cache key
        self._variants: dict[tuple, list[tuple[Any, Callable]]] = {}
        self._lock = threading.Lock()
        self._last: Any = None  # the GeneratedModule of the latest call
        # (argument, axis) sizes the code needs as numbers, such as a loop's length: the code
        # is specialised on them, found the first time generation asks
        self._pinned: set[tuple[str, int]] = set()
        # arrays read from globals and closures, found the first time generation asks
        self._outer: tuple[OuterArray | RandomDraw, ...] = ()
        self._draws = False  # whether the function draws random numbers (on each call)
        # helper functions and numbers the code was generated with from globals and closures:
        # if one is rebound, the code is stale and is generated again
        self._names_read = WatchedNames()
        functools.update_wrapper(self, fun, updated=())  # not a transform's own state

    @property
    def transform_name(self) -> str:
        """What generated functions call this one: ``grad_f``, and ``grad_grad_f`` for its
        own gradient."""
        inner = getattr(self.fun, "transform_name", None) or self.fun.__name__
        return ("value_and_grad_" if self.with_value else "grad_") + inner

    @property
    def configuration(self) -> tuple | None:
        """What makes two gradient functions of the same function the same (for reusing code
        generated for one with another); None where that is not known."""
        if not self.plain:
            return None
        inner = getattr(self.fun, "configuration", ())
        return None if inner is None else \
            ((self.options, self.with_value), *inner)

    def __symdiff_trace__(self, graph: Any, args: list[Any], kwargs: dict[str, Any],
                          top_level: bool = False) -> Any:
        """Called inside differentiated code: the gradient is built on the caller's graph,
        where the outer derivative differentiates it in turn (see symdiff.ad.nested)."""
        # traced only while generating: the compiler
        from symdiff.frontend.transforms import trace_grad

        return trace_grad(graph, self, args, kwargs, top_level)

    def bind(self, args: tuple, kwargs: dict) -> list[Any]:
        """The arguments by parameter, defaults applied (a model first, if any)."""
        if self.model is not None:
            args = (self.model, *args)
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ArgumentError(f"{self.fun.__qualname__}: {exc}") from None
        bound.apply_defaults()
        return [bound.arguments[n] for n in self.parameter_names]

    def specialise(self, *args: Any, **kwargs: Any) -> Any:
        """Generate (or fetch) the code for the signature of these arguments."""
        return self._compiled(self.bind(args, kwargs))[0]

    def _compiled(self, values: list[Any]) -> tuple[Any, Callable, list[Any]]:
        """The module and compiled function for these arguments, and the values to call it
        with: the arguments, then the arrays the function reads from outside itself."""
        specs = specs_for(self.parameter_names, values, self.options.argnums, self._array_api)
        module, compiled, every = self._with_outer(specs, values, self.options)
        return module, compiled, list(every.values())

    def _with_outer(self, specs: tuple, values: list[Any], options: Options
                    ) -> tuple[Any, Callable, dict[str, Any]]:
        """``_specialised`` for the arguments' ``specs`` and ``values`` (as the generated code
        takes them), with the arrays from outside the function and the numbers it draws as
        inputs after them: learned here from what generation asks for, read (drawn) for this
        call. Returns the module, the compiled function and every value to call it with, by
        name, in the order it takes them."""
        names = [s.name for s in passed(specs)]
        arguments = dict(zip(names, values, strict=True))
        while True:
            known = self._outer
            # shapes only, while generating: numbers are drawn once the code is there
            extra = [as_array(v) for v in outer_values(known, arguments, False)]
            extra_specs = tuple(replace(arg_spec(o.param, v, False, self._array_api),
                                        outer=o.key)
                                for o, v in zip(known, extra, strict=True))
            try:
                module, compiled = self._specialised(
                    specs + extra_specs, options,
                    {**arguments, **{o.param: v for o, v in zip(known, extra, strict=True)}})
                if any(isinstance(o, RandomDraw) for o in known):
                    extra = [as_array(v) for v in outer_values(known, arguments)]
                arguments = dict(zip(names, for_the_code(passed(specs), values), strict=True))
                arguments.update((o.param, v) for o, v in zip(known, extra, strict=True))
                return module, compiled, arguments
            except UnsupportedError as exc:
                with self._lock:  # another thread may have learned them meanwhile
                    self._learn_outer(exc.outer)
                    if not new_outer(known, exc.outer):
                        raise

    def _learn_outer(self, found: tuple) -> None:
        """Add the arrays from outside the function that generation asked for."""
        self._outer = learned_outer(self._outer, found, self.parameter_names)
        self._draws = any(isinstance(o, RandomDraw) for o in self._outer)

    def _specialised(self, specs: tuple, options: Options, values: dict[str, Any]
                     ) -> tuple[Any, Callable]:
        """``_compiled_for``, with the sizes the code needs as numbers written into the
        specs: those generation asks for (a loop's length), for every call from then on, and
        those of a size check these values fail, for this call."""
        drawn = {o.param for o in self._outer if isinstance(o, RandomDraw)}
        known = {name: v for name, v in values.items() if name not in drawn}
        return specialised_entry(
            lambda pinned: self._compiled_for(pin_sizes(specs, values, pinned), options, known),
            values, self.fun.__qualname__, self._pinned)

    def _compiled_for(self, specs: tuple, options: Options, values: dict[str, Any]
                      ) -> tuple[Any, Callable]:
        """``values``: the call's arguments by name (but for numbers drawn in the function,
        not known while generating), which generation may decide conditions on."""
        entry = self._cache.get((specs, options))
        if entry is None:
            with self._lock:
                entry = self._cache.get((specs, options))
                if entry is None:
                    entry = self._recall(specs, options) or \
                        self._generate(specs, options, values)
                    self._cache[(specs, options)] = entry
        self._last = entry[0]
        return entry

    def _deciding(self, attempt: Callable[[], Any]) -> Any:
        return deciding(attempt, self._cache, self._variants, self._lock,
                        self.fun.__qualname__)

    def _recall(self, specs: tuple, options: Options) -> tuple[Any, Callable] | None:
        """A module compiled by an earlier process: no SymPy, no libcst, no generation."""
        if not disk_cached(self.fun, specs, options):
            return None
        key = cache.index_key(self.fun, _process_free(specs), options)
        found = cache.recall_with_constants(key) if key else None
        if found is None:
            return None
        path, names, constants = found
        self._names_read.add(constants)  # code generated with them goes stale once one is rebound
        start = time.perf_counter()
        module = cache.import_file(path)  # (the first such import loads Numba)
        seconds = time.perf_counter() - start
        note("disk cache hit %s: imported %s in %.3f s", self._what(specs), path, seconds,
             stage="import cached", seconds=seconds)
        loaded = CachedModule(path.read_text(), names["grad"], names["value_and_grad"], specs,
                              tuple(tuple(c) for c in names.get("size_checks", ())))
        return loaded, getattr(module, loaded.value_and_grad_name if self.with_value
                               else loaded.grad_name)

    def _generate(self, specs: tuple, options: Options, values: dict[str, Any]
                  ) -> tuple[Any, Callable]:
        from symdiff.pipeline import generate  # the compiler loads only when needed

        note("generating %s for %s", self.transform_name, self._what(specs))
        with shown_in_notebook(f"generating {self.transform_name} for {self._what(specs)}"):
            module = generate(self.fun, specs, options, arguments=values)
        entry = load(module, self.with_value, options.backend)
        self._names_read.add(module.names_read)
        if disk_cached(self.fun, specs, options) and not module.decisions and \
                not module.assertions:
            key = cache.index_key(self.fun, _process_free(specs), options)
            if key is not None:
                cache.remember(key, cache.module_file(module.source, module.grad_name),
                               {"grad": module.grad_name,
                                "value_and_grad": module.value_and_grad_name,
                                "size_checks": module.size_checks},
                               [getattr(c, "fun", None) for c in module.read],
                               [(fun, name, cache.value_token(value))
                                for fun, name, value in module.names_read])
        return entry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if self._names_read.changed():
                self._forget()
            if not self.plain:
                cotangent = None
                if self.options.output == "cotangent":
                    if not args:
                        raise ArgumentError(f"{self.fun.__qualname__}: the cotangent (sensitivity) "
                                            "is the last positional argument, and none was given")
                    *args, cotangent = args
                values = [as_array(v) for v in self.bind(tuple(args), kwargs)]
                return self._call_structured(values, cotangent)
            if self._draws:  # numbers drawn on each call, at sizes of the bound arguments
                key, outer = None, ()
            else:
                outer = tuple(as_array(o.value()) for o in self._outer) if self._outer else ()
                key = self._fast_key(args, outer) if not kwargs else None
            fast = self._fast.get(key) if key is not None else None
            if fast is not None:  # types and sizes seen before: no binding, specs or size checks
                compiled, defaults, fresh = fast
                values: Any = args + defaults + outer if defaults or outer else args
                if not fresh:
                    return self._checked_run(compiled, values)
                result = call_compiled(compiled, values)
                owned = tuple([g.copy() for g in self._grads_of(result, self.options)])
                return self._with_grads(result, self.options, owned)
            bound = [as_array(v) for v in self.bind(args, kwargs)]
            if self._on_dask and any(is_dask_array(v) for v in bound):
                return distributed.call(self, bound)
            if any(is_structured(v) or i in self.options.argnums and
                   isinstance(v, (list, tuple, dict)) and holds_floats(v)
                   for i, v in enumerate(bound)):
                return self._call_structured(bound, None)
            return self._deciding(lambda: self._call_plain(args, kwargs, bound))
        except SymdiffError as exc:  # (SYMDIFF_TRACEBACK_FILTERING=off shows symdiff's frames)
            raise exc.with_traceback(shown_frames(exc)) from exc.__cause__

    def _call_plain(self, args: tuple, kwargs: dict, bound: list[Any]) -> Any:
        module, compiled, values = self._compiled(bound)
        count = len(self.parameter_names)
        outer = tuple(values[count:])
        # with sizes pinned and arrays from outside found just now
        key = self._fast_key(args, outer) if not kwargs and not self._draws else None
        result = self._run(compiled, values)
        if key is not None and not numbers_for(module) - self._pinned and \
                not isinstance(compiled, Decided):
            # shape-generic code (but for the sizes every call pins): the fast path's;
            # parameters left out take their (fixed) defaults
            if len(self._fast) >= _FAST_ENTRIES:  # sizes that change on every call
                self._fast.clear()
            self._fast[key] = (compiled, tuple(values[len(args):count]),
                               self._fresh_arrays(result, values))
        return self._owned(result, values)

    def _fresh_arrays(self, result: Any, values: list[Any]) -> bool:
        """Whether compiled code returned each gradient as a new array of its argument's
        shape and dtype, held through Numba's base: the code for these argument types does so
        on every call, so the fast path copies each, with no checks, for an array the caller
        owns (see ``owned_gradients``)."""
        if self.options.backend != "numba" or self.options.has_aux or \
                self.with_value and type(result[0]) is not float:
            return False
        grads = self._grads_of(result, self.options)
        return all(type(g) is np.ndarray and g.base is not None and
                   type(values[a]) is np.ndarray and g.shape == values[a].shape and
                   g.dtype == values[a].dtype
                   for g, a in zip(grads, self.options.argnums, strict=True))

    def random_sources(self) -> list[Any]:
        """The generators the code generated so far draws from (not those it makes)."""
        return [o.source for o in self._outer if isinstance(o, RandomDraw)
                and not isinstance(o.source, FreshGenerator)]

    def _forget(self) -> None:
        """Drop the code generated so far: a helper function or number it was generated with
        has been rebound."""
        with self._lock:
            self._cache.clear()
            self._variants.clear()
            self._fast.clear()
            self._outer = ()
            self._draws = False
            self._names_read.clear()

    def _checked_run(self, compiled: Callable, values: Any) -> Any:
        return self._owned(self._run(compiled, values), values)

    def _owned(self, result: Any, values: Any) -> Any:
        """``result`` with gradients the caller owns (``owned_gradients``)."""
        grads = self._grads_of(result, self.options)
        owned = owned_gradients(grads, [(self.parameter_names[a], values[a])
                               for a in self.options.argnums])
        return result if owned is grads else self._with_grads(result, self.options, owned)

    def _fast_key(self, args: tuple, outer: tuple = ()) -> tuple | None:
        key = fast_key(args + outer if outer else args)
        if key is None or not self._pinned:
            return key
        by_name = {o.param: v for o, v in zip(self._outer, outer, strict=True)}
        position = self._position
        for name, _ in self._pinned:
            if name not in by_name and (name not in position or position[name] >= len(args)):
                return None
        return key + tuple(shape_of(by_name[name] if name in by_name else
                                    args[position[name]])[axis]
                           for name, axis in sorted(self._pinned))

    def _call_structured(self, values: list[Any], cotangent: Any) -> Any:
        """Arguments with structure, model parameters, frozen paths or an array output: the
        code takes the arrays one by one and the gradients are rebuilt as requested."""
        model_position = 0 if self.model is not None else None
        layout = flatten(self.parameter_names, values, self.request, self.frozen, self.options,
                         model_position, arg_spec)

        def run() -> Any:
            module, compiled, by_name = self._with_outer(layout.specs, list(layout.values),
                                                         layout.options)
            flat = list(by_name.values())
            if cotangent is not None:
                flat.append(checked_cotangent(cotangent, module, by_name))
            return self._run(compiled, flat), by_name
        result, by_name = self._deciding(run)
        grads = owned_gradients(self._grads_of(result, layout.options),
                       [(layout.specs[a].name, by_name[layout.specs[a].name])
                        for a in layout.options.argnums])
        shaped = rebuild(layout, grads, self.request, model_position)
        if self.with_value:
            return result[0], shaped
        return (shaped, result[1]) if self.options.has_aux else shaped

    def _grads_of(self, result: Any, options: Options) -> tuple:
        """The gradients in what a function generated with ``options`` returned, as a tuple."""
        grads = result[1] if self.with_value else result
        if options.has_aux and not self.with_value:
            grads = grads[0]
        return (grads,) if options.single else grads

    def _run(self, compiled: Callable, values: list[Any]) -> Any:
        compiling = getattr(compiled, "signatures", None) == []  # a Numba function's first call
        try:
            start = time.perf_counter()
            with shown_in_notebook(f"compiling {self._what()} with Numba") if compiling \
                    else contextlib.nullcontext():
                result = call_compiled(compiled, values)
            if compiling:  # Numba compiled the code, or loaded what it compiled before
                stage = "load compiled" if any(compiled.stats.cache_hits.values()) else "compile"
                seconds = time.perf_counter() - start
                note("%s %s: %.3f s", stage, self._what(), seconds, stage=stage, seconds=seconds)
        except Exception as exc:
            if type(exc).__module__.startswith("numba"):  # it failed to compile
                raise SymdiffError(
                    f"Numba could not compile the gradient of {self.fun.__qualname__} "
                    f"({type(exc).__name__}); backend='numpy' runs the same code uncompiled. "
                    f"Numba said: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
            raise
        if self.with_value and self.options.output == "scalar":
            result = _scalar_value(result, self.options.has_aux)
        return result

    def split_over_rows(self, values: list[Any], data: tuple[int, ...]) -> str | None:
        """How the loss splits over the rows of the arguments at ``data`` (Dask arrays):
        ``"sum"``, ``"mean"`` or None (``symdiff.ir.separable``), once per signature."""
        specs = specs_for(self.parameter_names, values, self.options.argnums, array_api=True)
        if (specs, data) not in self._splits:
            from symdiff.pipeline import loss_split  # the compiler loads only when needed

            try:
                kind = loss_split(self.fun, specs, data,
                                  dict(zip(self.parameter_names, values, strict=True)))
            except UnsupportedError:  # the array_api code says what, where
                kind = None
            self._splits[(specs, data)] = kind.value if kind is not None else None
        return self._splits[(specs, data)]

    def lazy(self) -> GradFunction:
        """This gradient function as array_api code, run on Dask arrays as they are (a task
        graph of the whole computation)."""
        if self._lazy is None:
            o = self.options
            self._lazy = GradFunction(self.fun, o.argnums, o.single, o.has_aux, "array_api",
                                      self.with_value,
                                      request=None if self.plain else self.request,
                                      frozen=self.frozen, output=o.output, model=self.model,
                                      custom_rules=o.custom_rules)
            self._lazy._on_dask = False
        return self._lazy

    def _what(self, specs: tuple | None = None) -> str:
        """The function and signature a log record is about."""
        if specs is None:
            specs = self._last.signature if self._last is not None else ()
        described = ", ".join(s.describe() for s in specs if hasattr(s, "describe"))
        return f"{self.fun.__qualname__}({described}) [{self.options.backend}]"

    def _with_grads(self, result: Any, options: Options, grads: tuple) -> Any:
        """``result`` with ``grads`` in the place of its gradients (see ``_grads_of``)."""
        new: Any = grads[0] if options.single else grads
        if options.has_aux and not self.with_value:
            new = (new, result[1])
        return (result[0], new) if self.with_value else new

    @property
    def source(self) -> str:
        """The generated module for the most recent call's signature."""
        if self._last is None:
            raise ArgumentError("no code has been generated yet: call the gradient function "
                                "(or .specialise(*args)) first")
        return self._last.source

    def _described(self) -> tuple[str, list[str]]:
        """What this function is (``value_and_grad of loss, backend 'numba'``), and the
        signatures code has been generated for."""
        kind = "value_and_grad" if self.with_value else "grad"
        options = f"backend {self.options.backend!r}" + \
            (", parallel" if self.options.parallel else "")
        signatures = [", ".join(s.describe() for s in specs if hasattr(s, "describe"))
                      for specs, _ in self._cache]
        return f"{kind} of {self.fun.__qualname__}, {options}", signatures

    def __repr__(self) -> str:
        what, signatures = self._described()
        code = "; ".join(f"({s})" for s in signatures) or "none yet (generated at the first call)"
        return f"<symdiff {what}; code for: {code}>"

    def _repr_markdown_(self) -> str:
        """In a notebook: what it is, the signatures it has code for, and the latest code."""
        what, signatures = self._described()
        if self._last is None:
            return (f"symdiff {what}: no code yet; it is generated for the arguments of the "
                    "first call (or `.specialise(*args)`)")
        listed = "\n".join(f"- `({s})`" for s in signatures)
        return (f"symdiff {what}; code generated for:\n\n{listed}\n\n"
                f"The latest:\n\n```python\n{self._last.source}\n```")


def learned_outer(outer: tuple, found: tuple, parameter_names: list[str]) -> tuple:
    """``outer`` (the arrays from outside a function and the numbers it draws, as its
    generated code takes them) with those generation asked for in ``found`` added, each named
    apart from the parameters and from the others."""
    for draw in (o for o in found if isinstance(o, RandomDraw)):
        # the draws up to this one stay (the function made them before), later ones are
        # learned again: a function draws in one order, but what it draws may depend on
        # static arguments
        kept = [o for o in outer if not isinstance(o, RandomDraw)]
        draws = [o for o in outer if isinstance(o, RandomDraw)][:draw.index]
        outer = (*kept, *draws)
    known = {o.key for o in outer}
    added: list[OuterArray | RandomDraw] = []
    for item in found:
        if _key(item) in known:
            continue
        name = "_noise" if isinstance(item, RandomDraw) else item[1]
        taken = {*parameter_names, *(o.param for o in (*outer, *added))}
        param, k = name, 1
        while param in taken:
            param, k = f"{name}_{k}", k + 1
        added.append(replace(item, param=param) if isinstance(item, RandomDraw) else
                     OuterArray(*item, param))
        known.add(added[-1].key)
    # the arrays from outside first, then the draws in the order the function makes them
    return tuple(sorted((*outer, *added), key=lambda o: isinstance(o, RandomDraw)))


def new_outer(outer: tuple, found: tuple) -> bool:
    """Whether generation asked for an array or draw (``found``) not in ``outer``."""
    return bool({_key(o) for o in found} - {o.key for o in outer})


def differentiable(fun: Any) -> bool:
    """A Python function, or a transform of one such as ``grad(f)``."""
    return has_source(fun) or trace_hook(fun) is not None


def _process_free(specs: tuple) -> tuple:
    """``specs`` as a later process sees them: arrays from outside the function named by
    where they are read, without the identity of this process's function objects."""
    return tuple(replace(s, outer=shared_outer_key(s.outer)) if s.outer else s for s in specs)


def _key(found: Any) -> str:
    """The key of what generation asked for: a draw, or (function, name) of an array."""
    return found.key if isinstance(found, RandomDraw) else outer_key(*found)


def _scalar_value(result: tuple, has_aux: bool) -> tuple:
    """``(value, grads)`` (``((value, aux), grads)``) with a 0-d array value as the NumPy
    scalar NumPy's own arithmetic gives (NumPy code may compute the loss with ``np.where``,
    whose result on numbers is a 0-d array)."""
    value = result[0][0] if has_aux else result[0]
    if type(value) is not np.ndarray or value.ndim:
        return result
    value = value[()]
    return ((value, result[0][1]) if has_aux else value, *result[1:])
