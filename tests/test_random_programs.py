"""Random differentiable NumPy programs, checked against finite differences and JAX.

Hypothesis writes a program as Python source (symdiff reads source), over inputs whose shapes
broadcast against a base shape (n, m), with random ranks and size-1 dimensions. Every operand
is kept inside its primitive's domain by construction (log of x*x + 0.5, arcsin of 0.9*tanh(x),
division by y*y + 0.5, ...). Each program's gradient from every backend is compared with
central finite differences in float64, and with JAX when it is installed.

CI runs a bounded number of programs; ``SYMDIFF_LONG=1`` runs thousands. A failure that
Hypothesis finds is kept as a regression case in ``tests/cases/regressions.py``.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symdiff
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
