"""How many of autograd's own example programs does symdiff (or JAX) differentiate correctly?

    python -m tests.outside.autograd_examples --autograd /tmp/autograd_src \
        [--engine symdiff|jax] [--backend numpy|numba] [-k name] [--out results.json]

A package named ``autograd`` is put in ``sys.modules`` whose parts are the engine's:
``autograd.numpy`` is NumPy (symdiff) or ``jax.numpy`` (JAX), ``autograd.scipy.*`` SciPy or
``jax.scipy``, ``autograd.grad`` and friends the engine's own; the optimizers, ``flatten`` and
``fixed_point`` are small reimplementations below. Each example file is read with ``ast`` and
its statements are run in a fresh module (functions keep the example file's name and line
numbers, so symdiff reads their source from that file), without its ``__main__`` block. A driver
per example then runs the definitions it needs from that block (objectives defined there are
the example's code, run unchanged), sets the globals the block would set (small synthetic data
instead of downloads, smaller sizes), and:

- compares the engine's value of each objective with its plain value, and the engine's gradient
  with central finite differences in float64 along three random unit directions ``d``:
  Richardson-extrapolated differences with steps 1e-4 and 5e-5, passing when
  ``|g.d - fd| <= 1e-6 * max(|g.d|, |fd|) + 1e-9 * (1 + |f(x)|)`` (``TOL``, ``ATOL``);
  objectives that draw random numbers get their generator's state restored before each call;
- where the example trains, runs three optimizer steps with the engine's gradient.

Each example is ``pass``, ``refused`` (the engine says it does not support something),
``wrong`` (a value or gradient off), ``crash`` (any other exception) or ``not-applicable``.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import functools
import inspect
import json
import signal
import sys
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as onp

TOL, ATOL = 1e-6, 1e-9
STEPS = (1e-4, 5e-5)
TIMEOUT_S = 420

EXAMPLES = [
    "rosenbrock", "fixed_points", "logistic_regression", "tanh", "sinusoid", "print_trace",
    "define_gradient", "negative_binomial_maxlike", "dot_graph", "neural_net_regression",
    "gplvm", "black_box_svi", "gmm", "hmm_em", "rkhs", "neural_net", "bayesian_neural_net",
    "gaussian_process", "lstm", "natural_gradient_black_box_svi", "ica", "ode_net", "rnn",
    "deep_gaussian_process", "bayesian_optimization", "variational_autoencoder",
    "mixture_variational_inference", "generative_adversarial_net", "convnet",
]

NOT_APPLICABLE = {
    "print_trace": "demonstrates autograd.tracer (Node subclasses hooked into autograd's own "
                   "tracing to print each primitive call); no engine has that machinery",
    "dot_graph": "draws autograd.tracer's evaluation graph as graphviz DOT (Node subclass, "
                 "autograd.tracer.trace); it takes no gradient",
    "rkhs": "differentiates with respect to a function-valued RKHSFun object, through "
            "autograd.extend's Box and VSpace (a user-defined vector space whose gradient is "
            "a new RKHSFun keyed by evaluation points); no array engine can represent it",
}

RANK = {"pass": 0, "not-applicable": 0, "refused": 1, "crash": 2, "wrong": 3}


# --- the engine's numpy, for the reimplemented helpers below ----------------------------------

_XP: Any = onp  # numpy or jax.numpy, set by install_shim
ENGINE = {"name": "symdiff", "backend": "numpy"}


def _mark_python(fun: Callable) -> Callable:
    """Run ``fun`` as Python while symdiff traces (structure walks, functions of functions)."""
    from symdiff.markers import runs_while_tracing

    return runs_while_tracing(fun)


def _walk(box: list) -> tuple[list, Any, list]:
    """The leaves (arrays, floats) of ``box[0]`` (dicts by sorted key, lists, tuples), a
    description of its structure, and the leaves' shapes."""
    leaves: list = []

    def walk(tree: Any) -> Any:
        if isinstance(tree, dict):
            return ("dict", tuple((k, walk(tree[k])) for k in sorted(tree)))
        if isinstance(tree, (list, tuple)):
            return (type(tree).__name__, tuple(walk(t) for t in tree))
        leaves.append(tree)
        return ("leaf", None)

    structure = walk(box[0])
    return leaves, structure, [tuple(getattr(leaf, "shape", ())) for leaf in leaves]


def _rebuild(structure: Any, pieces: list) -> Any:
    """The tree of ``structure`` holding ``pieces`` in order."""
    items = iter(pieces)

    def build(node: Any) -> Any:
        kind, children = node
        if kind == "leaf":
            return next(items)
        if kind == "dict":
            return {k: build(c) for k, c in children}
        built = [build(c) for c in children]
        return built if kind == "list" else tuple(built)

    return build(structure)


def _python_while_tracing() -> None:
    """symdiff runs the structure walks as Python (its ``runs_while_tracing`` marker): they
    only take containers apart and put them together, with no arithmetic to differentiate."""
    for fun in (_walk, _rebuild):
        _mark_python(fun)


def _unflatten(structure: Any, spans: tuple, flat: Any) -> Any:
    pieces = [_XP.reshape(flat[a:b], shape) for a, b, shape in spans]
    return _rebuild(structure, pieces)


def flatten(value: Any) -> tuple[Any, Callable]:
    """``autograd.misc.flatten``: one flat vector of the leaves, and the inverse."""
    leaves, structure, _ = _walk([value])
    shapes = [_XP.shape(leaf) for leaf in leaves]  # in traced code, sizes as the code sees them
    flat = _XP.concatenate([_XP.ravel(leaf) for leaf in leaves])
    spans = []
    start = 0
    for shape in shapes:
        size = int(onp.prod(shape)) if all(isinstance(s, int) for s in shape) else None
        if size is None:  # sizes known only when the code runs: no unflatten while tracing
            return flat, None
        spans.append((start, start + size, shape))
        start += size
    return flat, functools.partial(_unflatten, structure, tuple(spans))


def flatten_func(func: Callable, example: Any) -> tuple[Callable, Callable, Any]:
    """``autograd.misc.flatten.flatten_func``: ``func`` of a flat vector."""
    flat, unflatten = flatten(example)

    def flattened(x):
        return func(unflatten(x))

    return flattened, unflatten, flat


def _flat_numpy(tree: Any) -> onp.ndarray:
    leaves, _, _ = _walk([tree])
    return onp.concatenate([onp.ravel(onp.asarray(leaf, dtype=float)) for leaf in leaves])


def adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """``autograd.misc.optimizers.adam`` on a tree of parameters (written anew)."""
    x, unflatten = flatten(x0)
    x = onp.asarray(x, dtype=float)
    m, v = onp.zeros_like(x), onp.zeros_like(x)
    for i in range(num_iters):
        g = _flat_numpy(grad(unflatten(x), i))
        if callback:
            callback(unflatten(x), i, unflatten(g))
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g**2 + b2 * v
        x = x - step_size * (m / (1 - b1 ** (i + 1))) / (onp.sqrt(v / (1 - b2 ** (i + 1))) + eps)
    return unflatten(x)


