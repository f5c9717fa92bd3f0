"""NumPy's and SciPy's elementwise functions given directly: ``grad(np.sqrt)``.

Such a function (a ufunc) has no Python source to read, so it is given one:
``library_function(np.sqrt)`` is the Python function ``def sqrt(x): return np.sqrt(x)``,
with the ufunc's own positional parameters (``x`` for one input, ``x1, x2`` for two), which
symdiff then differentiates like any other. Its source lives in memory under the file name
``<symdiff: np.sqrt>``, which error messages and generated modules' headers name. There is one
such function per ufunc, so that code generated for it is reused (also from the disk cache by
a later process: this module finds it again by its ``__qualname__``).
"""

from __future__ import annotations

import inspect
import linecache
import sys
from types import FunctionType
from typing import Any

import numpy as np

from symdiff.errors import ArgumentError

_MADE: dict[str, FunctionType] = {}

# where a ufunc may be found, and how the source spells that module
_HOMES = (("numpy", "np", "import numpy as np"),
          ("scipy.special", "scipy.special", "import scipy.special"))


def library_function(fun: Any) -> Any:
    """``fun`` itself, unless it is a NumPy or SciPy ufunc: then the Python function that
    calls it (see the module's documentation)."""
    if not isinstance(fun, np.ufunc):
        module = getattr(fun, "__module__", None) or ""
        if inspect.isfunction(fun) and module.split(".")[0] in ("numpy", "scipy"):
            raise ArgumentError(f"{module}.{fun.__name__} is {module.split('.')[0]}'s own "
                                "code, which symdiff does not differentiate through; call it "
                                "in a function of your own (symdiff knows the NumPy and "
                                "SciPy functions its table lists, and their elementwise "
                                "functions given directly)")
        return fun
    for module_name, spelling, importing in _HOMES:
        module = sys.modules.get(module_name)
        if module is not None and getattr(module, fun.__name__, None) is fun:
            return _made(f"{spelling}.{fun.__name__}", importing, fun.nin)
    return fun  # another library's ufunc: refused as a function without source


def _made(path: str, importing: str, count: int) -> FunctionType:
    qualname = path.replace(".", "_")
    found = _MADE.get(qualname)
    if found is not None:
        return found
    name = path.rpartition(".")[2]
    params = ", ".join(["x"] if count == 1 else [f"x{k}" for k in range(1, count + 1)])
    text = f"{importing}\n\n\ndef {name}({params}):\n    return {path}({params})\n"
    filename = f"<symdiff: {path}>"
    lines = text.splitlines(True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    namespace: dict[str, Any] = {"__name__": __name__}
    exec(compile(text, filename, "exec"), namespace)
    made = namespace[name]
    made.__qualname__ = qualname
    made.__doc__ = f"{path} as a Python function, for symdiff to differentiate"
    _MADE[qualname] = made
    return made


_SPREAD: dict[tuple[Any, int, tuple[str, ...]], FunctionType] = {}


def takes_spread(fun: Any) -> bool:
    """Whether ``fun`` is a Python function taking ``*args``, ``**kwargs`` or keyword-only
    parameters, which symdiff differentiates as the function of named parameters that calls
    it for each way it is called (``spread_arguments``)."""
    if not inspect.isfunction(fun):
        return False
    kinds = {p.kind for p in inspect.signature(fun, follow_wrapped=False).parameters.values()}
    return bool(kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD,
                         inspect.Parameter.KEYWORD_ONLY})


def spread_arguments(fun: Any, count: int, keywords: tuple[str, ...] = ()) -> FunctionType:
    """For a call of ``fun`` (see ``takes_spread``) with ``count`` positional arguments and
    the keyword arguments ``keywords``: the function of named parameters that calls it, as
    symdiff needs named parameters to generate code for. Its positional parameters take the
    names of ``fun``'s, then ``args_0, args_1, ...`` for those ``*args`` takes; the keyword
    arguments follow under their own names. Its source lives in memory."""
    keywords = tuple(keywords)
    found = _SPREAD.get((fun, count, keywords))
    if found is not None:
        return found
    params = inspect.signature(fun, follow_wrapped=False).parameters.values()
    own = [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                 inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    rest = next((p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), "args")
    taken = {*own, *keywords}
    extra = []
    for k in range(count - len(own)):
        name = f"{rest}_{k}"
        while name in taken:
            name = "_" + name
        taken.add(name)
        extra.append(name)
    positional = [*own[:count], *extra]
    parameters = ", ".join([*positional, *keywords])
    passed = ", ".join([*positional, *(f"{k}={k}" for k in keywords)])
    name = fun.__name__ if fun.__name__.isidentifier() else "function"
    text = f"def {name}({parameters}):\n    return _spread({passed})\n"
    called = ", ".join([f"{count} positional", *(f"{k}=" for k in keywords)])
    filename = f"<symdiff: {fun.__qualname__} called with {called} arguments>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": __name__, "_spread": fun}
    exec(compile(text, filename, "exec"), namespace)
    made = namespace[name]
    made.__qualname__ = f"{fun.__qualname__}.<{called} arguments>"
    _SPREAD[(fun, count, keywords)] = made
    return made


def __getattr__(name: str) -> Any:
    """A function made here, by its ``__qualname__`` (how the disk cache finds it again)."""
    for module_name, spelling, _ in _HOMES:
        prefix = spelling.replace(".", "_") + "_"
        if name.startswith(prefix):
            __import__(module_name)
            fun = getattr(sys.modules[module_name], name[len(prefix):], None)
            if isinstance(fun, np.ufunc):
                return library_function(fun)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
