"""Loops that run in the generated code: forward loops, tapes and reverse loops."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symdiff
from tests.cases import generated_loops
from tests.cases.generated_loops import FUNCTIONS
from tests.test_control_flow import differentiable

CASES = [(name, i) for name, points in FUNCTIONS.items() for i in range(len(points))]
ON_NUMBA = ("euler_scalar", "recurrent_cell", "recurrent_history", "newton_while",
            "descent_with_break", "zipped_rows", "skip_in_loop", "rows_into_vector")
LOOP = re.compile(r"^\s+(for \w+ in range\(|while )", re.MULTILINE)


@pytest.mark.parametrize("name,point", CASES)
def test_against_finite_differences(name, point):
    fun = getattr(generated_loops, name)
    args = FUNCTIONS[name][point]
    symdiff.check_grad(fun, *args, argnums=differentiable(args), backend="numpy")


@pytest.mark.parametrize("name", ON_NUMBA)
def test_compiled_against_finite_differences(name):
    fun = getattr(generated_loops, name)
    for args in FUNCTIONS[name]:
        symdiff.check_grad(fun, *args, argnums=differentiable(args), backend="numba")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_loops_run_in_the_generated_code(name):
    fun = getattr(generated_loops, name)
    args = FUNCTIONS[name][0]
    g = symdiff.value_and_grad(fun, differentiable(args), backend="numpy")
    value, _ = g(*args)
    np.testing.assert_allclose(value, fun(*args), rtol=1e-12)
    loops = LOOP.findall(g.source.split("def value_and_grad_")[1])
    assert len(loops) >= 2, g.source  # the forward loop and its reverse


def test_one_gradient_serves_every_length():
    g = symdiff.grad(generated_loops.sum_of_squares, backend="numpy")
    for n in (3, 40, 0):
        x = np.linspace(0.0, 1.0, n)
        np.testing.assert_allclose(g(x), 2 * x)
    assert "signature: x: float64[:]" in g.source  # not specialised on the length
    assert "for i in range(x.shape[0]):" in g.source


def test_the_tape_keeps_only_what_the_backward_pass_reads():
    """An accumulation's adjoint does not read the running sum: nothing of it is kept."""
    source = symdiff.grad(generated_loops.sum_of_squares, backend="numpy").specialise(
        np.ones(20)).source
    assert "_tape" not in source
    euler = symdiff.grad(generated_loops.euler_scalar, backend="numpy").specialise(0.5, 0.01)
    assert "_tape_x = np.empty(400, dtype=np.float64)" in euler.source


def test_a_data_dependent_while_runs_as_many_steps_as_python():
    for x in (0.7, 3.1, 12.0):
        value, slope = symdiff.value_and_grad(generated_loops.doubling_while,
                                              backend="numba")(x)
        steps = 0
        while x * 2 ** steps < 10.0:
            steps += 1
        assert value == generated_loops.doubling_while(x)
        assert slope == 2.0 ** steps


def test_the_generated_loop_reads_like_the_source():
    """docs/supported.md quotes this gradient: the quote is the real code."""
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "supported.md").read_text()
    quoted = docs.split("```text\n    # for _ in range(400):")[1].split("```")[0]
    source = symdiff.grad(generated_loops.euler_scalar, (0, 1), backend="numpy").specialise(
        0.5, 0.01).source
    assert "    # for _ in range(400):" + quoted in source


def test_cuda_refuses_generated_loops_clearly():
    with pytest.raises(symdiff.UnsupportedError, match="cuda backend cannot run loops"):
        symdiff.grad(generated_loops.euler_scalar, backend="cuda")(0.5, 0.01)


def test_derivatives_of_derivatives_write_the_loop_out():
    def f(x):
        for _ in range(20):
            x = x - 0.1 * np.sin(x)
        return x

    def g(x):
        y = x
        for _ in range(20):
            y = y - 0.1 * np.sin(y)
        return y

    second = symdiff.grad(symdiff.grad(f), backend="numpy")(0.7)
    eps = 1e-5
    first = symdiff.grad(g, backend="numpy")
    np.testing.assert_allclose(second, (first(0.7 + eps) - first(0.7 - eps)) / (2 * eps),
                               rtol=1e-6)


def test_a_loop_that_cannot_run_in_the_code_specialises_on_its_length():
    def first_positive(x):
        for k in range(len(x)):
            if x[k] > 0.0:
                return x[k] ** 2
        return 0.0

    g = symdiff.grad(first_positive, backend="numpy")
    np.testing.assert_allclose(g(np.array([-1.0, 2.0, 3.0])), [0.0, 4.0, 0.0])
    assert "x: float64[3]" in g.source


def test_a_variable_assigned_only_in_the_loop_is_not_read_after_it():
    def leaks(x):
        for i in range(len(x)):
            y = x[i] * 2.0
        return y

    with pytest.raises(symdiff.UnsupportedError, match="y is assigned inside a loop"):
        symdiff.grad(leaks, backend="numpy").specialise(np.ones(3))


def test_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def cell(W, U, xs, h0):
        h, _ = jax.lax.scan(lambda h, x: (jnp.tanh(W @ h + U @ x), None), h0, xs)
        return jnp.sum(h ** 2)

    def euler(x, h):
        return jax.lax.fori_loop(0, 400, lambda i, x: x + h * (jnp.sin(x) - x ** 3), x)

    args = FUNCTIONS["recurrent_cell"][0]
    ours = symdiff.grad(generated_loops.recurrent_cell, (0, 1, 3), backend="numpy")(*args)
    theirs = jax.grad(cell, (0, 1, 3))(*args)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-13)
    ours = symdiff.grad(generated_loops.euler_scalar, (0, 1), backend="numba")(0.5, 0.01)
    np.testing.assert_allclose(ours, [float(g) for g in jax.grad(euler, (0, 1))(0.5, 0.01)],
                               rtol=1e-10)


def test_a_loop_that_grows_a_tuple_is_written_out():
    def gathered(x):
        parts = ()
        for k in range(20):
            parts = parts + (x * k,)
        return parts[-1] + parts[3]

    g = symdiff.grad(gathered, backend="numpy")
    assert g(1.5) == 22.0
    assert LOOP.search(g.source) is None  # written out, one block per iteration
