"""Elementwise primitives: each is its scalar SymPy formula and nothing more.

No elementwise derivative is written by hand here. Before differentiation, connected elementwise
nodes are fused into ``fused`` kernels (``symdiff.simplify.fuse``); a kernel's adjoint is
``cotangent * d expr / d input`` with the partial from SymPy (``symdiff.calculus.derive``).
A single unfused node is a kernel of one operation: derivatives taken while tracing (a ``grad``
called inside differentiated code) see the graph before fusion.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symdiff.calculus import scalar as S
from symdiff.calculus.derive import partial
from symdiff.calculus.special import PRIMITIVES as SPECIAL
from symdiff.ir.fused import arg_symbol, make_fused, replace_subexpression
from symdiff.ir.graph import Graph, Node, adjoint_name
from symdiff.ir.primitives import Primitive, lookup, promote, register
from symdiff.ir.shapes import broadcast_shapes, require


def _divide(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """a / b as in IEEE arithmetic, also by a size known to be 0 (the mean of an empty slice):
    a * inf is what a / 0 is, where SymPy's a / 0 is a complex infinity no target can print."""
    return a * sp.oo if b.is_zero else a / b


def _log(a: sp.Basic) -> sp.Basic:
    """log as in IEEE arithmetic: log(0) is -inf (SymPy's is a complex infinity)."""
    return -sp.oo if a.is_zero else sp.log(a)


def _infer(dtype_rule: str, divides: bool = False):
    def infer(inputs: list[Node], params: dict) -> tuple:
        if divides and inputs[1].op == "dim":
            # a size known when the code runs is a Python int there, and x / 0 would raise:
            # such a size is checked not to be 0, and code for 0 computes NumPy's inf or NaN
            require(1, inputs[1].param("expr"))
        shape = broadcast_shapes(*(n.shape for n in inputs))
        if dtype_rule == "bool":
            return shape, "bool"
        return shape, promote(inputs, floating=dtype_rule == "float")
    return infer


def defelementwise(name: str, formula: Callable[..., sp.Basic], dtype: str = "float",
                   differentiable: bool = True, numeric: bool = True,
                   replace: bool = False) -> None:
    """Register an elementwise primitive by its scalar formula.

    ``dtype`` is "float" (the result is floating), "same" (NumPy promotion) or "bool".
    ``numeric`` arguments are converted from booleans to 0/1 first, as NumPy does.
    """
    def scalar(*args: sp.Basic, frozen: tuple[int, ...] = (), **params) -> sp.Basic:
        # ``frozen`` operands carry no gradient (symdiff.ir.shifts): constants to SymPy
        args = tuple(S.stop_gradient(a) if i in frozen else a for i, a in enumerate(args))
        return formula(*map(S.as_number, args)) if numeric else formula(*args)
    register(Primitive(name, _infer(dtype, divides=name == "div"), scalar=scalar,
                       differentiable=differentiable,
                       vjp=elementwise_vjp if differentiable else None), replace=replace)


def elementwise_vjp(graph: Graph, node: Node, ct: Node) -> list[Node | None]:
    """The adjoint of one unfused elementwise node: that of the kernel of its one operation,
    with constant operands written in (so that d x**2 / dx is 2*x) and the derivative in terms
    of the operands only: ``b * out / a`` for ``a ** b`` would be 0/0 at a = 0 until fusion
    put ``out`` back."""
    args = [node_scalar(graph[i], []) if graph[i].op == "const" else arg_symbol(k)
            for k, i in enumerate(node.inputs)]
    return kernel_vjp(graph, node, node_scalar(node, args), ct, reuse_output=False)


for _name, _f in {
    "exp": sp.exp, "log": _log, "log1p": S.log1p, "expm1": S.expm1, "sqrt": sp.sqrt,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh, "sinh": sp.sinh,
    "cosh": sp.cosh, "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "div": _divide, "logaddexp": S.logaddexp, "arctan2": sp.atan2, "hypot": S.hypot,
    "arcsinh": sp.asinh, "arccosh": sp.acosh, "arctanh": sp.atanh, "cbrt": S.cbrt,
    "sinc": S.sinc, "heaviside": S.heaviside,
    # piecewise constant: derivative 0 (NumPy gives floats even for integer arrays)
    "floor": S.floor, "ceil": S.ceil, "trunc": S.trunc, "rint": S.rint,
}.items():
    defelementwise(_name, _f, "float")

