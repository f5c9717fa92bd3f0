"""A stand-in for the ``autograd`` package, so that autograd's own test files run against
another engine.

``install(engine)`` puts modules named ``autograd``, ``autograd.numpy``, ``autograd.scipy.*``,
``autograd.test_util`` ... into ``sys.modules``. Their ``np`` is plain NumPy (and SciPy) for
the symdiff engine, ``jax.numpy`` (and ``jax.scipy``) for the JAX engine; ``check_grads`` and
``combo_check`` hand every call to a checker that the harness sets (``set_checker``), and
``grad``/``value_and_grad`` are the engine's.

Every namespace knows the NumPy/SciPy path it stands for (``numpy.linalg``,
``scipy.stats``), and every callable it hands out is remembered under its path
(``numpy.linalg.det``), so that the harness can name the function a test passes to
``combo_check`` and write it into generated source.
"""

from __future__ import annotations

import builtins
import importlib
import itertools
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy

from tests.outside import autograd_extras

# id(object) -> NumPy/SciPy path of the objects the namespaces handed out, and the objects
# themselves (so that their ids stay theirs).
_PATHS: dict[int, str] = {}
_KEEP: list[Any] = []
# names a JAX namespace did not have and took from NumPy/SciPy instead, since the last reset
FALLBACKS: list[str] = []

_checker: Callable[..., None] | None = None


def set_checker(checker: Callable[..., None]) -> None:
    """The function every ``check_grads`` call goes to:
    ``checker(fun, argnum, args, kwargs, order, modes)``."""
    global _checker
    _checker = checker


def remember(obj: Any, path: str) -> None:
    if id(obj) not in _PATHS:
        _PATHS[id(obj)] = path
        _KEEP.append(obj)


def path_of(obj: Any) -> str | None:
    """The NumPy/SciPy path of a function the namespaces handed out (or of a method of a
    distribution object they handed out), or None."""
    if id(obj) in _PATHS:
        return _PATHS[id(obj)]
    owner = getattr(obj, "__self__", None)
    if owner is not None and id(owner) in _PATHS and hasattr(obj, "__name__"):
        return f"{_PATHS[id(owner)]}.{obj.__name__}"
    return None


def real_object(path: str) -> Any:
    """The NumPy/SciPy object at a path such as ``scipy.stats.norm.logpdf``."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def _is_namespace(obj: Any) -> bool:
    """A module, or one of SciPy's distribution objects, whose attributes are functions."""
    if isinstance(obj, types.ModuleType):
        return True
    cls = type(obj).__module__ or ""
    return cls.startswith("scipy.stats")


class Namespace(types.ModuleType):
    """A module standing for ``path`` (``numpy.linalg``): its attributes are ``primary``'s,
    then ``fallback``'s (for JAX: the NumPy/SciPy object, for what JAX lacks; recorded in
    FALLBACKS), then the ``extras`` set on it."""

    def __init__(self, name: str, path: str, primary: Any, fallback: Any = None,
                 extras: dict[str, Any] | None = None, wrap: bool = False):
        super().__init__(name)
        self.__dict__.update(extras or {})
        self._path, self._primary, self._fallback, self._wrap = path, primary, fallback, wrap
        self._children: dict[str, Any] = {}

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            return getattr(self._primary, attr)
        path = f"{self._path}.{attr}"
        try:
            obj = getattr(self._primary, attr)
        except AttributeError:
            if self._fallback is None or not hasattr(self._fallback, attr):
                raise AttributeError(f"{self._primary.__name__} has no attribute {attr!r}") \
                    from None
            obj = getattr(self._fallback, attr)
            if callable(obj) and not _is_namespace(obj):
                FALLBACKS.append(path)
            remember(obj, path)
            return obj
        if self._wrap and _is_namespace(obj):  # JAX: sub-namespaces get the fallback too
            if attr not in self._children:
                other = getattr(self._fallback, attr, None) if self._fallback else None
                self._children[attr] = Namespace(f"{self.__name__}.{attr}", path, obj, other,
                                                 wrap=True)
            return self._children[attr]
        if callable(obj) or _is_namespace(obj):
            remember(obj, path)
        return obj


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


# ----------------------------------------------------------------------------- test_util


def check_grads(fun: Callable, argnum: Any = 0, modes: Any = None, order: int = 2) -> Callable:
    """autograd.test_util.check_grads: ``check_grads(fun, argnum)(*args, **kwargs)`` checks
    the engine's reverse-mode derivative of ``fun`` with respect to argument(s) ``argnum``."""
    if not isinstance(argnum, (int, tuple, list)):
        raise TypeError(f"argnum {argnum!r}")

    def check(*args: Any, **kwargs: Any) -> None:
        assert _checker is not None, "the harness sets the checker"
        _checker(fun, argnum, args, kwargs, order, modes)

    return check


def combo_check(fun: Callable, *check_args: Any, **check_kwargs: Any) -> Callable:
    """autograd.test_util.combo_check: check every combination of the choices given."""

    def check(*args: Any, **kwargs: Any) -> None:
        choices = [[(k, x) for x in xs] for k, xs in kwargs.items()]
        for combination in itertools.product(*args):
            for chosen in itertools.product(*choices):
                check_grads(fun, *check_args, **check_kwargs)(*combination, **dict(chosen))

    return check


