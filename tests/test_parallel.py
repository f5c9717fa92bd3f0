"""parallel=True: loops with independent iterations run on all cores (numba.prange), with the
values and gradients of one core's code, to rounding."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.gen import Request, generate_file
from tests.cases import corpus

RNG = np.random.default_rng(3)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def logistic(w, X, y):
    margins = X @ w
    return np.mean(np.logaddexp(0.0, margins) - y * margins)


def iterated(x):
    """Loops that run in the generated code rebind arrays: Numba's parallel lowering names
    its versions of ``x`` as ``x_2``, once the name of symdiff's tape row."""
    for _ in range(20):
        x = np.sin(x)
    h = 0.5 * x
    while np.sum(h * h) > 1.0:
        h = 0.9 * h
    return np.sum(x) + np.sum(h)


def elementwise(x):
    return np.sum(np.sin(x) * np.exp(-x ** 2) / (1 + x ** 2))


def rows_and_columns(a):
    """Reductions along each axis: the one over rows is spread, the one over columns adds
    into one row from every iteration and stays serial."""
    return np.sum(np.sum(a ** 2, axis=0) ** 2) + np.mean(np.tanh(a).sum(axis=1)) + \
        np.max(a) - np.min(a[:, 1:] * a[:, :-1])


CASES = [
    ("rosenbrock", rosenbrock, (RNG.standard_normal(1001),), 0),
    ("elementwise", elementwise, (RNG.standard_normal(999),), 0),
    ("logistic regression", logistic, (RNG.standard_normal(7), RNG.standard_normal((60, 7)),
                                       (RNG.random(60) < 0.5).astype(float)), 0),
    ("loops rebinding arrays", iterated, (np.linspace(0.0, 1.0, 1000) ** 2 * 3.0,), 0),
    ("rows and columns", rows_and_columns, (RNG.standard_normal((37, 5)),), 0),
    ("softmax entropy", corpus.softmax_entropy, (RNG.standard_normal(17),), 0),
    ("relu network", corpus.relu_network, (RNG.standard_normal((4, 3)),
                                            RNG.standard_normal((3, 9))), (0, 1)),
]


@pytest.mark.parametrize("name, fun, args, argnums", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_are_one_cores(name, fun, args, argnums):
    serial = symdiff.value_and_grad(fun, argnums=argnums)
    spread = symdiff.value_and_grad(fun, argnums=argnums, parallel=True)
    value, grads = serial(*args)
    got_value, got_grads = spread(*args)
    assert got_value == pytest.approx(value, rel=1e-12)
    for want, got in zip(np.atleast_1d(grads) if argnums == 0 else grads,
                         np.atleast_1d(got_grads) if argnums == 0 else got_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert "numba.prange" in spread.source and "parallel=True" in spread.source
    assert "numba.prange" not in serial.source
    if len(args) == 1:  # the same code at another size
        smaller = args[0][: max(1, len(args[0]) // 3)]
        np.testing.assert_allclose(spread(smaller)[0], serial(smaller)[0], rtol=1e-12)


def test_products_with_a_vector_stay_with_blas():
    """Numba's parallel=True would write np.dot of a matrix and a vector as a loop of its
    own: the product is computed by a helper compiled without it."""
    g = symdiff.grad(logistic, parallel=True)
    g(*CASES[2][2])
    assert "_blas_dot(X, w)" in g.source
    assert "@numba.njit(cache=True, error_model=\"numpy\")\ndef _blas_dot" in g.source


def test_a_reduction_over_the_outer_axis_stays_serial():
    g = symdiff.grad(rows_and_columns, parallel=True)
    g(RNG.standard_normal((6, 5)))
    lines = g.source.splitlines()
    column_sums = [k for k, line in enumerate(lines) if "[_i1] += " in line]
    assert column_sums, g.source
    for k in column_sums:  # the loop around a column sum's update is not a prange
        outer = next(line for line in reversed(lines[:k]) if "for _i0 in" in line)
        assert "numba.prange" not in outer


def test_parallel_needs_numba():
    with pytest.raises(symdiff.ArgumentError, match="backend='numba'"):
        symdiff.grad(rosenbrock, backend="numpy", parallel=True)


def test_gen_writes_prange_loops(tmp_path):
    source = tmp_path / "loss.py"
    source.write_text("import numpy as np\n\n\ndef loss(x):\n"
                      "    return np.sum(np.sin(x) ** 2)\n")
    generated = generate_file(Request(str(source), shapes=["x=n"], backend="numba",
                                      parallel=True))
    assert "numba.prange" in generated.text and "--parallel" in generated.text
    with pytest.raises(symdiff.ArgumentError, match="--backend numba"):
        generate_file(Request(str(source), shapes=["x=n"], parallel=True))
