"""The one pipeline: source -> IR -> fusion -> reverse mode -> fusion -> code.

Contract: ``generate(fun, signature, options)`` returns a :class:`GeneratedModule` whose source
defines ``grad_<name>`` and ``value_and_grad_<name>`` for that signature (argument ranks,
dtypes, which dimensions are 1, and the values of static arguments). The decorator, the command
line and the teaching tools all call this function and differ only in what they do with the
result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from symdiff.ad.reverse import backward
from symdiff.calculus.derive import simplification_budget
from symdiff.codegen.array_api_target import ARRAY_API
from symdiff.codegen.cuda_target import CudaTarget
from symdiff.codegen.emitter import FunctionSpec, Output, emit_function, emit_module
from symdiff.codegen.node_values import ArgumentValues
from symdiff.codegen.numba_target import NUMBA, NUMBA_PARALLEL
from symdiff.codegen.numpy_target import NUMPY
from symdiff.errors import ArgumentError, UnsupportedError
from symdiff.frontend.callee import source_of
from symdiff.frontend.concrete import values_known
from symdiff.frontend.tracing import trace_call
from symdiff.frontend.transforms import aux_leaves, split_result, trace_jvp, traced_leaves
from symdiff.frontend.values import Tensor, to_tensor
from symdiff.ir.bands import Band, band
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.separable import Kind, split_kind
from symdiff.ir.shapes import dim_scope
from symdiff.ir.shifts import freeze_cancelling_shifts
from symdiff.ir.sizes import argument_size
from symdiff.log import stage
from symdiff.rules.reductions import reduce
from symdiff.signature import ArgSpec, Options, passed
from symdiff.simplify.fuse import fuse
from symdiff.size_checks import SizeChecked
from symdiff.trees import build, unflatten
from symdiff.version import VERSION


@dataclass(eq=False)
class GeneratedModule(SizeChecked):
    source: str  # a complete module defining the two functions
    grad_name: str
    value_and_grad_name: str
    signature: tuple[ArgSpec, ...]
    functions: list[cst.FunctionDef] = field(repr=False)  # to assemble other modules from
    helpers: set[str] = field(repr=False)
    graph: Graph = field(repr=False)
    read: list[Any] = field(default_factory=list, repr=False)  # functions whose source was used
    # helper functions and numbers read from globals and closures: (function, name, value)
    names_read: list[Any] = field(default_factory=list, repr=False)
    size_checks: tuple = ()  # what the code assumes of its sizes (see symdiff.size_checks)
    cotangent_shape: tuple = ()  # with output="cotangent": the output's shape (dims as text)
    cotangent_dtype: str = "float64"  # ... and its dtype, which the cotangent is given
    # the truth of each condition decided on the values of the call generated for: the
    # functions return the conditions' values after their result, to be checked against them
    decisions: tuple[bool, ...] = ()
    # its checks on data (asserts, ``if ...: raise``), returned after the decisions: for each,
    # the name of the builtin exception to raise where it is false, and the message
    assertions: tuple[tuple[str, str], ...] = ()


def generate(fun: Any, signature: tuple[ArgSpec, ...], options: Options,
             target: Any = None, arguments: dict[str, Any] | None = None) -> GeneratedModule:
    """``target``: the code target to write with (default: the one ``options.backend`` names);
    a module assembled from several generated functions passes one target to all of them.
    ``arguments``: the values of the call the code is for, by parameter name, where there is
    one: while loops on data are then written out as often as they take (``decisions``)."""
    _compilable(signature, options.backend)
    target = target or target_for(options.backend, options.parallel)
    with values_known(ArgumentValues(arguments) if arguments is not None else None):
        return _in_generation_scope(signature,
                                    lambda: _generate(fun, signature, options, target))


def _checked(graph: Graph) -> list[int]:
    """The conditions the generated functions return after their result: the decisions taken
    on the values of the call generated for, then the asserts on data."""
    return [i for i, _ in graph.decisions] + [i for i, _, _ in graph.assertions]


def _checks_of(graph: Graph) -> dict[str, tuple]:
    return {"decisions": tuple(truth for _, truth in graph.decisions),
            "assertions": tuple((kind, message) for _, kind, message in graph.assertions)}


# the docstring's last sentence where the code was generated on the values of a call
_DECIDED = (" Returns, after that, the conditions it checks: those of its while loops on data,"
            " generated for arguments that take them as many times as those it was first "
            "called with, then those of its asserts on data.")


def _compilable(signature: tuple[ArgSpec, ...], backend: str) -> None:
    """Numba has no float16: refused here, by name, instead of deep inside Numba."""
    if backend in ("numpy", "array_api"):
        return
    for spec in passed(signature):
        if spec.kind == "array" and spec.dtype == "float16":
            raise ArgumentError(f"{spec.name!r} is a float16 array, which Numba cannot "
                                "compile; use backend='numpy', or pass it as float32")


def _in_generation_scope(signature: tuple[ArgSpec, ...], build: Any) -> GeneratedModule:
    """``build()`` with fresh size equalities (checked at call time) and SymPy budget."""
    with dim_scope() as sizes, simplification_budget():
        try:
            module = build()
        except UnsupportedError as exc:
            # refused under these assumptions: a caller whose sizes fail one tries again
            exc.assumed = ([s.name for s in passed(signature)], _checks(sizes))
            raise
        module.size_checks = _pinned_checks(signature) + _checks(sizes)
        return module


def _checks(sizes: Any) -> tuple:
    """The checks a generation recorded, as ``(text, sizes read)`` pairs."""
    return tuple((check.text(), tuple(sorted(check.arguments()))) for check in sizes.checks)


def generate_jvp(fun: Any, signature: tuple[ArgSpec, ...], argnums: tuple[int, ...],
                 backend: str, arguments: dict[str, Any] | None = None) -> GeneratedModule:
    """A module defining ``jvp_<name>(*primals, *tangents, *outer)`` returning ``(out,
    tangent_out)``: ``signature`` holds the primals' specs, then one tangent spec per
    ``argnums`` position, then those of the arrays the function reads from outside itself and
    of the numbers it draws (``ArgSpec.outer``). ``arguments``: as for :func:`generate`."""
    _compilable(signature, backend)
    target = target_for(backend)
    with values_known(ArgumentValues(arguments) if arguments is not None else None):
        return _in_generation_scope(signature,
                                    lambda: _generate_jvp(fun, signature, argnums, target))




def gradient_band(fun: Any, signature: tuple[ArgSpec, ...], argnum: int,
                  arguments: dict[str, Any]) -> Band | None:
    """The band (``symdiff.ir.bands``) of the gradient of ``fun`` with respect to its 1-D
    argument ``argnum`` in that argument: the structure of the Hessian. None where it may be
    dense, or where the function's code depends on its values beyond what one graph holds
    (loops run as often as the data says, asserts on data)."""
    options = Options(argnums=(argnum,), single=True, backend="numpy")
    with values_known(ArgumentValues(arguments)), dim_scope(), simplification_budget():
        graph = Graph(custom_rules=options.custom_rules)
        loss, _ = objective(graph, fun, signature, options)
        if graph.decisions or graph.assertions:
            return None
        forward, (loss_id,) = fuse(graph, [loss.id])
        vector = forward[forward.inputs[_input_position(signature, argnum)]]
        (gradient,) = backward(forward, forward[loss_id], [vector])
        return band(forward, gradient.id, vector.id)


def loss_split(fun: Any, signature: tuple[ArgSpec, ...], data: tuple[int, ...],
               arguments: dict[str, Any]) -> Kind | None:
    """How the loss ``fun`` splits over the rows of its arguments at the positions ``data``
    (``symdiff.ir.separable``): ``Kind.TOTAL``, ``Kind.MEAN``, or None."""
    options = Options(argnums=(), single=True, backend="numpy")
    with values_known(ArgumentValues(arguments)), dim_scope(), simplification_budget():
        graph = Graph(custom_rules=options.custom_rules)
        loss, aux = objective(graph, fun, signature, options)
        if aux is not None or graph.decisions or graph.assertions:
            return None
        forward, (loss_id,) = fuse(graph, [loss.id])
        rows = {forward.inputs[_input_position(signature, p)] for p in data}
        return split_kind(forward, loss_id, rows)


def _defaults(signature: tuple[ArgSpec, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Parameters' defaults kept by the generated functions, and the static ones among them,
    whose values the code was generated for (a string, number, boolean or None)."""
    given = [s for s in passed(signature) if s.default]
    return {s.name: s.default[0] for s in given}, tuple(
        s.name for s in given if s.kind == "static" and
        isinstance(s.default[0], (str, int, bool, type(None))))


