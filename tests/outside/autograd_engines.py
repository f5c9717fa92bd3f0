"""The engines the harness measures, and the derivative check it applies to each.

A check is autograd's: for ``f`` and argument(s) ``argnum``, draw a cotangent ``v`` of the
output's shape and a direction ``u`` in the arguments' space, and compare ``<v, J u>`` from
central differences in float64 (step ``EPS``, as autograd's test_util) with ``<vjp(v), u>``
from the engine; they agree when ``|a - b| < TOL`` or ``|a - b| / |a + b| < RTOL`` (autograd's
own test). A disagreement is checked again with a fourth-order difference at three larger
steps before it is called wrong, so that round-off in the differences is not reported.

Engines:

- ``SymdiffEngine``: the test's own function (autograd's test file source) goes to
  ``symdiff.vjp`` when it returns one array; a NumPy/SciPy function object, a call with
  keyword arguments, or a function returning a tuple, list or dict goes through a small module
  the harness writes (``def f(a0): return np.sum(a0, axis=0)``), with ``symdiff.vjp`` for one
  output and ``symdiff.grad`` of ``sum(out[i] * v[i])`` for several.
- ``JaxEngine``: ``jax.vjp`` of the same call, with ``jax_enable_x64``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import operator
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from tests.outside import autograd_shim as shim

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6
RECHECK_STEPS = (1e-3, 1e-4, 1e-5)
# functions whose value JAX need not match NumPy's element for element
VALUE_CHECK_EXEMPT = {"numpy.partition", "numpy.argpartition"}
# JAX's own words for what it does not support
JAX_REFUSALS = ("not implemented", "not allowed", "requires ndarray or scalar arguments",
                "unexpected keyword argument", "are immutable", "not supported",
                "only defined for scalar-output")


# ----------------------------------------------------------------------------- trees


def flatten(tree: Any) -> tuple[list[Any], Any]:
    """The leaves of nested tuples, lists and dicts (dict keys sorted, as JAX has them) and
    the structure to rebuild them with."""
    if isinstance(tree, (tuple, list)):
        leaves: list[Any] = []
        defs = []
        for item in tree:
            sub, d = flatten(item)
            leaves += sub
            defs.append((len(sub), d))
        return leaves, (type(tree), defs)
    if isinstance(tree, dict):
        leaves, defs = [], []
        for key in sorted(tree):
            sub, d = flatten(tree[key])
            leaves += sub
            defs.append((key, len(sub), d))
        return leaves, (dict, defs)
    return [tree], None


def unflatten(treedef: Any, leaves: list[Any]) -> Any:
    if treedef is None:
        return leaves[0]
    kind, defs = treedef
    if kind is dict:
        out, at = {}, 0
        for key, n, d in defs:
            out[key] = unflatten(d, leaves[at:at + n])
            at += n
        return out
    items, at = [], 0
    for n, d in defs:
        items.append(unflatten(d, leaves[at:at + n]))
        at += n
    if kind in (tuple, list):
        return kind(items)
    try:  # a named tuple
        return kind(*items)
    except TypeError:
        return tuple(items)


def leaf_paths(tree: Any, prefix: str = "") -> list[str]:
    """Python index expressions (``[0]['a']``) of the leaves, in ``flatten``'s order."""
    if isinstance(tree, (tuple, list)):
        return [p for i, item in enumerate(tree) for p in leaf_paths(item, f"{prefix}[{i}]")]
    if isinstance(tree, dict):
        return [p for key in sorted(tree) for p in leaf_paths(tree[key], f"{prefix}[{key!r}]")]
    return [prefix]


def _of_kind(x: Any, python: type, kind: Any) -> bool:
    """Whether ``x`` is a Python ``python`` number or has a dtype of ``kind``."""
    if isinstance(x, bool):
        return False
    if isinstance(x, python):
        return True
    dtype = getattr(x, "dtype", None)
    try:
        return dtype is not None and np.issubdtype(dtype, kind)
    except TypeError:
        return False


def is_float(x: Any) -> bool:
    return _of_kind(x, float, np.floating)


def is_complex(x: Any) -> bool:
    return _of_kind(x, complex, np.complexfloating)


