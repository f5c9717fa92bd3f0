"""While loops on data where every loop is written out (derivatives of derivatives, Hessians,
loops that cannot run in the generated code): the code is generated on the values of the call,
written out as many times as they take the loop, and checks on every call that the arguments
decide each condition the same way (``symdiff.frontend.concrete``, ``decisions.Decided``)."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import SymdiffError, UnsupportedError

BACKENDS = ["numpy", "numba"]


def fixed_point(step, x0, tol):
    """autograd's examples/fixed_points.py, iterated in Python."""
    x, x_prev = step(x0), x0
    while np.abs(x - x_prev) > tol:
        x, x_prev = step(x), x
    return x


def sqrt_by_descent(a, guess=10.0):
    return fixed_point(lambda x: x - 0.05 * (x ** 2 - a), guess, 1e-4)


def trip_count(a, guess=10.0):
    count, x, x_prev = 1, guess - 0.05 * (guess ** 2 - a), guess
    while abs(x - x_prev) > 1e-4:
        x, x_prev, count = x - 0.05 * (x ** 2 - a), x, count + 1
    return count


def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("backend", BACKENDS)
def test_second_derivative_through_a_fixed_point_iteration(backend):
    first = symdiff.grad(sqrt_by_descent, backend=backend)
    second = symdiff.grad(first, backend=backend)
    values = [2.0, 3.0, 2.0, 0.5, 3.0]
    assert len({trip_count(a) for a in values}) == 3  # the loop runs 3 different lengths
    for a in values:  # each length generated once, then reused as calls alternate
        assert second(a) == pytest.approx(central(first, a), rel=1e-7)
    assert "the conditions it checks" in second.source


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_and_hessian_vector_product_of_newton_iterations(backend):
    def newton_sqrt(x):  # elementwise square roots, iterated until all have converged
        y = x
        while np.max(np.abs(y * y - x)) > 1e-12:
            y = 0.5 * (y + x / y)
        return np.sum(y * np.log(x))

    x = np.array([0.5, 2.0, 7.0])
    hess = symdiff.hessian(newton_sqrt, backend=backend)(x)
    gradient = symdiff.grad(newton_sqrt, backend="numpy")
    expected = np.stack([central(lambda t, i=i: gradient(x + t * np.eye(3)[i]), 0.0)
                         for i in range(3)])
    np.testing.assert_allclose(hess, expected, rtol=1e-6, atol=1e-8)
    exact = np.diag(-0.25 * x ** -1.5 * np.log(x))  # (sqrt(x) log x)''
    np.testing.assert_allclose(hess, exact, rtol=1e-9, atol=1e-12)
    t = np.array([1.0, -2.0, 0.5])
    _, hvp = symdiff.jvp(symdiff.grad(newton_sqrt, backend=backend), (x,), (t,))
    np.testing.assert_allclose(hvp, exact @ t, rtol=1e-9)


def test_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)

    def written_out(a, count):  # JAX's grad traces without values: the count is given
        x = 10.0
        for _ in range(count):
            x = x - 0.05 * (x ** 2 - a)
        return x

    second = symdiff.grad(symdiff.grad(sqrt_by_descent, backend="numpy"), backend="numpy")
    for a in (1.5, 2.5, 4.0):
        reference = jax.grad(jax.grad(written_out))(a, trip_count(a))
        assert second(a) == pytest.approx(float(reference), rel=1e-12)


def returns_from_inside(x):
    while x < 10.0:
        if x > 5.0:
            return x
        x = x * 2.0
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_loop_that_cannot_run_in_the_generated_code_is_written_out_for_the_values(backend):
    g = symdiff.grad(returns_from_inside, backend=backend)
    for x, expected in [(1.0, 8.0), (6.0, 1.0), (3.0, 2.0), (0.7, 8.0), (12.0, 1.0),
                        (1.0, 8.0)]:
        assert g(x) == expected
        assert g(x) == pytest.approx(central(returns_from_inside, x))


def test_without_values_the_loop_is_refused_where_it_is():
    def f(x):
        while x * x > 2.0:
            x = x / 2.0
        return x * x
    with pytest.raises(UnsupportedError, match="number of iterations is known only when") as info:
        symdiff.formula(f)
    assert info.value.filename.endswith("test_value_decisions.py")


def test_a_condition_on_drawn_numbers_or_on_many_elements_is_refused():
    def drawn(x):
        y = x
        while np.sum(np.random.default_rng(0).normal(size=2)) > y:
            y = y * 0.5
        return y * y

    def many(x):
        while x * x > 2.0:
            x = x / 2.0
        return np.sum(x)

    first = symdiff.grad(drawn, backend="numpy")
    with pytest.raises(UnsupportedError, match="random numbers drawn in the function"):
        symdiff.grad(first, backend="numpy")(1.0)
    with pytest.raises(UnsupportedError, match="truth value of an array with more than one"):
        symdiff.hessian(many, backend="numpy")(np.array([3.0, 1.0]))


def test_a_decision_at_the_edge_of_rounding_is_refused(monkeypatch):
    import symdiff.decisions as decisions

    calls = []
    original = decisions.Decided.__call__

    def flipped(self, *values):  # the compiled code decides otherwise, every time
        calls.append(1)
        self.decisions = tuple(not d for d in self.decisions)
        return original(self, *values)
    monkeypatch.setattr(decisions.Decided, "__call__", flipped)
    second = symdiff.grad(symdiff.grad(sqrt_by_descent, backend="numpy"), backend="numpy")
    with pytest.raises(SymdiffError, match="edge of rounding"):
        second(2.0)
    assert len(calls) == 2  # the code generated, and the code generated again
