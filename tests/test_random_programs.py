"""Random differentiable NumPy programs, checked against finite differences and JAX.

Hypothesis writes a program as Python source (symdiff reads source), over inputs whose shapes
broadcast against a base shape (n, m), with random ranks and size-1 dimensions. Every operand
is kept inside its primitive's domain by construction (log of x*x + 0.5, arcsin of 0.9*tanh(x),
division by y*y + 0.5, ...). Each program's gradient from every backend is compared with
central finite differences in float64, and with JAX when it is installed.

A second generator (below ``programs at several sizes``) writes the code users write at sizes
they vary: slices with offsets, steps and constant bounds that become 1 or 0 long, derived sizes
broadcast against other inputs, keepdims reductions, 0-d arrays and Python floats beside arrays,
constant indices, integer gathers (inline, local, module constants, lists), helper functions,
branches on data and on sizes, and shape arithmetic. One gradient function per program is called
at two or three draws of sizes: where NumPy raises, symdiff must raise a SymdiffError; elsewhere
its value is NumPy's, its gradient the finite differences', and the numpy and numba backends and
JAX agree. Its tests are parametrised by the construct each program is built around
(``FEATURES``).

CI runs a bounded number of programs; ``SYMDIFF_LONG=1`` runs thousands (more than 10,000 in
all). ``python -m tests.random_campaign`` runs sized programs for a given time without stopping
at the first failure, records every failure and reduces them. A failure that Hypothesis finds is
kept as a regression case in ``tests/cases/regressions.py``.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import re
import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import symdiff
from symdiff import SymdiffError
from tests.conftest import jax_or_skip

LONG = bool(os.environ.get("SYMDIFF_LONG"))
EXAMPLES = {"numpy": 2000 if LONG else 150, "numba": 300 if LONG else 20,
            "cuda": 100 if LONG else 10}

# unary building blocks, each safe on all of R (the argument is the operand's source)
UNARY = [
    "np.exp(-{a} * {a})", "np.log({a} * {a} + 0.5)", "np.log1p({a} * {a})", "np.expm1(0.5 * {a})",
    "np.sqrt({a} * {a} + 0.1)", "np.sin({a})", "np.cos({a})", "np.tan(0.5 * np.tanh({a}))",
    "np.tanh({a})", "np.sinh(0.5 * {a})", "np.cosh(0.5 * {a})", "np.arcsin(0.9 * np.tanh({a}))",
    "np.arccos(0.9 * np.tanh({a}))", "np.arctan({a})", "np.abs({a})", "np.square({a})",
    "-{a}", "{a} ** 3", "symdiff.nn.sigmoid({a})", "symdiff.nn.softplus({a})",
    "symdiff.nn.relu({a})", "np.clip({a}, -0.7, 0.7)",
]
BINARY = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 0.5)", "np.maximum({a}, {b})",
    "np.minimum({a}, {b})", "np.logaddexp({a}, {b})", "np.where({a} > {b}, {a} * {b}, {b})",
    "({a} * {a} + 0.5) ** ({b} * 0.5)",
]
REDUCE = ["np.sum({a}, axis={axis}, keepdims=True)", "np.mean({a}, axis={axis}, keepdims=True)",
          "np.max({a}, axis={axis}, keepdims=True)"]
SHAPES = [(), ("m",), (1, "m"), ("n", 1), ("n", "m")]


@st.composite
def programs(draw):
    """(source, input shape templates): ``def program(x0, x1, ...): ... return scalar``."""
    n_inputs = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_inputs)]
    names = [f"x{i}" for i in range(n_inputs)]
    shape_of = dict(zip(names, shapes, strict=True))
    lines = []
    for k in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "matmul",
                                     "shape"]))
        a = draw(st.sampled_from(names))
        shape = shape_of[a]
        if kind == "unary":
            expr = draw(st.sampled_from(UNARY)).format(a=a)
        elif kind == "binary":
            b = draw(st.sampled_from(names))
            expr = draw(st.sampled_from(BINARY)).format(a=a, b=b)
            shape = broadcast(shape, shape_of[b])
        elif kind == "reduce" and len(shape) == 2:
            axis = draw(st.sampled_from([0, 1]))
            expr = draw(st.sampled_from(REDUCE)).format(a=a, axis=axis)
            shape = tuple(1 if i == axis else d for i, d in enumerate(shape))
        elif kind == "matmul" and shape and shape[-1] == "m":
            expr = f"{a} @ np.cos(w)"  # w is (m, m): the shape is kept
        elif kind == "shape" and len(shape) == 2:
            expr = draw(st.sampled_from([
                f"np.transpose(np.transpose({a}) * 1.5)",
                f"np.squeeze(np.expand_dims({a}, 0), axis=0)",
                f"{a}.reshape(-1).reshape({a}.shape)",
                f"np.sum({a}[..., 1:], axis=-1, keepdims=True)",
                f"{a}[:1, :] * {a} + {a}[:, -1:]",
            ]))
            if "1:]" in expr and shape[1] == "m":
                shape = (shape[0], 1)
            elif "1:]" in expr or ":1, :]" in expr:
                expr = f"np.tanh({a})"  # the slice would be empty along a size-1 axis
        else:
            expr = f"np.tanh({a})"
        name = f"v{k}"
        lines.append(f"    {name} = {expr}")
        names.append(name)
        shape_of[name] = shape
    used = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    total = " + ".join(f"np.sum({u} * {c + 1}.5)" for c, u in enumerate(used))
    params = ", ".join([f"x{i}" for i in range(n_inputs)] + ["w"])
    source = ("import numpy as np\n\nimport symdiff\n\n\n"
              f"def program({params}):\n" + "\n".join(lines) + f"\n    return {total}\n")
    return source, shapes


def broadcast(a: tuple, b: tuple) -> tuple:
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    return tuple(y if x == 1 else x for x, y in zip(a, b, strict=True))


_counter = itertools.count()


def load(source: str, folder) -> types.FunctionType:
    path = folder / f"random_program_{next(_counter)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.program


def inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    sizes = {"n": 3, "m": 2}
    args = [rng.uniform(-1.5, 1.5, tuple(sizes.get(d, d) for d in s)) if s
            else float(rng.uniform(-1.5, 1.5)) for s in shapes]
    return args + [rng.uniform(-1, 1, (2, 2))]


def check(program, shapes, backend):
    args = inputs(shapes, seed=len(shapes))
    argnums = tuple(range(len(args)))
    symdiff.check_grad(program, *args, argnums=argnums, backend=backend, rtol=1e-5)
    return args, argnums


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
def test_random_programs_match_finite_differences(backend, tmp_path_factory):
    folder = tmp_path_factory.mktemp("programs")

    @settings(max_examples=EXAMPLES[backend], deadline=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck), database=None)
    @given(programs())
    def run(case):
        source, shapes = case
        check(load(source, folder), shapes, backend)

    run()


def test_random_programs_match_jax(tmp_path_factory):
    jax = jax_or_skip()
    folder = tmp_path_factory.mktemp("programs_jax")

    @settings(max_examples=60 if not LONG else 600, deadline=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck), database=None)
    @given(programs())
    def run(case):
        source, shapes = case
        if "symdiff.nn" in source:
            return  # JAX cannot run symdiff.nn's NumPy
        program = load(source, folder)
        args = inputs(shapes, seed=1)
        argnums = tuple(range(len(args)))
        reference = types.FunctionType(program.__code__, {**program.__globals__,
                                                          "np": jax.numpy})
        expected = jax.grad(reference, argnums)(*args)
        got = symdiff.grad(program, argnums, backend="numpy")(*args)
        for e, g in zip(expected, got, strict=True):
            np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-11)

    run()


# -- programs at several sizes -------------------------------------------------------------
#
# The programs above run at one size. Users write slices with offsets and steps, constant
# indices, integer gathers, helper functions, branches on data and shape arithmetic, and call
# one gradient function at many sizes. The generator below writes such programs over inputs
# whose sizes n and m are drawn 2 or 3 times from {1, 2, 3, 5}; one gradient function per
# backend is built per program and called at every draw. Where NumPy raises running the
# program (shapes that do not broadcast, an index past the end, a reduction of nothing),
# symdiff must raise a SymdiffError located at the line (or, for an index array's values,
# which only running the code sees, NumPy's IndexError); elsewhere its value is NumPy's and
# its gradient the central finite differences', and the backends and JAX agree.
#
# The generator runs every line it writes on the inputs of every draw while writing it: it
# only writes lines NumPy runs at the first draw, whose values stay finite and moderate (so
# that finite differences in float64 stay accurate), and branches whose two sides have one
# shape. The other draws are whatever the sizes make of the program, refusals included.

SIZED_SIZES = (1, 2, 3, 5)
# input shape templates: a Python float, a 0-d array, and arrays over the sizes n and m
SIZED_INPUTS = ("float", "0d", ("n",), ("m",), ("n", "m"), (1, "m"), ("n", 1), ("m", "n"))
VALUE_CAP = 50.0  # larger intermediate values make central differences inaccurate
SLICES = ("1:", ":-1", "1:-1", "::2", "1::2", "2:5", ":3", "-3:", "::-1", "2:", ":1", "-1:",
          "1:3", "::3", "-2::-1")
INDICES = ("0", "1", "-1", "2", "-2")
GATHERS = ("[0, 2]", "[1, 0, 1]", "[-1, 0]", "[0, 0]", "[1]", "[2, -1, 0]")
AXES = {1: ("0", "-1", None), 2: ("0", "1", "-1", None, "(0, 1)")}
CONDITIONS = [  # (left, comparison, right) of a branch on data
    ("np.sum({a})", ">", "0"), ("np.mean({a})", "<", "0.25"), ("np.max({a})", ">", "0.5"),
    ("np.sum({a} * {a})", ">", "1.0"), ("np.sum({a})", ">", "np.sum({b})"),
    ("{a}[0]", ">", "0"), ("{a}[-1]", "<", "{a}[0]"), ("{a}", ">", "0"),
    ("{a}.sum()", "<", "0.5"), ("np.min({a})", "<", "-0.5"),
]
SIZE_CONDITIONS = [  # and of a branch on sizes
    ("{a}.shape[0]", ">", "2"), ("len({a})", ">=", "3"), ("{a}.size", "<", "4")]
BASE_KINDS = ("unary", "binary", "binary", "keepdims", "matmul", "shape")
FEATURE_KINDS = {
    "slices": ("slice", "slice", "shift"),
    "broadcast": ("shift", "center", "keepdims"),
    "scalars": ("scalar", "scalar"),
    "indices": ("index", "index"),
    "gathers": ("gather", "gather"),
    "shapes": ("size", "size", "reduce"),
    "helpers": ("helper", "helper"),
    "branches": ("branch", "branch"),
}
FEATURE_KINDS["mixed"] = tuple(sorted({k for ks in FEATURE_KINDS.values() for k in ks}))
FEATURES = tuple(FEATURE_KINDS)
HELPER_KINDS = BASE_KINDS + ("slice", "shift", "center", "index", "scalar")
BRANCH_KINDS = BASE_KINDS + ("slice", "center", "scalar", "index")


class SizedCase:
    """A program's source, its inputs' shape templates and the sizes it is called at."""

    def __init__(self, source, templates, sizes, feature):
        self.source, self.templates, self.sizes, self.feature = source, templates, sizes, feature

    def __repr__(self):
        return (f"\n{self.source}\n# inputs {self.templates}\n# sizes (n, m): {self.sizes}\n")

    def inputs(self):
        return [sized_inputs(self.templates, n, m, d) for d, (n, m) in enumerate(self.sizes)]


def sized_inputs(templates, n, m, draw_index):
    """The arguments of one draw: the same for the generator and the test."""
    rng = np.random.default_rng(100 + draw_index)
    args = []
    for t in templates:
        if t == "float":
            args.append(float(rng.uniform(-1.5, 1.5)))
        elif t == "0d":
            args.append(np.array(rng.uniform(-1.5, 1.5)))
        else:
            args.append(rng.uniform(-1.5, 1.5, tuple({"n": n, "m": m}.get(d, d) for d in t)))
    return args


def _quietly(fun, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fun(*args)


class Candidate:
    def __init__(self, expr, operands, setup=()):
        self.expr, self.operands, self.setup = expr, tuple(operands), tuple(setup)


class ProgramWriter:
    """Writes the lines of one function body, running each on every draw's values.

    ``envs`` holds one namespace per draw, or None for a draw where NumPy has raised."""

    def __init__(self, draw, envs, names, namespace, compiled, prefix, counter):
        self.draw, self.envs, self.names = draw, envs, list(names)
        self.namespace, self.compiled = namespace, compiled
        self.prefix, self.counter = prefix, counter
        self.lines = []

    # -- evaluation on every draw ---------------------------------------------------------
    def run(self, expr, setup=()):
        values = []
        for env in self.envs:
            if env is None:
                values.append(None)
                continue
            local = dict(env)
            for name, value in setup:
                local[name] = value
            try:
                values.append(_quietly(eval, expr, self.namespace, local))
            except Exception:
                values.append(None)
        return values

    @staticmethod
    def acceptable(values, first_finite=True):
        if values[0] is None:
            return False
        for i, v in enumerate(values):
            if v is None:
                continue
            a = np.asarray(v)
            if a.dtype.kind != "f" or np.isinf(a).any():
                return False
            finite = a[np.isfinite(a)]
            if i == 0 and (finite.size != a.size or a.size == 0):
                return False  # the first draw computes something, and nothing undefined
            if (np.abs(finite) > VALUE_CAP).any():
                return False
        return True

    def rank(self, name):
        return np.ndim(self.envs[0][name])

    def shape0(self, name):
        return np.shape(self.envs[0][name])

    def pick(self, candidates):
        """One of the candidates NumPy runs at the first draw, with its values per draw."""
        good = []
        for c in candidates:
            values = self.run(c.expr, [(n, eval(s, self.namespace)) for n, s in c.setup])
            if self.acceptable(values):
                good.append((c, values))
        if not good:
            return None
        return self.draw(st.sampled_from(good))

    def assign(self, name, values, setup=()):
        for i, env in enumerate(self.envs):
            if env is None:
                continue
            if values[i] is None:
                self.envs[i] = None
                continue
            for n, s in setup:
                env[n] = eval(s, self.namespace)
            env[name] = values[i]

    def fresh(self, stem=None):
        return f"{stem or self.prefix}{next(self.counter)}"

    def with_rank(self, low=0, high=2, names=None):
        return [n for n in (names or self.names) if low <= self.rank(n) <= high]

    # -- one line -------------------------------------------------------------------------
    def line(self, kind):
        """Append one line of this kind (or of plain tanh when none of it runs)."""
        if kind == "branch":
            if self.branch():
                return
            kind = "unary"
        if kind == "helper":
            if self.helper():
                return
            kind = "unary"
        candidates = self.candidates(kind)
        chosen = self.pick(candidates) if candidates else None
        if chosen is None:
            chosen = self.pick(self.candidates("unary")) or \
                self.pick([Candidate(f"np.tanh({a})", (a,)) for a in self.names])
        if chosen is None:
            return
        c, values = chosen
        for n, s in c.setup:
            self.lines.append(f"{n} = {s}")
        name = self.fresh()
        self.lines.append(f"{name} = {c.expr}")
        self.assign(name, values, c.setup)
        self.names.append(name)

    def candidates(self, kind):  # noqa: C901 - one table of forms
        draw, names = self.draw, self.names
        if kind == "scalar":
            scalars = self.with_rank(0, 0)
            if not scalars:
                kind = "binary"
            else:
                s = draw(st.sampled_from(scalars))
                out = []
                for a in names:
                    out += [Candidate(f.format(s=s, a=a), (s, a)) for f in (
                        "{s} * {a}", "{a} + {s} * {s}", "np.maximum({a}, {s})",
                        "{a} * np.exp(-{s} * {s})", "math.exp(-{s} * {s}) * {a}",
                        "math.sin({s}) + {a}", "{a} / ({s} * {s} + 0.5)", "{s} ** 2 * {a}")]
                for t in scalars:
                    out.append(Candidate(f"np.array([{s}, {t}, 1.0])", (s, t)))
                return out
        if kind in ("unary", "binary", "keepdims", "reduce", "matmul", "shape"):
            a = draw(st.sampled_from(names))
        else:
            ranked = self.with_rank(1)
            if not ranked:
                return None
            a = draw(st.sampled_from(ranked))
        r = self.rank(a)
        if kind == "unary":
            return [Candidate(draw(st.sampled_from(UNARY)).format(a=a), (a,))]
        if kind == "binary":
            template = draw(st.sampled_from(BINARY))
            return [Candidate(template.format(a=a, b=b), (a, b)) for b in names]
        if kind in ("keepdims", "reduce", "center"):
            axes = AXES.get(r, (None,))
            keep = ", keepdims=True" if kind != "reduce" else ""
            out = []
            for ax in axes:
                arg = (f", axis={ax}" if ax is not None else "") + keep
                if kind == "center":
                    out += [Candidate(f"{a} - np.mean({a}{arg})", (a,)),
                            Candidate(f"np.exp({a} - np.max({a}{arg}))", (a,)),
                            Candidate(f"{a} / (np.sum({a} * {a}{arg}) + 0.5)", (a,))]
                    out += [Candidate(f"{b} * np.sum({a}{arg})", (a, b)) for b in names]
                    out += [Candidate(f"np.max({a}{arg}) - {b}", (a, b)) for b in names]
                else:
                    out += [Candidate(f"np.{fun}({a}{arg})", (a,))
                            for fun in ("sum", "mean", "max", "min")]
                    out += [Candidate(f"{a}.{fun}({arg[2:]})", (a,)) for fun in ("sum", "max")]
            return out
        if kind == "matmul":
            out = []
            for b in self.with_rank(1):
                out += [Candidate(f"{a} @ {b}", (a, b)), Candidate(f"np.dot({a}, {b})", (a, b)),
                        Candidate(f"{a} @ np.cos({b})", (a, b))]
                if self.rank(b) == 2:
                    out.append(Candidate(f"{a} @ {b}.T", (a, b)))
                if r == 1 and self.rank(b) == 1:
                    out.append(Candidate(f"np.outer({a}, {b})", (a, b)))
            return out or None
        if kind == "shape":
            if r != 2:
                return None
            return [Candidate(f.format(a=a), (a,)) for f in (
                "np.transpose(np.transpose({a}) * 1.5)",
                "np.squeeze(np.expand_dims({a}, 0), axis=0)",
                "{a}.reshape(-1).reshape({a}.shape)",
                "np.sum({a}[..., 1:], axis=-1, keepdims=True)",
                "{a}[:1, :] * {a} + {a}[:, -1:]")]
        if kind == "slice":
            if r == 1:
                return [Candidate(f"{a}[{s}]", (a,)) for s in SLICES]
            out = []
            for s in SLICES:
                out += [Candidate(f"{a}[{s}]", (a,)), Candidate(f"{a}[:, {s}]", (a,)),
                        Candidate(f"{a}[..., {s}]", (a,))]
                out += [Candidate(f"{a}[{s}, {t}]", (a,)) for t in ("1:", "::2", ":-1")]
            return out
        if kind == "shift":
            op = draw(st.sampled_from(["+", "*", "-"]))
            b = draw(st.sampled_from(self.with_rank(1)))
            shifts = ("1:", ":-1", "::2", "1::2", ":3", "-3:", "1:-1")
            out = [Candidate(f"{a}[{s}] {op} {b}", (a, b)) for s in shifts]
            out += [Candidate(f"{a}[{s}] {op} {b}[{t}]", (a, b)) for s in shifts for t in shifts]
            if r == 2 and self.rank(b) == 2:
                out += [Candidate(f"{a}[:, {s}] {op} {b}[:, {t}]", (a, b))
                        for s in shifts for t in shifts]
            return out
        if kind == "index":
            if r == 1:
                return [Candidate(f"{a}[{i}]", (a,)) for i in INDICES]
            out = []
            for i in INDICES:
                out += [Candidate(f"{a}[{i}]", (a,)), Candidate(f"{a}[:, {i}]", (a,)),
                        Candidate(f"{a}[..., {i}]", (a,))]
                out += [Candidate(f"{a}[{i}, {s}]", (a,)) for s in ("1:", ":-1", "::2", ":")]
                out += [Candidate(f"{a}[{s}, {i}]", (a,)) for s in ("1:", "::2")]
                out += [Candidate(f"{a}[{i}, {j}]", (a,)) for j in INDICES[:3]]
            return out
        if kind == "gather":
            out = []
            index_name = f"idx{next(self.counter)}"
            for L in GATHERS:
                out += [Candidate(f"{a}[np.array({L})]", (a,)), Candidate(f"{a}[{L}]", (a,)),
                        Candidate(f"{a}[{index_name}]", (a,),
                                  [(index_name, f"np.array({L})")]),
                        ]  # arrays from module constants: tests/test_outer_arrays.py
                if r == 2:
                    out += [Candidate(f"{a}[np.array({L}), {s}]", (a,)) for s in ("1:", "0")]
                    out += [Candidate(f"{a}[np.array({L}), np.array({M})]", (a,))
                            for M in GATHERS if M.count(",") == L.count(",")]
                    if not self.compiled:  # numba gathers on the leading axes only
                        out.append(Candidate(f"{a}[:, np.array({L})]", (a,)))
            return out
        if kind == "size":
            forms = ["{a} * {a}.shape[0]", "np.sum({a}) / {a}.size", "{a} / len({a})",
                     "{a}[{a}.shape[0] - 1]", "{a}[len({a}) // 2]",
                     "np.arange({a}.shape[-1]) * {a}", "{a}.reshape(-1)", "{a}.T",
                     "np.ravel({a})", "np.squeeze({a})", "{a}.reshape({a}.shape[0], -1)",
                     "np.mean({a}) * {a}.size", "np.sum({a}[1:]) / max({a}.shape[0] - 1, 1)"]
            out = [Candidate(f.format(a=a), (a,)) for f in forms]
            for b in names:
                out.append(Candidate(f"np.broadcast_to({a}, {b}.shape)", (a, b)))
                if r == 1:
                    out.append(Candidate(f"{a}[:, None] * {b}", (a, b)))
            return out
        raise AssertionError(kind)

    # -- helpers --------------------------------------------------------------------------
    def helper(self):
        """Call a helper function of the module: a new one, or one written before."""
        helpers = self.namespace["__helpers__"]
        if helpers and self.draw(st.booleans()):
            name, arity = self.draw(st.sampled_from(helpers))
            pairs = itertools.product(self.names, repeat=arity)
            candidates = [Candidate(f"{name}({', '.join(p)})", p) for p in pairs]
        else:
            arity = self.draw(st.integers(1, 2))
            args = [self.draw(st.sampled_from(self.names)) for _ in range(arity)]
            params = ["u", "v"][:arity]
            envs = [None if env is None or any(env[a] is None for a in args) else
                    {p: env[a] for p, a in zip(params, args, strict=True)} for env in self.envs]
            if envs[0] is None:
                return False
            body = ProgramWriter(self.draw, envs, params, self.namespace, self.compiled, "t",
                                 itertools.count())
            for _ in range(self.draw(st.integers(1, 3))):
                body.line(self.draw(st.sampled_from(HELPER_KINDS)))
            last = body.names[-1]
            lines = list(body.lines)
            form = self.draw(st.sampled_from(["value", "sum", "early"]))
            if form == "value":
                lines.append(f"return {last}")
            elif form == "sum":
                lines.append(f"return np.sum({last} * 1.5)")
            elif (cond := body.condition()) is None:
                lines.append(f"return {last}")
            else:  # a return under a condition on data (or on sizes)
                lines += [f"if {cond[0]}:", f"    return {last}",
                          f"return {self.draw(st.sampled_from(UNARY)).format(a=last)}"]
            name = f"h{len(helpers)}"
            source = f"def {name}({', '.join(params)}):\n" + \
                "".join(f"    {line}\n" for line in lines)
            exec(source, self.namespace)
            helpers.append((name, arity))
            self.namespace["__helper_sources__"].append(source)
            candidates = [Candidate(f"{name}({', '.join(args)})", args)]
        chosen = self.pick(candidates)
        if chosen is None:
            return False
        c, values = chosen
        name = self.fresh()
        self.lines.append(f"{name} = {c.expr}")
        self.assign(name, values)
        self.names.append(name)
        return True

    # -- branches -------------------------------------------------------------------------
    def condition(self):
        """A condition that NumPy evaluates at the first draw, with its value per draw."""
        on_sizes = self.draw(st.integers(0, 4)) == 0
        a = self.draw(st.sampled_from(self.names))
        b = self.draw(st.sampled_from(self.names))
        good = []
        for left, op, right in (SIZE_CONDITIONS if on_sizes else CONDITIONS):
            left, right = left.format(a=a, b=b), right.format(a=a, b=b)
            lv, rv = self.run(left), self.run(right)
            # a draw where a side is not one number: Python's if raises there, or the
            # generator does not follow it (a size-1 array)
            lv = [None if v is None or np.ndim(v) else v for v in lv]
            rv = [None if v is None or np.ndim(v) else v for v in rv]
            if lv[0] is None or rv[0] is None:
                continue
            # far from the threshold on every draw, so finite differences do not cross it
            if any(lv_ is not None and rv_ is not None and not on_sizes and
                   not abs(float(lv_) - float(rv_)) > 1e-3
                   for lv_, rv_ in zip(lv, rv, strict=True)):
                continue
            good.append((f"{left} {op} {right}", (lv, rv, op)))
        if not good:
            return None
        text, (lv, rv, op) = self.draw(st.sampled_from(good))
        compare = {">": np.greater, "<": np.less, ">=": np.greater_equal}[op]
        taken = [None if l_ is None or r_ is None else bool(compare(l_, r_))
                 for l_, r_ in zip(lv, rv, strict=True)]
        return text, taken, on_sizes

    def branch(self):
        cond = self.condition()
        if cond is None:
            return False
        text, taken, on_sizes = cond
        form = self.draw(st.sampled_from(["assign", "modify", "ternary", "elif"]))
        if form == "modify":
            target = self.draw(st.sampled_from(self.names))
            expr = self.draw(st.sampled_from(UNARY)).format(a=target)
            values = self.run(expr)
            if not self.acceptable(values):
                return False
            old = [None if env is None else env[target] for env in self.envs]
            new = [v if t else o for v, o, t in zip(values, old, taken, strict=True)]
            self.lines += [f"if {text}:", f"    {target} = {expr}"]
            self._set_branch(target, new, taken)
            return True
        first = self.pick(self.candidates(self.draw(st.sampled_from(BRANCH_KINDS))) or [])
        if first is None:
            return False
        c1, v1 = first
        if on_sizes:  # a branch on sizes may give values of different shapes
            second = self.pick(self.candidates(self.draw(st.sampled_from(BRANCH_KINDS)))
                               or [])
            if second is None:
                return False
            c2, v2 = second
        else:
            c2 = Candidate(self.draw(st.sampled_from(UNARY)).format(a=f"({c1.expr})"),
                           c1.operands, c1.setup)
            v2 = self.run(c2.expr, [(n, eval(s, self.namespace)) for n, s in c2.setup])
            if not self.acceptable(v2):
                return False
        values = [a if t else b for a, b, t in zip(v1, v2, taken, strict=True)]
        if form == "elif":
            other = self.condition()
            if other is None:
                return False
            c3 = Candidate(f"{c2.expr} * 0.5", c2.operands, c2.setup)
            v3 = self.run(c3.expr, [(n, eval(s, self.namespace)) for n, s in c3.setup])
            if not self.acceptable(v3):
                return False
            values = [a if t else b if u else c for a, b, c, t, u in
                      zip(v1, v2, v3, taken, other[1], strict=True)]
            taken = [None if t is None or (not t and u is None) else True
                     for t, u in zip(taken, other[1], strict=True)]
        for n, s in dict(c1.setup + c2.setup).items():
            self.lines.append(f"{n} = {s}")
            for env in self.envs:
                if env is not None:
                    env[n] = eval(s, self.namespace)
        name = self.fresh()
        if form == "ternary":
            self.lines.append(f"{name} = {c1.expr} if {text} else {c2.expr}")
        elif form == "assign":
            self.lines += [f"if {text}:", f"    {name} = {c1.expr}", "else:",
                           f"    {name} = {c2.expr}"]
        else:
            self.lines += [f"if {text}:", f"    {name} = {c1.expr}",
                           f"elif {other[0]}:", f"    {name} = {c2.expr}", "else:",
                           f"    {name} = {c3.expr}"]
        self._set_branch(name, values, taken)
        self.names.append(name)
        return True

    def _set_branch(self, name, values, taken):
        for i, env in enumerate(self.envs):
            if env is None:
                continue
            if taken[i] is None or values[i] is None:
                self.envs[i] = None
            else:
                env[name] = values[i]


def write_sized_program(draw, feature, compiled=False):
    """A SizedCase: a program using ``feature``'s constructs, at 2 or 3 draws of sizes."""
    sizes = [(draw(st.sampled_from(SIZED_SIZES)), draw(st.sampled_from(SIZED_SIZES)))
             for _ in range(draw(st.integers(2, 3)))]
    n_inputs = draw(st.integers(1, 3))
    templates = [draw(st.sampled_from(SIZED_INPUTS)) for _ in range(n_inputs)]
    if feature == "scalars" and not any(t in ("float", "0d") for t in templates):
        templates.insert(0, draw(st.sampled_from(["float", "0d"])))
    if all(t in ("float", "0d") for t in templates):
        templates.append(draw(st.sampled_from(SIZED_INPUTS[2:])))
    names = [f"x{i}" for i in range(len(templates))]
    envs = [dict(zip(names, sized_inputs(templates, n, m, d), strict=True))
            for d, (n, m) in enumerate(sizes)]
    namespace = {"np": np, "math": math, "symdiff": symdiff, "__helpers__": [],
                 "__helper_sources__": []}
    constants = {f"GATHER{j}": f"np.array({L})" for j, L in enumerate(GATHERS)}
    namespace.update({name: eval(text, namespace) for name, text in constants.items()})
    kinds = BASE_KINDS + FEATURE_KINDS[feature] * 2
    body = ProgramWriter(draw, envs, names, namespace, compiled, "v", itertools.count())
    for k in range(draw(st.integers(1, 6))):
        body.line(draw(st.sampled_from(FEATURE_KINDS[feature] if k == 0 else kinds)))
    values = [n for n in body.names if n not in names] or names
    if draw(st.integers(0, 3)):  # every value the program computes reaches its result
        def last_assigned(v):
            return max([i for i, line in enumerate(body.lines)
                        if line.lstrip().startswith(f"{v} =")], default=-1)

        used = [v for v in values if not any(re.search(rf"\b{v}\b", line.split("=", 1)[-1])
                                             for line in body.lines[last_assigned(v) + 1:])]
        used = used or [values[-1]]
    else:
        used = [values[-1]] + draw(st.lists(st.sampled_from(body.names), max_size=2))

    def total(terms):
        return " + ".join(f"np.sum({u} * {c + 1}.5)" for c, u in enumerate(terms))

    lines = list(body.lines)
    early = feature in ("branches", "mixed") and draw(st.integers(0, 3)) == 0 and \
        (cond := body.condition()) is not None
    if early:
        lines += [f"if {cond[0]}:", f"    return {total(used[::-1])}"]
    lines.append(f"return {total(used)}")
    helpers = "".join(s + "\n\n" for s in namespace["__helper_sources__"])
    body_text = helpers + f"def program({', '.join(names)}):\n" + \
        "".join(f"    {line}\n" for line in lines)
    used_constants = "".join(f"{name} = {text}\n" for name, text in constants.items()
                             if re.search(rf"\b{name}\b", body_text))
    source = ("import math\n\nimport numpy as np\n\nimport symdiff\n\n" +
              (f"{used_constants}\n" if used_constants else "") + "\n" + body_text)
    return SizedCase(source, templates, sizes, feature)


