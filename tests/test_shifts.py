"""Shifts by a maximum (``z - np.max(z)``): left out of the gradient only where it cancels.

``symdiff.ir.shifts`` drops the maximum's gradient where the result cannot see the shift (the
stable softmax and log-softmax written by hand), and ``log(sum(exp(s)))`` of such a shift is
not shifted a second time. Every case is checked against NumPy's value and central finite
differences on both CPU backends, and against JAX; the cases where the shift does not cancel
must keep the maximum's gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.ir.graph import Graph
from symdiff.pipeline import objective
from symdiff.runtime import signature_of, specs_for
from symdiff.signature import Options
from tests.conftest import jax_or_skip
from tests.sizes_reference import assert_agrees

rng = np.random.default_rng(11)
Z = rng.standard_normal((4, 5))
LABELS = np.array([0, 4, 2, 2])
WEIGHTS = rng.standard_normal((4, 5))


def log_softmax_ce(z, labels):
    s = z - np.max(z, axis=1, keepdims=True)
    log_p = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(z.shape[0]), labels])


def softmax_weighted(z, w):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(w * p)


def whole_array_shift(z, w):
    s = z - np.max(z)
    return np.sum(w * (s - np.log(np.sum(np.exp(s)))))


def nested_softmax(z, w):
    """The softmax of a function of a softmax: two shifts, each cancelling."""
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    q = np.exp(3 * p - np.max(3 * p, axis=1, keepdims=True))
    return np.sum(w * q / np.sum(q, axis=1, keepdims=True))


# the shift does not cancel: the maximum's gradient is part of the answer
def squared_shift(z, w):
    s = z - np.max(z, axis=1, keepdims=True)
    return np.sum(w * s ** 2)


def shift_and_exp_sum(z):
    s = z - np.max(z, axis=1, keepdims=True)
    return np.sum(np.exp(s))  # scaled by exp(-c), not unchanged


def shift_along_other_axis(z, w):
    s = z - np.max(z, axis=0, keepdims=True)  # columns, where the softmax runs along rows
    log_p = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(w * log_p)


def shift_kept_and_normalised(z, w):
    s = z - np.max(z, axis=1, keepdims=True)
    log_p = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(w * log_p) + np.sum(s)  # the second term sees the shift


def shift_mixed(z, w):
    s = z - np.max(z, axis=1, keepdims=True)
    return np.sum(w * (2 * s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))))


CANCELLING = [(log_softmax_ce, (Z, LABELS)), (softmax_weighted, (Z, WEIGHTS)),
              (whole_array_shift, (Z, WEIGHTS)), (nested_softmax, (Z, WEIGHTS))]
KEPT = [(squared_shift, (Z, WEIGHTS)), (shift_and_exp_sum, (Z,)),
        (shift_along_other_axis, (Z, WEIGHTS)), (shift_kept_and_normalised, (Z, WEIGHTS)),
        (shift_mixed, (Z, WEIGHTS))]


def frozen_shifts(fun, *args) -> int:
    """How many subtractions the traced function's graph marks as carrying no gradient to
    the maximum."""
    names = list(signature_of(fun).parameters)
    graph = Graph()
    objective(graph, fun, specs_for(names, args, (0,)), Options((0,)))
    return sum(1 for n in graph.nodes if n.param("frozen"))


@pytest.mark.parametrize("fun, args", CANCELLING + KEPT, ids=lambda v: getattr(v, "__name__", ""))
def test_gradient_agrees_with_finite_differences(fun, args):
    assert_agrees(fun, *args)


@pytest.mark.parametrize("fun, args", CANCELLING, ids=lambda v: getattr(v, "__name__", ""))
def test_cancelling_shift_carries_no_gradient(fun, args):
    assert frozen_shifts(fun, *args) >= 1
    source = symdiff.grad(fun, backend="numpy")
    source(*args)
    assert "==" not in source.source  # no mask of where the maximum is


@pytest.mark.parametrize("fun, args", KEPT, ids=lambda v: getattr(v, "__name__", ""))
def test_shift_the_result_sees_keeps_its_gradient(fun, args):
    assert frozen_shifts(fun, *args) == 0


def test_ties_at_the_maximum():
    """Two equal maxima in a row: the maximum's gradient would be split between them; the
    log-softmax's does not depend on it, and equals JAX's."""
    jax = jax_or_skip()
    z = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5]])
    labels = np.array([1, 3])
    got = symdiff.grad(log_softmax_ce)(z, labels)

    def reference(z):
        jnp = jax.numpy
        s = z - jnp.max(z, axis=1, keepdims=True)
        log_p = s - jnp.log(jnp.sum(jnp.exp(s), axis=1, keepdims=True))
        return -jnp.mean(log_p[jnp.arange(2), labels])
    np.testing.assert_allclose(got, jax.grad(reference)(z), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), 0.0, atol=1e-15)


def test_large_logits_stay_finite_and_unshifted_twice():
    z = np.array([[1e4, 0.0, -1e4], [-5e3, -5e3 + 1.0, -5e3 - 1.0]])
    labels = np.array([0, 1])
    for backend in ("numpy", "numba"):
        value, g = symdiff.value_and_grad(log_softmax_ce, backend=backend)(z, labels)
        assert np.isfinite(value) and np.all(np.isfinite(g))
        np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)
    source = symdiff.grad(log_softmax_ce, backend="numpy")
    source(z, labels)
    code = [line for line in source.source.splitlines() if not line.strip().startswith("#")]
    assert sum(line.count("np.max(") for line in code) == 2  # in grad and value_and_grad


def test_second_derivatives_through_a_cancelling_shift():
    """Leaving the maximum out is exact at every order: the Hessian equals JAX's."""
    jax = jax_or_skip()
    z = rng.standard_normal(5)
    w = rng.standard_normal(5)

    def f(z, w):
        s = z - np.max(z)
        return np.sum(w * (s - np.log(np.sum(np.exp(s)))))

    def reference(z):
        return jax.numpy.sum(w * jax.nn.log_softmax(z))
    np.testing.assert_allclose(symdiff.hessian(f)(z, w), jax.hessian(reference)(z),
                               rtol=1e-10, atol=1e-12)


def test_float32():
    z = Z.astype(np.float32)
    g = symdiff.grad(softmax_weighted)(z, WEIGHTS.astype(np.float32))
    assert g.dtype == np.float32
    expected = symdiff.grad(softmax_weighted)(Z, WEIGHTS)
    np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-5)