def as64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def close(a: float, b: float) -> bool:
    """autograd's scalar_close."""
    return bool(abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL)


# ----------------------------------------------------------------------------- the check


class Outcome:
    """What one check gave: ``status`` is pass, refused, wrong, crash, skipped or na."""

    def __init__(self, status: str, message: str = "", **detail: Any):
        self.status, self.message, self.detail = status, message, detail

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, **self.detail}


def _substitute(args: tuple, argnums: tuple[int, ...], values: list[Any]) -> list[Any]:
    full = list(args)
    for i, value in zip(argnums, values, strict=True):
        full[i] = value
    return full


def _shape_text(x: Any) -> str:
    leaves, _ = flatten(x)
    parts = []
    for leaf in leaves:
        if isinstance(leaf, (float, int, str)) or leaf is None:
            parts.append(repr(leaf) if not isinstance(leaf, float) else "float")
        elif hasattr(leaf, "shape"):
            parts.append(f"{getattr(leaf, 'dtype', '')}{tuple(leaf.shape)}")
        else:
            parts.append(type(leaf).__name__)
    text = ", ".join(parts)
    return text if len(text) < 200 else text[:197] + "..."


def check(engine: Any, fun: Callable, argnum: Any, args: tuple, kwargs: dict, seed: int
          ) -> Outcome:
    """One derivative check of ``fun(*args, **kwargs)`` with respect to ``argnum``."""
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    described = {"args": _shape_text(list(args)),
                 "kwargs": {k: _shape_text(v) for k, v in kwargs.items()}}
    if any(is_complex(leaf) for leaf in flatten([list(args), kwargs])[0]):
        return Outcome("skipped", "complex input", **described)
    try:
        out = engine.evaluate(fun, args, kwargs)
    except Exception as exc:  # noqa: BLE001 - the function itself rejects these arguments
        if engine.numpy_rejects(fun, args, kwargs, exc):
            return Outcome("na", f"NumPy/SciPy itself rejects the call: "
                           f"{type(exc).__name__}: {_first_line(exc)}", **described)
        return engine.failure(exc, "evaluating the function", described)
    value_problem = engine.value_check(fun, args, kwargs, out)
    if value_problem:
        return Outcome("wrong", value_problem, kind="value", **described)

    rng = np.random.RandomState(seed)
    out_leaves, out_def = flatten(out)
    v_leaves = [(float(rng.randn()) if np.ndim(leaf) == 0 and not hasattr(leaf, "shape")
                 else rng.randn(*np.shape(leaf))) if is_float(leaf) else None
                for leaf in out_leaves]
    x = [args[i] for i in argnums]
    x_leaves, x_def = flatten(x)
    u_leaves = [(float(rng.randn()) if not hasattr(leaf, "shape") else rng.randn(*leaf.shape))
                if is_float(leaf) else None for leaf in x_leaves]
    if not any(u is not None for u in u_leaves):
        return Outcome("na", "no float argument to differentiate", **described)

    def evaluate(step: float) -> list[np.ndarray]:
        moved = [leaf if u is None else leaf + step * u for leaf, u in zip(x_leaves, u_leaves,
                                                                          strict=True)]
        values = _substitute(args, argnums, unflatten(x_def, moved))
        result = flatten(engine.evaluate(fun, tuple(values), kwargs))[0]
        if len(result) != len(out_leaves):
            raise ValueError("the output's structure changes with the input")
        return [as64(r) if v is not None else None for r, v in zip(result, v_leaves,
                                                                    strict=True)]

    def vdot(ys: list[Any]) -> float:
        return float(sum(np.sum(as64(v) * y) for v, y in zip(v_leaves, ys, strict=True)
                         if v is not None))

    def numeric(h: float, fourth: bool) -> float:
        if not fourth:
            plus, minus = evaluate(h / 2), evaluate(-h / 2)
            return vdot([None if p is None else (p - m) / h
                         for p, m in zip(plus, minus, strict=True)])
        a, b, c, d = evaluate(2 * h), evaluate(h), evaluate(-h), evaluate(-2 * h)
        return vdot([None if p is None else (-p + 8 * q - 8 * r + s) / (12 * h)
                     for p, q, r, s in zip(a, b, c, d, strict=True)])

    try:
        fd = numeric(EPS, False)
    except Exception as exc:  # noqa: BLE001
        return Outcome("na", f"finite differences failed: {type(exc).__name__}: "
                       f"{_first_line(exc)}", **described)

    try:
        grads, method = engine.vjp(fun, argnums, args, kwargs, out, out_def, v_leaves)
    except Exception as exc:  # noqa: BLE001 - classified below
        return engine.failure(exc, "differentiating", described)
    described["method"] = method
    if len(grads) != len(argnums):
        return Outcome("wrong", f"{len(grads)} gradients for {len(argnums)} arguments",
                       kind="structure", **described)
    exact = 0.0
    u_tree = unflatten(x_def, u_leaves)
    notes = []
    for g, xi, ui in zip(grads, x, u_tree, strict=True):
        g_leaves, x_leaves_i, u_leaves_i = flatten(g)[0], flatten(xi)[0], flatten(ui)[0]
        if len(g_leaves) != len(x_leaves_i):
            # a list of floats whose gradient comes back as one array of its shape
            try:
                as_array = np.asarray(xi, dtype=np.float64)
            except (TypeError, ValueError):
                as_array = None
            if as_array is None or len(g_leaves) != 1 or np.shape(g) != as_array.shape:
                return Outcome("wrong", f"the gradient has {len(g_leaves)} parts, the "
                               f"argument {len(x_leaves_i)}", kind="structure", **described)
            notes.append(f"the gradient of a {type(xi).__name__} of floats is one array")
            g_leaves = [g]
            x_leaves_i = [as_array]
            u_leaves_i = [np.asarray(unflatten(flatten(xi)[1], u_leaves_i), dtype=np.float64)]
        for gl, xl, u in zip(g_leaves, x_leaves_i, u_leaves_i, strict=True):
            if u is None:
                continue
            if gl is None:
                return Outcome("wrong", "no gradient for a float argument", kind="structure",
                               **described)
            if np.shape(gl) != np.shape(xl):
                return Outcome("wrong", f"gradient of shape {np.shape(gl)} for an argument of "
                               f"shape {np.shape(xl)}", kind="shape", **described)
            exact += float(np.sum(as64(gl) * u))
    if notes:
        described["note"] = "; ".join(notes)
    detail = {"numeric": fd, "exact": exact, **described}
    if np.isfinite(exact) and close(fd, exact):
        return Outcome("pass", **detail)
    rechecks = []
    for h in RECHECK_STEPS:
        try:
            rechecks.append(numeric(h, True))
        except Exception:  # noqa: BLE001
            rechecks.append(float("nan"))
    detail["rechecks"] = rechecks
    if np.isfinite(exact) and any(close(r, exact) for r in rechecks):
        return Outcome("pass", "agrees only with the fourth-order differences", **detail)
    if not np.isfinite(fd) and not any(np.isfinite(rechecks)):
        return Outcome("na", "the finite differences are not finite", **detail)
    return Outcome("wrong", f"vjp·u = {exact!r}, finite differences {fd!r} "
                   f"(fourth order: {', '.join(f'{r:.10g}' for r in rechecks)})",
                   kind="derivative", **detail)