def sgd(grad, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """``autograd.misc.optimizers.sgd`` with momentum (written anew)."""
    x, unflatten = flatten(x0)
    x = onp.asarray(x, dtype=float)
    velocity = onp.zeros_like(x)
    for i in range(num_iters):
        g = _flat_numpy(grad(unflatten(x), i))
        if callback:
            callback(unflatten(x), i, unflatten(g))
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return unflatten(x)


def rmsprop(grad, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8):
    """``autograd.misc.optimizers.rmsprop`` (written anew)."""
    x, unflatten = flatten(x0)
    x = onp.asarray(x, dtype=float)
    avg = onp.ones_like(x)
    for i in range(num_iters):
        g = _flat_numpy(grad(unflatten(x), i))
        if callback:
            callback(unflatten(x), i, unflatten(g))
        avg = avg * gamma + g**2 * (1 - gamma)
        x = x - step_size * g / (onp.sqrt(avg) + eps)
    return unflatten(x)


def fixed_point(f, a, x0, distance, tol):
    """``autograd.misc.fixed_points.fixed_point``, iterated in Python: the engines differentiate
    through the iterations (autograd differentiates the fixed point implicitly)."""
    step = f(a)
    x, x_prev = step(x0), x0
    while distance(x, x_prev) > tol:
        x, x_prev = step(x), x
    return x


def convolve(A, B, axes=None, dot_axes=None, mode="full"):
    """``autograd.scipy.signal.convolve`` in the one form convnet.py uses: ``A`` [data,
    color_in, y, x], ``B`` [color_in, color_out, ky, kx], ``axes=([2, 3], [2, 3])``,
    ``dot_axes=([1], [0])``, ``mode="valid"``: a true convolution (flipped kernel)."""
    kh, kw = B.shape[2], B.shape[3]
    oh, ow = A.shape[2] - kh + 1, A.shape[3] - kw + 1
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            window = A[:, :, i:i + oh, j:j + ow]
            out = out + _XP.einsum("ncyx,cd->ndyx", window, B[:, :, kh - 1 - i, kw - 1 - j])
    return out


# --- the shim ---------------------------------------------------------------------------------

class _Dummy:
    """matplotlib stand-in: every attribute and call gives another dummy."""

    def __getattr__(self, name):
        return _Dummy()

    def __call__(self, *args, **kwargs):
        return _Dummy()


def _module(name: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _install_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        top = _module("matplotlib", __getattr__=lambda name: _Dummy())
        for sub in ("pyplot", "cm", "image"):
            setattr(top, sub, _module(f"matplotlib.{sub}", __getattr__=lambda name: _Dummy()))


def _engine_functions(engine: str, backend: str) -> dict[str, Callable]:
    """autograd's differential operators, as the engine's."""
    if engine == "symdiff":
        import symdiff

        _python_while_tracing()

        def scalar(fun):  # as for JAX: autograd takes the gradient of any output of size 1
            count = sum(p.default is p.empty for p in inspect.signature(fun).parameters.values())
            if count == 1:
                def scalar_of_one(x):
                    return onp.reshape(fun(x), ())
                return scalar_of_one
            if count == 2:
                def scalar_of_two(x, y):
                    return onp.reshape(fun(x, y), ())
                return scalar_of_two
            return fun  # (symdiff needs named parameters, where JAX's wrapper takes *args)

        def grad(fun, argnum=0):
            return symdiff.grad(scalar(fun), argnums=argnum, backend=backend)

        def value_and_grad(fun, argnum=0):
            return symdiff.value_and_grad(scalar(fun), argnums=argnum, backend=backend)

        def elementwise_grad(fun, argnum=0):
            def summed(x):
                return onp.sum(fun(x))
            return symdiff.grad(summed, backend=backend)

        def hessian_vector_product(fun, argnum=0):
            gradient = symdiff.grad(fun, argnums=argnum, backend=backend)

            def hvp(x, v):
                return symdiff.jvp(gradient, (x,), (v,), backend=backend)[1]
            return hvp

        def make_vjp(fun, x):
            value, pullback = symdiff.vjp(fun, x, backend=backend)
            return lambda g: pullback(g)[0], value

        ops = {"grad": grad, "value_and_grad": value_and_grad,
               "elementwise_grad": elementwise_grad, "make_vjp": make_vjp,
               "hessian_vector_product": hessian_vector_product,
               "hessian": lambda fun, argnum=0: symdiff.hessian(fun, argnum, backend=backend),
               "jacobian": lambda fun, argnum=0: symdiff.jacobian(fun, argnum, backend=backend)}
        for name in ("grad", "value_and_grad", "elementwise_grad", "hessian_vector_product"):
            _mark_python(ops[name])
        return ops
    import jax
    import jax.numpy as jnp

    def scalar(fun):  # autograd takes the gradient of any output of size 1, JAX of scalars
        return functools.wraps(fun)(lambda *args: jnp.reshape(fun(*args), ()))

    def jgrad(fun, argnum=0):
        return jax.grad(scalar(fun), argnums=argnum)

    def jvalue_and_grad(fun, argnum=0):
        return jax.value_and_grad(scalar(fun), argnums=argnum)

    def jelementwise_grad(fun, argnum=0):
        return jax.grad(lambda x: jnp.sum(fun(x)))

    def jhvp(fun, argnum=0):
        return lambda x, v: jax.jvp(jax.grad(fun), (x,), (v,))[1]

    def jmake_vjp(fun, x):
        value, pullback = jax.vjp(fun, x)
        return lambda g: pullback(g)[0], value

    return {"grad": jgrad, "value_and_grad": jvalue_and_grad,
            "elementwise_grad": jelementwise_grad, "make_vjp": jmake_vjp,
            "hessian_vector_product": jhvp,
            "hessian": lambda fun, argnum=0: jax.hessian(fun, argnum),
            "jacobian": lambda fun, argnum=0: jax.jacobian(fun, argnum)}


SEEN: list[tuple[str, Callable, Any]] = []  # (operator, function, argnum) given to the shim


def _recording(ops: dict[str, Callable]) -> dict[str, Callable]:
    out = {}
    for name, op in ops.items():
        def recorded(fun, argnum=0, _op=op, _name=name):
            SEEN.append((_name, fun, argnum))
            return _op(fun, argnum)
        if getattr(op, "__symdiff_static__", False):
            _mark_python(recorded)
        out[name] = recorded
    return out


def _sequence_to_array(reduce: Callable, asarray: Callable, a: Any, *args: Any,
                       **kwargs: Any) -> Any:
    return reduce(asarray(a) if isinstance(a, (list, tuple)) else a, *args, **kwargs)


def install_shim(engine: str, backend: str, gradients: bool = True) -> types.ModuleType:
    """Put ``autograd`` in ``sys.modules``. ``gradients=False``: a reference shim whose NumPy
    is NumPy and whose differential operators fail when called."""
    global _XP
    for name in [m for m in sys.modules if m == "autograd" or m.startswith("autograd.")]:
        del sys.modules[name]
    import scipy.integrate
    import scipy.special
    import scipy.stats

    if engine == "jax" and gradients:
        import jax
        import jax.experimental.ode
        import jax.numpy as jnp
        import jax.scipy.special
        import jax.scipy.stats

        jax.config.update("jax_enable_x64", True)
        numpy_module = _module("autograd.numpy",
                               __getattr__=lambda name: getattr(jnp, name)
                               if hasattr(jnp, name) else getattr(onp, name))
        numpy_module.random = onp.random
        # autograd's reductions take tuples and lists (convnet.py: np.prod(shape),
        # bayesian_optimization.py: np.argmax(a tuple of values)); jax.numpy's do not
        for name in ("prod", "sum", "max", "min", "mean", "argmax", "argmin"):
            setattr(numpy_module, name, functools.partial(_sequence_to_array, getattr(jnp, name),
                                                          jnp.asarray))
        numpy_module.linalg = jnp.linalg
        special, stats = jax.scipy.special, jax.scipy.stats

        def odeint(func, y0, t, args=(), rtol=1.4e-8, atol=1.4e-8, **kwargs):
            return jax.experimental.ode.odeint(func, jnp.asarray(y0), jnp.asarray(t), *args,
                                               rtol=rtol, atol=atol)
        _XP = jnp
    else:
        numpy_module = onp
        sys.modules["autograd.numpy"] = onp
        special, stats = scipy.special, scipy.stats
        odeint = scipy.integrate.odeint
        if engine == "symdiff":  # as JAX's engine gets JAX's solver: symdiff's, read from source
            import symdiff.integrate
            odeint = symdiff.integrate.odeint
        _XP = onp
    sys.modules["autograd.numpy.random"] = onp.random
    sys.modules["autograd.numpy.linalg"] = numpy_module.linalg

    if gradients:
        ops = _recording(_engine_functions(engine, backend))
    else:
        def refuse(*args, **kwargs):
            def never(*a, **k):
                raise RuntimeError("the reference shim computes no gradients")
            return never
        ops = {name: refuse for name in ("grad", "value_and_grad", "elementwise_grad",
                                         "make_vjp", "hessian_vector_product", "hessian",
                                         "jacobian")}
    stats_module = _module("autograd.scipy.stats", norm=stats.norm, t=stats.t,
                           multivariate_normal=stats.multivariate_normal)
    sys.modules["autograd.scipy.stats.multivariate_normal"] = stats.multivariate_normal
    sys.modules["autograd.scipy.stats.norm"] = stats.norm
    sys.modules["autograd.scipy.stats.t"] = stats.t
    scipy_module = _module(
        "autograd.scipy", stats=stats_module,
        special=_module("autograd.scipy.special", logsumexp=special.logsumexp,
                        gammaln=special.gammaln, expit=special.expit),
        signal=_module("autograd.scipy.signal", convolve=convolve),
        integrate=_module("autograd.scipy.integrate", odeint=odeint))
    flatten_module = _module("autograd.misc.flatten", flatten=flatten, flatten_func=flatten_func)
    misc = _module("autograd.misc", flatten=flatten,
                   optimizers=_module("autograd.misc.optimizers", adam=adam, sgd=sgd,
                                      rmsprop=rmsprop),
                   fixed_points=_module("autograd.misc.fixed_points", fixed_point=fixed_point))
    sys.modules["autograd.misc.flatten"] = flatten_module

    def check_grads(*args, **kwargs):
        return lambda *a, **k: None

    primitive, defvjp = _primitives(engine if gradients else "none")
    top = _module("autograd", numpy=numpy_module, scipy=scipy_module, misc=misc, **ops,
                  builtins=_module("autograd.builtins", tuple=builtins.tuple),
                  test_util=_module("autograd.test_util", check_grads=check_grads),
                  tracer=_module("autograd.tracer", Node=object, trace=None),
                  extend=_module("autograd.extend", primitive=primitive, defvjp=defvjp))
    return top


def _primitives(engine: str) -> tuple[Callable, Callable]:
    """``primitive`` and ``defvjp(prim, vjpmaker)``, where ``vjpmaker(ans, *args)`` returns
    ``g -> cotangent`` for the first argument: ``symdiff.custom_vjp`` or ``jax.custom_vjp``."""
    if engine == "none":
        return (lambda fun: fun), (lambda *args, **kwargs: None)

    def defvjp(prim, vjpmaker, *others):  # symdiff's and JAX's custom_vjp take the same pair
        fun = prim.fun

        def fwd(x):
            ans = fun(x)
            return ans, (ans, x)

        def bwd(saved, g):
            ans, x = saved
            return (vjpmaker(ans, x)(g),)

        prim.defvjp(fwd, bwd)

    if engine == "symdiff":
        import symdiff
        return symdiff.custom_vjp, defvjp
    import jax
    return jax.custom_vjp, defvjp


# --- loading example files --------------------------------------------------------------------

def _is_main_guard(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test)


def _runs_program(stmt: ast.stmt) -> bool:
    """A top-level assignment of a script with no ``__main__`` block that runs its program
    (an optimizer, plotting) rather than defining something."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("minimize", "print"):
                return True
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                    f.value.id == "plt":
                return True
    return False


class Example:
    """An example file run without its ``__main__`` block (and, for a script without one,
    without its top-level statements other than imports, definitions and assignments)."""

    def __init__(self, directory: Path, name: str):
        self.path = directory / f"{name}.py"
        self.tree = ast.parse(self.path.read_text(), filename=str(self.path))
        self.module = types.ModuleType(name)
        self.module.__file__ = str(self.path)
        self.ns = self.module.__dict__
        sys.modules[name] = self.module  # as an import would (symdiff's disk cache imports
        # a function's module by name to check what it read)
        self.defs: list[tuple[str, int, Any]] = []  # every function defined, in order
        self.skipped: list[int] = []
        guarded = any(_is_main_guard(s) for s in self.tree.body)
        for stmt in self.tree.body:
            if _is_main_guard(stmt):
                continue
            if not guarded and (not isinstance(stmt, (ast.Import, ast.ImportFrom,
                                                      ast.FunctionDef, ast.ClassDef,
                                                      ast.Assign)) or
                                isinstance(stmt, ast.Assign) and _runs_program(stmt)):
                self.skipped.append(stmt.lineno)
                continue
            self._run(stmt)

    def _run(self, stmt: ast.stmt) -> None:
        code = compile(ast.Module(body=[stmt], type_ignores=[]), str(self.path), "exec")
        exec(code, self.ns)  # noqa: S102  (the example's own statement, from its file)
        if isinstance(stmt, ast.FunctionDef):
            self.defs.append((stmt.name, stmt.lineno, self.ns[stmt.name]))

    def main(self, *names: str) -> None:
        """Run the definitions of ``names`` (functions, and assignments such as lambdas)
        from the ``__main__`` block, unchanged, as module-level code."""
        block = next(s for s in self.tree.body if _is_main_guard(s))
        found = set()
        for stmt in block.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name in names or \
                    isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in names:
                self._run(stmt)
                found.add(stmt.name if isinstance(stmt, ast.FunctionDef)
                          else stmt.targets[0].id)
        missing = set(names) - found
        if missing:
            raise LookupError(f"not in {self.path.name}'s __main__ block: {sorted(missing)}")

    def set(self, **values: Any) -> None:
        self.ns.update(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["ns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def function(self, name: str, line: int) -> Any:
        return next(f for n, first, f in self.defs if n == name and first == line)


def _purge(directory: Path) -> None:
    stems = {p.stem for p in directory.glob("*.py")}
    for name in stems & set(sys.modules):
        del sys.modules[name]


def load(directory: Path, name: str, engine: str, backend: str, gradients: bool = True):
    _purge(directory)
    ag = install_shim(engine, backend, gradients)
    return Example(directory, name), ag


# --- checks -----------------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    status: str = "pass"
    detail: str = ""
    errors: list[float] = field(default_factory=list)


@dataclass
class Objective:
    """``fun(*args)`` differentiated with respect to ``args[argnum]`` (an int or a tuple)."""
    name: str
    fun: Callable
    args: tuple
    argnum: Any = 0
    reset: Callable | None = None  # restores the state of the random numbers it draws
    tol: float = TOL


def _tree_of(args: tuple, argnum: Any) -> Any:
    return tuple(args[i] for i in argnum) if isinstance(argnum, tuple) else args[argnum]


def _with_tree(args: tuple, argnum: Any, tree: Any) -> tuple:
    out = list(args)
    if isinstance(argnum, tuple):
        for i, t in zip(argnum, tree, strict=True):
            out[i] = t
    else:
        out[argnum] = tree
    return tuple(out)


def _unflatten_numpy(tree: Any) -> Callable:
    leaves, structure, shapes = _walk([tree])
    spans, start = [], 0
    for leaf, shape in zip(leaves, shapes, strict=True):
        size = int(onp.prod(shape))
        spans.append((start, start + size, shape, isinstance(leaf, float)))
        start += size

    def unflatten(flat):
        pieces = [float(flat[a]) if scalar else onp.reshape(flat[a:b], shape)
                  for a, b, shape, scalar in spans]
        return _rebuild(structure, pieces)
    return unflatten


def directional(f: Callable[[onp.ndarray], float], x: onp.ndarray, d: onp.ndarray) -> float:
    """Richardson-extrapolated central difference of ``f`` at ``x`` along ``d``."""
    h1, h2 = STEPS
    d1 = (f(x + h1 * d) - f(x - h1 * d)) / (2 * h1)
    d2 = (f(x + h2 * d) - f(x - h2 * d)) / (2 * h2)
    return (4 * d2 - d1) / 3


def compare_directions(check: Check, f: Callable, x: onp.ndarray, g: onp.ndarray,
                       fx: float, tol: float, count: int = 3) -> None:
    rng = onp.random.default_rng(1234)
    for k in range(count):
        d = rng.standard_normal(x.shape)
        d /= onp.linalg.norm(d) or 1.0
        fd = directional(f, x, d)
        gd = float(onp.sum(g * d))
        err = abs(gd - fd) / max(abs(gd), abs(fd), ATOL * (1 + abs(fx)) / tol)
        check.errors.append(err)
        if not err <= tol:
            check.status = "wrong"
            check.detail += f"direction {k}: g.d={gd:.10g} fd={fd:.10g} rel err {err:.2e}; "


def check_objective(ag, obj: Objective) -> Check:
    """The engine's value and gradient of ``obj`` against its plain value and differences."""
    check = Check(obj.name)
    tree = _tree_of(obj.args, obj.argnum)

    def plain(t):
        if obj.reset:
            obj.reset()
        return _scalar(obj.fun(*_with_tree(obj.args, obj.argnum, t)))

    fx = plain(tree)
    if obj.reset:
        obj.reset()
    value, grads = ag.value_and_grad(obj.fun, obj.argnum)(*obj.args)
    if not onp.isfinite(fx):
        check.status, check.detail = "wrong", f"the plain value is {fx}; "
    if abs(_scalar(value) - fx) > 1e-9 * (1 + abs(fx)):
        check.status = "wrong"
        check.detail += f"value {_scalar(value)!r} but the plain function gives {fx!r}; "
    x = _flat_numpy(tree)
    unflatten = _unflatten_numpy(tree)
    _, want, want_shapes = _walk([tree])
    _, got, got_shapes = _walk([grads])
    if want != got or [tuple(s) for s in want_shapes] != [tuple(s) for s in got_shapes]:
        check.status = "wrong"
        check.detail += f"gradient structure {got}/{got_shapes}, arguments {want}/{want_shapes}; "
        return check
    g = _flat_numpy(grads)
    if not onp.all(onp.isfinite(g)):
        check.status = "wrong"
        check.detail += "gradient not finite; "
        return check
    compare_directions(check, lambda v: plain(unflatten(v)), x, g, fx, obj.tol)
    return check


def check_derivative(name: str, derivative: Callable, function: Callable, x: Any,
                     tol: float = TOL) -> Check:
    """``derivative(x)`` (an engine's grad or elementwise grad) against differences of
    ``sum(function(x))``."""
    check = Check(name)
    g = onp.asarray(derivative(x), dtype=float)
    xs = onp.asarray(x, dtype=float)

    def f(v):
        arg = float(v) if onp.ndim(x) == 0 else v
        return float(onp.sum(onp.asarray(function(arg), dtype=float)))

    fx = f(xs)
    if not onp.all(onp.isfinite(g)):
        check.status, check.detail = "wrong", "derivative not finite"
        return check
    compare_directions(check, f, xs, g, fx, tol)
    return check


def _restorer(*generators: onp.random.RandomState) -> Callable:
    states = [rs.get_state() for rs in generators]

    def reset():
        for rs, state in zip(generators, states, strict=True):
            rs.set_state(state)
    return reset


def _closure_generators(fun: Callable) -> list[onp.random.RandomState]:
    cells = zip(fun.__code__.co_freevars, fun.__closure__ or (), strict=True)
    return [c.cell_contents for _, c in cells
            if isinstance(c.cell_contents, onp.random.RandomState)]


# --- drivers ----------------------------------------------------------------------------------
# Each driver gets the loaded example ``ex`` and the shim ``ag``, and returns the objectives
# to check (or Check results of its own) and a function running three training steps.

def pinwheel(n=24, seed=0):
    rs = onp.random.RandomState(seed)
    angles = rs.rand(n) * 2 * onp.pi
    radius = 1 + 0.3 * rs.randn(n)
    return onp.stack([radius * onp.cos(angles), radius * onp.sin(angles)], 1)


def one_hot_sequences(rs, steps, count, size):
    return onp.eye(size)[rs.randint(0, size, (steps, count))]


def d_rosenbrock(ex, ag):
    objs = [Objective("rosenbrock", ex.rosenbrock, (onp.array([0.0, 0.0]),)),
            Objective("rosenbrock at (-1.2, 1)", ex.rosenbrock, (onp.array([-1.2, 1.0]),))]

    def train():
        from scipy.optimize import minimize
        return minimize(ex.rosenbrock_with_grad, x0=onp.array([0.0, 0.0]), jac=True,
                        method="CG", options={"maxiter": 3}).fun
    return objs, train


def _named(label: str, thunk: Callable) -> Callable:
    thunk.label = label  # type: ignore[attr-defined]
    return thunk


def d_fixed_points(ex, ag):
    np_sqrt = ex.np.sqrt  # the example's np.sqrt: NumPy's or jax.numpy's
    checks = [
        _named("grad(np.sqrt)(2.0)", lambda: check_derivative(
            "grad(np.sqrt)(2.0)", ag.grad(np_sqrt), np_sqrt, 2.0)),
        _named("grad(sqrt)(2.0)", lambda: check_derivative(
            "grad(sqrt)(2.0)", ag.grad(ex.sqrt), ex.sqrt, 2.0)),
        _named("grad(grad(np.sqrt))(2.0)", lambda: check_derivative(
            "grad(grad(np.sqrt))(2.0)", ag.grad(ag.grad(np_sqrt)), ag.grad(np_sqrt), 2.0,
            tol=1e-5)),
        _named("grad(grad(sqrt))(2.0)", lambda: check_derivative(
            "grad(grad(sqrt))(2.0)", ag.grad(ag.grad(ex.sqrt)), ag.grad(ex.sqrt), 2.0,
            tol=1e-5)),
    ]
    return checks, None


def d_logistic_regression(ex, ag):
    objs = [Objective("training_loss", ex.training_loss, (onp.array([0.0, 0.0, 0.0]),)),
            Objective("training_loss at w", ex.training_loss, (onp.array([0.3, -0.2, 0.5]),))]

    def train():
        weights = onp.array([0.0, 0.0, 0.0])
        for _ in range(3):
            weights -= onp.asarray(ex.training_gradient_fun(weights)) * 0.01
        return ex.training_loss(weights)
    return objs, train


def d_tanh(ex, ag):
    x = onp.linspace(-7, 7, 29)
    chain = [ex.tanh]
    checks = []
    for order in range(1, 5):
        chain.append(ag.elementwise_grad(chain[-1]))
        checks.append(functools.partial(check_derivative, f"egrad^{order}(tanh)", chain[order],
                                        chain[order - 1], x, TOL * 10 ** (order - 1)))
    return checks, None


def d_sinusoid(ex, ag):
    checks = []
    for label, line in (("sin", 7), ("taylor", 25)):
        fun = ex.function("fun", line)
        d_fun = ag.grad(fun)
        dd_fun = ag.grad(d_fun)
        for x in (-3.3, 0.7, 2.5):
            checks.append(functools.partial(check_derivative, f"grad({label})({x})", d_fun,
                                            fun, x))
            checks.append(functools.partial(check_derivative, f"grad(grad({label}))({x})",
                                            dd_fun, d_fun, x, 1e-5))
    return checks, None


def d_define_gradient(ex, ag):
    ex.main("example_func")
    y = onp.random.RandomState(0).randn(10)
    return [Objective("example_func (custom logsumexp primitive)", ex.example_func, (y,))], None


def d_negative_binomial_maxlike(ex, ag):
    onp.random.seed(0)
    data = ex.negbin_sample(r=5, p=0.5, size=200)
    ex.set(data=data)
    ex.main("loglike")
    objs = [Objective("loglike (r, p)", ex.loglike, (3.0, 0.4), (0, 1))]

    def train():  # Newton's method on grad(loglike) with grad(grad) and grad(grad(grad))
        r, p = ex.fit_maxlike(data, r_guess=1)
        g = ag.grad(ex.loglike, (0, 1))(float(r), float(p))
        assert onp.all(onp.abs(onp.asarray(g, dtype=float)) < 1e-3), f"not stationary: {g}"
        return r, p
    return objs, train


def d_neural_net_regression(ex, ag):
    init_params = ex.init_random_params(0.1, layer_sizes=[1, 4, 4, 1])
    inputs, targets = ex.build_toy_dataset(n_data=16)
    ex.set(inputs=inputs, targets=targets, weight_prior_variance=10.0)
    ex.main("objective")
    objs = [Objective("objective", ex.objective, (init_params, 0))]
    return objs, lambda: ex.adam(ag.grad(ex.objective), init_params, step_size=0.01,
                                 num_iters=3)


def d_gplvm(ex, ag):
    data_dimension, latent_dimension = 2, 2
    params_per_gp, predict, lml = ex.make_gp_funs(ex.rbf_covariance,
                                                  num_cov_params=latent_dimension + 1)
    data = pinwheel(12)
    ex.set(data_dimension=data_dimension, latent_dimension=latent_dimension,
           params_per_gp=params_per_gp, predict=predict, log_marginal_likelihood=lml,
           total_gp_params=data_dimension * params_per_gp, data=data, datalen=data.shape[0],
           num_latent_params=data.shape[0] * latent_dimension)
    ex.main("unpack_params", "objective")
    init = onp.random.RandomState(1).randn(ex.total_gp_params + ex.num_latent_params) * 0.1
    return [Objective("objective", ex.objective, (init,))], lambda: _minimize(ag, ex.objective,
                                                                             init)


def _minimize(ag, objective, init):
    from scipy.optimize import minimize
    return minimize(ag.value_and_grad(objective), init, jac=True, method="CG",
                    options={"maxiter": 3}).fun


def _bbsvi(ex, ag, log_density, D, num_samples):
    objective, gradient, unpack = ex.black_box_variational_inference(log_density, D,
                                                                     num_samples=num_samples)
    reset = _restorer(*_closure_generators(objective))
    return objective, gradient, unpack, reset


def d_black_box_svi(ex, ag):
    ex.main("log_density")
    objective, gradient, _, reset = _bbsvi(ex, ag, ex.log_density, 2, 50)
    init = onp.concatenate([-1 * onp.ones(2), -5 * onp.ones(2)])
    init2 = onp.array([0.3, -0.4, -0.5, -1.0])
    objs = [Objective("variational_objective", objective, (init, 0), reset=reset),
            Objective("variational_objective at wider q", objective, (init2, 0), reset=reset)]

    def train():
        reset()
        return ex.adam(gradient, init, step_size=0.1, num_iters=3)
    return objs, train


def d_gmm(ex, ag):
    init_params = ex.init_gmm_params(num_components=3, D=2, scale=0.1)
    ex.set(data=pinwheel(20))
    ex.main("objective")
    flat_obj, unflatten, flat_init = flatten_func(ex.objective, init_params)
    flat_init = onp.asarray(flat_init)
    objs = [Objective("objective (dict of params)", ex.objective, (init_params,)),
            Objective("flattened objective", flat_obj, (flat_init,))]

    @functools.partial(_named, "hessian_vector_product (Newton-CG's hessp)")
    def hvp_check():
        hvp = ag.hessian_vector_product(flat_obj)
        v = onp.random.RandomState(3).randn(flat_init.size)
        gradient = ag.grad(flat_obj)
        return check_derivative("hessian_vector_product", lambda x: onp.asarray(hvp(x, v)),
                                lambda x: onp.dot(onp.asarray(gradient(x)), v), flat_init,
                                1e-5)

    def train():
        from scipy.optimize import minimize
        return minimize(flat_obj, flat_init, jac=ag.grad(flat_obj),
                        hessp=ag.hessian_vector_product(flat_obj), method="Newton-CG",
                        options={"maxiter": 3}).fun
    return objs + [hvp_check], train


def d_hmm_em(ex, ag):
    onp.random.seed(0)
    num_states, num_outputs = 3, 5
    rs = onp.random.RandomState(1)
    data = [rs.randint(0, num_outputs, 10) for _ in range(3)]
    init_params = ex.initialize_hmm_parameters(num_states, num_outputs)
    natural = list(map(onp.log, init_params))
    objs = [Objective("log_partition_function (list of sequences)", ex.log_partition_function,
                      (natural, data)),
            Objective("log_partition_function (one sequence)", ex.log_partition_function,
                      (natural, data[0]))]

    class Enough(Exception):
        pass

    def train():
        calls = []

        def callback(loglike, params):
            calls.append(float(loglike))
            if len(calls) == 3:
                raise Enough
        try:
            ex.EM(init_params, data, callback)
        except Enough:
            pass
        assert calls[2] >= calls[0] - 1e-9, f"EM decreased the likelihood: {calls}"
        return calls
    return objs, train


def d_neural_net(ex, ag):
    rs = onp.random.RandomState(0)
    N, D, K = 20, 16, 4
    images = rs.rand(N, D)
    labels = onp.eye(K)[rs.randint(0, K, N)]
    ex.set(train_images=images, train_labels=labels, L2_reg=1.0, batch_size=8,
           num_batches=int(onp.ceil(N / 8)))
    ex.main("batch_indices", "objective")
    init_params = ex.init_random_params(0.1, [D, 8, 6, K])
    objs = [Objective("objective (batch 0)", ex.objective, (init_params, 0)),
            Objective("objective (batch 2, short)", ex.objective, (init_params, 2))]
    return objs, lambda: ex.adam(ag.grad(ex.objective), init_params, step_size=0.001,
                                 num_iters=3)


def d_bayesian_neural_net(ex, ag):
    ex.main("rbf")
    num_weights, predictions, logprob = ex.make_nn_funs(layer_sizes=[1, 5, 5, 1], L2_reg=0.1,
                                                        noise_variance=0.01,
                                                        nonlinearity=ex.rbf)
    inputs, targets = ex.build_toy_dataset(n_data=10)
    ex.set(logprob=logprob, inputs=inputs, targets=targets)
    ex.main("log_posterior")
    objective, gradient, _, reset = _bbsvi(ex, ag, ex.log_posterior, num_weights, 5)
    rs = onp.random.RandomState(0)
    init = onp.concatenate([rs.randn(num_weights), -5 * onp.ones(num_weights)])
    objs = [Objective("variational objective (BNN)", objective, (init, 0), reset=reset)]

    def train():
        reset()
        return ex.adam(gradient, init, step_size=0.1, num_iters=3)
    return objs, train


def d_gaussian_process(ex, ag):
    num_params, predict, lml = ex.make_gp_funs(ex.rbf_covariance, num_cov_params=2)
    X, y = ex.build_toy_dataset(D=1, n_data=10)
    ex.set(log_marginal_likelihood=lml, X=X, y=y)
    ex.main("objective")
    init = 0.1 * onp.random.RandomState(0).randn(num_params)
    return [Objective("objective", ex.objective, (init,))], lambda: _minimize(ag, ex.objective,
                                                                             init)


def _char_model(ex, ag, init):
    rs = onp.random.RandomState(0)
    ex.set(train_inputs=one_hot_sequences(rs, 6, 3, 8))
    ex.main("training_loss")
    params = init(input_size=8, state_size=5, output_size=8, param_scale=0.3)
    objs = [Objective("training_loss", ex.training_loss, (params, 0))]
    return objs, lambda: ex.adam(ag.grad(ex.training_loss), params, step_size=0.1, num_iters=3)


def d_rnn(ex, ag):
    return _char_model(ex, ag, ex.create_rnn_params)


def d_lstm(ex, ag):
    return _char_model(ex, ag, ex.init_lstm_params)


def d_natural_gradient_black_box_svi(ex, ag):
    onp.random.seed(42)
    obs_dim = 4
    Y = onp.random.randn(obs_dim, obs_dim).dot(onp.random.randn(obs_dim))
    D = obs_dim * 2
    ex.set(obs_dim=obs_dim, Y=Y, D=D)
    ex.main("log_density")
    objective, gradient, unpack, reset = _bbsvi(ex, ag, ex.log_density, D, 40)
    ex.set(objective=objective, gradient=gradient, unpack_params=unpack)
    ex.main("fisher_diag", "natural_gradient")
    init = onp.concatenate([-1 * onp.ones(D), -5 * onp.ones(D)])
    objs = [Objective("variational objective", objective, (init, 0), reset=reset),
            Objective("variational objective at wider q", objective,
                      (onp.concatenate([onp.zeros(D), -1 * onp.ones(D)]), 0), reset=reset)]

    def train():
        reset()
        ex.adam(gradient, init, step_size=0.1, num_iters=3)
        return ex.sgd(ex.natural_gradient, init, step_size=0.1, num_iters=3, mass=0.001)
    return objs, train


def d_ica(ex, ag):
    observed_dimension, latent_dimension, n_samples = 6, 2, 10
    num_weights, sample, logprob, unpack_weights = ex.make_ica_funs(observed_dimension,
                                                                    latent_dimension)
    rs = onp.random.RandomState(0)
    true_weights = onp.stack([onp.sin(onp.linspace(0, 4 + i * 3.2, observed_dimension))
                              for i in range(latent_dimension)], 1)
    _, data = sample(true_weights, n_samples, 1.0, rs)
    num_latent_params = latent_dimension * n_samples
    ex.set(num_weights=num_weights, logprob=logprob, unpack_weights=unpack_weights,
           n_samples=n_samples, latent_dimension=latent_dimension, data=onp.asarray(data),
           num_latent_params=num_latent_params)
    ex.main("unpack_params", "objective")
    init = onp.random.RandomState(0).randn(num_weights + num_latent_params + 1)
    return [Objective("objective", ex.objective, (init,))], lambda: _minimize(ag, ex.objective,
                                                                             init)


def d_ode_net(ex, ag):
    from scipy.integrate import odeint as scipy_odeint
    true_y0 = onp.array([2.0, 0.0])
    t = onp.linspace(0.0, ex.max_T, 8)
    true_A = onp.array([[-0.1, 2.0], [-2.0, -0.1]])
    true_y = scipy_odeint(lambda y, t0: onp.dot(y**3, true_A), true_y0, t)
    ex.set(true_y0=true_y0, t=t, true_y=true_y)
    ex.main("train_loss")
    params = ex.init_nn_params(0.1, layer_sizes=[ex.D, 10, ex.D])
    objs = [Objective("train_loss (odeint, rtol=0.01)", ex.train_loss, (params, 0))]
    return objs, lambda: ex.adam(ag.grad(ex.train_loss), params, num_iters=3)


def d_deep_gaussian_process(ex, ag):
    n_data = 10
    ex.set(n_data=n_data)
    X, y = ex.build_step_function_dataset(D=1, n_data=n_data)
    ex.set(X=X, y=y)
    total, lml, _, _, _ = ex.build_deep_gp(1, 1, ex.rbf_covariance)
    ex.set(log_marginal_likelihood=lml)
    ex.main("objective")
    init = 0.1 * onp.random.RandomState(0).randn(total)
    return [Objective("objective", ex.objective, (init,))], lambda: _minimize(ag, ex.objective,
                                                                             init)


def d_bayesian_optimization(ex, ag):
    ex.main("example_function")
    start = len(SEEN)
    ex.bayesian_optimize(ex.example_function, onp.array([0.0]), onp.array([1.1]), num_iters=3)
    given = [(fun, argnum) for op, fun, argnum in SEEN[start:] if op == "value_and_grad"]
    objs, names = [], set()
    for fun, argnum in given:
        code = fun.__code__
        if (code.co_firstlineno, code.co_name) in names:
            continue
        names.add((code.co_firstlineno, code.co_name))
        if "acquisition_function" in code.co_freevars:  # lambda x: -acquisition_function(x)
            objs.append(Objective(f"acquisition objective (line {code.co_firstlineno})", fun,
                                  (onp.array([0.37]),), argnum))
        else:  # lambda params: -log_marginal_likelihood(params, X, y) - log_hyperprior(params)
            objs.append(Objective(f"GP objective (line {code.co_firstlineno})", fun,
                                  (onp.array([0.1, -0.2, 0.3, 0.05]),), argnum))
    if len(objs) < 2:
        raise AssertionError(f"expected two objectives given to value_and_grad, got {len(objs)}")
    return objs, None


def d_variational_autoencoder(ex, ag):
    rs = onp.random.RandomState(0)
    latent_dim, data_dim, N, batch_size = 2, 16, 12, 6
    images = onp.where(rs.rand(N, data_dim) > 0.5, 1.0, -1.0)
    seed = onp.random.RandomState(0)
    ex.set(train_images=images, batch_size=batch_size, num_batches=N // batch_size, seed=seed,
           data_dim=data_dim)
    ex.main("batch_indices", "objective")
    gen = ex.init_net_params(0.3, [latent_dim, 8, data_dim])
    rec = ex.init_net_params(0.3, [data_dim, 8, latent_dim * 2])
    reset = _restorer(seed)
    objs = [Objective("objective", ex.objective, ((gen, rec), 0), reset=reset)]

    def train():
        reset()
        return ex.adam(ag.grad(ex.objective), (gen, rec), step_size=0.001, num_iters=3)
    return objs, train


def d_mixture_variational_inference(ex, ag):
    ex.main("log_density")
    init_var_params, elbo, _, _ = ex.build_mog_bbsvi(ex.log_density, num_samples=10, k=3)
    ex.set(elbo=elbo)
    ex.main("objective")
    reset = _restorer(*_closure_generators(elbo))
    init = init_var_params(2)
    objs = [Objective("objective (mixture ELBO)", ex.objective, (init, 0), reset=reset)]

    def train():
        reset()
        return ex.adam(ag.grad(ex.objective), init, step_size=0.1, num_iters=3)
    return objs, train


def d_generative_adversarial_net(ex, ag):
    rs = onp.random.RandomState(0)
    noise_dim, data_dim, N, batch_size = 3, 16, 10, 5
    seed = onp.random.RandomState(0)
    ex.set(train_images=rs.rand(N, data_dim), batch_size=batch_size, num_batches=N // batch_size,
           seed=seed, noise_dim=noise_dim)
    ex.main("batch_indices", "objective")
    gen = ex.init_random_params(0.3, [noise_dim, 8, data_dim])
    dsc = ex.init_random_params(0.3, [data_dim, 8, 6, 1])
    reset = _restorer(seed)
    objs = [Objective("objective wrt (gen, dsc)", ex.objective, (gen, dsc, 0), (0, 1),
                      reset=reset)]

    def train():
        reset()
        both = ag.grad(ex.objective, argnum=(0, 1))
        return ex.adam_minimax(both, gen, dsc, num_iters=3, step_size_max=0.01,
                               step_size_min=0.01)
    return objs, train


def d_convnet(ex, ag):
    layer_specs = [ex.conv_layer((3, 3), 2), ex.maxpool_layer((2, 2)),
                   ex.conv_layer((2, 2), 3), ex.maxpool_layer((2, 2)),
                   ex.tanh_layer(6), ex.tanh_layer(5), ex.softmax_layer(4)]
    n_weights, pred_fun, loss_fun, frac_err = ex.make_nn_funs((1, 12, 12), layer_specs, 1.0)
    ex.set(pred_fun=pred_fun)
    rs = onp.random.RandomState(0)
    images = rs.rand(5, 1, 12, 12)
    labels = onp.eye(4)[rs.randint(0, 4, 5)]
    W = rs.randn(n_weights) * 0.1
    objs = [Objective("loss", loss_fun, (W, images, labels))]

    def train():
        loss_grad = ag.grad(loss_fun)
        cur_dir, w = onp.zeros(n_weights), W.copy()
        for _ in range(3):
            cur_dir = 0.9 * cur_dir + 0.1 * onp.asarray(loss_grad(w, images, labels))
            w -= 1e-3 * cur_dir
        return frac_err(w, images, labels)
    return objs, train


def _tracer_demo(ex, ag, name):
    """print_trace and dot_graph: only their small ``fun`` can be differentiated."""
    if name == "dot_graph":
        ex.main("fun")
    fun = ex.fun
    return [functools.partial(check_derivative, "grad(fun)(1.23) [extra]", ag.grad(fun), fun,
                              1.23)], None


DRIVERS: dict[str, Callable] = {name[2:]: f for name, f in globals().items()
                                if name.startswith("d_")}


# --- running ----------------------------------------------------------------------------------

class Timeout(Exception):
    pass


def classify(error: BaseException, engine: str) -> str:
    if engine == "symdiff":
        import symdiff
        if isinstance(error, symdiff.SymdiffError) and \
                not isinstance(error, symdiff.GradientCheckError):
            return "refused"
    else:
        import jax
        if isinstance(error, (jax.errors.ConcretizationTypeError,
                              jax.errors.TracerBoolConversionError,
                              jax.errors.TracerIntegerConversionError,
                              jax.errors.TracerArrayConversionError,
                              jax.errors.UnexpectedTracerError)):
            return "refused"
    return "crash"


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:400]


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if "autograd_src" in f.filename or "examples" in f.filename]
    frame = (mine or frames or [None])[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}" if frame else ""


