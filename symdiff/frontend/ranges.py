"""Evenly spaced values in traced code: ``np.arange`` and ``np.linspace``, whose lengths may
be sizes known only when the code runs."""

from __future__ import annotations

import math
from typing import Any

from symdiff.frontend.calls import astype, elementwise, where
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, to_tensor, wrap_dim
from symdiff.ir import sizes
from symdiff.ir.graph import Graph, make_params


def static_int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StaticError(f"{what} must be an integer known when the gradient is generated, "
                          f"got {describe(value)}")
    return value



def indices(g: Graph, stop: Any) -> Tensor:
    """0, 1, ..., stop - 1 (``stop`` a size, maybe known only when the code runs)."""
    return Tensor(g.add("arange", [], make_params(stop=stop)))


def arange(g: Graph, start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Tensor:
    """``np.arange`` with integer or size bounds (any length), or float bounds known when the
    gradient is generated."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    bounds = [b.dim if isinstance(b, SymDim) else b for b in (start, stop, step)]
    if not all(isinstance(b, (int, float, sizes.Size)) and not isinstance(b, bool)
               for b in bounds):
        raise StaticError("np.arange needs bounds that are numbers or sizes known when the "
                          f"gradient is generated, got {', '.join(describe(b) for b in bounds)}")
    start, stop, step = bounds
    if step == 0:
        raise StaticError("np.arange: the step cannot be zero")
    if all(isinstance(b, int) for b in bounds) or isinstance(step, int) and \
            not any(isinstance(b, float) for b in bounds):
        count = sizes.range_len(start, stop, step)
        out = indices(g, count)
        if step != 1:
            out = elementwise(g, "mul", out, step)
        if start != 0:
            out = elementwise(g, "add", out, wrap_dim(start) if isinstance(start, sizes.Size)
                              else start)
    else:
        if not all(isinstance(b, (int, float)) for b in bounds):
            raise StaticError("np.arange with float bounds needs them known when the "
                              "gradient is generated")
        count = max(0, math.ceil((stop - start) / step))
        out = elementwise(g, "add", elementwise(g, "mul", indices(g, count), float(step)),
                          float(start))
    return astype(g, out, dtype) if dtype is not None else out


def linspace(g: Graph, start: Any, stop: Any, num: Any = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values; ``start`` and ``stop`` may be traced values (scalars)."""
    if axis != 0:
        raise StaticError("np.linspace: only axis=0 is supported")
    count = num.dim if isinstance(num, SymDim) else static_int(num, "np.linspace: num")
    if isinstance(count, int) and count < 0:
        raise StaticError("np.linspace: num must be non-negative")
    lo, hi = to_tensor(g, start), to_tensor(g, stop)
    if lo.rank or hi.rank:
        raise StaticError("np.linspace is supported with scalar start and stop")
    divisions = sizes.sub(count, 1) if endpoint else count
    positions = indices(g, count)
    span = elementwise(g, "sub", hi, lo)
    step = elementwise(g, "div", span, wrap_dim(divisions) if not isinstance(divisions, int)
                       else float(max(divisions, 1)))
    out = elementwise(g, "add", elementwise(g, "mul", positions, step), lo)
    if endpoint and (not isinstance(divisions, int) or divisions > 0):
        # the last value is stop exactly, as NumPy makes it (a run-time size divides: >= 1)
        last = elementwise(g, "eq", positions, wrap_dim(divisions) if not isinstance(
            divisions, int) else divisions)
        out = where(g, last, hi, out)
    out = astype(g, out, dtype) if dtype is not None else astype(g, out, "float64") \
        if not out.node.is_float else out
    return (out, step) if retstep else out
