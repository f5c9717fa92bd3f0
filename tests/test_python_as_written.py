"""Python and NumPy as people write them: comprehensions, builtins on traced values, slice
objects, and the NumPy and SciPy functions losses reach for. Each is checked against central
finite differences on every CPU backend."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.special

import symdiff
from symdiff.errors import SymdiffError
from tests.sizes_reference import assert_agrees


def comprehensions(x):
    rows = sum(np.sum(x[i] * (i + 1)) for i in range(3))
    picked = np.array([x[i, 0] ** 2 for i in range(3) if i != 1])
    pairs = [x[i, j] * x[j, i] for i in range(2) for j in range(2)]
    return rows + np.sum(picked) + sum(pairs)


def builtins_on_scalars(x):
    return max(np.sum(x), 2.0 * x[0, 0]) + min(x[0, 1], x[1, 1], 0.5) + \
        pow(np.sum(x ** 2), 0.5) + abs(x[2, 3])


def slice_objects(x):
    tail = slice(1, None)
    return np.sum(x[tail] ** 2) + np.sum(x[np.s_[:-1, ::2]])


def variances(x):
    return np.var(x) + np.std(x, axis=0, ddof=1).sum() + \
        x.var(axis=1, keepdims=True).sum() + x.std()


def differences(x):
    return np.sum(np.diff(x) ** 2) + np.sum(np.diff(x, n=2, axis=0) ** 3) + \
        np.sum(np.diff(x, axis=0))


def at_least(x):
    return np.sum(np.atleast_2d(x[0]) @ np.atleast_2d(x).T) + \
        np.sum(np.atleast_3d(x[0, 0]) * np.atleast_3d(x[0])) + np.sum(np.atleast_1d(x[0, 0]))


def identities(x):
    return np.sum((np.eye(x.shape[1]) * 2.0 + np.eye(x.shape[1], k=1)) @ x.T) + \
        np.sum(np.identity(2) * x[:2, :2])


def special_functions(x):
    return np.sum(scipy.special.logit(1.0 / (1.0 + x * x))) + \
        np.sum(scipy.special.xlogy(x * x, 1.5 + x * x))


@pytest.mark.parametrize("f", [comprehensions, builtins_on_scalars, slice_objects, variances,
                               differences, at_least, identities, special_functions])
def test_agrees_with_finite_differences(f):
    assert_agrees(f, np.arange(12.0).reshape(3, 4) / 7.0 - 0.6)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_differences_at_every_size(n):
    assert_agrees(differences, np.arange(float(3 * n)).reshape(3, n) ** 1.5)


def comprehension_over_rows(x):
    return np.sum(np.array([np.sum(row ** 2) for row in x]))


def test_a_comprehension_over_rows_specialises_on_their_number():
    for rows in (2, 3):
        assert_agrees(comprehension_over_rows, np.arange(rows * 2.0).reshape(rows, 2))


def condition_on_data(x):
    return np.sum(np.array([v for v in x if v > 0]))


def max_of_arrays(x):
    return np.sum(max(x, 2 * x))


def test_what_python_cannot_do_with_arrays_is_refused_at_the_line():
    with pytest.raises(symdiff.UnsupportedError, match="condition must be known while "
                       "generating"):
        symdiff.grad(condition_on_data)(np.ones(3))
    with pytest.raises(ValueError):
        max_of_arrays(np.ones(3))
    with pytest.raises(symdiff.UnsupportedError, match="use np.max or np.maximum"):
        symdiff.grad(max_of_arrays)(np.ones(3))


# -- functions as people pass them ----------------------------------------------------------------

def weighted(x, a, X):
    return np.sum(a * (X @ x) ** 2)


class Scorer:
    def __init__(self):
        self.W = np.array([[1.0, 2.0], [0.5, -1.0]])
        self.scale = 3.0

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x) * self.scale)


def scaled(v, by):
    return v * by


def uses_a_partial(x):
    return np.sum(functools.partial(scaled, by=2.5)(x) ** 2)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_partials_and_bound_methods(backend):
    X = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    x = np.array([0.5, -0.25])
    g = symdiff.grad(functools.partial(weighted, a=2.0, X=X), backend=backend)
    np.testing.assert_allclose(g(x), 4.0 * X.T @ (X @ x))
    np.testing.assert_allclose(g(x), 4.0 * X.T @ (X @ x))  # and again, from the fast path
    scorer = Scorer()
    assert_agrees(scorer.loss, x, backends=(backend,))
    by_weights = symdiff.grad(scorer.loss, wrt="W", backend=backend)(x)
    assert by_weights.shape == (2, 2)
    assert_agrees(uses_a_partial, x, backends=(backend,))


# -- functions defined inside the function ------------------------------------------------------

def nested_def(x):
    def inner(v, k=2.0):
        return v * k + x[0]
    return np.sum(inner(x) ** 2)


def lambdas(x):
    f = lambda v: np.sin(v) * x[1]  # noqa: E731
    return np.sum(f(x) + (lambda u: u ** 2)(x))


def iterpower_with_nested_def(base, exponent=3):
    def loop(value, n):
        for _ in range(n):
            value = value * base
        return value
    return np.sum(loop(1.0, exponent))


def late_binding(x):
    scale = 1.0

    def f(v):
        return v * scale
    scale = 3.0  # read when f is called, as Python's closures read it
    return np.sum(f(x))


@pytest.mark.parametrize("f", [nested_def, lambdas, iterpower_with_nested_def, late_binding])
def test_functions_defined_inside(f):
    assert_agrees(f, np.array([0.5, -1.25, 2.0]))


def scipy_logsumexp(x):
    return scipy.special.logsumexp(x) + np.sum(scipy.special.logsumexp(x * 1e3, axis=1)) + \
        np.sum(scipy.special.logsumexp(x, axis=0, keepdims=True)) + \
        np.sum(scipy.special.expit(x * 50.0))


def test_scipy_logsumexp_and_expit_are_stable():
    x = np.arange(12.0).reshape(3, 4) / 7.0 - 0.6
    assert_agrees(scipy_logsumexp, x)
    g = symdiff.grad(scipy_logsumexp)(x * 1e3)
    assert np.all(np.isfinite(g))


def loss_that_prints(w):
    y = np.sin(w)
    print("y is", y, y.shape)
    return np.sum(y ** 2)


def test_print_is_skipped_with_a_warning_at_its_line():
    from symdiff.errors import SkippedStatementWarning
    w = np.array([0.5, -1.0, 2.0])
    with pytest.warns(SkippedStatementWarning, match=r"test_python_as_written.py:\d+:5: print"):
        g = symdiff.grad(loss_that_prints, backend="numpy")(w)
    np.testing.assert_allclose(g, 2 * np.sin(w) * np.cos(w), rtol=1e-14)


def saxpy_of_a_tuple(coefficients):
    a, x, y = coefficients
    return a * x + y


def saxpy_of_a_dict(p):
    return p["a"] * p["x"] + p["y"]


def saxpy_through_a_dict(coefficients):
    a, x, y = coefficients
    return saxpy_of_a_dict(dict(a=a, x=x, y=y))


def product_in_a_nested_dict(p):
    return p["inner"]["u"] * p["inner"]["v"] * np.sum(p["w"] ** 2)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_python_floats_inside_a_differentiated_structure_are_differentiated(backend):
    assert symdiff.grad(saxpy_of_a_tuple, backend=backend)((0.5, 2.0, 1.0)) == (2.0, 0.5, 1.0)
    assert symdiff.grad(saxpy_through_a_dict, backend=backend)((0.5, 2.0, 1.0)) == \
        (2.0, 0.5, 1.0)
    assert symdiff.grad(saxpy_of_a_dict, backend=backend)({"a": 0.5, "x": 2.0, "y": 1.0}) == \
        {"a": 2.0, "x": 0.5, "y": 1.0}
    w = np.array([1.0, -2.0])
    g = symdiff.grad(product_in_a_nested_dict, backend=backend)(
        {"inner": {"u": 0.5, "v": 3.0}, "w": w})
    assert g["inner"] == {"u": 15.0, "v": 2.5}
    np.testing.assert_allclose(g["w"], 2 * 1.5 * w)
    assert isinstance(g["inner"]["u"], float)


# --- items of a list assigned -------------------------------------------------------------------

def symmetrized_first(x, y):
    """As autograd's tests symmetrize an argument: a list of the arguments, one replaced."""
    args = list((x, y))
    args[0] = 0.5 * (args[0] + args[0].T)
    args[-1] = args[-1] * 2.0
    return np.sum(np.sin(args[0]) * args[1])


