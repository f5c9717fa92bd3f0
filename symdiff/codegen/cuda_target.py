"""The CUDA target: each loop nest of the Numba target becomes a ``numba.cuda`` kernel.

Contract: the same graph and the same loop bodies as the Numba target (fusion, reductions in
the loop of the kernel they reduce, gathers and scatters), written for the GPU:
- the generated gradient is a plain Python function that moves the array arguments to the
  device, launches one kernel per loop nest and copies the array results back;
- a kernel runs one thread per element of its loop's range and recovers the loop variables
  from the thread's index, so its body reads exactly like the Numba loop's body;
- iterations that add into one place (reductions, scatter-adds of gathers) add atomically;
- scalars live on the host: a reduction to a scalar is fetched when it is complete, and
  arithmetic on scalars is ordinary Python;
- element functions are ``math`` functions or small device functions, never NumPy calls;
- a contraction is a kernel with an inner loop, one thread per element of the product
  (correct for every shape, not tuned like cuBLAS).
Kernels with the same body are written once, so ``grad_f`` and ``value_and_grad_f`` share them.
"""

from __future__ import annotations

import libcst as cst

from symdiff.calculus.special import SpecialFunction
from symdiff.codegen.cuda_helpers import (
    CUDA_HELPERS,
    DEVICE_HELPERS,
    KERNEL_HELPERS,
    THREADS,
)
from symdiff.codegen.emitter import Context, assignment, operand
from symdiff.codegen.loop_nest import (
    REDUCTIONS,
    ScalarPrinter,
    basic_positions,
    element_at,
    loop_vars,
    slice_target,
    zero_d_arrays,
)
from symdiff.codegen.numba_target import NumbaTarget
from symdiff.codegen.printer import FUNCTIONS, numpy_dtype
from symdiff.codegen.rows import argsort_ranks
from symdiff.errors import UnsupportedError
from symdiff.ir.graph import Node
from symdiff.ir.shapes import canon, dim_product, shape_text
from symdiff.rules import primitive
from symdiff.rules.decompositions import FUNCTIONS as LINALG_FUNCTIONS
from symdiff.rules.indexing import is_array_index

_MATH = {"np.exp": "math.exp", "np.log": "math.log", "np.log1p": "math.log1p",
         "np.expm1": "math.expm1", "np.sin": "math.sin", "np.cos": "math.cos",
         "np.tan": "math.tan", "np.tanh": "math.tanh", "np.sinh": "math.sinh",
         "np.cosh": "math.cosh", "np.arcsin": "math.asin", "np.arccos": "math.acos",
         "np.arctan": "math.atan", "np.abs": "abs", "np.sign": "_d_sign",
         "np.logaddexp": "_d_logaddexp", "np.maximum": "_d_maximum",
         "np.minimum": "_d_minimum", "_sigmoid": "_d_sigmoid", "np.arctan2": "math.atan2",
         "np.arcsinh": "math.asinh", "np.arccosh": "math.acosh", "np.arctanh": "math.atanh",
         "np.hypot": "math.hypot", "np.cbrt": "_d_cbrt", "np.sinc": "_d_sinc",
         "np.floor": "_d_floor", "np.ceil": "_d_ceil", "np.trunc": "_d_trunc",
         "np.rint": "_d_rint", "np.mod": "_d_mod", "np.fmod": "math.fmod", "np.fmax": "_d_fmax",
         "np.fmin": "_d_fmin", "_heaviside": "_d_heaviside", "np.isnan": "math.isnan",
         "np.isinf": "math.isinf", "np.isfinite": "math.isfinite"}
DEVICE_FUNCTIONS = {kind: _MATH[name] for kind, name in FUNCTIONS.items()}


class DevicePrinter(ScalarPrinter):
    """One element on the GPU: ``math`` functions and device helpers."""

    FUNCTIONS = DEVICE_FUNCTIONS
    HELPER_FUNCTIONS = {kind: name for kind, name in DEVICE_FUNCTIONS.items()
                        if name.startswith("_d_")}
    SQRT, INF, NAN, E, PI = "math.sqrt", "math.inf", "math.nan", "math.e", "math.pi"

    def print_special(self, expr: SpecialFunction) -> str:
        name, args = expr.printed()
        device = _DEVICE_SPECIAL.get(name)
        if device is None:
            raise UnsupportedError(f"the cuda backend has no scipy.special.{name} (used by this "
                                   "function or its derivative); use backend='numba' or "
                                   "'numpy' for this function")
        if device.startswith("_d_"):
            self.helpers.add(device)
        return f"{device}({', '.join(self._print(a) for a in args)})"


