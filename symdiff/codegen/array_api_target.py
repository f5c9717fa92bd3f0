"""The Array API target: the NumPy target's code, in the functions of the Array API standard.

Contract: the same statements the NumPy target writes (it derives from it; only the spelling
differs), for any library that array-api-compat knows (NumPy, CuPy, PyTorch, array-api-strict,
...). Each generated function takes its namespace and device from its array arguments
(``xp = array_api_compat.array_namespace(x, w)``) and creates arrays there, in the dtypes of
the graph (float32 in, float32 out). The standard's functions take arrays only: a Python
number (a constant, a size, a Python float argument) passed to one is made a 0-d array first.
Branches of ``xp.where`` are computed everywhere and may warn where they are not selected; the
standard has no way to silence that (``np.errstate``).
An operation the standard cannot express here raises an ``UnsupportedError`` naming it and the
backends that support it: nothing is written in NumPy's own terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst
import sympy as sp

from symdiff.codegen.array_api_helpers import ARRAY_API_HELPERS
from symdiff.codegen.array_api_printer import (
    DEVICE,
    NAMESPACE,
    ArrayApiPrinter,
    array_of,
    refusal,
)
from symdiff.codegen.emitter import Context, assignment, operand, python_floats
from symdiff.codegen.numpy_target import NumpyTarget, node_symbol
from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Node
from symdiff.ir.shapes import dim_text
from symdiff.rules import primitive
from symdiff.rules.indexing import index_text, is_array_index

Spelling = Callable[[Context, Node, list[str]], str]

# operations that the standard has no counterpart of, as the user wrote them
_REFUSED = {
    "cumprod": "np.cumprod (or the gradient of np.prod)",
    "cumprod_adjoint": "the gradient of np.cumprod",
    "argpartition": "np.argpartition", "partition_order": "np.partition",
    "running_argmax": "np.maximum.accumulate", "running_argmin": "np.minimum.accumulate",
    "running_extreme": "np.maximum.accumulate", "running_extreme_adjoint":
    "the gradient of np.maximum.accumulate", "solve_sylvester": "scipy.linalg.solve_sylvester",
}


class ArrayApiTarget(NumpyTarget):
    """The NumPy target's statements, spelled in ``xp.`` terms."""

    name = "array_api"
    imports = ("import array_api_compat",)
    helpers = ARRAY_API_HELPERS
    reserved = (NAMESPACE, DEVICE, "array_api_compat", *ARRAY_API_HELPERS)
    copy_call = f"{NAMESPACE}.asarray({{}}, copy=True)"

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        """The namespace and device of the array arguments; Python floats made 0-d arrays
        there, so that the standard's functions take them (and 1.0 / 0.0 is inf)."""
        names = [ctx.graph[i].param("name") for i in ctx.graph.inputs]
        for taken in sorted(set(names) & {NAMESPACE, DEVICE, "array_api_compat"}):
            raise UnsupportedError(f"the array_api backend names the array namespace "
                                   f"{NAMESPACE!r} and the device {DEVICE!r} in the code it "
                                   f"writes: rename the argument {taken!r}")
        arrays = [ctx.graph[i].param("name") for i in ctx.graph.inputs
                  if ctx.graph[i].rank or ctx.graph[i].param("zero_d", False)]
        if arrays:
            statements = [
                assignment(NAMESPACE, f"array_api_compat.array_namespace({', '.join(arrays)})"),
                assignment(DEVICE, f"array_api_compat.device({arrays[0]})")]
        else:  # Python floats only: computed with NumPy's namespace, returned as floats
            statements = [cst.parse_statement(f"import array_api_compat.numpy as {NAMESPACE}\n"),
                          assignment(DEVICE, "None")]
        statements += [assignment(name, array_of(name, "float64")) for name in python_floats(ctx)]
        return statements

    def finished(self, ctx: Context, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """The namespace and the device are named only where the code uses them (a gradient
        of sums and products may call no function at all)."""
        for name in (DEVICE, NAMESPACE):  # the namespace is read to find the device
            rest = "".join(cst.Module(body=[]).code_for_node(s) for s in body
                           if _assigned(s) != name)
            if not re.search(rf"\b{name}\b", rest):
                body = [s for s in body if _assigned(s) != name]
        return body

    def empty(self, shape: str, dtype: str) -> str:
        return f"{NAMESPACE}.empty({shape}, dtype={NAMESPACE}.{dtype}, device={DEVICE})"

    # --- the NumPy target's hooks -----------------------------------------------------------

    def printer(self, ctx: Context, node: Node, symbols: dict[sp.Symbol, str]
                ) -> ArrayApiPrinter:
        numbers = {node_symbol(i) for i in node.inputs if is_number(ctx, i)}
        floats = [ctx.graph[i].dtype for i in node.inputs if ctx.graph[i].is_float]
        dtype = node.dtype if node.is_float else max(floats, default="float64")
        if floats or node.is_float:
            # the standard promotes within a kind only: integer arrays meet floats as floats
            for i in node.inputs:
                if ctx.graph[i].dtype[0] in "iu" and not is_number(ctx, i):
                    symbols[node_symbol(i)] = f"{NAMESPACE}.astype({ctx.text[i]}, " \
                        f"{NAMESPACE}.{dtype})"
        if node.dtype != "bool" and not node.is_float:
            dtype = node.dtype
        return ArrayApiPrinter(symbols, numbers, dtype)

    def as_dtype(self, value: str, dtype: str) -> str:
        return array_of(value, dtype)

    def filled(self, shape: str, value: str, dtype: str) -> str:
        return f"{NAMESPACE}.broadcast_to({array_of(value, dtype)}, {shape})"

    def guarded(self, statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        return statements

    def assign(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if node.op == "scatter":
            return self._scatter(ctx, node)
        return super().assign(ctx, node)

    def spell(self, ctx: Context, node: Node, args: list[str]) -> str:
        spelling = _SPELLINGS.get(node.op)
        if primitive(node.op).external:
            raise refusal(f"{node.op[4:]!r}, a primitive registered with "
                          "symdiff.extend.register_primitive (its function is NumPy code)")
        if spelling is None:
            raise refusal(_REFUSED.get(node.op, f"{node.op!r}"))
        args = [array_operand(ctx, i, text) for i, text in zip(node.inputs, args, strict=True)]
        value = spelling(ctx, node, args)
        ctx.helpers.update(h for h in ARRAY_API_HELPERS if f"{h}(" in value)
        return value

    def _scatter(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        """The adjoint of ``x[index]``: the cotangent written into zeros at ``index`` (basic
        indexing reads each element once), or added where a 1-d index array read it."""
        index = node.param("index")
        ct, x, *arrays = node.inputs
        ct_text = array_operand(ctx, ct, operand(ctx.text[ct]))
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        if any(is_array_index(i) for i in index):
            axis = _gather_axis(ctx, node, index, arrays)
            size = dim_text(ctx.graph[x].shape[axis])
            ctx.helpers.add("_take_adjoint")
            return [assignment(target, f"_take_adjoint({ct_text}, {ctx.text[arrays[0]]}, "
                                       f"{size}, {axis})")]
        like = array_operand(ctx, x, operand(ctx.text[x]))
        zeros = f"{NAMESPACE}.zeros_like({like}, dtype={NAMESPACE}.{node.dtype})"
        where = _basic_index(index, [], node.rank)
        return [assignment(target, zeros), assignment(f"{target}[{where}]", ct_text)]


def _assigned(statement: cst.BaseStatement) -> str | None:
    """The name a plain ``name = value`` (or ``import ... as name``) statement binds."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value
    if isinstance(small, cst.Import) and small.names[0].asname is not None:
        return cst.Module(body=[]).code_for_node(small.names[0].asname.name)
    return None


def is_number(ctx: Context, node_id: int) -> bool:
    """Whether the code spells node ``node_id`` as a Python number: a constant, a size, or a
    rank-0 kernel of those (arguments are arrays: Python floats are made 0-d arrays)."""
    node = ctx.graph[node_id]
    if node.rank or node.op in ("input", "loop_out", "tape_read"):
        return False
    if node.op in ("const", "dim"):
        return True
    return node.op == "fused" and all(is_number(ctx, i) for i in node.inputs)


def array_operand(ctx: Context, node_id: int, text: str) -> str:
    """``text``, the spelling of node ``node_id``, as an array for a standard function."""
    return array_of(text, ctx.graph[node_id].dtype) if is_number(ctx, node_id) else text


def _basic_index(index: tuple, arrays: list[str], rank: int) -> str:
    """``index`` in the standard's terms: every axis indexed (``...`` for those left)."""
    text = index_text(index, arrays)
    if sum(1 for item in index if item is not None) < rank:
        return "..." if text == "()" else f"{text}, ..."
    return text


def _gather_axis(ctx: Context, node: Node, index: tuple, arrays: list[int]) -> int:
    """The axis a gather reads along: one 1-d index array, every other axis whole."""
    whole = ("slice", None, None, None)
    positions = [k for k, item in enumerate(index) if is_array_index(item)]
    if len(positions) != 1 or ctx.graph[arrays[0]].rank != 1 or \
            any(item != whole for k, item in enumerate(index) if k != positions[0]):
        raise refusal("indexing with integer arrays other than one 1-d index array along "
                      "one axis (x[i], x[:, i])")
    return positions[0]


def _getitem(ctx: Context, node: Node, a: list[str]) -> str:
    index = node.param("index")
    if not any(is_array_index(i) for i in index):
        return f"{a[0]}[{_basic_index(index, a[1:], ctx.graph[node.inputs[0]].rank)}]"
    axis = _gather_axis(ctx, node, index, list(node.inputs[1:]))
    return f"_take({a[0]}, {a[1]}, {axis})"


def _numpy_named(ctx: Context, node: Node, a: list[str]) -> str:
    """NumPy's own spelling, where the standard's function has NumPy's name and arguments
    (``np.sum(x, axis=0, keepdims=True)``)."""
    value = primitive(node.op).emit(a, node)
    assert value.startswith("np."), value
    return f"{NAMESPACE}.{value[3:]}"


def _reduction(ctx: Context, node: Node, a: list[str]) -> str:
    x = ctx.graph[node.inputs[0]]
    if x.dtype == "bool" or (node.op == "mean" and not x.is_float):
        # the standard sums numbers, and averages floats, only
        cast = node.dtype if node.op == "mean" else "int64"
        a = [f"{NAMESPACE}.astype({a[0]}, {NAMESPACE}.{cast})"]
    return _numpy_named(ctx, node, a)


def _transpose(ctx: Context, node: Node, a: list[str]) -> str:
    axes = node.param("axes")
    if axes == tuple(range(len(axes))):
        return a[0]
    if axes == (1, 0):
        return f"{a[0]}.T"  # the standard's .T is for matrices only
    return f"{NAMESPACE}.permute_dims({a[0]}, {axes})"


def _expand_dims(ctx: Context, node: Node, a: list[str]) -> str:
    """One axis at a time (the standard's expand_dims takes one), in increasing order of the
    result's axes, so that each lands where NumPy puts it."""
    value = a[0]
    for axis in sorted(k % node.rank for k in node.param("axes")):
        value = f"{NAMESPACE}.expand_dims({value}, axis={axis})"
    return value


def _outer(ctx: Context, node: Node, a: list[str]) -> str:
    if any(ctx.graph[i].rank != 1 for i in node.inputs):
        raise refusal("np.outer of arrays that are not vectors")
    return f"{a[0]}[:, None] * {a[1]}[None, :]"


def _astype(ctx: Context, node: Node, a: list[str]) -> str:
    if is_number(ctx, node.inputs[0]):
        return array_of(ctx.text[node.inputs[0]], node.param("dtype"))
    return f"{NAMESPACE}.astype({a[0]}, {NAMESPACE}.{node.param('dtype')})"


def _cumsum(ctx: Context, node: Node, a: list[str]) -> str:
    axis, reverse, exclusive = (node.param(k) for k in ("axis", "reverse", "exclusive"))
    if exclusive:
        return f"_exclusive_cumsum({a[0]}, {axis}, reverse={reverse})"
    if reverse:
        return f"{NAMESPACE}.flip({NAMESPACE}.cumulative_sum({NAMESPACE}.flip({a[0]}, " \
            f"axis={axis}), axis={axis}), axis={axis})"
    return f"{NAMESPACE}.cumulative_sum({a[0]}, axis={axis})"


def _solve(ctx: Context, node: Node, a: list[str]) -> str:
    # a right-hand side that is a vector solved as a one-column matrix: the standard reads a
    # stack of vectors otherwise
    if ctx.graph[node.inputs[1]].rank == 1:
        return f"{NAMESPACE}.linalg.solve({a[0]}, {a[1]}[:, None])[:, 0]"
    return f"{NAMESPACE}.linalg.solve({a[0]}, {a[1]})"


def _linalg(call: str, field: str = "") -> Spelling:
    def spell(ctx: Context, node: Node, a: list[str]) -> str:
        if node.param("upper") if "upper" in dict(node.params) else False:
            raise refusal("np.linalg.eigh with UPLO='U'")
        return f"{NAMESPACE}.linalg.{call.format(*a)}{field}"
    return spell


_SPELLINGS: dict[str, Spelling] = {
    "getitem": _getitem,
    "take_along_axis": lambda ctx, node, a: f"_take_along_axis({a[0]}, {a[1]}, "
                                            f"{node.param('axis')})",
    "take_along_axis_adjoint": lambda ctx, node, a: f"_take_along_axis_adjoint({a[0]}, "
                                                    f"{a[1]}, {a[2]}, {node.param('axis')})",
    # xp.matmul, not @: array_api_compat's promotes mixed float dtypes where a library's
    # own operator does not (PyTorch)
    "matmul": lambda ctx, node, a: f"{NAMESPACE}.matmul({a[0]}, {a[1]})",
    "outer": _outer,
    "sum": _reduction, "mean": _reduction, "max": _numpy_named, "min": _numpy_named,
    "prod": _numpy_named, "argmax": _numpy_named, "argmin": _numpy_named,
    "broadcast_to": _numpy_named, "reshape": _numpy_named, "squeeze": _numpy_named,
    "transpose": _transpose, "expand_dims": _expand_dims, "astype": _astype,
    "dim": lambda ctx, node, a: primitive("dim").emit(a, node),
    "arange": lambda ctx, node, a: f"{NAMESPACE}.arange({dim_text(node.param('stop'))}, "
                                   f"dtype={NAMESPACE}.int64, device={DEVICE})",
    "cumsum": _cumsum,
    "argsort": lambda ctx, node, a: f"{NAMESPACE}.argsort({a[0]}, axis={node.param('axis')}, "
                                    "stable=True)",
    "inv": _linalg("inv({})"), "pinv": _linalg("pinv({})"), "det": _linalg("det({})"),
    "solve": _solve, "cholesky": _linalg("cholesky({})"),
    "logabsdet": _linalg("slogdet({})", ".logabsdet"),
    "slogdet_sign": _linalg("slogdet({})", ".sign"),
    "eigh_values": _linalg("eigvalsh({})"), "eigh_vectors": _linalg("eigh({})", ".eigenvectors"),
    "qr_q": _linalg("qr({})", ".Q"), "qr_r": _linalg("qr({})", ".R"),
    "svd_u": _linalg("svd({}, full_matrices=False)", ".U"),
    "svd_s": _linalg("svd({}, full_matrices=False)", ".S"),
    "svd_vt": _linalg("svd({}, full_matrices=False)", ".Vh"),
}

ARRAY_API = ArrayApiTarget()