def _pinned_checks(signature: tuple[ArgSpec, ...]) -> tuple:
    """The sizes the code was generated for as numbers (``ArgSpec.sizes``) are checks too."""
    return tuple((f"{s.name}.shape[{axis}] == {size}", ((s.name, axis),))
                 for s in passed(signature) for axis, size in enumerate(s.sizes)
                 if size is not None)


def _shape(spec: ArgSpec) -> tuple:
    """An array argument's shape in the code: 1 where it is, the size the code is generated
    for where there is one, else the argument's size at run time."""
    return tuple(1 if unit else spec.sizes[i] if spec.sizes and spec.sizes[i] is not None
                 else argument_size(spec.name, i) for i, unit in enumerate(spec.unit_dims))


def _inputs(graph: Graph, signature: tuple[ArgSpec, ...]) -> dict[str, Any]:
    """The traced value of each parameter: input nodes for arrays, structures rebuilt around
    their leaves, Python values for static arguments."""
    env: dict[str, Any] = {}
    for i, spec in enumerate(passed(signature)):
        if spec.kind == "static":
            env[spec.name] = spec.value
            continue
        # a 0-d array, as opposed to a Python float: compiled code takes its element
        unwrap = {"zero_d": True} if spec.kind == "array" and not spec.unit_dims else {}
        node = graph.add_raw("input", (), make_params(index=i, name=spec.name, **unwrap),
                             _shape(spec), spec.dtype, name=spec.name, intern=False)
        graph.inputs.append(node.id)
        if spec.kind == "float":
            graph.python_floats.add(node.id)
        if spec.outer:  # read by name from outside the function, not a parameter of it
            graph.outer[spec.outer] = node.id
            continue
        env[spec.name] = Tensor(node)
    for tree in (s for s in signature if s.kind == "tree"):
        env[tree.name] = build(tree.value, iter([env.pop(s.name) for s in signature
                                                 if s.root == tree.name]))
    return env


