"""Extending symdiff: functions with their own backward, Ops, and new primitives.

- ``custom_vjp``: JAX's way. ``@symdiff.custom_vjp`` on ``f``, then ``f.defvjp(f_fwd, f_bwd)``:
  ``f_fwd(*args)`` returns ``(out, saved)``, ``f_bwd(saved, g)`` returns one cotangent per
  argument (``None`` for none).
- ``register_op(OpClass)``: the textbook Op of a class with ``forward(self, *inputs)`` and
  ``backward(self, grads)`` (or ``backward(self)`` for a loss, whose cotangent is then applied
  to what it returns). ``backward`` reads what ``forward`` saved on ``self`` and returns the
  cotangents of the inputs (a tuple for several); gradients of the Op's parameters
  (``self.params[k]``, or an array attribute ``self.k``) go in ``self.grads[k]``.
- ``register_elementwise(func, formula)``: a new elementwise primitive from its scalar SymPy
  formula; symdiff derives its derivative and writes the formula into generated code.
- ``register_primitive(func, vjp)``: an array primitive that generated code calls (its source
  is copied into the module), with its adjoint ``vjp(g, out, *inputs)``.

This module loads the compiler (SymPy, libcst): ``symdiff`` imports it on first use.
Rules written by users are traced like the rest of the function (they are Python and NumPy),
so generated code contains them, and ``check_rule`` compares a rule with symdiff's own
derivative and with finite differences.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import libcst as cst
import numpy as np
import sympy as sp

from symdiff.calculus.scalar import in_own_terms
from symdiff.check.finite_diff import compare
from symdiff.errors import ArgumentError, GradientCheckError, UnsupportedError
from symdiff.frontend import functions
from symdiff.frontend.callee import as_callee, source_of
from symdiff.frontend.calls import elementwise
from symdiff.frontend.evaluator import bind_arguments
from symdiff.frontend.functions import register_op_tracer
from symdiff.frontend.tracing import trace_call
from symdiff.frontend.transforms import traced_leaves
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, to_tensor
from symdiff.gradient import GradFunction, differentiable
from symdiff.ir.graph import Graph, Node
from symdiff.ir.primitives import Primitive, promote, register
from symdiff.ir.shapes import ShapeError, broadcast_shapes, format_shape, same_shape
from symdiff.rules.broadcasting import unbroadcast
from symdiff.rules.custom import Rule, mark
from symdiff.rules.elementwise import defelementwise
from symdiff.runtime import normalise_argnums
from symdiff.trees import ModelView, Ref, build, unflatten


def _located(fun: Any, message: str) -> UnsupportedError:
    """An error at the definition of the user's ``fun`` (a rule's forward or backward)."""
    source = source_of(fun)
    return UnsupportedError(message, source.filename, source.first_line, 1,
                            source.line_text(source.first_line))


def _cotangents(graph: Graph, returned: Any, arguments: list[Node | None], owner: Any,
                what: str) -> list[Node | None]:
    """The cotangents a user's backward returned, one per argument, checked against the
    arguments' shapes."""
    items = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    if len(items) != len(arguments):
        raise _located(owner, f"{what} returns {len(items)} cotangent(s), but there are "
                              f"{len(arguments)} inputs: return one per input (None for none)")
    out: list[Node | None] = []
    for k, (c, a) in enumerate(zip(items, arguments, strict=True)):
        if c is None or a is None:  # no cotangent, or an argument that is not an array
            out.append(None)
            continue
        if not isinstance(c, (Tensor, SymDim, int, float)):
            raise _located(owner, f"{what} returns {describe(c)} for input {k}; cotangents "
                                  "are arrays, numbers or None")
        node = to_tensor(graph, c).node
        # the same shape, up to leading axes of size 1 (a bias of shape (1, n) may get a
        # gradient of shape (n,)); sizes known only at run time are unified, not compared
        lead = a.rank - node.rank
        try:
            fits = lead >= 0 and all(d == 1 for d in a.shape[:lead]) and \
                same_shape(broadcast_shapes(node.shape, a.shape[lead:]), node.shape) and \
                same_shape(broadcast_shapes(node.shape, a.shape[lead:]), a.shape[lead:])
        except ShapeError:
            fits = False
        if not fits:
            raise _located(owner, f"{what} returns a cotangent of shape "
                                  f"{format_shape(node.shape)} for input {k}, whose shape is "
                                  f"{format_shape(a.shape)}")
        out.append(node)
    return out


# --- custom_vjp ---------------------------------------------------------------------------------