def _not_here(name: str) -> Callable:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"autograd.{name} is not part of the harness")
    return refuse


# ----------------------------------------------------------------------------- install


def _numpy_modules(engine: str) -> dict[str, Any]:
    """The modules standing for NumPy and SciPy, by the name autograd gives them."""
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats

    if engine == "symdiff":
        def ns(name: str, path: str, real: Any, extras: dict | None = None) -> Namespace:
            return Namespace(name, path, real, None, extras)

        def extra(f: Callable) -> Callable:
            return f
        spaces = {"numpy": numpy, "numpy.linalg": numpy.linalg,
                  "scipy.special": scipy.special, "scipy.stats": scipy.stats,
                  "scipy.signal": scipy.signal, "scipy.linalg": scipy.linalg,
                  "scipy.integrate": scipy.integrate}
    else:
        import jax
        import jax.numpy as jnp
        import jax.scipy.linalg
        import jax.scipy.signal
        import jax.scipy.special
        import jax.scipy.stats
        jax.config.update("jax_enable_x64", True)
        reals = {"numpy": numpy, "numpy.linalg": numpy.linalg,
                 "scipy.special": scipy.special, "scipy.stats": scipy.stats,
                 "scipy.signal": scipy.signal, "scipy.linalg": scipy.linalg,
                 "scipy.integrate": scipy.integrate}
        spaces = {"numpy": jnp, "numpy.linalg": jnp.linalg, "scipy.special": jax.scipy.special,
                  "scipy.stats": jax.scipy.stats, "scipy.signal": jax.scipy.signal,
                  "scipy.linalg": jax.scipy.linalg,
                  "scipy.integrate": _module("jax.scipy.integrate")}

        def ns(name: str, path: str, real: Any, extras: dict | None = None) -> Namespace:
            return Namespace(name, path, real, reals[path], extras, wrap=True)

        def extra(f: Callable) -> Callable:  # the same function, reading jax.numpy as np
            return types.FunctionType(f.__code__, {**f.__globals__, "np": jnp}, f.__name__,
                                      f.__defaults__)

    linalg = ns("autograd.numpy.linalg", "numpy.linalg", spaces["numpy.linalg"],
                {"_dot": extra(autograd_extras.linalg_dot), "T": extra(autograd_extras.linalg_T)})
    anp = ns("autograd.numpy", "numpy", spaces["numpy"],
             {"linalg": linalg, "random": numpy.random,
              "make_diagonal": extra(autograd_extras.make_diagonal)})
    stats = ns("autograd.scipy.stats", "scipy.stats", spaces["scipy.stats"])
    modules = {
        "autograd.numpy": anp,
        "autograd.numpy.linalg": linalg,
        "autograd.numpy.random": numpy.random,
        "autograd.scipy.special": ns("autograd.scipy.special", "scipy.special",
                                     spaces["scipy.special"]),
        "autograd.scipy.stats": stats,
        "autograd.scipy.signal": ns("autograd.scipy.signal", "scipy.signal",
                                    spaces["scipy.signal"]),
        "autograd.scipy.linalg": ns("autograd.scipy.linalg", "scipy.linalg",
                                    spaces["scipy.linalg"]),
        "autograd.scipy.integrate": ns("autograd.scipy.integrate", "scipy.integrate",
                                       spaces["scipy.integrate"]),
    }
    for dist in ("multivariate_normal", "norm", "t", "gamma", "beta", "chi2", "poisson",
                 "dirichlet"):
        modules[f"autograd.scipy.stats.{dist}"] = getattr(stats, dist)
    return modules


def install(engine: str, grad: Callable, value_and_grad: Callable) -> None:
    """Put the stand-in ``autograd`` into ``sys.modules`` for ``engine`` ("symdiff" or
    "jax"), with the engine's ``grad`` and ``value_and_grad``."""
    for name in [m for m in sys.modules if m == "autograd" or m.startswith("autograd.")]:
        del sys.modules[name]
    modules = _numpy_modules(engine)
    scipy_ns = _module("autograd.scipy", special=modules["autograd.scipy.special"],
                       stats=modules["autograd.scipy.stats"],
                       signal=modules["autograd.scipy.signal"],
                       linalg=modules["autograd.scipy.linalg"],
                       integrate=modules["autograd.scipy.integrate"])
    test_util = _module("autograd.test_util", check_grads=check_grads, combo_check=combo_check)
    root = _module(
        "autograd", grad=grad, value_and_grad=value_and_grad, numpy=modules["autograd.numpy"],
        scipy=scipy_ns, test_util=test_util, tuple=builtins.tuple, list=builtins.list,
        dict=builtins.dict, isinstance=builtins.isinstance, deriv=_not_here("deriv"),
        jacobian=_not_here("jacobian"), elementwise_grad=_not_here("elementwise_grad"))
    modules.update({
        "autograd": root,
        "autograd.scipy": scipy_ns,
        "autograd.test_util": test_util,
        "autograd.builtins": _module("autograd.builtins", isinstance=builtins.isinstance,
                                     tuple=builtins.tuple, list=builtins.list,
                                     dict=builtins.dict),
        "autograd.core": _module("autograd.core", primitive_vjps={}),
        "autograd.extend": _module("autograd.extend", primitive=_not_here("extend.primitive")),
    })
    for name, module in modules.items():
        sys.modules[name] = module