@st.composite
def sized_programs(draw, feature, compiled=False):
    return write_sized_program(draw, feature, compiled)


# -- checking one program at every draw ----------------------------------------------------

VALUE_TOLERANCE = {"rtol": 1e-10, "atol": 1e-12}  # as tests/sizes_reference.assert_agrees
GRAD_TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}
EXACT_TOLERANCE = {"rtol": 1e-9, "atol": 1e-11}  # backends with each other, and with JAX


class ProgramFailure(AssertionError):
    """A wrong result; ``kind`` names what went wrong (for reports)."""

    def __init__(self, kind, backend, message):
        self.kind, self.backend = kind, backend
        super().__init__(f"{kind} on {backend}: {message}")


def _describe(args):
    return "\n".join(f"    x{i} = {a!r}" for i, a in enumerate(args))


def _close(got, expected, tolerance):
    try:
        np.testing.assert_allclose(got, expected, **tolerance)
        return True
    except AssertionError:
        return False


def _finite_differences(program, args, position, eps):
    from tests.sizes_reference import finite_difference

    return _quietly(finite_difference, program, args, position, eps)


def jax_gradient(case, program_folder, argnums):
    """JAX's gradient of the program written in jax.numpy by textual substitution, or None
    where it cannot be (Python branches on traced values, math on them)."""
    if "if " in case.source or "math." in case.source:
        return None
    try:
        jax = jax_or_skip()
    except pytest.skip.Exception:
        return None
    source = case.source.replace("import numpy as np", "import jax\nimport jax.numpy as np")
    source = source.replace("symdiff.nn.", "jax.nn.")
    return jax.grad(load(source, program_folder), argnums)


