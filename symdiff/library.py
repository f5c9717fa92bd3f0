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


_SPREAD: dict[tuple[Any, int], FunctionType] = {}


def takes_varargs(fun: Any) -> bool:
    """Whether ``fun`` is a Python function with ``*args`` and no other kind of parameter
    that a call could fill by name (``**kwargs``, keyword-only)."""
    if not inspect.isfunction(fun):
        return False
    kinds = [p.kind for p in inspect.signature(fun).parameters.values()]
    return inspect.Parameter.VAR_POSITIONAL in kinds and \
        inspect.Parameter.VAR_KEYWORD not in kinds and \
        inspect.Parameter.KEYWORD_ONLY not in kinds


def spread_arguments(fun: Any, count: int) -> FunctionType:
    """For a call of ``fun`` (which takes ``*args``) with ``count`` positional arguments: the
    function of ``count`` named parameters ``args_0, args_1, ...`` that calls it, as symdiff
    needs named parameters to generate code for. Its source lives in memory."""
    found = _SPREAD.get((fun, count))
    if found is not None:
        return found
    names = ", ".join(f"args_{k}" for k in range(count))
    name = fun.__name__ if fun.__name__.isidentifier() else "function"
    text = f"def {name}({names}):\n    return _spread({names})\n"
    filename = f"<symdiff: {fun.__qualname__} called with {count} arguments>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": __name__, "_spread": fun}
    exec(compile(text, filename, "exec"), namespace)
    made = namespace[name]
    made.__qualname__ = f"{fun.__qualname__}.<{count} arguments>"
    _SPREAD[(fun, count)] = made
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
