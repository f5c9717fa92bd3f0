"""The one table from primitive name to everything symdiff knows about it (the families in
``symdiff.rules`` fill it).

A primitive is registered once, in the file of its family, with:
- ``infer``: the shape and dtype of its result from its inputs and static parameters;
- ``scalar``: for elementwise primitives, its SymPy formula (the derivative comes from SymPy);
- ``vjp``: for array primitives, the adjoint rule ``vjp(graph, node, cotangent)`` returning one
  cotangent per input (``None`` where no gradient flows);
- ``emit``: for array primitives, how generated code spells it, from its inputs' spellings;
- ``helpers``: names of runtime helpers (``symdiff.codegen.helpers``) its spelling uses;
- ``helper_source``: (name, source) of helpers that travel with the primitive itself (a user
  primitive's function, copied into the modules that call it);
- ``alias``: its value is its first input's (a custom derivative rule marks a value with it);
  code is written without it once every derivative is built;
- ``external``: its spelling calls a user's function that the generated module defines.

Users add primitives through ``symdiff.extend``; those may be registered again (``replace``),
as re-running a notebook cell does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symdiff.ir.shapes import Shape

if TYPE_CHECKING:  # the graph looks its primitives up here: only its types are needed
    from symdiff.ir.graph import Graph, Node

Infer = Callable[[list["Node"], dict[str, Any]], tuple[Shape, str]]
Vjp = Callable[["Graph", "Node", "Node"], Sequence["Node | None"]]
Emit = Callable[[list[str], "Node"], str]


@dataclass(frozen=True)
class Primitive:
    name: str
    infer: Infer
    scalar: Callable[..., Any] | None = None
    vjp: Vjp | None = None
    emit: Emit | None = None
    helpers: tuple[str, ...] = ()
    helper_source: tuple[tuple[str, str], ...] = ()
    pure: bool = True
    differentiable: bool = True
    alias: bool = False
    external: bool = False

    @property
    def elementwise(self) -> bool:
        return self.scalar is not None


_TABLE: dict[str, Primitive] = {}


def register(prim: Primitive, replace: bool = False) -> Primitive:
    if prim.name in _TABLE and not replace:
        raise ValueError(f"primitive {prim.name!r} is registered twice")
    _TABLE[prim.name] = prim
    return prim


def lookup(name: str) -> Primitive:
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"no primitive {name!r} is registered (the rule families register "
                       "theirs when symdiff.rules is imported)") from None


def helper_definition(name: str) -> str | None:
    """The source of a helper that a primitive carries (see ``helper_source``)."""
    for prim in _TABLE.values():
        for helper, source in prim.helper_source:
            if helper == name:
                return source
    return None


def all_primitives() -> dict[str, Primitive]:
    return dict(_TABLE)


def promote(inputs: Sequence[Node], floating: bool = False) -> str:
    """NumPy's result dtype; Python number constants are weak, as under NEP 50."""
    strong = [n.dtype for n in inputs if n.op != "const"]
    weak = [n.dtype for n in inputs if n.op == "const"]
    if strong:
        dtype = np.result_type(*strong)
        if any(w.startswith("float") for w in weak) and dtype.kind in "biu":
            dtype = np.dtype("float64")
    else:
        dtype = np.result_type(*weak) if weak else np.dtype("float64")
    if floating and dtype.kind in "biu":
        dtype = np.dtype("float64")
    return dtype.name


def numpy_dtype(dtype: str) -> str:
    """NumPy's name of a dtype in generated code: ``np.bool_`` for booleans, which NumPy 1.x
    (``np.bool`` is NumPy 2's) and Numba both know."""
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"