def check_at_sizes(case, program, backends, jax_grad=None):
    """Build value_and_grad once per backend and call it at every draw of sizes; raise a
    ProgramFailure on the first wrong result. Returns how many draws JAX was compared at."""
    argnums = tuple(range(len(case.templates)))
    functions = {b: symdiff.value_and_grad(program, argnums, backend=b) for b in backends}
    jax_compared = 0
    for (n, m), args in zip(case.sizes, case.inputs(), strict=True):
        where = f"at n={n}, m={m}, arguments\n{_describe(args)}\n"
        try:
            expected = _quietly(program, *args)
        except Exception as error:  # NumPy refuses: so must symdiff
            expected, numpy_says = None, f"NumPy raises {type(error).__name__}: {error}"
            refusal = type(error)
        if expected is None:
            for backend, vg in functions.items():
                try:
                    got = _quietly(vg, *args)
                except SymdiffError:
                    continue
                except Exception as exc:
                    if isinstance(exc, IndexError) and refusal is IndexError:
                        continue  # an index array's values, which only running the code sees
                    raise ProgramFailure("crash", backend, f"{where}{numpy_says}; symdiff "
                                         f"raised {type(exc).__name__}: {exc}") from exc
                raise ProgramFailure("value where NumPy raises", backend,
                                     f"{where}{numpy_says}; symdiff returned {got!r}")
            continue
        results = {}
        for backend, vg in functions.items():
            try:
                value, grads = _quietly(vg, *args)
            except SymdiffError as exc:
                raise ProgramFailure("refused", backend, f"{where}NumPy gives {expected!r}; "
                                     f"symdiff raised {type(exc).__name__}: {exc}") from exc
            except Exception as exc:
                raise ProgramFailure("crash", backend, f"{where}NumPy gives {expected!r}; "
                                     f"symdiff raised {type(exc).__name__}: {exc}") from exc
            if not _close(value, expected, VALUE_TOLERANCE):
                raise ProgramFailure("wrong value", backend,
                                     f"{where}symdiff {value!r}, NumPy {expected!r}")
            results[backend] = (value, grads)
        if not np.isfinite(expected):
            continue  # a mean of nothing: NaN, whose gradient is not defined
        for p, a in enumerate(args):
            fd = _finite_differences(program, args, p, 1e-6)
            for backend, (_, grads) in results.items():
                g = grads[p]
                if np.shape(g) != np.shape(a) or (isinstance(a, float) and
                                                  not isinstance(g, float)):
                    raise ProgramFailure("wrong gradient type", backend,
                                         f"{where}d/dx{p} is {g!r} for x{p} = {a!r}")
                if _close(g, fd, GRAD_TOLERANCE):
                    continue
                # central differences at a larger step, for values whose rounding spoils 1e-6
                others = [_finite_differences(program, args, p, eps) for eps in (1e-5, 1e-4)]
                if not any(_close(g, o, GRAD_TOLERANCE) for o in others):
                    raise ProgramFailure("wrong gradient", backend,
                                         f"{where}d/dx{p}: symdiff {g!r}, "
                                         f"finite differences {fd!r}")
        if len(results) > 1:
            (b0, (v0, g0)), *rest = results.items()
            for backend, (v, g) in rest:
                if not _close(v, v0, EXACT_TOLERANCE) or not all(
                        _close(x, y, EXACT_TOLERANCE) for x, y in zip(g, g0, strict=True)):
                    raise ProgramFailure("backends differ", backend,
                                         f"{where}{backend}: {v!r}, {g!r}; {b0}: {v0!r}, {g0!r}")
        if jax_grad is not None:
            try:
                expected_grads = jax_grad(*args)
            except Exception:
                continue  # not expressible in JAX (a list index), or NaN in JAX's own code
            jax_compared += 1
            for backend, (_, grads) in results.items():
                for p, (g, e) in enumerate(zip(grads, expected_grads, strict=True)):
                    if not _close(g, np.asarray(e), EXACT_TOLERANCE):
                        raise ProgramFailure("differs from JAX", backend,
                                             f"{where}d/dx{p}: symdiff {g!r}, JAX {e!r}")
    return jax_compared