class custom_vjp:  # noqa: N801  (spelled as JAX spells it)
    """A function with its own derivative rule: ``f.defvjp(f_fwd, f_bwd)``. Called outside
    differentiated code it is ``f``; inside, its value comes from ``f_fwd`` and its adjoint
    from ``f_bwd``, wherever it is called."""

    def __init__(self, fun: Callable):
        if not differentiable(fun):
            raise ArgumentError(f"custom_vjp needs a Python function, got {fun!r}")
        self.fun = fun
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        functools.update_wrapper(self, fun, updated=())

    def defvjp(self, fwd: Callable, bwd: Callable) -> custom_vjp:
        for role, rule in (("fwd", fwd), ("bwd", bwd)):
            if not inspect.isfunction(rule):
                raise ArgumentError(f"defvjp: {role} must be a Python function, got {rule!r}")
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __symdiff_trace__(self, graph: Graph, args: list[Any], kwargs: dict[str, Any],
                          top_level: bool = False) -> Any:

        if not graph.custom_rules:
            return trace_call(graph, self.fun, args, kwargs, top_level)
        if self.fwd is None or self.bwd is None:
            raise StaticError(f"{self.__name__} has no derivative rule yet: call "
                              f"{self.__name__}.defvjp(fwd, bwd)")
        values = list(bind_arguments(inspect.signature(self.fun), self.__name__, args,
                                     kwargs).values())
        result = trace_call(graph, self.fwd, values, {})
        if not isinstance(result, tuple) or len(result) != 2:
            raise _located(self.fwd, f"{self.fwd.__name__} must return a pair (out, saved), "
                                     f"but it returns {describe(result)}")
        out, saved = result
        if not isinstance(out, (Tensor, SymDim, int, float)):
            raise _located(self.fwd, f"{self.fwd.__name__} returns {describe(out)} as its "
                                     "output; custom_vjp functions return one array")
        saved_leaves: list[Any] = []
        structure = traced_leaves(saved, saved_leaves, f"what {self.fwd.__name__} saves")
        traced = [i for i, v in enumerate(values) if isinstance(v, (Tensor, SymDim, float))]
        bwd, name = self.bwd, self.__name__

        def backward(graph: Graph, arguments, saved_nodes, ct: Node) -> list[Node | None]:
            residuals = unflatten(structure, [Tensor(s) for s in saved_nodes])
            returned = trace_call(graph, bwd, [residuals, Tensor(ct)], {})
            by_position = dict(zip(traced, arguments, strict=True))
            per_argument = _cotangents(graph, returned,
                                       [by_position.get(i) for i in range(len(values))], bwd,
                                       f"{bwd.__name__} (the backward of {name})")
            return [per_argument[i] for i in traced]

        rule = Rule(name, len(traced), backward)
        return Tensor(mark(graph, to_tensor(graph, out).node,
                           [to_tensor(graph, values[i]).node for i in traced],
                           [to_tensor(graph, v).node for v in saved_leaves], rule))


# --- Ops with forward and backward -------------------------------------------------------------

def register_op(op_class: type) -> type:
    """Use ``op_class``'s hand-written ``backward`` wherever one of its objects' ``forward``
    runs inside differentiated code (also usable as a class decorator)."""
    if not isinstance(op_class, type):
        raise ArgumentError(f"register_op needs a class, got {op_class!r}")
    for method in ("forward", "backward"):
        if not inspect.isfunction(inspect.getattr_static(op_class, method, None)):
            raise ArgumentError(f"{op_class.__name__} has no {method} method; an Op defines "
                                "forward(self, *inputs) and backward(self, grads)")
    register_op_tracer(op_class, trace_op)
    return op_class