def trace(graph: Graph, fun: Any, signature: tuple[ArgSpec, ...]) -> Any:
    """The traced result of ``fun`` (a function, or a transform such as ``grad(f)``)."""
    env = _inputs(graph, signature)
    result = trace_call(graph, fun, [env[s.name] for s in signature
                                     if not s.root and not s.outer], {}, top_level=True)
    graph.origin = None
    return result


def objective(graph: Graph, fun: Any, signature: tuple[ArgSpec, ...],
              options: Options) -> tuple[Node, Any]:
    """The first stage of every derivative (generated code, formulas, the chain rule step by
    step): ``fun`` traced on ``graph``, and its result read as the value to differentiate and
    the auxiliary outputs."""
    loss, aux = split_result(graph, trace(graph, fun, signature), options, source_of(fun))
    freeze_cancelling_shifts(graph, loss)
    return loss, aux


def inputs_by_name(graph: Graph) -> dict[str, Node]:
    return {graph[i].param("name"): graph[i] for i in graph.inputs}


def _described(signature: tuple[ArgSpec, ...]) -> str:
    return ", ".join(s.describe() for s in signature)


def _function_name(fun: Any, source: Any) -> str:
    name = getattr(fun, "transform_name", None) or source.name
    return "lambda" if name == "<lambda>" else name.replace("<lambda>", "lambda")


def _header(source: Any, name: str, signature: tuple[ArgSpec, ...]) -> list[str]:
    return [
        f"Generated by symdiff {VERSION} from {os.path.basename(source.filename)}:"
        f"{source.first_line} ({name}). Do not edit.",
        f"source sha256: {source.sha256}",
        "signature: " + _described(signature),
    ]


def _generate_jvp(fun: Any, signature: tuple[ArgSpec, ...], argnums: tuple[int, ...],
                  target: Any) -> GeneratedModule:
    source = source_of(fun)
    graph = Graph(loops=False)  # forward mode differentiates a backward pass
    own = [s for s in signature if not s.outer]  # after them: arrays from outside, draws
    count = len(own) - len(argnums)
    env = _inputs(graph, signature)
    primals = [env[s.name] for s in own[:count]]
    directions = [env[s.name] for s in own[count:]]
    result = trace_jvp(graph, fun, primals, directions, argnums, top_level=True)
    graph.origin = None
    leaves: list[Any] = []
    structure = traced_leaves(result, leaves, "the function's output")
    decided = _checked(graph)
    final, ids = fuse(graph, [to_tensor(graph, v).node.id for v in leaves] + decided,
                      drop_aliases=True)
    name = _function_name(fun, source)
    differentiated = ", ".join(signature[a].name for a in argnums)
    result_tree = unflatten(structure, [Output(i) for i in ids[:len(ids) - len(decided)]])
    doc = (f"Value of {name} and its derivative along the tangents of {differentiated} "
           "(forward mode).")
    if decided:
        result_tree = (result_tree, tuple(Output(i) for i in ids[len(ids) - len(decided):]))
        doc += _DECIDED
    spec = FunctionSpec(f"jvp_{name}", [s.name for s in passed(signature)], result_tree, doc)
    helpers: set[str] = set()
    functions = [emit_function(final, spec, helpers, target)]
    text = emit_module(functions, helpers, _header(source, name, signature), target)
    return GeneratedModule(text, spec.name, spec.name, signature, functions, helpers, final,
                           graph.read, graph.names_read,
                           **_checks_of(graph))


