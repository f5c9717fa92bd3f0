"""The table from NumPy, SciPy and ``math`` functions and array methods to what they mean in
a graph (handlers in ``symdiff.frontend.calls``, and here those written with the primitives of
other functions), how a handler is called, and the registries user code extends."""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from symdiff import markers
from symdiff.frontend import arrangements as A
from symdiff.frontend import linalg, ranges
from symdiff.frontend.calls import (
    Handler,
    arange,
    array,
    array_like,
    asarray,
    astype,
    axes_of,
    binary_op,
    broadcast_to,
    cast,
    clip,
    concatenate,
    copy,
    elementwise,
    expand_dims,
    fill_like,
    log,
    log_base,
    math_log,
    new_array,
    np_reshape,
    outer,
    ravel,
    reshape,
    squeeze,
    stack,
    stop_gradient,
    take_along_axis,
    transpose,
    unary_op,
    where,
)
from symdiff.frontend.contractions import (
    cross,
    diag,
    diagonal,
    dot,
    einsum,
    inner,
    kron,
    matmul_any,
    multi_dot,
    tensordot,
    trace,
    vdot,
)
from symdiff.frontend.indexing import indexed
from symdiff.frontend.numeric import (
    angle,
    exp2,
    expit,
    float_power,
    logaddexp2,
    logit,
    logsumexp,
    nan_to_num,
    real_part,
    reciprocal,
    round_,
    scaled,
    select,
    xlogy,
)
from symdiff.frontend.scans import (
    accumulate,
    arg_extreme,
    argpartition,
    argsort,
    cumulative,
    median,
    partition,
    prod,
    quantile_of,
    sort,
)
from symdiff.frontend.special import special_table
from symdiff.frontend.statistics import (
    allclose,
    average,
    count_nonzero,
    extremum,
    isclose,
    logical_reduction,
    nan_extremum,
    nanmean,
    nansum,
    np_mean,
    np_sum,
    ptp,
    real_test,
)
from symdiff.frontend.stats import stats_table
from symdiff.frontend.values import (
    StaticError,
    SymDim,
    Tensor,
    describe,
    is_number,
    to_tensor,
    wrap_dim,
)
from symdiff.ir.graph import Graph, make_params
from symdiff.ir.shapes import dim_add, dim_product
from symdiff.rules.reductions import reduce

# --- functions written with the primitives of others ---------------------------------------

def _variance(root: bool) -> Handler:
    """``np.var`` and ``np.std``: the mean squared deviation from the mean, over ``count -
    ddof`` values."""
    def handler(g: Graph, a: Any, axis: Any = None, ddof: int = 0,
                keepdims: bool = False) -> Tensor:
        x = array_like(g, a)
        axes = axes_of(x, axis)
        if not isinstance(ddof, int) or isinstance(ddof, bool) or ddof < 0:
            raise StaticError("ddof must be a non-negative integer known while generating")
        centred = elementwise(g, "sub", x, Tensor(reduce(g, "mean", x.node, axes, True)))
        squares = elementwise(g, "mul", centred, centred)
        if ddof == 0:
            out = Tensor(reduce(g, "mean", squares.node, axes, bool(keepdims)))
        else:
            reduced = [d for k, d in enumerate(x.shape) if axes is None or k in axes]
            total = Tensor(reduce(g, "sum", squares.node, axes, bool(keepdims)))
            out = elementwise(g, "div", total, wrap_dim(dim_add(dim_product(reduced), -ddof)))
        return elementwise(g, "sqrt", out) if root else out
    return handler


