"""Arrays selected by a boolean mask (``x[x > 0]``, ``err[labels == k]``), whose length
depends on the data: elementwise arithmetic runs on every element and keeps the mask, and
``sum``/``mean`` reduce the selected elements (``where=mask``). Nothing else needs them, so
anything else is refused, saying how to write it with ``np.where``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symdiff.frontend.calls import reshape
from symdiff.frontend.statistics import np_mean, np_sum
from symdiff.frontend.values import Masked, StaticError, Tensor
from symdiff.ir.graph import Graph

ELSEWHERE = ("x[mask] is supported in elementwise arithmetic and np.sum/np.mean (also .sum(), "
             ".mean()); for anything else write it with the whole array, as "
             "np.where(mask, x, 0.0) (np.sum(mask) counts the selected elements)")


def holds_masked(values: Any) -> bool:
    return any(isinstance(v, Masked) for v in values)


def _shared_mask(operands: list[Any]) -> Tensor:
    masks = {id(v.mask.node): v.mask for v in operands if isinstance(v, Masked)}
    if len(masks) > 1:
        raise StaticError("arrays selected by different masks have lengths that depend on the "
                          "data; " + ELSEWHERE)
    for v in operands:
        if isinstance(v, Tensor) and v.rank:
            raise StaticError("an array selected by a mask (x[mask]) combined with a whole "
                              "array; select both with the mask")
    return next(iter(masks.values()))


def elementwise(operation: Callable[..., Any], operands: list[Any]) -> Masked:
    """``operation`` of masked arrays and numbers, on every element; the mask is kept."""
    mask = _shared_mask(operands)
    return Masked(operation(*(v.values if isinstance(v, Masked) else v for v in operands)),
                  mask)


def reduce(g: Graph, callee: Any, args: list[Any], kwargs: dict[str, Any]) -> Tensor:
    """``np.sum(x[mask])``, ``np.mean(x[mask])``: the selected elements' sum or mean."""
    handler = {np.sum: np_sum, np.mean: np_mean}.get(callee)
    if handler is None or not args or not isinstance(args[0], Masked) or \
            holds_masked([*args[1:], *kwargs.values()]):
        raise StaticError(ELSEWHERE)
    selected = args[0]
    axis = kwargs.pop("axis", args[1] if len(args) > 1 else None)
    if axis not in (None, 0, -1) or set(kwargs) - {"keepdims", "dtype"} or len(args) > 2:
        raise StaticError("np.sum and np.mean of x[mask] (a 1-D array) take axis 0 and "
                          "keepdims; " + ELSEWHERE)
    total = handler(g, selected.values, None, where=selected.mask,
                    dtype=kwargs.get("dtype"))
    return reshape(g, total, (1,)) if kwargs.get("keepdims") else total