def run_example(directory: Path, name: str, engine: str, backend: str) -> dict:
    record: dict[str, Any] = {"example": name, "engine": engine, "backend": backend,
                              "checks": [], "train": None}
    start = time.time()
    if name in NOT_APPLICABLE:
        record["status"], record["why"] = "not-applicable", NOT_APPLICABLE[name]
        if name in ("print_trace", "dot_graph"):  # their toy function, as an extra
            try:
                ex, ag = load(directory, name, engine, backend)
                checks, _ = _tracer_demo(ex, ag, name)
                result = checks[0]()
                record["extra"] = {"name": result.name, "status": result.status,
                                   "detail": result.detail}
            except Exception as e:  # noqa: BLE001
                record["extra"] = {"status": classify(e, engine), "detail": first_line(e)}
        return record
    reference = None
    if engine != "symdiff":  # plain NumPy values of the same objectives, for the value check
        reference = _reference_values(directory, name)
    try:
        ex, ag = load(directory, name, engine, backend)
        checks, train = DRIVERS[name](ex, ag)
    except Exception as e:  # noqa: BLE001
        record["status"] = classify(e, engine)
        record["error"] = first_line(e)
        record["where"] = _where(e)
        record["trace"] = traceback.format_exc()[-3000:]
        return record
    for item in checks:
        try:
            if isinstance(item, Objective):
                result = check_objective(ag, item)
                if reference is not None and item.name in reference:
                    want = reference[item.name]
                    got = _plain_value(item)
                    if isinstance(want, float) and abs(got - want) > 1e-7 * (1 + abs(want)):
                        result.detail += f"value {got!r}, plain NumPy {want!r}; "
                        if result.status == "pass":
                            result.status = "wrong"
            else:
                result = item()
        except Exception as e:  # noqa: BLE001
            label = item.name if isinstance(item, Objective) else \
                getattr(item, "args", ("",))[0] if isinstance(item, functools.partial) else \
                getattr(item, "label", "check")
            result = Check(str(label), classify(e, engine), first_line(e) + f" [{_where(e)}]")
            record.setdefault("traces", []).append(traceback.format_exc()[-3000:])
        record["checks"].append({"name": result.name, "status": result.status,
                                 "detail": result.detail.strip(),
                                 "max_err": max(result.errors) if result.errors else None})
    if train is not None:
        try:
            out = train()
            record["train"] = {"status": "pass", "detail": _short(out)}
        except Exception as e:  # noqa: BLE001
            record["train"] = {"status": classify(e, engine),
                               "detail": first_line(e) + f" [{_where(e)}]"}
            record.setdefault("traces", []).append(traceback.format_exc()[-3000:])
    statuses = [c["status"] for c in record["checks"]]
    if record["train"]:
        statuses.append(record["train"]["status"])
    record["status"] = max(statuses, key=RANK.get) if statuses else "pass"
    record["seconds"] = round(time.time() - start, 1)
    return record


