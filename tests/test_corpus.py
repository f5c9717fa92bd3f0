"""A corpus of functions, with inputs chosen by argument name, against finite differences and
JAX."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest

import symdiff
from tests.cases import corpus
from tests.conftest import jax_or_skip

FUNCTIONS = sorted(name for name, f in vars(corpus).items()
                   if inspect.isfunction(f) and f.__module__ == corpus.__name__
                   and not name.startswith("helper"))
USES_SYMDIFF = {"softmax_entropy", "relu_network"}  # JAX cannot run symdiff.nn's NumPy


def make(name: str, rng: np.random.Generator):
    if name in ("x", "y"):
        return rng.uniform(-1.5, 1.5, 4)
    if name in ("a", "b"):
        return rng.uniform(-1.5, 1.5, (4, 4))
    if name in ("s", "t"):
        return float(rng.uniform(0.2, 1.5))
    if name == "p":
        return rng.uniform(0.5, 2.0, 4)
    if name == "c":
        return rng.uniform(-1.5, 1.5, (3, 1))
    raise KeyError(name)


def arguments(fun, seed=0):
    rng = np.random.default_rng(seed)
    return [make(p, rng) for p in inspect.signature(fun).parameters]


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_against_finite_differences(name, backend):
    fun = getattr(corpus, name)
    args = arguments(fun)
    symdiff.check_grad(fun, *args, argnums=tuple(range(len(args))), backend=backend)


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n not in USES_SYMDIFF])
def test_against_jax(name):
    jax = jax_or_skip()
    fun = getattr(corpus, name)
    args = arguments(fun, seed=1)
    argnums = tuple(range(len(args)))
    reference = types.FunctionType(fun.__code__, {**fun.__globals__, "np": jax.numpy,
                                                  "math": jax.numpy})
    expected = jax.grad(reference, argnums)(*args)
    got = symdiff.grad(fun, argnums)(*args)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)