SIZED_EXAMPLES = {"numpy": 800 if LONG else 7, "numba": 60 if LONG else 2}


def run_sized(feature, backends, examples, folder, compiled):
    @settings(max_examples=examples, deadline=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck), database=None,
              report_multiple_bugs=False,
              # CI reports the program as written (shrinking one takes minutes)
              phases=list(Phase) if LONG else [Phase.explicit, Phase.reuse, Phase.generate])
    @given(sized_programs(feature, compiled))
    def run(case):
        program = load(case.source, folder)
        jax_grad = jax_gradient(case, folder, tuple(range(len(case.templates))))
        check_at_sizes(case, program, backends, jax_grad)

    run()


@pytest.mark.parametrize("feature", FEATURES)
def test_programs_at_several_sizes(feature, tmp_path_factory):
    """The NumPy backend: NumPy's value, finite differences, JAX, refusals where NumPy
    raises; one gradient function per program for every size."""
    run_sized(feature, ("numpy",), SIZED_EXAMPLES["numpy"],
              tmp_path_factory.mktemp(f"sized_{feature}"), compiled=False)


@pytest.mark.parametrize("feature", FEATURES)
def test_compiled_programs_at_several_sizes(feature, tmp_path_factory):
    """The Numba backend beside the NumPy backend (each program is compiled)."""
    run_sized(feature, ("numpy", "numba"), SIZED_EXAMPLES["numba"],
              tmp_path_factory.mktemp(f"compiled_{feature}"), compiled=True)
