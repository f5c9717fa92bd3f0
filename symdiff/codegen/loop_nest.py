"""What a target writing kernels as loop nests needs (the Numba target, and the CUDA target
built on it): loop variables, the element of a value at a loop position, positions inside a
basic index, and the scalar printer of one element."""

from __future__ import annotations

from typing import Any

import libcst as cst
import sympy as sp

from symdiff.codegen.emitter import Context, operand
from symdiff.codegen.printer import NumpyPrinter, numpy_dtype
from symdiff.ir.graph import Node
from symdiff.ir.shapes import canon, dim_text

REDUCTIONS = ("sum", "mean", "max", "min")


class ScalarPrinter(NumpyPrinter):
    """Kernels evaluated one element at a time: branches as conditional expressions."""

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        *pieces, (last, cond) = expr.args
        text = self._print(last) if cond == sp.true else self.NAN
        for value, c in reversed(pieces):
            text = f"({self._print(value)} if {self._print(c)} else {text})"
        return text

    AND, OR, NOT = " and ", " or ", "not "

    def cast(self, text: str, dtype: str) -> str:
        """An integer element as a float: a number, one element at a time."""
        return f"{numpy_dtype(dtype)}({text})"


def zero_d_arrays(ctx: Context) -> list[str]:
    """The arguments that are 0-d arrays (used by the code), by name."""
    return [ctx.graph[i].param("name") for i in ctx.graph.inputs
            if ctx.graph[i].param("zero_d", False) and (ctx.users.get(i) or i in ctx.outputs)]


def loop_vars(rank: int) -> list[str]:
    return [f"_i{k}" for k in range(rank)]


def element_at(ctx: Context, node: Node, loops: list[str], shape: tuple) -> str:
    """The element of ``node`` at loop position ``loops`` over ``shape`` (broadcasting)."""
    text = operand(ctx.text[node.id])
    if node.rank == 0:
        return text
    offset = len(shape) - node.rank
    parts = ["0" if canon(d) == 1 and canon(shape[k + offset]) != 1 else loops[k + offset]
             for k, d in enumerate(node.shape)]
    return f"{text}[{', '.join(parts)}]"


def slice_target(node: Node) -> Any:
    """For the adjoint of a slice with steps > 0 (x[1:], x[:, :-1], x[::2]): a function giving
    the index into the sliced array for the cotangent's loop variables; else None."""
    if node.op != "scatter":
        return None
    index = node.param("index")
    if not all(isinstance(i, tuple) and i[0] == "slice" and (i[3] or 1) > 0 for i in index):
        return None
    return lambda ctx, loops: basic_positions(index, ctx.text[node.inputs[1]], loops)


def basic_positions(index: tuple, source: str, loops: list[str]) -> list[str]:
    """Where element ``loops`` of ``source[index]`` lies in ``source``, for basic indexing
    (integers, slices, new axes)."""
    source = operand(source)
    out, free, axis = [], iter(loops), 0
    for item in index:
        if item is None:  # a new axis of length 1: its loop variable is always 0
            next(free)
            continue
        if isinstance(item, int):
            out.append(str(item) if item >= 0 else f"{source}.shape[{axis}] - {-item}")
        elif item[0] == "size":
            out.append(dim_text(item[1]))
        elif (item[3] or 1) < 0:  # counting down from start (the last element by default)
            _, start, _, step = item
            first = f"{source}.shape[{axis}] - 1" if start is None else str(start) \
                if start >= 0 else f"{source}.shape[{axis}] - {-start}"
            loop = next(free)
            out.append(f"{first} - {loop}" if step == -1 else f"{first} - {-step} * {loop}")
        else:
            _, start, _, step = item
            base = "" if not start else f"{dim_text(start)} + " if not isinstance(start, int) \
                else f"{start} + " if start > 0 else f"{source}.shape[{axis}] - {-start} + "
            loop = next(free)
            out.append(f"{base}{loop}" if (step or 1) == 1 else f"{base}{step} * {loop}")
        axis += 1
    return out + list(free)


def loop_nest(loops: list[str], shape: tuple, body: list[cst.BaseStatement],
              spread: bool = False) -> list[cst.BaseStatement]:
    """``for`` loops over ``shape`` around ``body`` (just ``body`` for a scalar); ``spread``:
    the outer loop's iterations are independent and run on all cores (``numba.prange``)."""
    statements = body
    for k, (var, dim) in reversed(list(enumerate(zip(loops, shape, strict=True)))):
        if str(dim) == "1" and not (spread and k == 0):  # one iteration: no loop, index 0
            statements = [s.visit(_AtZero(var)) for s in statements]
            continue
        span = "numba.prange" if spread and k == 0 else "range"
        statements = [cst.For(target=cst.Name(var),
                              iter=cst.parse_expression(f"{span}({dim})"),
                              body=cst.IndentedBlock(statements))]
    return statements


class _AtZero(cst.CSTTransformer):
    """A loop body with its loop variable replaced by 0, for an axis of length 1."""

    def __init__(self, var: str):
        super().__init__()
        self.var = var

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return cst.Integer("0") if updated.value == self.var else updated