def diff(g: Graph, a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """``np.diff``: ``x[1:] - x[:-1]`` along ``axis``, ``n`` times."""
    x = to_tensor(g, a)
    if x.rank == 0:
        raise StaticError("np.diff needs an array of at least one dimension")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise StaticError("np.diff: n must be a non-negative integer known while generating")
    (ax,) = axes_of(x, axis)
    full = ("slice", None, None, None)
    for _ in range(n):
        upper = tuple(("slice", 1, None, None) if k == ax else full for k in range(x.rank))
        lower = tuple(("slice", None, -1, None) if k == ax else full for k in range(x.rank))
        x = elementwise(g, "sub", Tensor(g.add("getitem", [x.node], make_params(index=upper))),
                        Tensor(g.add("getitem", [x.node], make_params(index=lower))))
    return x


def eye(g: Graph, N: Any, M: Any = None, k: int = 0, dtype: Any = None) -> Tensor:
    """``np.eye``: ones where the column is the row plus ``k``."""
    if not isinstance(k, int) or isinstance(k, bool):
        raise StaticError("np.eye: k must be an integer known while generating")
    rows = expand_dims(g, arange(g, N), -1)
    cols = expand_dims(g, arange(g, N if M is None else M), 0)
    on = elementwise(g, "eq", elementwise(g, "sub", cols, rows), k)
    out = where(g, on, 1.0, 0.0)
    return astype(g, out, dtype) if dtype is not None else out


_UNARY_OPS = {
    "exp": (np.exp, math.exp), "log1p": (np.log1p, math.log1p),
    "expm1": (np.expm1, math.expm1), "sqrt": (np.sqrt, math.sqrt), "sin": (np.sin, math.sin),
    "cos": (np.cos, math.cos), "tan": (np.tan, math.tan), "tanh": (np.tanh, math.tanh),
    "sinh": (np.sinh, math.sinh), "cosh": (np.cosh, math.cosh),
    "arcsin": (np.arcsin, math.asin), "arccos": (np.arccos, math.acos),
    "arctan": (np.arctan, math.atan), "abs": (np.abs, np.absolute, np.fabs, math.fabs, abs),
    "square": (np.square,), "neg": (np.negative,), "sign": (np.sign,),
    "logical_not": (np.logical_not,), "arcsinh": (np.arcsinh, math.asinh),
    "arccosh": (np.arccosh, math.acosh), "arctanh": (np.arctanh, math.atanh),
    "cbrt": (np.cbrt,), "sinc": (np.sinc,), "floor": (np.floor,), "ceil": (np.ceil,),
    "trunc": (np.trunc, np.fix), "rint": (np.rint,), "isnan": (np.isnan,),
    "isinf": (np.isinf,), "isfinite": (np.isfinite,),
}
_BINARY_OPS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "logaddexp": np.logaddexp,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "arctan2": np.arctan2, "hypot": np.hypot, "fmax": np.fmax,
    "fmin": np.fmin, "mod": np.mod, "fmod": np.fmod, "heaviside": np.heaviside,
}


