"""Arguments with structure: dicts, lists and tuples of arrays, and model objects.

A structured argument is split into *leaves* (its arrays), each an argument of the generated
code, and a *skeleton* (everything else), part of what the code is specialised on. The tracer
sees the structure rebuilt around the traced arrays: a dict of arrays, or for a model object a
:class:`ModelView` whose parameter attributes are traced arrays and whose methods run on the
view. Gradients come back in the argument's structure, or keyed by parameter path.

A path names a leaf from its argument: ``"fc1.W"`` (attribute ``W`` of attribute ``fc1``),
``"params.W"`` (key ``"W"`` of a dict attribute), ``"layers.0.W"`` (item 0 of a list).
Python numbers inside a structure are constants of the generated code; parameters are arrays.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from symdiff.arrays import is_array_api_array
from symdiff.errors import ArgumentError
from symdiff.markers import has_source, trace_hook

Steps = tuple  # of ("attr", name) | ("key", key) | ("index", i)
_METHODS = ("forward", "construct", "__call__")  # what calling a model runs, in this order


class Ref:
    """A model object in a skeleton: equal only to itself, so each model has its own code."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __repr__(self) -> str:
        return f"<{type(self.obj).__name__} object>"


def is_model(value: Any) -> bool:
    """An instance of a user class (not an array of any library, number, function, module or
    class)."""
    return hasattr(value, "__dict__") and not is_array_api_array(value) and not isinstance(
        value, (type, types.FunctionType, types.MethodType, types.ModuleType, np.ndarray,
                np.generic, functools.partial)) and \
        type(value).__module__ not in ("builtins", "numpy") and \
        trace_hook(value) is None and not has_source(value)  # grad(f) and friends are functions


def is_structured(value: Any) -> bool:
    if isinstance(value, dict) or is_model(value):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, (np.ndarray, np.generic)) or is_structured(v) for v in value)


def holds_floats(value: Any) -> bool:
    """A tuple, list or dict holding Python floats (nested): differentiated, they are leaves
    (``grad(saxpy)((a, b, c))``, ``grad(f)({"a": 0.5, "b": 2.0})``)."""
    if isinstance(value, float):
        return True
    items = value.values() if isinstance(value, dict) else \
        value if isinstance(value, (list, tuple)) else ()
    return any(holds_floats(v) for v in items)


def split(value: Any, steps: Steps = (), floats: bool = False
          ) -> tuple[Any, list[tuple[Steps, Any]]]:
    """The skeleton of ``value`` and its leaves, as (steps from ``value``, array); with
    ``floats``, its Python floats are leaves too (else they are fixed, like other numbers)."""
    leaves: list[tuple[Steps, Any]] = []
    models: dict[int, int] = {}  # id of a model object -> its order of first appearance

    def walk(v: Any, at: Steps) -> Any:
        if isinstance(v, (np.ndarray, np.generic)) or floats and isinstance(v, float):
            leaves.append((at, v))
            return ("leaf",)
        if isinstance(v, dict):
            for k in v:
                if not isinstance(k, (str, int)):
                    raise ArgumentError(f"dict keys must be strings or integers, got {k!r}")
            return ("dict", tuple((k, walk(x, at + (("key", k),))) for k, x in v.items()))
        if isinstance(v, (list, tuple)) and (is_structured(v) or floats and holds_floats(v)):
            return (type(v).__name__,
                    tuple(walk(x, at + (("index", i),)) for i, x in enumerate(v)))
        if is_model(v):
            if id(v) in models:  # the same layer reached twice: one set of parameters
                return ("seen", models[id(v)])
            models[id(v)] = len(models)
            attrs = tuple((name, walk(x, at + (("attr", name),))) for name, x in vars(v).items()
                          if isinstance(x, (np.ndarray, np.generic)) or is_structured(x))
            return ("object", Ref(v), attrs)
        try:
            hash(v)
        except TypeError:
            raise ArgumentError(f"{type(v).__name__} values inside an argument are not "
                                "supported; use arrays, numbers, dicts, lists and tuples") from None
        return ("static", v)

    return walk(value, steps), leaves


def build(skeleton: Any, leaves: Iterator[Any], views: list | None = None) -> Any:
    """The structure of ``skeleton`` around ``leaves`` (in the order ``split`` gave them)."""
    views = [] if views is None else views
    kind = skeleton[0]
    if kind == "leaf":
        return next(leaves)
    if kind == "static":
        return skeleton[1]
    if kind == "seen":
        return views[skeleton[1]]
    if kind == "dict":
        return {k: build(s, leaves, views) for k, s in skeleton[1]}
    if kind in ("list", "tuple"):
        items = [build(s, leaves, views) for s in skeleton[1]]
        return items if kind == "list" else tuple(items)
    attrs: dict[str, Any] = {}
    view = ModelView(skeleton[1].obj, attrs)
    views.append(view)
    attrs.update((name, build(s, leaves, views)) for name, s in skeleton[2])
    return view


