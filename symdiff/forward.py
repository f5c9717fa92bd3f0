"""Forward mode and whole derivatives: ``jvp``, ``jacfwd``, ``jacrev``, ``jacobian``, ``hessian``.

``jvp`` generates one function per argument signature, ``jvp_f(*primals, *tangents)``, whose
tangent code is derived from the IR (symdiff.ad.nested): a Jacobian-vector product costs a
small multiple of one evaluation of ``f`` and no Jacobian is formed, so ``jvp(grad(f), (x,),
(v,))`` is a Hessian-vector product at any size.

Jacobians are assembled from these products, one per basis vector: ``jacfwd`` pushes the input
basis forward (one column per input element, best for few inputs), ``jacrev`` pulls the output
basis back (one row per output element, best for few outputs). The derivative code is
generated once; only the basis vectors change between calls.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from symdiff.api import grad
from symdiff.decisions import deciding, load
from symdiff.errors import ArgumentError, UnsupportedError, user_facing
from symdiff.gradient import GradFunction, differentiable, learned_outer, new_outer
from symdiff.library import library_function
from symdiff.markers import runs_while_tracing
from symdiff.runtime import (
    OuterArray,
    RandomDraw,
    WatchedNames,
    arg_spec,
    as_array,
    call_compiled,
    for_the_code,
    outer_values,
    pin_sizes,
    specs_for,
)
from symdiff.signature import check_backend
from symdiff.size_checks import specialised_entry
from symdiff.trees import flatten, unflatten


class JvpFunction:
    """``fun``'s value and its derivative along tangents for the ``argnums`` arguments (all by
    default), generated and compiled once per argument signature."""

    def __init__(self, fun: Callable, argnums: tuple[int, ...] | None = None,
                 backend: str = "numba"):
        fun = library_function(fun)
        if not differentiable(fun):
            raise ArgumentError(f"{fun!r} is not a Python function: symdiff differentiates "
                                "functions from their source")
        check_backend(backend)
        self.fun, self.argnums, self.backend = fun, argnums, backend
        self.names = list(inspect.signature(fun).parameters)
        self._cache: dict[tuple, tuple[Any, Callable]] = {}
        # sizes generation asks for as numbers (a loop written out over a length)
        self._needed: set[tuple[str, int]] = set()
        # arrays read from globals and closures, and the numbers the function draws, found
        # the first time generation asks (see symdiff.gradient.GradFunction)
        self._outer: tuple[OuterArray | RandomDraw, ...] = ()
        # helper functions and numbers the code was generated with from globals and closures:
        # if one is rebound, the code is generated again
        self._names_read = WatchedNames()
        # code generated on the values of earlier calls (decisions.Decided), by signature
        self._variants: dict[tuple, list[tuple[Any, Callable]]] = {}
        self._lock = threading.Lock()

    def __call__(self, primals: Sequence[Any], tangents: Sequence[Any],
                 drawn: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """``drawn``: random numbers by key, shared by several calls (the columns of one
        Jacobian): each draw of the function is made once, then reused."""
        if self._names_read.changed():
            self._forget()
        if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
            raise ArgumentError("jvp takes the primals and the tangents as tuples: "
                                "jvp(f, (x,), (t,))")
        primals = [as_array(p) for p in primals]
        positions = tuple(range(len(primals))) if self.argnums is None else self.argnums
        if len(primals) != len(self.names):
            raise ArgumentError(f"{self.fun.__qualname__} takes {len(self.names)} arguments, "
                                f"jvp got {len(primals)} primals")
        if len(tangents) != len(positions):
            raise ArgumentError(f"jvp got {len(positions)} primals to differentiate but "
                                f"{len(tangents)} tangents")
        tangents = [np.asarray(t, dtype=np.result_type(primals[p], np.float64))
                    if not isinstance(t, float) or not isinstance(primals[p], float) else t
                    for p, t in zip(positions, tangents, strict=True)]
        for p, t in zip(positions, tangents, strict=True):
            if np.shape(t) != np.shape(primals[p]):
                raise ArgumentError(f"the tangent of {self.names[p]!r} has shape "
                                    f"{np.shape(t)}, but the primal has shape "
                                    f"{np.shape(primals[p])}")
        specs = specs_for(self.names, primals, positions)
        specs += tuple(arg_spec(f"{self.names[p]}_dot", t, True)
                       for p, t in zip(positions, tangents, strict=True))
        values = [*primals, *tangents]
        return deciding(lambda: self._run(specs, values, positions, drawn), self._cache,
                        self._variants, self._lock, self.fun.__qualname__)

    def _run(self, specs: tuple, values: list[Any], positions: tuple[int, ...],
             drawn: dict[str, Any] | None) -> tuple[Any, Any]:
        """The code for these arguments (``specs``, ``values``: primals, then tangents), run."""
        arguments = {s.name: v for s, v in zip(specs, values, strict=True)}
        while True:
            # arrays from outside the function and the numbers it draws, as generation asked
            # for them: inputs after the tangents, read (drawn) on each call
            known = self._outer
            drawn_names = {o.param for o in known if isinstance(o, RandomDraw)}
            extra = [as_array(v) for v in outer_values(known, arguments, False)]
            every = tuple(specs) + tuple(replace(arg_spec(o.param, v, False), outer=o.key)
                                         for o, v in zip(known, extra, strict=True))
            by_name = {**arguments, **{o.param: v for o, v in zip(known, extra, strict=True)}}
            known_values = {n: v for n, v in by_name.items() if n not in drawn_names}
            try:
                _, compiled = specialised_entry(
                    lambda pinned, every=every, by_name=by_name, known=known_values:
                    self._compiled(pin_sizes(every, by_name, pinned), positions, known),
                    by_name, self.fun.__qualname__, self._needed)
            except UnsupportedError as exc:
                self._outer = learned_outer(known, exc.outer, self.names)
                if not new_outer(known, exc.outer):
                    raise
                continue
            if any(isinstance(o, RandomDraw) for o in known):
                extra = self._draw(known, arguments, drawn)
            return call_compiled(compiled, [*for_the_code(specs, values), *extra])

    @staticmethod
    def _draw(known: tuple, arguments: dict[str, Any], drawn: dict[str, Any] | None
              ) -> list[Any]:
        """This call's values of the arrays from outside and of the draws, the draws taken
        from ``drawn`` where it has them (and added to it)."""
        fresh = iter([as_array(v) for v in outer_values(
            [o for o in known if drawn is None or o.key not in drawn], arguments)])
        values = []
        for o in known:
            value = drawn[o.key] if drawn is not None and o.key in drawn else next(fresh)
            if drawn is not None and isinstance(o, RandomDraw):
                drawn[o.key] = value
            values.append(value)
        return values

    def _forget(self) -> None:
        """Drop the code generated so far: a helper function or number it was generated with
        has been rebound."""
        self._cache.clear()
        self._variants.clear()
        self._outer = ()
        self._names_read.clear()

    def _compiled(self, specs: tuple, positions: tuple[int, ...], values: dict[str, Any]
                  ) -> tuple[Any, Callable]:
        """``values``: the call's arguments by name (but for numbers drawn in the function),
        which generation may decide conditions on."""
        entry = self._cache.get(specs)
        if entry is None:
            # the compiler (SymPy, libcst) loads only to generate code
            from symdiff.pipeline import generate_jvp

            module = generate_jvp(self.fun, specs, positions, self.backend, values)
            entry = self._cache[specs] = load(module, False, self.backend)
            self._names_read.add(module.names_read)
        self.last = entry[0]
        return entry

    @property
    def source(self) -> str:
        """The generated module of the most recent call."""
        return self.last.source


_JVPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _jvp_function(fun: Callable, argnums: tuple[int, ...] | None, backend: str) -> JvpFunction:
    """One JvpFunction per function and configuration, so that repeated jvp calls reuse code,
    also for ``jvp(grad(f), ...)`` written in a loop (a new ``grad(f)`` object each time)."""
    # the compiler (SymPy, libcst) loads only to generate code
    from symdiff.frontend.callee import innermost

    fun = library_function(fun)
    configuration = getattr(fun, "configuration", ())
    base = innermost(fun) if configuration is not None else fun
    try:
        per_fun = _JVPS.setdefault(base, {})
    except TypeError:  # not weakly referable: no reuse
        return JvpFunction(fun, argnums, backend)
    key = (configuration if configuration is not None else id(fun), argnums, backend)
    if key not in per_fun:
        per_fun[key] = JvpFunction(fun, argnums, backend)
    return per_fun[key]


def _trace_jvp(graph: Any, args: list[Any], kwargs: dict[str, Any],
               top_level: bool = False) -> Any:
    """``jvp`` called inside differentiated code."""
    # the compiler (SymPy, libcst) loads only to generate code
    from symdiff.frontend.transforms import trace_jvp
    from symdiff.frontend.values import StaticError

    bound = inspect.signature(jvp).bind(*args, **kwargs)
    fun, primals, tangents = (bound.arguments.get(k) for k in ("fun", "primals", "tangents"))
    fun = library_function(fun)
    if not differentiable(fun):
        raise StaticError(f"jvp needs a Python function, got {fun!r}")
    return trace_jvp(graph, fun, primals, tangents, top_level=top_level)


@user_facing
def jvp(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], *,
        backend: str = "numba") -> tuple[Any, Any]:
    """JAX's ``jvp``: ``out, tangent_out = jvp(fun, primals, tangents)``, the value of
    ``fun(*primals)`` and its derivative along ``tangents`` (forward mode; one tangent per
    primal, shaped like it). Works inside differentiated code too."""
    return _jvp_function(fun, None, backend)(primals, tangents)


jvp.__symdiff_trace__ = _trace_jvp  # type: ignore[attr-defined]


def _positions(fun: Callable, argnums: int | Sequence[int]) -> tuple[tuple[int, ...], bool]:
    single = not isinstance(argnums, (tuple, list))
    positions = (argnums,) if single else tuple(argnums)
    count = len(inspect.signature(fun).parameters)
    for a in positions:
        if not isinstance(a, int) or isinstance(a, bool) or not -count <= a < count:
            raise ArgumentError(f"argnums={a!r} is out of range: the function takes {count} "
                                "arguments")
    return tuple(a % count for a in positions), single


def _basis(value: Any) -> Any:
    """The unit vectors of ``value``'s shape, one per element, in C order."""
    shape = np.shape(value)
    dtype = np.result_type(value, np.float64)
    for k in range(int(np.prod(shape, dtype=int))):
        e = np.zeros(shape, dtype=dtype)
        e.reshape(-1)[k] = 1
        yield e if shape else float(e)