for _name, _f in {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "pow": lambda a, b: a ** b, "neg": lambda a: -a, "abs": S.absolute,
    "square": lambda a: a ** 2, "maximum": S.maximum, "minimum": S.minimum,
    "fmax": S.fmax, "fmin": S.fmin, "mod": S.mod, "fmod": S.fmod,
}.items():
    defelementwise(_name, _f, "same")

# scipy.special's functions (symdiff.calculus.special)
for _name, _f in SPECIAL.items():
    defelementwise(_name, _f, "float")

defelementwise("sign", S.sign, "same", differentiable=False)
defelementwise("stop_gradient", S.stop_gradient, "same")
defelementwise("where", lambda c, a, b: sp.Piecewise(
    (S.as_number(a), S.as_condition(c)), (S.as_number(b), True)), "same", numeric=False)

# a new variable equal to its input: the argument of a derivative taken inside differentiated
# code, so that the inner derivative does not see where its argument came from
defelementwise("fresh", lambda a: a, "same")

def _comparison(relation: type, reflexive: bool):
    """``relation`` of two operands; of one operand with itself, what IEEE floats say (SymPy
    would decide that x == x: false for NaN, which ``x != x`` tests for)."""
    def formula(a: sp.Basic, b: sp.Basic) -> sp.Basic:
        if a == b and not a.is_Number:
            return sp.Not(S.isnan(a)) if reflexive else \
                S.isnan(a) if relation is sp.Ne else sp.false
        return relation(a, b)
    return formula


for _name, _rel, _reflexive in (("lt", sp.StrictLessThan, False), ("le", sp.LessThan, True),
                                ("gt", sp.StrictGreaterThan, False),
                                ("ge", sp.GreaterThan, True), ("eq", sp.Eq, True),
                                ("ne", sp.Ne, False)):
    defelementwise(_name, _comparison(_rel, _reflexive), "bool", differentiable=False)
for _name, _test in {"isnan": S.isnan, "isinf": S.isinf, "isfinite": S.isfinite}.items():
    defelementwise(_name, _test, "bool", differentiable=False)
for _name, _logic in {"logical_and": sp.And, "logical_or": sp.Or,
                      "logical_not": sp.Not}.items():
    defelementwise(_name, lambda *a, _f=_logic: _f(*map(S.as_condition, a)), "bool",
                   differentiable=False, numeric=False)


# --- constants -------------------------------------------------------------------------------

def _const_infer(inputs: list[Node], params: dict) -> tuple:
    value = params["value"]
    return (), "bool" if isinstance(value, bool) else \
        "int64" if isinstance(value, int) else "float64"


def _const_scalar(*inputs: sp.Basic, value, **params) -> sp.Basic:
    if isinstance(value, bool):
        return sp.true if value else sp.false
    if isinstance(value, int) or (float(value).is_integer() and abs(value) <= 2 ** 53):
        # 2.0 * x is 2*x: no spurious 1.0* factors (not 1e300, which NumPy cannot take as int)
        return sp.Integer(int(value))
    return sp.Float(value)


register(Primitive("const", _const_infer, scalar=_const_scalar, differentiable=False))


def _fill_infer(inputs: list[Node], params: dict) -> tuple:
    return inputs[0].shape, params.get("dtype") or inputs[0].dtype


# ones_like(x) and friends: elementwise in x, but only x's shape and dtype matter
register(Primitive("fill", _fill_infer, scalar=_const_scalar, differentiable=False))


def node_scalar(node: Node, args: list[sp.Basic]) -> sp.Basic:
    """The scalar formula of an elementwise node applied to SymPy ``args``."""
    return lookup(node.op).scalar(*args, **dict(node.params))


# --- fused kernels -----------------------------------------------------------------------------

OUTPUT = sp.Symbol("_out", real=True)
COTANGENT = sp.Symbol("_ct", real=True)


def _fused_infer(inputs: list[Node], params: dict) -> tuple:
    raise TypeError("fused nodes are built with symdiff.ir.fused.make_fused")


def fused_vjp(graph: Graph, node: Node, ct: Node) -> list[Node | None]:
    return kernel_vjp(graph, node, node.param("expr"), ct)