def item_past_the_end(x):
    parts = [x, x]
    parts[2] = x
    return np.sum(parts[0])


PARTS = [1.0, 2.0]


def item_of_a_global_list(x):
    parts = PARTS
    parts[0] = x
    return np.sum(x)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_items_of_a_list_assigned_in_place(backend):
    a, b = np.random.default_rng(3).normal(size=(2, 3, 3))
    value, _ = symdiff.value_and_grad(symmetrized_first, (0, 1), backend=backend)(a, b)
    assert value == pytest.approx(symmetrized_first(a, b), rel=1e-14)
    symdiff.check_grad(symmetrized_first, a, b, argnums=(0, 1), backend=backend)
    with pytest.raises(SymdiffError, match="list assignment index out of range"):
        symdiff.grad(item_past_the_end, backend=backend)(np.ones(2))
    with pytest.raises(SymdiffError, match="a list from outside the function"):
        symdiff.grad(item_of_a_global_list, backend=backend)(np.ones(2))
    assert PARTS == [1.0, 2.0]


def asserts_on_data(x):
    assert np.all(x > 0), "x must be positive"
    assert np.allclose(x, (x * 3.0) / 3.0)  # autograd's test_logic.test_assert
    assert np.sum(x) < 10
    return np.sum(np.log(x))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_asserts_on_data_are_checked_on_every_call(backend):
    g = symdiff.grad(asserts_on_data, backend=backend)
    np.testing.assert_allclose(g(np.array([1.0, 2.0, 4.0])), [1.0, 0.5, 0.25], rtol=1e-15)
    with pytest.raises(AssertionError, match="x must be positive"):
        g(np.array([1.0, -2.0, 4.0]))
    with pytest.raises(AssertionError, match=r"test_python_as_written.py:\d+:5: this assertion"):
        g(np.full(3, 5.0))
    np.testing.assert_allclose(g(np.array([2.0])), [0.5], rtol=1e-15)  # and again at 1