def _every_value(value: Any) -> bool:
    return True


def _leaves(tree: Any) -> list[Any]:
    """The values in ``tree``'s tuples and lists, in order."""
    leaves: list[Any] = []
    flatten(tree, leaves, _every_value)
    return leaves


def _jacobian_of(columns: list[Any], out: Any, x: Any) -> Any:
    """Stack per-element derivatives (each shaped like ``out``) into out.shape + x.shape."""
    stacked = np.stack([np.asarray(c) for c in columns], axis=-1)
    return stacked.reshape(np.shape(out) + np.shape(x))


@runs_while_tracing
@user_facing
def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, *,
           backend: str = "numba") -> Callable:
    """The Jacobian of ``fun`` by forward mode, shaped output shape then input shape. ``fun``
    may return an array or a tuple of arrays (the Jacobian then has that structure); a tuple
    ``argnums`` gives a tuple of Jacobians per output."""
    fun = library_function(fun)
    positions, single = _positions(fun, argnums)
    pushes = {p: JvpFunction(fun, (p,), backend) for p in positions}

    @user_facing
    def jacobian_function(*args: Any) -> Any:
        args = tuple(as_array(a) for a in args)
        per_position = []
        out: Any = None
        drawn: dict[str, Any] = {}  # numbers the function draws: the same for every column
        for p in positions:
            columns: list[list[Any]] = []
            for e in _basis(args[p]):
                out, tangent = pushes[p](args, (e,), drawn)
                columns.append(_leaves(tangent))
            outs = _leaves(out)
            per_position.append([_jacobian_of([c[k] for c in columns], o, args[p])
                                 for k, o in enumerate(outs)])
        by_output = [per_position[0][k] if single else tuple(j[k] for j in per_position)
                     for k in range(len(per_position[0]))]
        return unflatten(flatten(out, [], _every_value), by_output)

    return jacobian_function