# the special functions numba.cuda has
_DEVICE_SPECIAL = {"erf": "math.erf", "erfc": "math.erfc", "gammaln": "math.lgamma",
                   "gamma": "math.gamma", "erfcx": "_d_erfcx"}


_ALWAYS = ("_grid", "_full", "_fill")  # what launches and allocations use
_NOT_PARAMETERS = {"math", "cuda", "np", "range", "min", "max", "abs", "float", "int", "bool",
                   "True", "False", "None"} | set(CUDA_HELPERS)


class CudaTarget(NumbaTarget):
    name = "cuda"
    imports = ("import math", "import numpy as np", "from numba import cuda",
               f"THREADS = {THREADS}  # threads per block")
    helpers = CUDA_HELPERS
    helper_requires: dict[str, tuple[str, ...]] = {}  # host code calls SciPy itself
    early_helpers = ()
    calls_user_functions = False  # array code runs in kernels, which cannot call them

    def __init__(self) -> None:
        self._kernels: dict[str, cst.FunctionDef] = {}
        self._kernel_names: dict[str, str] = {}  # kernel code -> its name
        self._views: dict[tuple[int, int], int] = {}  # transposes read through their source

    def decorators(self) -> list[cst.Decorator]:
        return []  # the gradient is host code; its kernels carry @cuda.jit

    def helper_decorators(self, name: str) -> list[cst.Decorator]:
        if name in DEVICE_HELPERS:
            return [cst.Decorator(cst.parse_expression("cuda.jit(device=True)"))]
        if name in KERNEL_HELPERS:
            return [cst.Decorator(cst.parse_expression("cuda.jit"))]
        return []

    def definitions(self) -> list[cst.FunctionDef]:
        return list(self._kernels.values())

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        ctx.helpers.update(_ALWAYS)
        statements = [assignment(name, f"{name}[()]") for name in zero_d_arrays(ctx)]
        for i in ctx.graph.inputs:
            node = ctx.graph[i]
            if node.rank > 0 and (ctx.users.get(i) or i in ctx.outputs):
                statements.append(assignment(node.param("name"),
                                             f"_to_device({node.param('name')})"))
                ctx.helpers.add("_to_device")
        if statements:
            statements[0] = statements[0].with_changes(leading_lines=[
                cst.EmptyLine(comment=cst.Comment("# arrays to the device"))])
        return statements

    def returned(self, ctx: Context, node_id: int) -> str:
        text = ctx.text[node_id]
        return f"{operand(text)}.copy_to_host()" if ctx.graph[node_id].rank > 0 else text

    def printer(self, names: dict, on_device: bool) -> ScalarPrinter:
        return DevicePrinter(names) if on_device else ScalarPrinter(names)

    # --- kernels ----------------------------------------------------------------------------

    def _loops(self, ctx: Context, loops: list[str], shape: tuple,
               body: list[cst.BaseStatement], spread: bool = False) -> list[cst.BaseStatement]:
        """A kernel running ``body`` once per element of ``shape``, and its launch."""
        size = str(dim_product(list(shape))) if shape else "1"
        unravel, outermost = [], True
        for k, var in enumerate(loops):
            if canon(shape[k]) == 1:
                unravel.append(assignment(var, "0"))
                continue
            inner = dim_product(list(shape[k + 1:]))
            quotient = "_k" if inner == 1 else f"_k // {operand(str(inner))}"
            value = quotient if outermost else f"{operand(quotient)} % {operand(str(shape[k]))}"
            unravel.append(assignment(var, value))
            outermost = False
        guarded = cst.If(test=cst.parse_expression(f"_k < {size}"),
                         body=cst.IndentedBlock([*unravel, *body]))
        parameters = _free_names([guarded], set(loops) | {"_k"})
        kernel_body = [assignment("_k", "cuda.grid(1)"), guarded]
        name = self._define_kernel(_written(body), parameters, kernel_body)
        return [cst.SimpleStatementLine([cst.Expr(cst.parse_expression(
            f"{name}[_grid({size}), THREADS]({', '.join(parameters)})"))])]

    def _define_kernel(self, hint: str, parameters: list[str],
                       body: list[cst.BaseStatement]) -> str:
        code = _canonical(body, parameters)
        if code in self._kernel_names:
            return self._kernel_names[code]
        name, k = f"_{hint.lstrip('_')}_kernel", 1
        while name in self._kernels:
            name, k = f"_{hint.lstrip('_')}_kernel_{k}", k + 1
        self._kernel_names[code] = name
        self._kernels[name] = cst.FunctionDef(
            name=cst.Name(name), params=cst.Parameters([cst.Param(cst.Name(p))
                                                        for p in parameters]),
            body=cst.IndentedBlock(body),
            decorators=[cst.Decorator(cst.parse_expression("cuda.jit"))],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return name

    def _empty(self, shape: str, dtype: str) -> str:
        return f"cuda.device_array({shape}, dtype={numpy_dtype(dtype)})"

    def _zeros(self, shape: str, dtype: str) -> str:
        return f"_full({shape}, 0, {numpy_dtype(dtype)})"

    def _full(self, shape: str, value: str, dtype: str) -> str:
        return f"_full({shape}, {value}, {numpy_dtype(dtype)})"

    def _add_into(self, target: str, where: list[str], value: str,
                  shared: bool = False) -> cst.SimpleStatementLine:
        if not shared:
            return super()._add_into(target, where, value)
        return _atomic("add", target, where, value)

    def _extremum_into(self, op: str, target: str, where: list[str],
                       value: str) -> cst.SimpleStatementLine:
        return _atomic(op, target, where, value)

    def _divide(self, ctx: Context, node: Node, target: str,
                divisor: str) -> list[cst.BaseStatement]:
        if node.rank == 0:  # on the host
            return super()._divide(ctx, node, target, divisor)
        loops = loop_vars(node.rank)
        slot = f"{target}[{', '.join(loops)}]"
        return self._loops(ctx, loops, node.shape, [assignment(slot, f"{slot} / {divisor}")])

    def _scalar_accumulator(self, target: str, start: str, dtype: str
                            ) -> tuple[cst.BaseStatement, list[str], list[cst.BaseStatement]]:
        # one element on the device, fetched to the host once every thread has added to it
        return (assignment(target, self._full("1", start, dtype)), ["0"],
                [assignment(target, f"{target}.copy_to_host()[0]")])

    def _reduction(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        source = ctx.graph[node.inputs[0]]
        if source.rank > 0 or node.id in ctx.done:
            return super()._reduction(ctx, node)
        # a reduction of a scalar is the scalar itself, computed on the host
        if source.op == "fused" and self._feeds_only_a_reduction(ctx, source):
            body, value = self._element(ctx, source, [], ())
        else:
            body, value = [], ctx.text[source.id]
        return [*body, *self._store(ctx, node, value)]

    def _feeds_only_a_reduction(self, ctx: Context, node: Node) -> bool:
        # scalars are computed on the host, never inside a kernel
        return super()._feeds_only_a_reduction(ctx, node) or (
            node.rank == 0 and node.id not in ctx.outputs and len(ctx.users[node.id]) == 1
            and ctx.graph[ctx.users[node.id][0]].op in REDUCTIONS)

    # --- array operations -------------------------------------------------------------------

    def loop(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        raise UnsupportedError("the cuda backend cannot run loops in the generated code yet "
                               "(long loops, loops of run-time length and while loops on data); "
                               "use backend='numba' or 'numpy' for this function")

    def _op_matmul(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        a, b = (ctx.graph[i] for i in node.inputs)
        inner = a.shape[-1]
        loops = loop_vars(node.rank)
        a_loops, b_loops = loops[:a.rank - 1], loops[a.rank - 1:]

        def product(k: str) -> str:
            return f"{self._at(ctx, a, [*a_loops, k])} * {self._at(ctx, b, [k, *b_loops])}"

        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        if node.rank == 0:  # a dot product: a sum over the inner loop's range
            init, where, finish = self._scalar_accumulator(target, "0", node.dtype)
            body = [_atomic("add", target, where, product("_i0"))]
            return [init, *self._loops(ctx, ["_i0"], (inner,), body), *finish]
        body = [assignment("_acc", "0.0"),
                cst.For(target=cst.Name("_j"), iter=cst.parse_expression(f"range({inner})"),
                        body=cst.IndentedBlock([cst.SimpleStatementLine([cst.AugAssign(
                            cst.Name("_acc"), cst.AddAssign(),
                            cst.parse_expression(product("_j")))])])),
                assignment(f"{target}[{', '.join(loops)}]", "_acc")]
        return [assignment(target, self._empty(shape_text(node.shape), node.dtype)),
                *self._loops(ctx, loops, node.shape, body)]

    def _linalg(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        name = LINALG_FUNCTIONS[node.op]
        raise UnsupportedError(f"the cuda backend cannot compute {name}() yet; use "
                               "backend='numba' or 'numpy' for this function")

    _op_inv = _op_pinv = _op_solve = _op_det = _op_logabsdet = _op_slogdet_sign = _op_cholesky = \
        _op_eigh_values = _op_eigh_vectors = _op_qr_q = _op_qr_r = _op_svd_u = _op_svd_s = \
        _op_svd_vt = _linalg

    def _op_outer(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        a, b = (ctx.graph[i] for i in node.inputs)
        value = f"{self._at(ctx, a, ['_i0'])} * {self._at(ctx, b, ['_i1'])}"
        return self._materialise(ctx, node, value)

    def _at(self, ctx: Context, node: Node, where: list[str]) -> str:
        """Element ``where`` of a contraction's operand, reading a transpose through its
        source."""
        source = self._views.get((id(ctx.graph), node.id))
        if source is not None:
            return f"{operand(ctx.text[source])}[{', '.join(reversed(where))}]"
        if node.rank == 0:
            return operand(ctx.text[node.id])
        return f"{operand(ctx.text[node.id])}[{', '.join(where)}]"

    def _op_argsort(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        return argsort_ranks(self, ctx, node)

    def checked_index(self, ctx: Context, index: str, array: str, axis: int) -> str:
        """A kernel on the device cannot raise: indices read from data are not checked."""
        return index

    def _op_transpose(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        axes = node.param("axes")
        users = ctx.users[node.id]
        if node.rank == 2 and node.id not in ctx.outputs and users and \
                all(ctx.graph[u].op in ("matmul", "outer") for u in users):
            self._views[(id(ctx.graph), node.id)] = node.inputs[0]
            ctx.text[node.id] = ctx.text[node.inputs[0]]
            return []  # a contraction reads it with its indices swapped
        loops = loop_vars(node.rank)
        where = [loops[axes.index(k)] for k in range(node.rank)]
        return self._read_at(ctx, node, ctx.text[node.inputs[0]], where, loops)

    def _op_broadcast_to(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        return self._materialise(ctx, node, element_at(ctx, ctx.graph[node.inputs[0]],
                                                   loop_vars(node.rank), node.shape))

    def _op_astype(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        source = ctx.graph[node.inputs[0]]
        if node.rank == 0:
            return self._store(ctx, node, f"{numpy_dtype(node.dtype)}({ctx.text[source.id]})")
        # storing into an array of the new type converts each element
        return self._materialise(ctx, node, element_at(ctx, source, loop_vars(node.rank),
                                                   node.shape))

    def _op_arange(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        return self._store(ctx, node, f"cuda.to_device({primitive('arange').emit([], node)})")

    def _reshape_to(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        source = ctx.graph[node.inputs[0]]
        x = ctx.text[source.id]
        if source.rank == 0:
            return super()._reshape_to(ctx, node)
        if node.rank == 0:
            return self._store(ctx, node, f"{operand(x)}.copy_to_host().reshape(())[()]")
        # every array on the device is contiguous: transposes and slices are copied by kernels
        return self._store(ctx, node, f"{operand(x)}.reshape({shape_text(node.shape)})")

    _op_reshape = _op_expand_dims = _op_squeeze = _reshape_to

    def _op_getitem(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        index = node.param("index")
        if any(is_array_index(i) for i in index):
            return super()._op_getitem(ctx, node)
        source = ctx.graph[node.inputs[0]]
        loops = loop_vars(node.rank)
        where = basic_positions(index, ctx.text[source.id], loops)
        if node.rank == 0:  # one element, read by the host
            return self._store(ctx, node, f"{operand(ctx.text[source.id])}[{', '.join(where)}]")
        return self._read_at(ctx, node, ctx.text[source.id], where, loops)

    def _op_scatter(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        index = node.param("index")
        ct, like = (ctx.graph[i] for i in node.inputs[:2])
        # slices with positive steps: accumulated in loops that may compute the cotangent
        if any(is_array_index(i) for i in index) or slice_target(node) is not None:
            return super()._op_scatter(ctx, node)
        if self._added_by_its_user(ctx, node):
            return []
        loops = loop_vars(ct.rank)
        where = basic_positions(index, ctx.text[like.id], loops)
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        store = assignment(f"{target}[{', '.join(where)}]", element_at(ctx, ct, loops, ct.shape))
        return [assignment(target, self._zeros(f"{operand(ctx.text[like.id])}.shape",
                                               node.dtype)),
                *self._loops(ctx, loops, ct.shape, [store])]

    def _materialise(self, ctx: Context, node: Node, value: str) -> list[cst.BaseStatement]:
        """``node[loops] = value`` for every element, into a new device array."""
        loops = loop_vars(node.rank)
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        return [assignment(target, self._empty(shape_text(node.shape), node.dtype)),
                *self._loops(ctx, loops, node.shape,
                             [assignment(f"{target}[{', '.join(loops)}]", value)])]


def _atomic(op: str, target: str, where: list[str], value: str) -> cst.SimpleStatementLine:
    index = where[0] if len(where) == 1 else f"({', '.join(where)})"
    return cst.SimpleStatementLine([cst.Expr(cst.parse_expression(
        f"cuda.atomic.{op}({target}, {index}, {value})"))])


def _written(body: list[cst.BaseStatement]) -> str:
    """The array a loop body writes, to name its kernel after."""
    names: list[str] = []

    class Writes(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Subscript) and isinstance(node.target.value, cst.Name):
                names.append(node.target.value.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Subscript) and isinstance(node.target.value, cst.Name):
                names.append(node.target.value.value)

        def visit_Call(self, node: cst.Call) -> None:
            if cst.Module(body=[]).code_for_node(node.func).startswith("cuda.atomic."):
                first = node.args[0].value
                if isinstance(first, cst.Name):
                    names.append(first.value)

    for statement in body:
        statement.visit(Writes())
    return names[-1] if names else "loop"


def _canonical(body: list[cst.BaseStatement], parameters: list[str]) -> str:
    """A kernel's code with its variables numbered in order of use: two kernels that differ
    only in what their arrays are called (in ``grad_f`` and ``value_and_grad_f``) are one."""
    numbers: dict[str, str] = {p: f"_v{k}" for k, p in enumerate(parameters)}

    class Renumber(cst.CSTTransformer):
        def leave_Attribute(self, original: cst.Attribute,
                            updated: cst.Attribute) -> cst.Attribute:
            return updated.with_changes(attr=original.attr)

        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            if original.value in _NOT_PARAMETERS:
                return updated
            name = numbers.setdefault(original.value, f"_v{len(numbers)}")
            return updated.with_changes(value=name)

    return cst.Module(body=body).visit(Renumber()).code


def _free_names(body: list[cst.BaseStatement], bound: set[str]) -> list[str]:
    """The names a kernel body reads but does not define: its parameters, in order of use."""
    assigned = set(bound)
    found: list[str] = []

    class Names(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name):
                assigned.add(node.target.value)

        def visit_For(self, node: cst.For) -> None:
            if isinstance(node.target, cst.Name):
                assigned.add(node.target.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False  # the attribute's own name (x.shape) is not a variable

        def visit_Name(self, node: cst.Name) -> None:
            name = node.value
            if name not in assigned and name not in _NOT_PARAMETERS and name not in found:
                found.append(name)

    for statement in body:
        statement.visit(Names())
    return [n for n in found if n not in assigned]