def test_an_assert_on_data_is_skipped_by_code_generated_without_a_call():
    from symdiff.errors import SkippedStatementWarning
    with pytest.warns(SkippedStatementWarning, match="assert on data is not run"):
        symdiff.formula(asserts_on_data)



def relu(z):
    return np.maximum(z, 0.0)


def layer_with_an_activation(w, x, activation=np.tanh):
    return np.sum(activation(x @ w))


def reduced(a, _r=np.sum):  # autograd's test_plain_numpy_reductions_on_box
    return _r(np.exp(a) * 2.0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_functions_passed_as_arguments(backend):
    """Traced where they are called; code is generated for each function passed."""
    x, w = np.arange(6.0).reshape(2, 3) / 5, np.array([0.5, -1.0, 2.0])
    g = symdiff.grad(layer_with_an_activation, backend=backend)
    np.testing.assert_allclose(g(w, x), x.T @ (1 - np.tanh(x @ w) ** 2), rtol=1e-14)
    np.testing.assert_allclose(g(w, x, relu), x.T @ (x @ w > 0), rtol=1e-14)
    np.testing.assert_allclose(g(w, x, np.sin), x.T @ np.cos(x @ w), rtol=1e-14)
    symdiff.check_grad(layer_with_an_activation, w, x, relu, backend=backend)
    for reduction in (np.sum, np.prod, np.max, np.min):
        assert symdiff.grad(reduced, backend=backend)(0.7, reduction) == \
            pytest.approx(2 * np.exp(0.7), rel=1e-14)
    assert "activation=sin" in g.source  # the latest call's code, the function by name