@runs_while_tracing
@user_facing
def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, *,
           backend: str = "numba") -> Callable:
    """The Jacobian of an array-valued ``fun`` by reverse mode, shaped output shape then input
    shape; one vector-Jacobian product per output element."""
    fun = library_function(fun)
    positions, single = _positions(fun, argnums)
    pulls = GradFunction(fun, (positions[0],), False, False, backend, False,
                         request=[(p, None) for p in positions], output="cotangent")

    @user_facing
    def jacobian_function(*args: Any) -> Any:
        args = tuple(as_array(a) for a in args)
        out = fun(*args)
        if isinstance(out, (tuple, list)):
            raise ArgumentError("jacrev needs a function returning one array; jacfwd also "
                                "takes tuples of outputs")
        rows = []
        for e in _basis(out):
            rows.append(pulls(*args, e))
            if pulls._draws:  # each row would draw numbers of its own: not one Jacobian
                raise ArgumentError(f"{fun.__qualname__} draws random numbers, and jacrev "
                                    "would draw them again for each row of the Jacobian; "
                                    "jacfwd draws them once for all its columns")
        jacobians = tuple(np.stack([np.asarray(r[k]) for r in rows]).reshape(
            np.shape(out) + np.shape(args[p])) for k, p in enumerate(positions))
        return jacobians[0] if single else jacobians

    return jacobian_function