def _plain_value(obj: Objective) -> float:
    if obj.reset:
        obj.reset()
    return _scalar(obj.fun(*obj.args))


def _scalar(value: Any) -> float:
    """A number from an output of size 1 (autograd differentiates any such output)."""
    return float(onp.reshape(onp.asarray(value, dtype=float), ()))


def _reference_values(directory: Path, name: str) -> dict[str, float | str]:
    """The objectives' values with the example run on plain NumPy (for the JAX engine)."""
    out: dict[str, float | str] = {}
    try:
        ex, ag = load(directory, name, "symdiff", "numpy", gradients=False)
        checks, _ = DRIVERS[name](ex, ag)
        for item in checks:
            if isinstance(item, Objective):
                try:
                    out[item.name] = _plain_value(item)
                except Exception as e:  # noqa: BLE001
                    out[item.name] = first_line(e)
    except Exception as e:  # noqa: BLE001
        out["<error>"] = first_line(e)
    finally:
        _purge(directory)
    return out


def _short(value: Any) -> str:
    if isinstance(value, (float, int, onp.floating)):
        return f"ran 3 steps; final {float(value):.6g}"
    return "ran 3 steps"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autograd", required=True, type=Path)
    parser.add_argument("--engine", choices=("symdiff", "jax"), default="symdiff")
    parser.add_argument("--backend", choices=("numpy", "numba"), default="numpy")
    parser.add_argument("-k", dest="only", action="append", default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    directory = (args.autograd / "examples").resolve()
    sys.path.insert(0, str(directory))
    _install_matplotlib()
    names = [n for n in EXAMPLES if not args.only or any(k in n for k in args.only)]

    def alarm(signum, frame):
        raise Timeout(f"no result in {TIMEOUT_S} s")
    signal.signal(signal.SIGALRM, alarm)
    results = []
    for name in names:
        signal.alarm(TIMEOUT_S)
        try:
            record = run_example(directory, name, args.engine, args.backend)
        except Timeout as e:
            record = {"example": name, "status": "crash", "error": str(e), "checks": []}
        finally:
            signal.alarm(0)
        results.append(record)
        line = f"{name:34s} {record['status']:15s}"
        extra = record.get("error") or record.get("why") or "; ".join(
            f"{c['name']}: {c['status']} {c['detail']}" for c in record["checks"]
            if c["status"] != "pass")
        if record.get("train") and record["train"]["status"] != "pass":
            extra += f" | train: {record['train']['status']} {record['train']['detail']}"
        print(f"{line} {extra}"[:600], flush=True)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1, default=str))
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
