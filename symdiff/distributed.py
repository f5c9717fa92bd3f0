"""Gradients over Dask arrays: the data stays where its chunks are.

A loss that is a sum or a mean over the rows of its data arguments (``symdiff.ir.separable``)
runs as one task per chunk of rows: the code symdiff generates for the whole function (Numba's,
with ``backend="numba"``), on that chunk, where the chunk is, giving the chunk's value and
gradient; a tree of additions combines them (a mean weights each chunk by its rows). Only the
parameters travel to the workers and only values and gradients come back: no process ever
holds the data. The tasks carry the generated module's text, so workers need symdiff (for its
loader) but not the loss's source file.

Any other function (one that mixes rows, differentiates with respect to the data, or reads
arrays from outside itself) runs the ``array_api`` code on the Dask arrays themselves: Dask
builds a task graph of the whole computation, computed where the scheduler puts it.
``symdiff.distributed.plan(grad_fun, *args)`` says which path a call takes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.arrays import is_dask_array
from symdiff.errors import ArgumentError, SizeError
from symdiff.runtime import CachedModule, for_the_code, load

_LOADED: dict[tuple[str, bool, str], Callable] = {}  # in each worker: modules compiled there
_LOADING = threading.Lock()


@dataclass(frozen=True)
class Plan:
    """How a call on Dask arrays runs: ``"chunks"`` (one compiled task per chunk of rows,
    then a tree reduction; ``split`` is ``"sum"`` or ``"mean"``) or ``"lazy"`` (the array_api
    code on the Dask arrays), and why."""

    path: str
    split: str | None
    reason: str


def plan(grad_function: Any, *args: Any, **kwargs: Any) -> Plan:
    """Which path ``grad_function(*args, **kwargs)`` takes on its Dask arguments."""
    return _plan(grad_function, grad_function.bind(args, kwargs))


def _plan(gf: Any, values: list[Any]) -> Plan:
    data = tuple(i for i, v in enumerate(values) if is_dask_array(v))
    options = gf.options
    if set(data) & set(options.argnums):
        return Plan("lazy", None, "it differentiates with respect to a Dask array")
    if options.has_aux or options.output != "scalar" or not gf.plain:
        return Plan("lazy", None, "it returns auxiliary outputs or takes structured arguments")
    if any(np.ndim(values[i]) == 0 for i in data):
        return Plan("lazy", None, "a Dask argument has no rows (a 0-d array)")
    rows = {values[i].shape[0] for i in data}
    if len(rows) != 1 or any(np.isnan(values[i].shape[0]) for i in data):
        return Plan("lazy", None, "the Dask arguments' numbers of rows differ or are unknown")
    split = gf.split_over_rows(values, data)
    if split is None:
        return Plan("lazy", None, "the loss is not a sum or a mean over the rows of its data")
    return Plan("chunks", split, f"the loss is a {split} over the rows of its data")


def call(gf: Any, values: list[Any]) -> Any:
    """``gf`` (a gradient function) called on ``values``, some of them Dask arrays."""
    how = _plan(gf, values)
    if how.path == "lazy":
        return _lazily(gf, values)
    return _over_chunks(gf, values, how.split)


def _lazily(gf: Any, values: list[Any]) -> Any:
    """The array_api code on the Dask arrays (NumPy arguments as one-chunk Dask arrays, for
    one namespace). The value and the gradients of NumPy arguments are computed (by Dask, on
    its workers) and come back as NumPy's; gradients with respect to Dask arrays stay lazy, as
    the data they are shaped like."""
    import dask
    import dask.array as da

    wrapped = [da.from_array(v) if isinstance(v, np.ndarray) else v for v in values]
    result = gf.lazy()(*wrapped)
    if any(is_dask_array(values[a]) for a in gf.options.argnums):
        return result
    computed = dask.compute(result)[0]
    if gf.with_value and not gf.options.has_aux and np.ndim(computed[0]) == 0:
        computed = (float(computed[0]), *computed[1:])
    return computed


def _over_chunks(gf: Any, values: list[Any], split: str) -> Any:
    import dask

    data = [i for i, v in enumerate(values) if is_dask_array(v)]
    first = values[data[0]]
    row_chunks = first.rechunk({a: -1 for a in range(1, first.ndim)}).chunks[0]
    blocks = {i: values[i].rechunk({0: row_chunks, **{a: -1 for a in range(1, values[i].ndim)}})
              .to_delayed().reshape(-1) for i in data}
    total = sum(row_chunks)
    modules = {}
    parts = []
    for c, rows in enumerate(row_chunks):
        if rows == 0:
            continue
        if (rows == 1) not in modules:  # a chunk of one row has a unit axis: code of its own
            modules[rows == 1] = _module_for(gf, values, data, rows == 1)
        weight = rows / total if split == "mean" else 1.0
        args = [blocks[i][c] if i in blocks else v for i, v in enumerate(values)]
        parts.append(dask.delayed(chunk_result)(
            modules[rows == 1], gf.with_value, gf.options.backend, weight, *args))
    if not parts:
        raise ArgumentError(f"{gf.fun.__qualname__}: the Dask arguments have no rows")
    while len(parts) > 1:  # a tree: no task adds up more than two chunks' results
        parts = [dask.delayed(_added)(*parts[k:k + 2]) if k + 1 < len(parts) else parts[k]
                 for k in range(0, len(parts), 2)]
    value, grads = parts[0].compute()
    grads = tuple(float(g) if isinstance(values[a], float) else g
                  for g, a in zip(grads, gf.options.argnums, strict=True))
    out_grads = grads[0] if gf.options.single else grads
    return (value, out_grads) if gf.with_value else out_grads


def _module_for(gf: Any, values: list[Any], data: Sequence[int], one_row: bool) -> CachedModule:
    """The generated module for chunks of ``values``' data (of one row, or more), as text the
    tasks carry; generated here from small arrays of the chunks' dtypes and other sizes."""
    sample = [np.zeros((1 if one_row else 2, *v.shape[1:]), dtype=v.dtype) if i in data else v
              for i, v in enumerate(values)]
    module, _, every = gf._compiled(sample)
    if len(every) != len(values) or getattr(module, "decisions", ()) or \
            getattr(module, "assertions", ()):
        raise ArgumentError(f"{gf.fun.__qualname__} reads arrays from outside itself or draws "
                            "random numbers: its chunks cannot run on their own")
    return CachedModule(module.source, module.grad_name, module.value_and_grad_name,
                        module.signature, tuple(module.size_checks))


def chunk_result(module: CachedModule, with_value: bool, backend: str, weight: float,
                 *values: Any) -> tuple[Any, tuple]:
    """One chunk's value and gradients, times ``weight``: run in a worker, with the code
    compiled there once per process."""
    key = (module.source, with_value, backend)
    with _LOADING:
        compiled = _LOADED.get(key)
        if compiled is None:
            compiled = _LOADED[key] = load(module, with_value, backend)[1]
    checker = module.size_checker
    if checker is not None and checker(*values) >= 0:
        raise SizeError(f"a chunk's sizes fail a check of the generated code: "
                        f"{module.size_checks[checker(*values)][0]}")
    result = compiled(*for_the_code(module.signature, list(values)))
    value, grads = result if with_value else (None, result)
    grads = grads if isinstance(grads, tuple) else (grads,)
    return (None if value is None else float(value) * weight,
            tuple(np.asarray(g) * weight for g in grads))


def _added(a: tuple[Any, tuple], b: tuple[Any, tuple]) -> tuple[Any, tuple]:
    value = None if a[0] is None else a[0] + b[0]
    return value, tuple(x + y for x, y in zip(a[1], b[1], strict=True))
