"""Programs written outside this project that symdiff once got wrong, each the smallest form of
what was found. The reference is NumPy running the function, with central finite differences
(and JAX where it is installed); every CPU backend must agree."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import jax_or_skip
from tests.sizes_reference import assert_agrees

# -- a selection keeps the values its branches read --------------------------------------------


def where_of_a_root(x):
    r = np.sqrt(x)
    return np.sum(np.where(x > 0, r, x))


def test_a_named_root_does_not_rewrite_its_argument():
    # x became r**2 where r = sqrt(x) was reused, which is NaN for negative x
    assert_agrees(where_of_a_root, np.array([-1.0, 4.0, -0.5, 2.0]))


def maximum_of_a_where(x):
    c = x > 0
    return np.sum(np.maximum(np.where(c, 2 * x, -x), 0.5 * x)) + np.sum(np.where(c, x, 0.0))


def where_of_a_where(x):
    c = x > 0
    return np.sum(np.where(np.where(c, x, -2 * x) > 1, x ** 2, x))


def minimum_of_wheres(x):
    c = x > 0
    return np.sum(np.minimum(np.where(c, x, -x), np.where(x < 1, 0.5 * x, 3 * x)))


@pytest.mark.parametrize("f", [maximum_of_a_where, where_of_a_where, minimum_of_wheres])
def test_conditions_inside_comparisons_of_selections(f):
    # the comparison max() makes of where(c, 2x, -x) kept only the first branch
    assert_agrees(f, np.array([-2.0, -0.3, 0.3, 2.0]))


def test_maximum_of_a_where_matches_jax():
    jax = jax_or_skip()
    jnp = jax.numpy

    def reference(x):
        c = x > 0
        return jnp.sum(jnp.maximum(jnp.where(c, 2 * x, -x), 0.5 * x)) + \
            jnp.sum(jnp.where(c, x, 0.0))

    import symdiff

    x = np.array([-2.0, -0.5, 0.3, 2.0])
    np.testing.assert_allclose(symdiff.grad(maximum_of_a_where)(x),
                               np.asarray(jax.grad(reference)(x)), rtol=1e-12)
    np.testing.assert_allclose(symdiff.grad(maximum_of_a_where)(x), [-1.0, -1.0, 3.0, 3.0])