def _raised_in(exc: BaseException, directory: str) -> bool:
    """Whether a frame of ``exc``'s traceback is in a file under ``directory``."""
    tb = exc.__traceback__
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename).startswith(directory + os.sep):
            return True
        tb = tb.tb_next
    return False


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


# ----------------------------------------------------------------------------- symdiff

_OPERATORS = {operator.add: "+", operator.sub: "-", operator.mul: "*",
              operator.truediv: "/", operator.mod: "%", operator.pow: "**",
              operator.matmul: "@"}


def _literal(x: Any) -> str | None:
    """Python source for a value written into generated code, or None."""
    if x is None or isinstance(x, (bool, np.bool_, str)):
        return repr(x if not isinstance(x, np.bool_) else bool(x))
    if x is Ellipsis:
        return "..."
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    if isinstance(x, (float, np.floating)):
        return repr(float(x)) if np.isfinite(x) else None
    if isinstance(x, (tuple, list)):
        items = [_literal(i) for i in x]
        if any(i is None for i in items):
            return None
        if isinstance(x, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    return None


def _spelled(path: str) -> str:
    return "np" + path[len("numpy"):] if path.split(".")[0] == "numpy" else path


class SymdiffEngine:
    name = "symdiff"

    def __init__(self, backend: str, workdir: str, via: str = "vjp"):
        """``via``: "vjp" (symdiff.vjp wherever the output is one array) or "grad" (every
        case through symdiff.grad of the generated ``sum(out * v)``, to exercise that path)."""
        import symdiff
        from symdiff import errors
        from symdiff.gradient import differentiable

        self.symdiff, self.errors, self.differentiable = symdiff, errors, differentiable
        self.package = os.path.dirname(os.path.realpath(symdiff.__file__))
        self.backend = backend
        self.via = via
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self._count = 0

    # the engine's autograd.grad and value_and_grad
    def api(self) -> tuple[Callable, Callable]:
        from tests.outside import autograd_symdiff_api as api

        api.BACKEND = self.backend
        return api.grad, api.value_and_grad

    def evaluate(self, fun: Callable, args: tuple, kwargs: dict) -> Any:
        return fun(*args, **kwargs)

    def numpy_rejects(self, fun: Callable, args: tuple, kwargs: dict,
                      exc: BaseException) -> bool:
        """The function is evaluated with NumPy itself: it rejects the call unless symdiff
        raised (a ``grad`` inside the function)."""
        return not self.owns(exc)

    def value_check(self, fun: Callable, args: tuple, kwargs: dict, out: Any) -> str:
        return ""  # the forward value is NumPy's own: the function is plain NumPy

    def owns(self, exc: BaseException) -> bool:
        """Whether ``exc`` comes from symdiff (rather than from NumPy/SciPy or the test)."""
        return isinstance(exc, self.errors.SymdiffError) or _raised_in(exc, self.package)

    def is_refusal(self, exc: BaseException) -> bool:
        e = self.errors
        if isinstance(exc, e.SizeError):
            return False
        return isinstance(exc, (e.UnsupportedError, e.ArgumentError))

    def failure(self, exc: BaseException, doing: str, described: dict) -> Outcome:
        kind = "refused" if self.is_refusal(exc) else "crash"
        reason = getattr(exc, "reason", None)
        message = _first_line(exc) if kind == "refused" else \
            f"{type(exc).__name__}: {_first_line(exc)}"
        extra = {"reason": reason} if reason else {}
        if kind == "crash":
            extra["traceback"] = _traceback(exc)
        return Outcome(kind, message, while_=doing, **extra, **described)

    def vjp(self, fun: Callable, argnums: tuple[int, ...], args: tuple, kwargs: dict,
            out: Any, out_def: Any, v_leaves: list[Any]) -> tuple[list[Any], str]:
        sd = self.symdiff
        path = shim.path_of(fun)
        single = out_def is None and self.via == "vjp"
        v = self._cotangent(out, out_def, v_leaves)
        if path is None and fun not in _OPERATORS and not kwargs and single and \
                inspect.isfunction(fun):
            _, products = sd.vjp(fun, *args, backend=self.backend)
            grads = products(v)
            return [grads[i] for i in argnums], "symdiff.vjp(test function)"
        module, values, what = self._generated(fun, path, argnums, args, kwargs, out, single)
        if single:
            _, products = sd.vjp(module.f, *values, backend=self.backend)
            grads = products(v)
            return list(grads[:len(argnums)]), f"symdiff.vjp(generated: {what})"
        gradient = sd.grad(module.f, argnums=tuple(range(len(argnums))), backend=self.backend)
        grads = gradient(*values, v)
        return list(grads), f"symdiff.grad(generated sum(out[i]*v[i]): {what})"

    @staticmethod
    def _cotangent(out: Any, out_def: Any, v_leaves: list[Any]) -> Any:
        leaves = []
        for leaf, v in zip(flatten(out)[0], v_leaves, strict=True):
            if v is None:
                v = np.zeros(np.shape(leaf))
            elif isinstance(leaf, np.ndarray):
                v = np.asarray(v, dtype=np.float64).reshape(leaf.shape)
            leaves.append(v)
        return unflatten(out_def, leaves)

    def _generated(self, fun: Callable, path: str | None, argnums: tuple[int, ...],
                   args: tuple, kwargs: dict, out: Any, single: bool
                   ) -> tuple[Any, list[Any], str]:
        """A module with ``f(a0, ..., c0, ..., [v])`` calling ``fun`` on the arguments
        ``argnums`` (a0, ...), the others written as literals, read from module globals
        (arrays) or passed after them (c0, ...: containers holding arrays)."""
        params, values, extra_params, extra_values = [], [], [], []
        globals_: dict[str, Any] = {}
        call_args = []

        def place(name: str, value: Any) -> str:
            text = _literal(value)
            if text is not None:
                return text
            if isinstance(value, np.ndarray) or callable(value):
                globals_[f"_{name}"] = value
                return f"_{name}"
            extra_params.append(name)
            extra_values.append(value)
            return name

        for i, a in enumerate(args):
            if i in argnums:
                call_args.append(f"a{i}")
            else:
                call_args.append(place(f"c{i}", a))
        params = [f"a{i}" for i in argnums]
        values = [args[i] for i in argnums]
        call_kwargs = [f"{k}={place(f'k_{k}', a)}" for k, a in kwargs.items()]
        if fun in _OPERATORS and not kwargs and len(call_args) == 2:
            call = f"{call_args[0]} {_OPERATORS[fun]} {call_args[1]}"
            what = f"operator {_OPERATORS[fun]}"
        else:
            if path is not None:
                callee, what = _spelled(path), path
            else:
                globals_["_fun"] = fun
                callee = "_fun"
                what = "the test's function" + (" with keywords" if kwargs else "")
            call = f"{callee}({', '.join(call_args + call_kwargs)})"
        signature = ", ".join(params + extra_params + ([] if single else ["v"]))
        lines = ["import numpy as np", "import scipy.integrate", "import scipy.linalg",
                 "import scipy.signal", "import scipy.special", "import scipy.stats", "", "",
                 f"def f({signature}):"]
        if single:
            lines.append(f"    return {call}")
        else:
            terms = [f"np.sum(out{p} * v{p})" for p, leaf in zip(leaf_paths(out),
                                                                  flatten(out)[0], strict=True)
                     if is_float(leaf)]
            lines += [f"    out = {call}", f"    return {' + '.join(terms) or '0.0'}"]
        source = "\n".join(lines) + "\n"
        digest = hashlib.sha1(source.encode()).hexdigest()[:16]
        self._count += 1
        name = f"ag_case_{digest}"
        filename = os.path.join(self.workdir, f"{name}.py")
        if not os.path.exists(filename):
            with open(filename, "w") as handle:
                handle.write(source)
        unique = f"{name}_{self._count}"
        spec = importlib.util.spec_from_file_location(unique, filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        spec.loader.exec_module(module)
        for key, value in globals_.items():
            setattr(module, key, value)
        return module, values + extra_values, what


# ----------------------------------------------------------------------------- jax


class JaxEngine:
    name = "jax"

    def __init__(self) -> None:
        import jax
        import jaxlib

        jax.config.update("jax_enable_x64", True)
        self.jax = jax
        self.packages = [os.path.dirname(os.path.realpath(m.__file__)) for m in (jax, jaxlib)]
        self.fallbacks: list[str] = []  # NumPy/SciPy names JAX lacks, seen in this test

    def api(self) -> tuple[Callable, Callable]:
        jax = self.jax

        def grad(fun: Callable, argnum: Any = 0) -> Callable:
            return jax.grad(fun, argnums=argnum)

        def value_and_grad(fun: Callable, argnum: Any = 0) -> Callable:
            return jax.value_and_grad(fun, argnums=argnum)

        return grad, value_and_grad

    def evaluate(self, fun: Callable, args: tuple, kwargs: dict) -> Any:
        return _to_numpy(fun(*args, **kwargs))

    def _reference(self, fun: Callable) -> Callable | None:
        path = shim.path_of(fun)
        if path is None:
            return None
        try:
            return shim.real_object(path)
        except (ImportError, AttributeError):
            return None

    def numpy_rejects(self, fun: Callable, args: tuple, kwargs: dict,
                      exc: BaseException) -> bool:
        """Whether NumPy/SciPy's own function (for the functions the tests pass) rejects
        the call too; a test's own function is NumPy's only under the symdiff engine."""
        reference = self._reference(fun)
        if reference is None:
            return False
        try:
            reference(*args, **kwargs)
        except Exception:  # noqa: BLE001
            return True
        return False

    def value_check(self, fun: Callable, args: tuple, kwargs: dict, out: Any) -> str:
        """JAX's function against NumPy's (for the NumPy/SciPy functions the tests pass;
        not np.partition, whose order within each side NumPy leaves to itself)."""
        reference = self._reference(fun)
        if reference is None or reference is fun or shim.path_of(fun) in VALUE_CHECK_EXEMPT:
            return ""
        try:
            expected = reference(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            return f"JAX returns a value where NumPy raises {type(exc).__name__}"
        got, _ = flatten(out)
        want, _ = flatten(expected)
        if len(got) != len(want):
            return f"JAX returns {len(got)} arrays, NumPy {len(want)}"
        for g, w in zip(got, want, strict=True):
            if np.shape(g) != np.shape(w):
                return f"JAX's value has shape {np.shape(g)}, NumPy's {np.shape(w)}"
            if not np.allclose(np.asarray(g, dtype=complex), np.asarray(w, dtype=complex),
                               rtol=1e-6, atol=1e-9, equal_nan=True):
                return "JAX's value differs from NumPy's"
        return ""

    def owns(self, exc: BaseException) -> bool:
        """Whether ``exc`` comes from JAX (rather than from the test or the harness)."""
        return any(_raised_in(exc, p) for p in self.packages)

    def is_refusal(self, exc: BaseException) -> bool:
        text = f"{type(exc).__name__}: {exc}"
        return isinstance(exc, NotImplementedError) or bool(self.fallbacks) or \
            "TracerArrayConversionError" in text or \
            any(words in text.lower() for words in JAX_REFUSALS)

    def failure(self, exc: BaseException, doing: str, described: dict) -> Outcome:
        refused = self.is_refusal(exc)
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        if self.fallbacks:
            message = f"not in JAX: {', '.join(sorted(set(self.fallbacks)))} ({message})"
        extra = {} if refused else {"traceback": _traceback(exc)}
        return Outcome("refused" if refused else "crash", message, while_=doing, **extra,
                       **described)

    def vjp(self, fun: Callable, argnums: tuple[int, ...], args: tuple, kwargs: dict,
            out: Any, out_def: Any, v_leaves: list[Any]) -> tuple[list[Any], str]:
        jax = self.jax

        def restricted(*values: Any) -> Any:
            return fun(*_substitute(args, argnums, list(values)), **kwargs)

        out_j, products = jax.vjp(restricted, *[args[i] for i in argnums])
        leaves, treedef = jax.tree_util.tree_flatten(out_j)
        if len(leaves) != len(v_leaves):
            raise ValueError("JAX's output has another structure than its value")
        cotangent = []
        for leaf, v in zip(leaves, v_leaves, strict=True):
            dtype = getattr(leaf, "dtype", np.float64)
            if v is None:
                cotangent.append(np.zeros(np.shape(leaf), dtype=jax.dtypes.float0))
            else:
                cotangent.append(jax.numpy.asarray(v, dtype=dtype).reshape(np.shape(leaf)))
        grads = products(jax.tree_util.tree_unflatten(treedef, cotangent))
        return [_to_numpy(g) for g in grads], "jax.vjp"


def _to_numpy(tree: Any) -> Any:
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [np.asarray(leaf) if hasattr(leaf, "__jax_array__") or
                               type(leaf).__module__.startswith("jax") else leaf
                               for leaf in leaves])