jacobian = jacrev


@runs_while_tracing
@user_facing
def hessian(fun: Callable, argnums: int | Sequence[int] = 0, *,
            backend: str = "numba") -> Callable:
    """The Hessian of a scalar ``fun``: the forward-mode Jacobian of its gradient, shaped input
    shape then input shape. In general that takes one Hessian-vector product per input
    element; for a vector whose gradient depends on it through elementwise operations and
    slices alone (a sum of elementwise terms, of products of neighbours), the Hessian is
    banded, and one product per diagonal of the band gives it all (one for a sum of
    elementwise terms, three for a tridiagonal Hessian): see ``BandedHessian``."""
    gradient = grad(fun, argnums, backend=backend)
    dense = jacfwd(gradient, argnums, backend=backend)
    if not isinstance(argnums, int) or isinstance(argnums, bool):
        return dense
    return BandedHessian(fun, gradient, argnums, backend, dense)


class BandedHessian:
    """The Hessian of ``fun`` in one 1-D argument, from as few Hessian-vector products as its
    band allows. The band is read off the gradient's graph (``symdiff.ir.bands``) once per
    argument signature; where there is none (the Hessian may be dense), or it is as wide as
    the vector, the Hessian is ``dense``'s, one product per element. ``products`` is the
    number of Hessian-vector products the last call made."""

    def __init__(self, fun: Callable, gradient: Callable, argnum: int, backend: str,
                 dense: Callable):
        self.fun = library_function(fun)
        (self.argnum,), _ = _positions(self.fun, argnum)
        self.dense = dense
        self.products = 0
        self._push = JvpFunction(gradient, (self.argnum,), backend)
        self._bands: dict[tuple, frozenset[int] | None] = {}
        self._names = list(inspect.signature(self.fun).parameters)

    @user_facing
    def __call__(self, *args: Any) -> Any:
        args = tuple(as_array(a) for a in args)
        x = args[self.argnum] if self.argnum < len(args) else None
        band = self._band(args) if type(x) is np.ndarray and x.ndim == 1 and \
            x.dtype.kind == "f" else None
        if band is None or band and max(band) - min(band) + 1 >= len(x):
            self.products = np.size(x)
            return self.dense(*args)
        return self._assembled(args, x, band)

    def _band(self, args: tuple) -> frozenset[int] | None:
        try:
            specs = tuple(arg_spec(name, value, k == self.argnum)
                          for k, (name, value) in enumerate(zip(self._names, args, strict=True)))
        except (ArgumentError, ValueError, TypeError):
            return None  # the general path says what is wrong
        if specs not in self._bands:
            from symdiff.pipeline import gradient_band  # the compiler loads only when needed

            try:
                self._bands[specs] = gradient_band(self.fun, specs, self.argnum,
                                                   dict(zip(self._names, args, strict=True)))
            except Exception:  # noqa: BLE001 - what generation refuses, the general path says
                self._bands[specs] = None
        return self._bands[specs]

    def _assembled(self, args: tuple, x: np.ndarray, band: frozenset[int]) -> np.ndarray:
        """Column ``i`` of the Hessian holds ``H[i - k, i]`` for ``k`` in the band; columns
        whose indices are equal modulo the band's width share no row, so one product along
        the indicator of each residue class gives all of them."""
        n = len(x)
        width = max(band) - min(band) + 1 if band else 0
        columns = np.arange(n)
        drawn: dict[str, Any] = {}
        products = np.zeros((width, n), dtype=np.result_type(x.dtype, np.float32))
        for residue in range(width):
            along = (columns % width == residue).astype(x.dtype)
            products[residue] = self._push(args, (along,), drawn)[1]
        hessian = np.zeros((n, n), dtype=products.dtype)
        for k in band:  # the diagonal H[j, j + k], from the product of column j + k's class
            rows = columns[max(0, -k):min(n, n - k)]
            hessian.flat[rows * (n + 1) + k] = products[(rows + k) % width, rows]
        self.products = width
        return hessian
