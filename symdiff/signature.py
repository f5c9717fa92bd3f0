"""What a generated gradient is specialised on: light types, importable without the compiler."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from symdiff.errors import ArgumentError

BACKENDS = ("numba", "numpy", "cuda", "array_api")  # the targets code is generated for


def check_backend(backend: str, how: str = "backend={!r}") -> None:
    """Refuse a backend name that is not one of ``BACKENDS`` (``how``: how the user wrote it)."""
    if backend not in BACKENDS:
        raise ArgumentError(f"{how.format(backend)} is not available; choose from "
                            f"{', '.join(BACKENDS)}")
    if backend == "array_api" and importlib.util.find_spec("array_api_compat") is None:
        raise ArgumentError(f"{how.format(backend)} needs the array-api-compat package: "
                            "pip install symdiff[array-api]")


def check_parallel(backend: str, parallel: bool) -> None:
    """``parallel=True`` is Numba's: refuse it elsewhere rather than run on one core."""
    if parallel and backend != "numba":
        raise ArgumentError(f"parallel=True runs loops on all cores with Numba's prange: use "
                            f"backend='numba' (not {backend!r})")


@dataclass(frozen=True)
class ArgSpec:
    """What a generated gradient is specialised on for one argument."""

    name: str
    # "array", "float" (a Python float), "static" (any other Python value), or "tree": a
    # structured argument (value: its skeleton, see symdiff.trees) whose arrays are the specs
    # that name it as their root
    kind: str
    dtype: str = "float64"
    unit_dims: tuple[bool, ...] = ()  # for arrays: which dimensions have size 1
    value: Any = None  # for static arguments and trees
    root: str = ""  # for the arrays of a tree: the tree's argument
    # for arrays: sizes the code is specialised on (a loop's length), None for the others
    sizes: tuple[int | None, ...] = ()
    # for modules written to disk: the parameter's default, which the generated functions
    # keep (a float is an argument like any other; a static value is the only one accepted)
    default: tuple = ()  # (value,) when there is one
    # for an array the code reads from outside the function (a global or closure variable),
    # where it is read: "module.function:name"; the generated code takes it as an argument
    outer: str = ""

    def describe(self) -> str:
        if self.kind == "static":
            if callable(self.value):  # a function: by name, not by its address
                name = getattr(self.value, "__qualname__", type(self.value).__name__)
                return f"{self.name}={name}"
            return f"{self.name}={self.value!r}"
        if self.kind == "tree":
            return f"{self.name}: structured"
        if self.kind == "float":
            return f"{self.name}: float"
        dims = ", ".join("1" if unit else str(size) if size is not None else ":"
                         for unit, size in zip(self.unit_dims, self.sizes or
                                               (None,) * len(self.unit_dims), strict=True))
        where = f" (read from {shared_outer_key(self.outer)})" if self.outer else ""
        return f"{self.name}: {self.dtype}[{dims}]{where}"


def outer_key(fun: Any, name: str) -> str:
    """Where an array from outside the function is read: ``name`` in the globals or closure
    of the function object ``fun`` (``ArgSpec.outer``). Two closures made by one factory share
    a name, not their arrays: the object's identity tells them apart (``shared_outer_key``
    leaves it out, for what outlives the process)."""
    return f"{fun.__module__}.{fun.__qualname__}:{name}@{id(fun):x}"


def shared_outer_key(key: str) -> str:
    """``outer_key`` without the object's identity: the same in every process."""
    return key.rpartition("@")[0] or key


def passed(signature: tuple[ArgSpec, ...]) -> list[ArgSpec]:
    """The specs of the values the generated functions take, in order: every spec but the
    trees, whose arrays are passed one by one."""
    return [s for s in signature if s.kind != "tree"]


@dataclass(frozen=True)
class Options:
    argnums: tuple[int, ...]
    single: bool = False  # one gradient rather than a tuple
    has_aux: bool = False
    backend: str = "numpy"
    # what is differentiated: "scalar" (the output itself), "sum" (the sum of an array output)
    # or "cotangent" (its inner product with a cotangent, an extra last argument: a VJP)
    output: str = "scalar"
    custom_rules: bool = True  # False: differentiate the code custom rules stand for
    parallel: bool = False  # numba: independent iterations of loops on all cores (prange)
