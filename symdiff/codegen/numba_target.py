"""The Numba target: kernels become explicit loops, compiled with ``numba.njit``.

Contract: the same graph the NumPy target writes, written for ``numba.njit(cache=True)``:
- a fused kernel is a loop nest over its output shape computing one element per iteration;
  an input is indexed with the loop variables, or 0 along a dimension it broadcasts;
- a kernel used only by a reduction is not stored: the reduction's loop computes it, so a
  forward value such as ``sum(sin(x) * exp(-x**2))`` is one pass with no temporary array, and
  later kernels over the same range that need nothing else join that loop with their common
  subexpressions shared (the value and the gradient of a sum in one pass);
- contractions call BLAS through ``np.dot``; shape ops use Numba's NumPy support;
- gathers and their scatter-add adjoints are loops.
Branches of ``np.where`` become conditional expressions. A subexpression shared by several
outputs of a loop may be computed before the choice; with NumPy's error model (1/0 is inf,
sqrt(-1) is NaN, nothing raises) the value of the branch not taken is simply discarded.
"""

from __future__ import annotations

import libcst as cst
import sympy as sp

from symdiff.codegen.emitter import SIMPLE, Context, Target, assignment, operand
from symdiff.codegen.fusion import fuse_loops
from symdiff.codegen.loop_nest import (
    REDUCTIONS,
    ScalarPrinter,
    element_at,
    loop_nest,
    loop_vars,
    slice_target,
    zero_d_arrays,
)
from symdiff.codegen.loops import LOOP_WRITERS
from symdiff.codegen.numba_helpers import NUMBA_HELPERS
from symdiff.codegen.numba_indexing import IndexWriting
from symdiff.codegen.printer import integer_inputs, numpy_dtype, print_value
from symdiff.codegen.rows import ROW_WRITERS
from symdiff.codegen.special_helpers import (
    CYTHON_SPECIAL,
    NUMBA_SPECIAL_REQUIRES,
)
from symdiff.errors import UnsupportedError
from symdiff.ir.fused import arg_symbol
from symdiff.ir.graph import Node
from symdiff.ir.shapes import dim_product, same_shape, shape_text
from symdiff.rules import primitive
from symdiff.rules.decompositions import FUNCTIONS as LINALG_FUNCTIONS

_START = {"sum": "0.0", "mean": "0.0", "max": "-np.inf", "min": "np.inf"}