def _split_state(value: Any, leaves: list[Tensor]) -> Any:
    """The traced state of an Op (its attributes after forward): arrays out, structure kept,
    in the skeleton form of ``symdiff.trees`` (whose ``build`` puts it back together)."""
    if isinstance(value, Tensor):
        leaves.append(value)
        return ("leaf",)
    if isinstance(value, dict):
        return ("dict", tuple((k, _split_state(v, leaves)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_split_state(v, leaves) for v in value))
    if isinstance(value, ModelView):  # a skeleton trees.build rebuilds as a view again
        attrs = object.__getattribute__(value, "_attrs")
        return ("object", Ref(object.__getattribute__(value, "_obj")),
                tuple((k, _split_state(v, leaves)) for k, v in attrs.items()))
    return ("static", value)


def _parameters(attrs: dict[str, Any]) -> dict[str, Tensor]:
    """An Op's parameters: ``self.params[k]`` if it has a params dict, else its arrays."""
    params = attrs.get("params")
    if isinstance(params, dict):
        return {k: v for k, v in params.items() if isinstance(v, Tensor) and v.node.is_float}
    return {k: v for k, v in attrs.items() if isinstance(v, Tensor) and v.node.is_float}


def trace_op(graph: Graph, view: ModelView, args: list[Any], kwargs: dict[str, Any]) -> Tensor:
    """``view.forward(*args)`` for a registered Op: its value, marked with its backward."""

    obj = object.__getattribute__(view, "_obj")
    cls = type(obj)
    forward, backward_method = cls.forward, cls.backward
    inputs = list(bind_arguments(inspect.signature(forward), f"{cls.__name__}.forward",
                                 [view, *args], kwargs).values())[1:]
    params = _parameters(object.__getattribute__(view, "_attrs"))
    out = trace_call(graph, forward, [view, *inputs], {})
    if not isinstance(out, (Tensor, SymDim, int, float)):
        raise _located(forward, f"{cls.__name__}.forward returns {describe(out)}; a "
                                "registered Op returns one array")
    out_node = to_tensor(graph, out).node
    live = graph.reachable([out_node.id])
    used = [k for k, p in params.items() if live[p.node.id]]
    state_leaves: list[Tensor] = []
    skeleton = _split_state(dict(object.__getattribute__(view, "_attrs")), state_leaves)
    input_nodes = [to_tensor(graph, v).node for v in inputs]
    names = list(params)
    takes_grads = len(inspect.signature(backward_method).parameters) > 1

    def backward(graph: Graph, arguments, saved, ct: Node) -> list[Node | None]:
        attrs = build(skeleton, iter(Tensor(s) for s in saved))
        attrs["grads"] = {}
        state = ModelView(obj, attrs)
        call = [state, Tensor(ct)] if takes_grads else [state]
        returned = trace_call(graph, backward_method, call, {})
        what = f"{cls.__name__}.backward"
        if returned is None and not takes_grads:
            raise _located(backward_method, f"{what} returns None; a registered Op's backward "
                                            "returns the cotangents of forward's inputs "
                                            "(symdiff chains the Ops itself)")
        cts = _cotangents(graph, returned, list(arguments[:len(inputs)]), backward_method,
                          what)
        grads = object.__getattribute__(state, "_attrs")["grads"]
        missing = [k for k in used if k not in grads]
        if missing:
            raise _located(backward_method, f"{what} sets no gradient for the parameter(s) "
                                            f"{', '.join(missing)} that forward uses: set "
                                            f"self.grads[{missing[0]!r}]")
        param_cts = _cotangents(graph, tuple(grads.get(k) for k in names),
                                list(arguments[len(inputs):]), backward_method,
                                f"{what} (self.grads)")
        if not takes_grads:  # a loss: what it returns is for a cotangent of 1
            return [None if c is None else graph.add("mul", [c, ct]) for c in cts + param_cts]
        return [*cts, *param_cts]

    rule = Rule(f"{cls.__name__}.backward", len(inputs) + len(names), backward)
    return Tensor(mark(graph, out_node, input_nodes + [params[k].node for k in names],
                       [t.node for t in state_leaves], rule))


# --- new primitives ------------------------------------------------------------------------

def _register_handler(func: Callable, handler: Callable) -> None:

    functions.register_function(func, handler)


def register_elementwise(func: Callable, formula: Callable[..., sp.Basic]) -> Callable:
    """Make calls of ``func`` inside differentiated code the elementwise primitive whose scalar
    formula is ``formula`` (SymPy, e.g. ``lambda x: sympy.log(1 + sympy.exp(x))``). symdiff
    derives its derivative; generated code spells the formula out. Returns ``func``."""

    arity = len(inspect.signature(formula).parameters)
    try:
        probe = formula(*sp.symbols(f"x0:{arity}", real=True))
    except Exception as exc:
        raise ArgumentError(f"register_elementwise: the formula of {func.__name__} fails on "
                            f"SymPy symbols ({type(exc).__name__}: {exc})") from None
    if not isinstance(probe, sp.Expr):
        raise ArgumentError(f"register_elementwise: the formula of {func.__name__} must give a "
                            f"SymPy expression, got {probe!r}")
    op = f"ext.{func.__module__}.{func.__qualname__}"
    defelementwise(op, lambda *a: in_own_terms(formula(*a)), "float", replace=True)

    def handler(graph: Graph, *args: Any) -> Tensor:
        if len(args) != arity:
            raise StaticError(f"{func.__name__} takes {arity} argument(s), got {len(args)}")
        callee = as_callee(formula)
        if callee is not None:
            graph.read.append(callee)
        return elementwise(graph, op, *args)

    _register_handler(func, handler)
    return func


def _helper_source(func: Callable, name: str) -> str:
    """``func``'s source as a module-level function called ``name``, without decorators."""
    try:
        text = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise ArgumentError(f"register_primitive: the source of {func!r} is not available; "
                            "generated code includes it") from None
    definition = cst.parse_module(text).body[0]
    if not isinstance(definition, cst.FunctionDef):
        raise ArgumentError(f"register_primitive: {func!r} must be defined with def")
    definition = definition.with_changes(name=cst.Name(name), decorators=[])
    return "\n" + cst.Module(body=[definition]).code


def register_primitive(func: Callable, vjp: Callable, *, like: int = 0) -> Callable:
    """Make calls of ``func`` inside differentiated code an array primitive: generated code
    calls ``func`` (its source, NumPy that Numba compiles, is copied into the module) and its
    adjoint is ``vjp(g, out, *inputs)``, returning one cotangent per input (Python and NumPy,
    traced like the rest). The result has the shape and dtype of input ``like``. Returns
    ``func``."""

    if not inspect.isfunction(vjp):
        raise ArgumentError(f"register_primitive: vjp must be a Python function, got {vjp!r}")
    helper = f"_{func.__name__}"
    source = _helper_source(func, helper)
    op = f"ext.{func.__module__}.{func.__qualname__}"

    def infer(inputs: list[Node], params: dict) -> tuple:
        return inputs[like].shape, promote(inputs, floating=True)

    def adjoint(graph: Graph, node: Node, ct: Node) -> list[Node | None]:

        inputs = graph.args(node)
        ct = unbroadcast(graph, ct, node.shape, exact=True)
        graph.read.append(as_callee(vjp))
        returned = trace_call(graph, vjp, [Tensor(ct), Tensor(node),
                                           *(Tensor(i) for i in inputs)], {})
        return _cotangents(graph, returned, inputs, vjp, f"{vjp.__name__} (the vjp of "
                                                         f"{func.__name__})")

    register(Primitive(op, infer, vjp=adjoint, helpers=(helper,), external=True,
                       helper_source=((helper, source),),
                       emit=lambda a, node: f"{helper}({', '.join(a)})"), replace=True)

    def handler(graph: Graph, *args: Any) -> Tensor:
        tensors = [to_tensor(graph, a).node for a in args]
        if not 0 <= like < len(tensors):
            raise StaticError(f"{func.__name__}: like={like} names no input")
        graph.read.append(as_callee(func))
        return Tensor(graph.add(op, tensors))

    _register_handler(func, handler)
    return func


# --- checking a rule ---------------------------------------------------------------------------

def check_rule(fun: Callable, *args: Any, argnums: int | tuple[int, ...] = 0,
               rtol: float = 1e-7, atol: float = 1e-10) -> dict[str, Any]:
    """Check the custom rules ``fun`` uses (custom_vjp functions, registered Ops): the gradient
    they give must equal symdiff's own derivative of the code they stand for (to ``rtol`` and
    ``atol``) and central finite differences. ``fun`` returns a scalar. Returns both gradients
    and the finite-difference report; raises GradientCheckError on a disagreement."""

    positions, single = normalise_argnums(fun, argnums, None)
    names = list(inspect.signature(fun).parameters)
    x = [np.asarray(a, dtype=np.float64) if i in positions and not isinstance(a, float) else a
         for i, a in enumerate(args)]
    ruled = GradFunction(fun, positions, False, False, "numpy", False)(*x)
    own = GradFunction(fun, positions, False, False, "numpy", False, custom_rules=False)(*x)
    for p, r, o in zip(positions, ruled, own, strict=True):
        if not np.allclose(r, o, rtol=rtol, atol=atol):
            worst = float(np.max(np.abs(np.asarray(r) - np.asarray(o))))
            raise GradientCheckError(f"the custom rule's gradient with respect to {names[p]!r} "
                                     f"differs from symdiff's own derivative by up to "
                                     f"{worst:.3g}")
    report = compare(lambda *a: float(np.sum(fun(*a))), x, positions, names, ruled,
                     label=f"{fun.__qualname__} (with its custom rules)")
    unpack = (lambda g: g[0]) if single else (lambda g: g)
    return {"rule": unpack(ruled), "symdiff": unpack(own), "finite_differences": report}