class ModelView:
    """A model object inside traced code: its parameters are the traced arrays, its other
    attributes are read from the object, and its methods run with ``self`` the view."""

    def __init__(self, obj: Any, attrs: dict[str, Any]):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_attrs", attrs)

    def remember(self, name: str, value: Any) -> None:
        """An attribute the traced code assigns, for the rest of the trace only."""
        object.__getattribute__(self, "_attrs")[name] = value

    def unwrapped_owner(self, name: str) -> Any:
        """The object an attribute that is not traced (not a parameter, nor assigned by the
        traced code) is read from, or None for a traced one."""
        if name in object.__getattribute__(self, "_attrs"):
            return None
        return object.__getattribute__(self, "_obj")

    def __getattr__(self, name: str) -> Any:
        attrs = object.__getattribute__(self, "_attrs")
        if name in attrs:
            return attrs[name]
        obj = object.__getattribute__(self, "_obj")
        member = inspect.getattr_static(type(obj), name, None)
        if isinstance(member, types.FunctionType):
            return types.MethodType(member, self)
        return getattr(obj, name)


def model_method(obj: Any) -> types.FunctionType:
    """The function that calling ``obj`` runs: its class's forward, construct or __call__."""
    cls = obj._obj.__class__ if isinstance(obj, ModelView) else type(obj)
    for name in _METHODS:
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, types.FunctionType):
            return member
    raise ArgumentError(f"{cls.__name__} objects cannot be called: define forward, construct "
                        "or __call__")


def unbind(callee: Any) -> tuple[Any, Any]:
    """For a call in traced code: (the model view to pass as ``self`` or None, the function)."""
    if isinstance(callee, types.MethodType) and isinstance(callee.__self__, ModelView):
        return callee.__self__, callee.__func__
    if isinstance(callee, ModelView):
        return callee, model_method(callee)
    return None, callee


def path_text(steps: Steps) -> str:
    return ".".join(str(s[1]) for s in steps)


def leaf_name(root: str | None, steps: Steps) -> str:
    """An identifier for a leaf in generated code: ``fc1_W`` for ``self.fc1.W``."""
    parts = ([root] if root else []) + [str(s[1]) for s in steps]
    return re.sub(r"\W", "_", "_".join(parts)) or "leaf"


def parameters(model: Any) -> list[str]:
    """The paths of a model's parameters (its float arrays), in attribute order:
    ``["fc1.W", "fc1.b", "fc2.W", ...]``."""
    if not is_model(model):
        raise ArgumentError(f"parameters() needs a model object, got {type(model).__name__}")
    _, leaves = split(model)
    return [path_text(steps) for steps, value in leaves if np.asarray(value).dtype.kind == "f"]


def is_model_skeleton(skeleton: Any) -> bool:
    return skeleton[0] == "object"


# -- tuples and lists of values (results, aux, residuals, tangents) ---------------------------

class _Leaf:
    """Where a leaf was in a flattened structure."""

    def __repr__(self) -> str:
        return "<leaf>"


LEAF = _Leaf()


def flatten(value: Any, leaves: list[Any], is_leaf: Callable[[Any], bool],
            refuse: Callable[[Any], Exception | None] = lambda v: None) -> Any:
    """The structure of ``value``'s tuples and lists, each value with ``is_leaf`` appended to
    ``leaves`` and replaced by ``LEAF``; other values stay as they are, unless ``refuse``
    gives an exception for them."""
    if isinstance(value, (tuple, list)):
        return type(value)(flatten(v, leaves, is_leaf, refuse) for v in value)
    if is_leaf(value):
        leaves.append(value)
        return LEAF
    error = refuse(value)
    if error is not None:
        raise error
    return value


def unflatten(structure: Any, leaves: Iterable[Any], sequence: type | None = None) -> Any:
    """``structure`` with its ``LEAF`` marks replaced by ``leaves`` in order; ``sequence``
    (such as ``tuple``) replaces the type of every tuple and list."""
    items = iter(leaves)

    def rebuild(s: Any) -> Any:
        if s is LEAF:
            return next(items)
        if isinstance(s, (tuple, list)):
            return (sequence or type(s))(rebuild(t) for t in s)
        return s

    return rebuild(structure)