def kernel_vjp(graph: Graph, node: Node, expr: sp.Basic, ct: Node,
               reuse_output: bool = True) -> list[Node | None]:
    """``ct * d expr / d input`` for each input of ``node``, whose formula is ``expr`` over the
    symbols ``_a0, _a1, ...``; ``reuse_output``: write the kernel's own value where the
    derivative contains it (d exp(x) = exp(x) reads the value computed already)."""
    args = graph.args(node)
    symbols = {arg_symbol(i): a for i, a in enumerate(args)}
    symbols[OUTPUT] = node
    symbols[COTANGENT] = ct
    contributions: dict[int, sp.Basic] = {}
    for i, arg in enumerate(args):
        # no SymPy work for inputs no gradient flows to (labels, data, constants)
        if not arg.is_float or (graph.wanted is not None and not graph.wanted[arg.id]):
            continue
        d = partial(expr, arg_symbol(i), OUTPUT if reuse_output else None,
                    exact_output=node.dtype == "float64")
        if d != 0:
            contributions[i] = COTANGENT * d
    names = {i: _adjoint_name(expr, arg_symbol(i), node.param("names", ()))
             for i in contributions}
    contributions = _shared_factors(graph, contributions, symbols, names)
    return [_kernel(graph, contributions[i], symbols, arg, names[i])
            if i in contributions else None for i, arg in enumerate(args)]


def _kernel(graph: Graph, expr: sp.Basic, symbols: dict[sp.Symbol, Node], like: Node,
            name: str | None = None) -> Node:
    used = [symbols[s] for s in expr.free_symbols]
    shape = broadcast_shapes(*(n.shape for n in used))
    dtype = promote([n for n in used if n.is_float] or [like])
    return make_fused(graph, expr, symbols, shape, dtype, name)


def _worth_an_array(sub: sp.Basic) -> bool:
    """Whether computing ``sub`` once into an array beats computing it again where it is
    used: only for functions such as exp and the sigmoid; arithmetic is cheaper than the
    memory a compiled loop would write and read back."""
    if not isinstance(sub, sp.Expr):  # a condition, such as maximum(u, 0) < 1
        return False
    return any(not isinstance(f, S.stop_gradient) for f in sub.atoms(sp.Function))


def _shared_factors(graph: Graph, contributions: dict[int, sp.Basic],
                    symbols: dict[sp.Symbol, Node], names: dict[int, str | None]
                    ) -> dict[int, sp.Basic]:
    """The contributions to several inputs with what they have in common computed once: for
    ``sigmoid(w * x + b)``, ``ct * s * (1 - s)`` is the same factor of those to w, x and b, as
    the adjoint of ``w * x + b`` would be in code written by hand. A factor that is the whole
    of some contributions takes their name (``bz``, all of z's cotangent)."""
    if len(contributions) < 2 or any(e.has(sp.Piecewise) for e in contributions.values()):
        # (a factor inside a branch of a selection is computed only under its guard against
        # warnings from where that branch is not selected)
        return contributions
    temps = sp.numbered_symbols("_shared", real=True)
    replacements, reduced = sp.cse(list(contributions.values()), symbols=temps, order="none")
    inlined: dict[sp.Symbol, sp.Basic] = {}  # common, but cheaper computed again
    for temp, sub in replacements:
        sub = sub.xreplace(inlined)
        users = [e for e in reduced if e.has(temp)]
        # (contributions that are all of it are one node already: kernels are shared)
        if len(users) < 2 or all(e == temp for e in users) or not _worth_an_array(sub):
            inlined[temp] = sub
        else:
            whole = {names[i] for i, e in zip(contributions, reduced, strict=True) if e == temp}
            name = whole.pop() if len(whole) == 1 else None
            symbols[temp] = _kernel(graph, sub, symbols, symbols[COTANGENT], name)
    return {i: e.xreplace(inlined) for i, e in zip(contributions, reduced, strict=True)}


def _adjoint_name(expr: sp.Basic, symbol: sp.Symbol, names: tuple) -> str | None:
    """``bz`` when ``symbol`` enters ``expr`` only through the named value ``z = symbol + ...``,
    so that this contribution is exactly z's adjoint."""
    for sub, name in names:
        if sub.has(symbol) and sp.diff(sub, symbol) == 1 and \
                not replace_subexpression(expr, sub, sp.Dummy()).has(symbol):
            return adjoint_name(name)
    return None


def _fused_scalar(*args: sp.Basic, expr: sp.Basic, names: tuple = ()) -> sp.Basic:
    return expr.xreplace({arg_symbol(i): a for i, a in enumerate(args)})


register(Primitive("fused", _fused_infer, scalar=_fused_scalar, vjp=fused_vjp))
