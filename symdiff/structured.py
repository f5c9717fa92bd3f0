"""Gradient functions over structured arguments: the flat signature the pipeline sees, and the
gradients rebuilt in the shape the user asked for.

A *target* is what one gradient is taken with respect to: ``(position, None)`` for a whole
argument (an array, a float, or every float array of a structured argument), or
``(position, "fc1.W")`` for one array of a structured argument, by path. A *request* is a
target or a tuple or dict of requests: the result has the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from symdiff import trees
from symdiff.errors import ArgumentError
from symdiff.signature import ArgSpec, Options

Target = tuple  # (position, path text or None)


@dataclass
class _Leaf:
    position: int  # of its argument
    path: str | None  # None for a whole (unstructured) argument
    spec_index: int  # in the flat signature
    floating: bool
    differentiated: bool = False


@dataclass
class Layout:
    """One call's arguments, flattened: specs and values for the generated code."""

    specs: tuple[ArgSpec, ...]
    values: list[Any]
    options: Options
    leaves: list[_Leaf]
    skeletons: dict[int, Any] = field(default_factory=dict)  # position -> skeleton


def flatten(names: list[str], values: list[Any], request: Any, frozen: tuple[str, ...],
            options: Options, model_position: int | None, spec_of) -> Layout:
    """``spec_of(name, value, differentiated)`` makes the spec of one plain value."""
    targets = list(_targets(request))
    specs: list[ArgSpec] = []
    flat_values: list[Any] = []
    leaves: list[_Leaf] = []
    skeletons: dict[int, Any] = {}
    taken = set(names)
    for position, (name, value) in enumerate(zip(names, values, strict=True)):
        # the Python floats of a structure differentiated as a whole are differentiated too
        floats = (position, None) in targets and not isinstance(value, float) and \
            trees.holds_floats(value)
        if not trees.is_structured(value) and not floats:
            leaves.append(_Leaf(position, None, len(specs), _is_float(value)))
            specs.append(spec_of(name, value, (position, None) in targets))
            flat_values.append(value)
            continue
        skeleton, parts = trees.split(value, floats=floats)
        skeletons[position] = skeleton
        specs.append(ArgSpec(name, "tree", value=skeleton))
        for steps, array in parts:
            path = trees.path_text(steps)
            leaf_name = trees.leaf_name(None if position == model_position else name, steps)
            while leaf_name in taken:
                leaf_name = f"{name}_{leaf_name}"
            taken.add(leaf_name)
            leaves.append(_Leaf(position, path, len(specs), np.asarray(array).dtype.kind == "f"))
            specs.append(replace(spec_of(leaf_name, array, False), root=name))
            flat_values.append(array)
    _check_paths(names, targets, frozen, leaves, model_position)
    for leaf in leaves:  # a whole argument, or a float array requested and not frozen
        requested = (leaf.position, None) in targets or (leaf.position, leaf.path) in targets
        leaf.differentiated = requested and (leaf.path is None or leaf.floating and
                                             _label(names, leaf, model_position) not in frozen)
    argnums = tuple(leaf.spec_index for leaf in leaves if leaf.differentiated)
    if not argnums:
        raise ArgumentError("nothing to differentiate: every requested parameter is frozen or "
                            "not a float array")
    flat_options = replace(options, argnums=argnums, single=False)
    return Layout(tuple(specs), flat_values, flat_options, leaves, skeletons)


def rebuild(layout: Layout, grads: tuple, request: Any, model_position: int | None) -> Any:
    """The gradients in the shape of ``request``."""
    by_leaf = dict(zip((id(leaf) for leaf in layout.leaves if leaf.differentiated), grads,
                       strict=True))

    def one(target: Target) -> Any:
        position, path = target
        mine = [leaf for leaf in layout.leaves if leaf.position == position]
        if path is not None:
            return next(by_leaf.get(id(leaf)) for leaf in mine if leaf.path == path)
        if position not in layout.skeletons:
            return by_leaf[id(mine[0])]
        if position == model_position or trees.is_model_skeleton(layout.skeletons[position]):
            return {leaf.path: by_leaf[id(leaf)] for leaf in mine if leaf.differentiated}
        return trees.build(layout.skeletons[position],
                           iter([by_leaf.get(id(leaf)) for leaf in mine]))

    def _frozen(r: Any) -> bool:
        return isinstance(r, tuple) and r[1] is not None and not any(
            leaf.differentiated for leaf in layout.leaves
            if leaf.position == r[0] and leaf.path == r[1])

    def walk(r: Any) -> Any:
        if isinstance(r, dict):  # by path: frozen parameters get no entry
            return {k: walk(v) for k, v in r.items() if not _frozen(r[k])}
        if isinstance(r, list):
            return tuple(walk(v) for v in r)
        return one(r)

    if isinstance(request, tuple) and _frozen(request):
        raise ArgumentError(f"{request[1]!r} is frozen: it has no gradient")
    return walk(request)


def _targets(request: Any):
    if isinstance(request, dict):
        for r in request.values():
            yield from _targets(r)
    elif isinstance(request, list):
        for r in request:
            yield from _targets(r)
    else:
        yield request


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or np.asarray(value).dtype.kind == "f"


def _label(names: list[str], leaf: _Leaf, model_position: int | None) -> str:
    """How users name a leaf: ``fc1.W`` inside the model, ``params.W`` inside argument
    ``params``."""
    if leaf.position == model_position:
        return leaf.path
    return f"{names[leaf.position]}.{leaf.path}"


def _check_paths(names: list[str], targets: list[Target], frozen: tuple[str, ...],
                 leaves: list[_Leaf], model_position: int | None) -> None:
    labels = {_label(names, leaf, model_position): leaf for leaf in leaves
              if leaf.path is not None}
    known = ", ".join(labels) or "none"
    for position, path in targets:
        if path is None:
            continue
        leaf = next((x for x in leaves if x.position == position and x.path == path), None)
        if leaf is None:
            raise ArgumentError(f"no parameter {path!r} (parameters: {known})")
        if not leaf.floating:
            raise ArgumentError(f"parameter {path!r} is not a float array; only float arrays "
                                "can be differentiated")
    for path in frozen:
        if path not in labels:
            raise ArgumentError(f"frozen={path!r}: no such parameter (parameters: {known})")