class NumbaTarget(IndexWriting, Target):
    name = "numba"
    imports = ("import numba", "import numpy as np")
    helpers = NUMBA_HELPERS
    helper_requires = NUMBA_SPECIAL_REQUIRES
    early_helpers = (CYTHON_SPECIAL,)
    calls_user_functions = True  # register_primitive's functions, compiled like helpers
    parallel = False

    def __init__(self, parallel: bool = False):
        # loops whose iterations are independent run on all cores (``numba.prange``)
        self.parallel = parallel
        if parallel:  # Numba outlines a prange body with its versions of x named x_1, x_2
            self.name_suffix = "_v{}"

    def decorators(self) -> list[cst.Decorator]:
        return [self._njit(self.parallel)]

    def helper_decorators(self, name: str) -> list[cst.Decorator]:
        return [] if name == CYTHON_SPECIAL else [self._njit(False)]

    @staticmethod
    def _njit(parallel: bool) -> cst.Decorator:
        # NumPy's error model: 1/0 is inf, as in the NumPy target, not ZeroDivisionError
        extra = ", parallel=True" if parallel else ""
        return cst.Decorator(cst.parse_expression(
            f'numba.njit(cache=True, error_model="numpy"{extra})'))

    def finished(self, ctx: Context, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Adjacent loops over one range, fused where that computes the same (a hand-written
        gradient's one pass over the data)."""
        return fuse_loops(body)

    def prologue(self, ctx: Context) -> list[cst.BaseStatement]:
        """A rank-0 value is a number here: a 0-d array argument gives its element."""
        return [assignment(name, f"{name}[()]") for name in zero_d_arrays(ctx)]

    def assign(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if node.op in LOOP_WRITERS:
            return self.loop(ctx, node)
        if node.op == "fused":
            if self._feeds_only_a_reduction(ctx, node) or self._feeds_only_a_slice(ctx, node):
                return []  # computed inside the loop of the node that uses it
            if node.id in ctx.done:  # written in the loop of a reduction over the same range
                return []
            if self._sums_slices(ctx, node):
                return self._slices_added(ctx, node)
            return self._kernel(ctx, node)
        if node.op in REDUCTIONS:
            return self._reduction(ctx, node)
        if node.op in ROW_WRITERS:
            return ROW_WRITERS[node.op](self, ctx, node)
        writer = getattr(self, f"_op_{node.op}", None)
        if writer is not None:
            return writer(ctx, node)
        prim = primitive(node.op)
        if prim.external and not self.calls_user_functions:
            raise UnsupportedError(f"the {self.name} backend cannot call {node.op[4:]!r}, a "
                                   "primitive registered with symdiff.extend.register_primitive; "
                                   "use backend='numba' or 'numpy' for this function")
        if (node.op in _NUMPY_SPELLING or prim.external) and prim.emit is not None:
            args = [operand(ctx.text[i]) for i in node.inputs]
            ctx.helpers.update(prim.helpers)
            return self._store(ctx, node, prim.emit(args, node))
        raise UnsupportedError(f"the {self.name} backend cannot compile {node.op!r} yet; use "
                               "backend='numpy' for this function")

    def _op_argpartition(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        raise UnsupportedError(f"the {self.name} backend cannot compute np.partition or "
                               "np.argpartition: the order they leave the other elements in is "
                               "NumPy's own; use backend='numpy', or np.sort")

    _op_partition_order = _op_argpartition

    def loop(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        """A loop node or one of its results (``codegen.loops``)."""
        return LOOP_WRITERS[node.op](self, ctx, node)

    # --- kernels ----------------------------------------------------------------------------

    def _feeds_only_a_slice(self, ctx: Context, node: Node) -> bool:
        """A kernel computed inside the loop of the slice adjoint it feeds; not one that adds
        slice adjoints itself (those are written in place, one after the other)."""
        users = ctx.users[node.id]
        return node.id not in ctx.outputs and len(users) == 1 and node.rank > 0 and \
            slice_target(ctx.graph[users[0]]) is not None and \
            ctx.graph[users[0]].inputs[0] == node.id and not self._sums_slices(ctx, node)

    def _added_by_its_user(self, ctx: Context, scatter: Node) -> bool:
        """An adjoint of a slice that the kernel adding it to the others accumulates."""
        users = ctx.users[scatter.id]
        return len(users) == 1 and ctx.graph[users[0]].op == "fused" and \
            self._sums_slices(ctx, ctx.graph[users[0]])

    def _sums_slices(self, ctx: Context, node: Node) -> bool:
        """A kernel that only adds adjoints of slices (x[1:], x[:-1]): they accumulate into
        one array instead of each filling an array of zeros."""
        terms = sp.Add.make_args(node.param("expr"))
        return len(terms) == len(node.inputs) > 1 and \
            set(terms) == {arg_symbol(k) for k in range(len(node.inputs))} and \
            all(slice_target(ctx.graph[i]) is not None and ctx.users[i] == [node.id]
                and ctx.graph[i].shape == node.shape for i in node.inputs)

    def _slices_added(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        statements: list[cst.BaseStatement] = [assignment(
            target, self._zeros(shape_text(node.shape), node.dtype))]
        for i in node.inputs:
            statements.extend(self._accumulate_slice(ctx, ctx.graph[i], target))
        return statements

    def _accumulate_slice(self, ctx: Context, scatter: Node,
                          into: str) -> list[cst.BaseStatement]:
        """``into[index] += cotangent``, the cotangent's kernel computed in the loop."""
        ct = ctx.graph[scatter.inputs[0]]
        loops = loop_vars(ct.rank)
        if ct.op == "fused" and self._feeds_only_a_slice(ctx, ct):
            body, value = self._element(ctx, ct, loops, ct.shape)
        else:
            body, value = [], element_at(ctx, ct, loops, ct.shape)
        where = slice_target(scatter)(ctx, loops)
        # a slice with steps > 0: each element of ``into`` is added to once
        return self._loops(ctx, loops, ct.shape, [*body, self._add_into(into, where, value)],
                           spread=True)

    def _feeds_only_a_reduction(self, ctx: Context, node: Node) -> bool:
        """A kernel computed inside the loop of the reduction it feeds; not one that adds
        slice adjoints (a concatenation): those are written in place, one after the other."""
        users = ctx.users[node.id]
        return node.id not in ctx.outputs and len(users) == 1 and \
            ctx.graph[users[0]].op in REDUCTIONS and node.rank > 0 and \
            not self._sums_slices(ctx, node)

    def _kernel(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        loops = loop_vars(node.rank)
        body, value = self._element(ctx, node, loops, node.shape)
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        if node.rank == 0:
            return [*body, assignment(target, value)]
        allocate = assignment(target, self._empty(shape_text(node.shape), node.dtype))
        slot = f"{target}[{', '.join(loops)}]"
        store = assignment(slot, value)
        # reductions of this kernel accumulate in the same loop: one pass over the data
        before, inside, after = [], [], []
        for user in ctx.users[node.id]:
            reduction = ctx.graph[user]
            if reduction.op in ("sum", "mean"):
                init, update, finish = self._accumulator(ctx, reduction, loops, slot)
                before.append(init)
                inside.append(update)
                after.extend(finish)
                ctx.done.add(user)
        reductions = [ctx.graph[u] for u in ctx.users[node.id] if u in ctx.done and
                      ctx.graph[u].op in ("sum", "mean")]
        spread = all(_spreads(r) for r in reductions)
        return [allocate, *before, *self._loops(ctx, loops, node.shape, [*body, store, *inside],
                                                spread), *after]

    def _element(self, ctx: Context, node: Node, loops: list[str], shape: tuple
                 ) -> tuple[list[cst.BaseStatement], str]:
        """Statements and the expression for one element of kernel ``node`` at ``loops``."""
        body, (value,) = self._elements(ctx, [node], loops, shape)
        return body, value

    def _elements(self, ctx: Context, nodes: list[Node], loops: list[str], shape: tuple
                  ) -> tuple[list[cst.BaseStatement], list[str]]:
        """One element of each kernel in ``nodes``, with their common subexpressions shared."""
        names: dict[sp.Symbol, str] = {}
        exprs = []
        for node in nodes:
            by_id = {arg_symbol(k): sp.Symbol(f"_n{i}", real=True)
                     for k, i in enumerate(node.inputs)}
            exprs.append(node.param("expr").xreplace(by_id))
            for k, i in enumerate(node.inputs):
                names[by_id[arg_symbol(k)]] = element_at(ctx, ctx.graph[i], loops, shape)
        temps = sp.numbered_symbols("_cse")
        replacements, reduced = sp.cse(exprs, symbols=temps, order="none")
        printer = self.printer(names, on_device=bool(loops))
        body = []
        for sym, sub in replacements:
            name = ctx.names.fresh(None)
            body.append(assignment(name, printer.doprint(sub)))
            names[sym] = name
        values = [print_value(printer, r, n.is_float,
                              integer_inputs([ctx.graph[i] for i in n.inputs], n))
                  for r, n in zip(reduced, nodes, strict=True)]
        ctx.helpers.update(printer.helpers)
        return body, values

    def _companions(self, ctx: Context, reduction: Node, source: Node) -> list[Node]:
        """Later kernels over the same range that need nothing this loop has not computed yet:
        they join the loop, sharing its subexpressions (the gradient of a sum beside the sum)."""
        found = []
        for node in ctx.graph.nodes[reduction.id + 1:]:
            if node.op == "fused" and node.rank > 0 and node.id not in ctx.done and \
                    node.shape == source.shape and \
                    all(i in ctx.text for i in node.inputs) and \
                    not self._feeds_only_a_reduction(ctx, node) and \
                    not self._feeds_only_a_slice(ctx, node) and \
                    not self._sums_slices(ctx, node):
                found.append(node)
        return found

    def _reduction(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        if node.id in ctx.done:  # accumulated in the loop of the kernel it reduces
            return []
        source = ctx.graph[node.inputs[0]]
        loops = loop_vars(source.rank)
        if source.op == "fused" and self._feeds_only_a_reduction(ctx, source):
            companions = self._companions(ctx, node, source)
            body, (value, *others) = self._elements(ctx, [source, *companions], loops,
                                                    source.shape)
        else:
            companions, others = [], []
            body, value = [], element_at(ctx, source, loops, source.shape)
        init, update, finish = self._accumulator(ctx, node, loops, value)
        allocations, stores = [], []
        for companion, other in zip(companions, others, strict=True):
            target = ctx.names.fresh(companion.name)
            ctx.text[companion.id] = target
            ctx.done.add(companion.id)
            allocations.append(assignment(target, self._empty(shape_text(companion.shape),
                                                              companion.dtype)))
            stores.append(assignment(f"{target}[{', '.join(loops)}]", other))
        return [init, *allocations,
                *self._loops(ctx, loops, source.shape, [*body, update, *stores],
                             _spreads(node)), *finish]

    def _accumulator(self, ctx: Context, node: Node, loops: list[str], value: str
                     ) -> tuple[cst.BaseStatement, cst.BaseStatement, list[cst.BaseStatement]]:
        """Initialisation, per-element update and finishing statements of a reduction."""
        source = ctx.graph[node.inputs[0]]
        axes, keep = node.param("axes"), node.param("keepdims")
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        if node.rank == 0:
            init, where, finish = self._scalar_accumulator(target, _START[node.op], node.dtype)
        else:
            kept = [("0" if keep else None) if a in axes else v for a, v in enumerate(loops)]
            where = [k for k in kept if k is not None]
            init = assignment(target, self._full(shape_text(node.shape), _START[node.op],
                                                 node.dtype))
            finish = []
        if node.op in ("sum", "mean"):
            update = self._add_into(target, where, value, shared=True)
        else:
            update = self._extremum_into(node.op, target, where, value)
        if node.op == "mean":
            count = dim_product([source.shape[a] for a in axes])
            finish.extend(self._divide(ctx, node, target, operand(str(count))))
        if node.rank == 0 and node.dtype != "float64":
            finish.append(assignment(target, f"{numpy_dtype(node.dtype)}({target})"))
        return init, update, finish

    # --- array operations -------------------------------------------------------------------

    def _store(self, ctx: Context, node: Node, value: str) -> list[cst.BaseStatement]:
        if node.op in ("transpose",) and SIMPLE.match(value):
            ctx.text[node.id] = value
            return []
        target = ctx.names.fresh(node.name)
        ctx.text[node.id] = target
        return [assignment(target, value)]

    def _op_matmul(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        a, b = (_blas_operand(ctx, i, node.dtype) for i in node.inputs)
        if self.parallel and any(ctx.graph[i].rank == 1 for i in node.inputs):
            ctx.helpers.add("_blas_dot")  # a vector: Numba's parallel=True would loop
            return self._store(ctx, node, f"_blas_dot({a}, {b})")
        return self._store(ctx, node, f"np.dot({a}, {b})")

    def _op_outer(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        a, b = (_blas_operand(ctx, i, node.dtype) for i in node.inputs)
        return self._store(ctx, node, f"np.outer({a}, {b})")

    def _reshape_to(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        source = ctx.graph[node.inputs[0]]
        if source.rank == 0:  # a scalar is a number here, which has no reshape
            return self._store(ctx, node, self._full(shape_text(node.shape),
                                                     ctx.text[source.id], node.dtype))
        if node.rank == 0:  # the one element, as a number
            return self._store(ctx, node, f"{operand(ctx.text[source.id])}"
                                          f"[{', '.join(['0'] * source.rank)}]")
        x = _contiguous(ctx, node.inputs[0], order_matters=True)
        return self._store(ctx, node, f"{x}.reshape({shape_text(node.shape)})")

    _op_reshape = _op_expand_dims = _op_squeeze = _reshape_to

    def _linalg(self, ctx: Context, node: Node) -> list[cst.BaseStatement]:
        """np.linalg as Numba compiles it, on contiguous float arrays of the result's type;
        of a stack of matrices, one matrix at a time."""
        inputs = [ctx.graph[i] for i in node.inputs]
        if node.param("upper"):
            raise UnsupportedError("the numba backend computes np.linalg.eigh and eigvalsh "
                                   "with UPLO='L' only; pass a.T (its lower triangle is the "
                                   "upper one of a), or use backend='numpy'")
        args = [_blas_operand(ctx, i, node.dtype) for i in node.inputs]
        stack = max(x.rank for x in inputs) - 2  # the number of leading (stack) axes
        statements: list[cst.BaseStatement] = []
        if stack > 0:
            batch, loops = node.shape[:stack], loop_vars(stack)
            for k, x in enumerate(inputs):
                if x.rank <= 2:
                    continue
                if len(x.shape) - 2 != stack or not same_shape(x.shape[:stack], batch):
                    raise UnsupportedError(
                        f"the numba backend computes {LINALG_FUNCTIONS[node.op]} of stacks of "
                        "matrices whose leading dimensions are the same; use backend='numpy'")
                if not SIMPLE.match(args[k]):  # made contiguous once, not per matrix
                    name = ctx.names.fresh("_stack")
                    statements.append(assignment(name, args[k]))
                    args[k] = name
                args[k] = f"{args[k]}[{', '.join(loops)}]"
        if node.op == "cholesky":  # Numba's reads the other triangle than NumPy's
            ctx.helpers.add("_lower_symmetric")
            args = [f"_lower_symmetric({args[0]})"]
        value = primitive(node.op).emit(args, node)
        if stack == 0:
            if node.rank == 2 and value.endswith("]"):  # an item of a result tuple: any layout
                value = f"np.ascontiguousarray({value})"
            return statements + self._store(ctx, node, value)
        out = ctx.names.fresh(node.name)
        ctx.text[node.id] = out
        return [*statements, assignment(out, self._empty(shape_text(node.shape), node.dtype)),
                *self._loops(ctx, loops, batch,
                             [assignment(f"{out}[{', '.join(loops)}]", value)])]

    _op_inv = _op_pinv = _op_solve = _op_det = _op_logabsdet = _op_slogdet_sign = _op_cholesky = \
        _op_eigh_values = _op_eigh_vectors = _op_qr_q = _op_qr_r = _op_svd_u = _op_svd_s = \
        _op_svd_vt = _linalg

    # --- what a target on another device spells differently ---------------------------------

    def printer(self, names: dict, on_device: bool) -> ScalarPrinter:
        return ScalarPrinter(names)

    def _loops(self, ctx: Context, loops: list[str], shape: tuple,
               body: list[cst.BaseStatement], spread: bool = False) -> list[cst.BaseStatement]:
        """Loops over ``shape`` around ``body``; ``spread``: iterations of the outer loop are
        independent but for the reductions Numba recognises (``s += v``, ``s = max(s, v)``
        into a number), and run on all cores where the target is parallel."""
        return loop_nest(loops, shape, body, spread and self.parallel)

    def _empty(self, shape: str, dtype: str) -> str:
        return f"np.empty({shape}, dtype={numpy_dtype(dtype)})"

    def _zeros(self, shape: str, dtype: str) -> str:
        return f"np.zeros({shape}, dtype={numpy_dtype(dtype)})"

    def _full(self, shape: str, value: str, dtype: str) -> str:
        return f"np.full({shape}, {value}, dtype={numpy_dtype(dtype)})"

    def _add_into(self, target: str, where: list[str], value: str,
                  shared: bool = False) -> cst.SimpleStatementLine:
        """``target[where] += value``; ``shared`` when several iterations add to one place."""
        slot = f"{target}[{', '.join(where)}]" if where else target
        return cst.SimpleStatementLine([cst.AugAssign(
            cst.parse_expression(slot), cst.AddAssign(), cst.parse_expression(value))])

    def _extremum_into(self, op: str, target: str, where: list[str],
                       value: str) -> cst.SimpleStatementLine:
        slot = f"{target}[{', '.join(where)}]" if where else target
        return assignment(slot, f"{op}({slot}, {value})")

    def _divide(self, ctx: Context, node: Node, target: str,
                divisor: str) -> list[cst.BaseStatement]:
        """``target = target / divisor`` (a mean from its sum)."""
        return [assignment(target, f"{target} / {divisor}")]

    def _scalar_accumulator(self, target: str, start: str, dtype: str
                            ) -> tuple[cst.BaseStatement, list[str], list[cst.BaseStatement]]:
        """How a reduction to a scalar starts, where it adds, and how it ends."""
        return assignment(target, start), [], []


_NUMPY_SPELLING = ("transpose", "broadcast_to", "astype", "arange")


def _spreads(reduction: Node) -> bool:
    """A reduction whose loop over its source may run on all cores: into a number (a
    reduction Numba's ``prange`` combines per thread), or keeping the outer axis (each
    iteration adds into its own row)."""
    return reduction.rank == 0 or 0 not in reduction.param("axes")


def _contiguous(ctx: Context, node_id: int, order_matters: bool = False) -> str:
    """np.dot takes C or Fortran order (so a transpose is free), not strided slices or
    broadcasts; reshape needs C order. A value a loop carries out may be a slice that its body
    assigned (an adjoint ``bh = bjoint[:, 2:5]``), so Numba types it as of any layout."""
    views = ("getitem", "broadcast_to", "transpose", "loop_out") if order_matters else \
        ("getitem", "broadcast_to", "loop_out")
    text = operand(ctx.text[node_id])
    node = ctx.graph[node_id]
    return f"np.ascontiguousarray({text})" if node.op in views and node.rank else text


def _blas_operand(ctx: Context, node_id: int, dtype: str) -> str:
    """Numba's np.dot wants both operands of the result's dtype (NumPy would promote)."""
    text = _contiguous(ctx, node_id)
    if ctx.graph[node_id].dtype != dtype:
        return f"{operand(text)}.astype({numpy_dtype(dtype)})"
    return text


NUMBA = NumbaTarget()
NUMBA_PARALLEL = NumbaTarget(parallel=True)