def _function_table() -> dict[Any, Handler]:
    table: dict[Any, Handler] = {}
    for op, functions in _UNARY_OPS.items():
        for f in functions:
            table[f] = unary_op(op)
    for op, f in _BINARY_OPS.items():
        table[f] = binary_op(op)
    table.update({
        np.sum: np_sum, np.mean: np_mean, np.max: extremum("max"), np.amax: extremum("max"),
        np.min: extremum("min"), np.amin: extremum("min"),
        np.matmul: matmul_any, np.dot: dot, np.outer: outer, np.transpose: transpose,
        np.reshape: np_reshape, np.ravel: ravel, np.expand_dims: expand_dims,
        np.squeeze: squeeze, np.broadcast_to: broadcast_to, np.where: where, np.clip: clip,
        np.ones_like: fill_like(1.0), np.zeros_like: fill_like(0.0), np.full_like: fill_like(None),
        np.zeros: new_array(0.0), np.ones: new_array(1.0), np.empty: new_array(0.0),
        np.full: new_array(None),
        np.arange: ranges.arange, np.take_along_axis: take_along_axis, np.stack: stack,
        np.concatenate: concatenate, np.array: array, np.asarray: asarray, np.copy: copy,
        np.log: log, np.log2: log_base(2.0), np.log10: log_base(10.0), math.log: math_log,
        markers.stop_gradient: stop_gradient,
        np.shape: lambda g, a: tensor_attribute(g, to_tensor(g, a), "shape"),
        np.ndim: lambda g, a: to_tensor(g, a).rank,
        np.size: array_size,
        np.var: _variance(False), np.std: _variance(True), np.diff: diff,
        np.atleast_1d: A.at_least(1), np.atleast_2d: A.at_least(2), np.atleast_3d: A.at_least(3),
        np.eye: eye, np.identity: lambda g, n, dtype=None: eye(g, n, dtype=dtype),
        math.atan2: binary_op("arctan2"), math.hypot: binary_op("hypot"),
        np.reciprocal: reciprocal, np.exp2: exp2, np.float_power: float_power,
        np.logaddexp2: logaddexp2, np.round: round_, np.around: round_,
        np.nan_to_num: nan_to_num, np.positive: real_part, np.real: real_part,
        np.conj: real_part, np.conjugate: real_part, np.angle: angle,
        np.imag: lambda g, val: fill_like(0.0)(g, val),
        np.flip: A.flip, np.fliplr: lambda g, m: A.flip(g, m, 1),
        np.flipud: lambda g, m: A.flip(g, m, 0), np.rot90: A.rot90, np.swapaxes: A.swapaxes,
        np.moveaxis: A.moveaxis, np.rollaxis: A.rollaxis, np.roll: A.roll,
        np.triu: A.triangle(lower=False), np.tril: A.triangle(lower=True),
        np.vstack: A.vstack, np.hstack: A.hstack, np.dstack: A.dstack,
        np.column_stack: A.column_stack, np.append: A.append, np.split: A.split,
        np.array_split: A.array_split, np.hsplit: A.split_along(lambda rank: min(1, rank - 1)),
        np.vsplit: A.split_along(lambda rank: 0), np.dsplit: A.split_along(lambda rank: 2),
        np.tile: A.tile, np.repeat: A.repeat, np.take: A.take, np.pad: A.pad,
        np.linspace: ranges.linspace, np.select: select, np.gradient: A.gradient,
        np.real_if_close: lambda g, a, tol=100: real_part(g, a),
        **{kind: cast(kind) for kind in (np.float64, np.float32, np.int64, np.int32, np.int16,
                                         np.int8, np.uint8, np.bool_)},
        # np.row_stack, deprecated in NumPy 2.0, is gone from 2.5
        **({np.row_stack: A.vstack} if hasattr(np, "row_stack") else {}),
        np.deg2rad: scaled(math.pi / 180), np.radians: scaled(math.pi / 180),
        np.rad2deg: scaled(180 / math.pi), np.degrees: scaled(180 / math.pi),
        np.trace: trace, np.diag: diag, np.diagonal: diagonal, np.inner: inner,
        np.vdot: vdot, np.kron: kron, np.tensordot: tensordot, np.einsum: einsum,
        np.cross: cross, np.linalg.multi_dot: multi_dot,
        np.linalg.inv: linalg.inv, np.linalg.pinv: linalg.pinv, np.linalg.solve: linalg.solve,
        np.linalg.det: linalg.det,
        np.linalg.slogdet: linalg.slogdet, np.linalg.cholesky: linalg.cholesky,
        np.linalg.eigh: linalg.eigh, np.linalg.eigvalsh: linalg.eigvalsh,
        np.linalg.eig: linalg.eig, np.linalg.eigvals: linalg.eigvals, np.linalg.qr: linalg.qr,
        np.linalg.matrix_power: linalg.matrix_power, np.linalg.norm: linalg.norm,
        np.linalg.svd: linalg.svd,
        np.cumsum: cumulative("cumsum"), np.cumprod: cumulative("cumprod"), np.prod: prod,
        np.sort: sort, np.argsort: argsort, np.partition: partition,
        np.argpartition: argpartition, np.argmax: arg_extreme("argmax"),
        np.argmin: arg_extreme("argmin"), np.maximum.accumulate: accumulate("running_argmax"),
        np.minimum.accumulate: accumulate("running_argmin"), np.median: median, np.ptp: ptp,
        np.quantile: quantile_of(False), np.percentile: quantile_of(True),
        np.average: average, np.nansum: nansum, np.nanmean: nanmean,
        np.nanmax: nan_extremum("max"), np.nanmin: nan_extremum("min"),
        np.isclose: isclose, np.allclose: allclose, np.iscomplex: real_test(False),
        np.isreal: real_test(True), np.iscomplexobj: lambda g, a: False,
        np.isrealobj: lambda g, a: True,
        np.count_nonzero: count_nonzero, np.all: logical_reduction("all"),
        np.any: logical_reduction("any"),
    })
    return table