def _generate(fun: Any, signature: tuple[ArgSpec, ...], options: Options,
              target: Any) -> GeneratedModule:
    source = source_of(fun)
    graph = Graph(custom_rules=options.custom_rules)
    params = [s.name for s in passed(signature)]
    what = f"{getattr(fun, '__qualname__', source.name)}({_described(signature)})"
    with stage("trace", what):
        loss, aux = objective(graph, fun, signature, options)
    value = loss
    cotangent_shape: tuple = ()
    cotangent_dtype = loss.dtype
    if options.output != "scalar":
        loss, cotangent_shape = _reduced_output(graph, loss, options.output, params)
    aux_tree, aux_nodes = aux_leaves(graph, aux, source)

    outputs = [loss.id, *(n.id for n in aux_nodes)]
    decided = _checked(graph)
    with stage("simplify", what):
        forward, ids = fuse(graph, outputs + ([] if value is loss else [value.id]) + decided)
    loss_id, *aux_ids = ids[:len(ids) - len(decided)]
    decision_ids = ids[len(ids) - len(decided):]
    value_id = loss_id if value is loss else aux_ids.pop()
    wrt = [forward[forward.inputs[_input_position(signature, a)]] for a in options.argnums]
    with stage("derive", what):
        grads = backward(forward, forward[loss_id], wrt)

    name = _function_name(fun, source)
    diff_names = [signature[a].name for a in options.argnums]
    helpers: set[str] = set()
    functions = []
    with stage("emit", what):
        for kind in ("grad", "value_and_grad"):
            outputs = ([value_id] if kind == "value_and_grad" else []) + aux_ids + \
                [g.id for g in grads] + decision_ids
            final, ids = fuse(forward, outputs, drop_aliases=True)
            conditions = tuple(Output(i) for i in ids[len(ids) - len(decision_ids):])
            ids_iter = iter(ids[:len(ids) - len(decision_ids)])
            value = Output(next(ids_iter)) if kind == "value_and_grad" else None
            aux_out = unflatten(aux_tree, (Output(i) for i in ids_iter), sequence=tuple)
            grad_outs = tuple(Output(i, as_float=signature[a].kind == "float")
                              for i, a in zip(ids_iter, options.argnums, strict=True))
            grad_result: Any = grad_outs[0] if options.single else grad_outs
            if kind == "grad":
                result_tree = (grad_result, aux_out) if options.has_aux else grad_result
                doc = f"Gradient of {name} with respect to {', '.join(diff_names)}."
            else:
                value_tree = (value, aux_out) if options.has_aux else value
                result_tree = (value_tree, grad_result)
                doc = f"Value of {name} and its gradient with respect to {', '.join(diff_names)}."
            if decision_ids:
                result_tree = (result_tree, conditions)
                doc += _DECIDED
            spec = FunctionSpec(f"{kind}_{name}", params, result_tree, doc, *_defaults(signature))
            functions.append(emit_function(final, spec, helpers, target))
        text = emit_module(functions, helpers, _header(source, name, signature), target)
    return GeneratedModule(text, f"grad_{name}", f"value_and_grad_{name}", signature,
                           functions, helpers, forward, graph.read, graph.names_read,
                           cotangent_shape=cotangent_shape,
                           cotangent_dtype=cotangent_dtype,
                           **_checks_of(graph))


def _reduced_output(graph: Graph, out: Node, how: str, params: list[str]) -> tuple[Node, tuple]:
    """The scalar that reverse mode differentiates for an array output: its sum, or its inner
    product with a cotangent that becomes the generated functions' last parameter."""
    if how == "sum":
        return (reduce(graph, "sum", out, None) if out.rank else out), ()
    name = "cotangent"
    while name in params:
        name = "_" + name
    params.append(name)
    ct = graph.add_raw("input", (), make_params(index=len(params) - 1, name=name), out.shape,
                       out.dtype, name=name, intern=False)
    graph.inputs.append(ct.id)
    product = graph.add("mul", [out, ct])
    return (reduce(graph, "sum", product, None) if out.rank else product), out.shape


def target_for(backend: str, parallel: bool = False) -> Any:
    """The code target of a backend; a CUDA target collects one module's kernels, so each
    module gets a new one. ``parallel``: Numba's, with ``prange``."""
    if backend == "cuda":
        return CudaTarget()
    if parallel:
        return NUMBA_PARALLEL
    return {"numpy": NUMPY, "numba": NUMBA, "array_api": ARRAY_API}[backend]


def _input_position(signature: tuple[ArgSpec, ...], argnum: int) -> int:
    return sum(1 for s in signature[:argnum] if s.kind not in ("static", "tree"))