_TABLE: dict[Any, Handler] | None = None
_SCIPY = False  # whether SciPy's functions are in the table
_STATS = False  # whether scipy.stats' distributions are
_SCIPY_LINALG = False  # whether scipy.linalg's functions are


def function_handler(fun: Any) -> Handler | None:
    global _TABLE, _SCIPY, _STATS, _SCIPY_LINALG
    if _TABLE is None:
        _TABLE = _function_table()
    special = sys.modules.get("scipy.special")  # imported by the user's code, if it uses it
    if special is not None and not _SCIPY:
        _TABLE.update({special.logit: logit, special.xlogy: xlogy,
                       special.logsumexp: logsumexp, special.expit: expit})
        _TABLE.update(special_table(special))
        _SCIPY = True
    stats = sys.modules.get("scipy.stats")
    if stats is not None and not _STATS:
        _TABLE.update(stats_table(stats))
        _STATS = True
    scipy_linalg = sys.modules.get("scipy.linalg")
    if scipy_linalg is not None and not _SCIPY_LINALG:
        _TABLE.update(linalg.scipy_linalg_table(scipy_linalg))
        _SCIPY_LINALG = True
    try:
        return _TABLE.get(fun)
    except TypeError:  # unhashable
        return None


def supported_functions() -> dict[str, list[str]]:
    """What the function table covers, by family (``np``, ``np.linalg``, ``scipy.special``,
    ``scipy.stats``, ``math``, array methods), as users spell it: every entry but those that
    are there to refuse their function by name. SciPy's entries are counted once the user's
    code (or the caller) has imported ``scipy.special`` and ``scipy.stats``."""
    function_handler(None)  # the table, with SciPy's entries if SciPy is imported
    assert _TABLE is not None
    families: dict[str, set[str]] = {}
    special = sys.modules.get("scipy.special")
    for callee, handler in _TABLE.items():
        if getattr(handler, "refuses", False) or getattr(callee, "__module__", "") == \
                "symdiff.markers":
            continue
        owner = getattr(callee, "__self__", None)
        if type(owner).__module__.startswith("scipy.stats"):  # scipy.stats.norm.logpdf
            dist = getattr(owner, "name", type(owner).__name__.removesuffix("_gen"))
            family, name = "scipy.stats", f"{dist}.{callee.__name__}"
        else:
            name = callee.__name__
            module = getattr(callee, "__module__", None) or "numpy"
            family = "np" if getattr(np, name, None) is callee else \
                "scipy.special" if special is not None and \
                getattr(special, name, None) is callee else \
                "np.linalg" if module.startswith("numpy.linalg") else \
                "scipy.linalg" if module.startswith("scipy.linalg") else \
                "math" if module == "math" else "np" if module.startswith("numpy") else \
                module
        families.setdefault(family, set()).add(name)
    families["array methods"] = set(METHODS)
    return {family: sorted(names) for family, names in sorted(families.items())}


# classes whose objects' forward is traced by a tracer of their own (symdiff.extend's Ops):
# class -> tracer(graph, model view, args, kwargs)
_OP_TRACERS: dict[type, Callable[..., Any]] = {}


def register_op_tracer(op_class: type, tracer: Callable[..., Any]) -> None:
    _OP_TRACERS[op_class] = tracer


def op_tracer(op_class: type) -> Callable[..., Any] | None:
    """How a call of an ``op_class`` object's forward is traced, if it has its own way."""
    return _OP_TRACERS.get(op_class)


def register_function(fun: Any, handler: Handler) -> None:
    """What calls of ``fun`` mean from now on (``symdiff.extend`` adds user primitives)."""
    function_handler(fun)  # the table is built on first use
    assert _TABLE is not None
    _TABLE[fun] = handler


def _sorts_in_place(g: Graph, x: Any, *args: Any, **kwargs: Any) -> None:
    raise StaticError("x.sort() sorts the array in place and returns None; write "
                      "x = np.sort(x) instead")


def item(g: Graph, x: Tensor, *index: Any) -> Tensor:
    """``x.item()``: the one element of an array of size 1 (or ``x.item(i)``, the i-th of the
    flattened array), a number."""
    if index:
        return indexed(g, reshape(g, x, -1), index if len(index) > 1 else (index[0],))
    return x if x.rank == 0 else reshape(g, x, ())


METHODS: dict[str, Handler] = {
    "item": item,
    "sum": np_sum, "mean": np_mean, "max": extremum("max"), "min": extremum("min"),
    "all": logical_reduction("all"), "any": logical_reduction("any"), "reshape": reshape,
    "dot": dot, "transpose":
        lambda g, x, *axes: transpose(g, x, axes[0] if len(axes) == 1 and
                                      isinstance(axes[0], tuple) else (axes or None)),
    "squeeze": squeeze, "clip": lambda g, x, a_min=None, a_max=None: clip(g, x, a_min, a_max),
    "ravel": ravel, "flatten": ravel, "astype": astype, "copy": copy,
    "var": _variance(False), "std": _variance(True), "round": round_,
    "conj": real_part, "conjugate": real_part, "repeat": A.repeat, "take": A.take,
    "swapaxes": A.swapaxes, "trace": trace,
    "diagonal": diagonal,
    "cumsum": cumulative("cumsum"), "cumprod": cumulative("cumprod"), "prod": prod,
    "argsort": argsort, "argpartition": argpartition, "argmax": arg_extreme("argmax"),
    "argmin": arg_extreme("argmin"),
    "sort": _sorts_in_place,
}


def array_size(g: Graph, a: Any, axis: int | None = None) -> Any:
    """``np.size(a)``, or the length of one axis."""
    shape = to_tensor(g, a).shape
    if axis is None:
        return wrap_dim(dim_product(shape))
    if not isinstance(axis, int) or not -len(shape) <= axis < len(shape):
        raise StaticError(f"axis {axis!r} is out of bounds for an array of rank {len(shape)}")
    return wrap_dim(shape[axis])


def tensor_attribute(g: Graph, x: Tensor, name: str) -> Any:
    if name == "T":
        return transpose(g, x)
    if name == "shape":
        return tuple(wrap_dim(d) for d in x.shape)
    if name == "ndim":
        return x.rank
    if name == "size":
        return array_size(g, x)
    if name == "dtype":
        return np.dtype(x.node.dtype)
    if name == "real":  # of a real array: the array itself
        return x
    if name == "imag":  # of a real array: zeros of its shape
        return Tensor(g.add("fill", [x.node], make_params(value=0.0)))
    raise StaticError(f"array attribute .{name} is not supported")



# --- calling handlers ----------------------------------------------------------------------

def bind_call(handler: Handler, graph: Graph, args: list[Any], kwargs: dict[str, Any],
               name: str) -> Any:
    try:
        inspect.signature(handler).bind(graph, *args, **kwargs)
    except TypeError as exc:
        raise StaticError(f"{name}: {exc}; symdiff supports the arguments "
                          f"{_handler_params(handler)}") from None
    return handler(graph, *args, **kwargs)


def _handler_params(handler: Handler) -> str:
    params = list(inspect.signature(handler).parameters)[1:]
    return "(" + ", ".join(params) + ")"


def static_number(value: Any) -> bool:
    return is_number(value) and not isinstance(value, (Tensor, SymDim))


def callee_name(callee: Any) -> str:
    """How the user would spell a callable: ``np.fft.fft()``, ``scipy.special.expit()``."""
    if inspect.ismodule(callee):
        return f"module {callee.__name__}"
    name = getattr(callee, "__qualname__", None) or getattr(callee, "__name__", None)
    if name is None:
        return describe(callee)
    module = getattr(callee, "__module__", None) or ""
    if module.split(".")[0] == "numpy":
        module = "np" + module[len("numpy"):]
    prefix = f"{module}." if module and module != "builtins" else ""
    return f"{prefix}{name}()" if callable(callee) else f"{prefix}{name}"
