"""Generator functions, map and filter, isinstance and type, and recursion, as autograd's own
examples write them (bayesian_neural_net's unpack_layers, hmm_em's log_partition_function).
Each gradient is checked against central finite differences on the NumPy and Numba backends,
and against JAX where JAX runs the same Python."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import symdiff
from symdiff.errors import SymdiffError
from tests.conftest import jax_or_skip

BACKENDS = ["numpy", "numba"]
SHAPES = [(3, 4), (4, 2)]  # a 3-4-2 network: layers read from one flat vector


# --- generators ---------------------------------------------------------------------------

def unpack_layers(weights, shapes):
    start = 0
    for m, n in shapes:
        W = weights[start:start + m * n].reshape(m, n)
        start = start + m * n
        b = weights[start:start + n]
        start = start + n
        yield W, b


def network(weights, inputs):
    for W, b in unpack_layers(weights, SHAPES):
        outputs = inputs @ W + b
        inputs = np.tanh(outputs)
    return np.sum(outputs ** 2)


def network_listed(weights, inputs):
    layers = list(unpack_layers(weights, SHAPES))
    h = inputs
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.tanh(h)
    return np.sum(h ** 2) + sum(np.sum(W ** 2) for W, _ in unpack_layers(weights, SHAPES))


def chunks(x, k):
    for i in range(0, x.shape[0], k):
        yield x[i:i + k]


def sum_of_generator(x):
    return sum(np.sum(np.sin(c)) for c in chunks(x, 2)) + np.sum(sum(chunks(x[:4], 2)))


def generator_in_a_comprehension(x):
    return np.sum(np.array([np.sum(c ** 2) for c in chunks(x, 3)]))


def zipped_generators(x):
    total = 0.0
    for a, (k, b) in zip(chunks(x, 2), enumerate(chunks(x[::-1], 2)), strict=True):
        total = total + (k + 1) * np.sum(a * b)
    return total


def pairs(x):
    yield from chunks(x, 2)
    yield x * x


def nested_generators(x):
    return sum(np.sum(np.exp(-p)) for p in pairs(x))


def taken_in_parts(x):
    items = chunks(x, 1)
    first = next(items)
    rest = list(items)
    return np.sum(first * 3.0) + sum(np.sum(r ** 2) for r in rest) + \
        np.sum(next(items, np.zeros(1)))


def early_break(x):
    items = chunks(x, 1)
    total = 0.0
    for k, c in enumerate(items):
        total = total + np.sum(c) * (k + 1)
        if k == 1:
            break
    return total + 10.0 * np.sum(next(items) ** 2)


def local_generator(x):
    scale = 2.0

    def scaled(v):
        for row in v:
            yield scale * row
    return np.sum(np.array(list(scaled(x))) ** 3)


def generator_of_size_one(x):
    return sum(np.sum(np.cos(c)) for c in chunks(x, 5))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f", [sum_of_generator, generator_in_a_comprehension, zipped_generators,
                               nested_generators, taken_in_parts, early_break,
                               generator_of_size_one])
def test_generators_of_slices(f, backend):
    rng = np.random.default_rng(1)
    for n in (4, 5):  # sizes that change between calls of one gradient function
        symdiff.check_grad(f, rng.normal(size=n), backend=backend)
    if f is generator_of_size_one:
        symdiff.check_grad(f, rng.normal(size=1), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f", [network, network_listed])
def test_layers_unpacked_by_a_generator(f, backend):
    rng = np.random.default_rng(2)
    weights = rng.normal(size=3 * 4 + 4 + 4 * 2 + 2) * 0.5
    for rows in (5, 1):
        symdiff.check_grad(f, weights, rng.normal(size=(rows, 3)), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_generator_reading_the_enclosing_function(backend):
    symdiff.check_grad(local_generator, np.random.default_rng(3).normal(size=(3, 2)),
                       backend=backend)


def test_generators_agree_with_jax():
    jax = jax_or_skip()
    import jax.numpy as jnp

    def jax_network(weights, inputs):  # the same Python, with jax.numpy
        start, outputs = 0, None
        for m, n in SHAPES:
            W = weights[start:start + m * n].reshape(m, n)
            start = start + m * n
            b = weights[start:start + n]
            start = start + n
            outputs = inputs @ W + b
            inputs = jnp.tanh(outputs)
        return jnp.sum(outputs ** 2)

    rng = np.random.default_rng(4)
    weights, inputs = rng.normal(size=30) * 0.5, rng.normal(size=(5, 3))
    np.testing.assert_allclose(symdiff.grad(network)(weights, inputs),
                               jax.grad(jax_network)(weights, inputs), rtol=1e-10, atol=1e-12)


def rebinds_what_a_generator_reads(x):
    scale = 1.0

    def scaled(v):
        for row in v:
            yield scale * row
    total = 0.0
    for row in scaled(x):
        scale = scale + 1.0
        total = total + np.sum(row)
    return total


def reads_a_generator_twice(x):
    items = chunks(x, 2)
    return sum(np.sum(c) for c in items) + sum(np.sum(c ** 2) for c in items)


def next_after_a_break_on_data(x):
    items = chunks(x, 1)
    total = 0.0
    for c in items:
        total = total + np.sum(c)
        if np.sum(c) > 0:
            break
    return total + np.sum(next(items, np.zeros(1)))


def test_a_generator_is_iterated_once():
    """The second pass over a generator is empty, as in Python (no double count)."""
    x = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(symdiff.grad(reads_a_generator_twice)(x), np.ones(4))


def test_what_a_generator_cannot_be_run_eagerly_for_is_refused():
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(symdiff.UnsupportedError, match="scale changed while the generator"):
        symdiff.grad(rebinds_what_a_generator_reads)(np.ones((2, 2)))
    with pytest.raises(symdiff.UnsupportedError, match="depend on data"):
        symdiff.grad(next_after_a_break_on_data)(x)


# --- map, filter, partial and recursion (hmm_em) -------------------------------------------

def score(params, y):
    return np.sum(np.log(params[y]))


def mapped(params, data):
    return sum(map(partial(score, params), data))


def mapped_two_lists(params, data):
    return sum(map(lambda y, w: w * score(params, y), data, [1.0, 2.0, 3.0]))


def filtered(params, data):
    kept = list(filter(lambda pair: pair[1] > 0, zip(data, [1.0, 0.0, 2.0], strict=False)))
    return sum(w * score(params, y) for y, w in kept) + len(kept)


def log_partition(params, data):
    if isinstance(data, list):
        return sum(map(partial(log_partition, params), data))
    return np.sum(np.log(np.cumsum(params)[data]))


def log_partition_by_type(params, data):
    if type(data) is list:
        return sum([partial(log_partition_by_type, params)(d) for d in data])
    return np.sum(params[data] ** 2)


def tree_sum(params, tree):
    """Recursion over a nested structure: its depth is the structure's."""
    if isinstance(tree, (list, tuple)):
        return sum(tree_sum(params, t) for t in tree)
    return np.sum(np.sin(params[tree]))


def power_by_halving(x, n):
    if n == 0:
        return np.ones_like(x)
    half = power_by_halving(x, n // 2)
    return half * half * (x if n % 2 else 1.0)


def powers(x):
    return np.sum(power_by_halving(x, 5)) + np.sum(power_by_halving(x, 1))


SEQUENCES = [np.array([0, 1]), np.array([2, 2, 1]), np.array([1])]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f", [mapped, mapped_two_lists, filtered, log_partition,
                               log_partition_by_type, tree_sum])
def test_map_partial_and_recursion_over_lists(f, backend):
    params = np.array([0.5, 1.0, 2.0])
    data = [np.array([0, 1, 2]), [np.array([2]), np.array([0, 0])]] if f is tree_sum \
        else SEQUENCES
    symdiff.check_grad(f, params, data, backend=backend)
    symdiff.check_grad(f, params, data[:1], backend=backend)  # one sequence


@pytest.mark.parametrize("backend", BACKENDS)
def test_recursion_on_a_static_argument(backend):
    symdiff.check_grad(powers, np.array([0.5, 1.5, -0.7]), backend=backend)


def test_map_and_recursion_agree_with_jax():
    jax = jax_or_skip()
    import jax.numpy as jnp

    def jax_log_partition(params, data):
        if isinstance(data, list):
            return sum(map(partial(jax_log_partition, params), data))
        return jnp.sum(jnp.log(jnp.cumsum(params)[data]))

    params = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(symdiff.grad(log_partition)(params, SEQUENCES),
                               jax.grad(jax_log_partition)(params, SEQUENCES), rtol=1e-12)


# --- isinstance and type -------------------------------------------------------------------

def by_kind(x, scale):
    out = 0.0
    if isinstance(x, np.ndarray) and not isinstance(x, (list, tuple)):
        out = out + np.sum(x ** 2)
    if isinstance(scale, float) and type(x) is np.ndarray and type(x.shape) is tuple:
        out = out * scale
    if isinstance(x.shape[0], int):
        out = out + x[0]
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_isinstance_and_type_are_known_while_generating(backend):
    symdiff.check_grad(by_kind, np.array([0.5, -1.0, 2.0]), 1.5, argnums=(0, 1),
                       backend=backend)


def test_type_of_a_scalar_that_numpy_may_give_either_way_is_refused():
    with pytest.raises(symdiff.UnsupportedError, match="depends on how NumPy computes it"):
        symdiff.grad(scalar_type)(np.ones(2))


def scalar_type(x):
    s = np.sum(x)
    return s * 2.0 if type(s) is np.float64 else s


def recursion_too_deep(x, n):
    return x if n == 0 else recursion_too_deep(x, n - 1) * 1.0


def test_recursion_deeper_than_the_limit_is_refused_at_its_line():
    with pytest.raises(symdiff.UnsupportedError, match="more than 64 deep") as info:
        symdiff.grad(lambda x: np.sum(recursion_too_deep(x, 100)))(np.ones(2))
    assert info.value.lineno == recursion_too_deep.__code__.co_firstlineno + 1
    deep = symdiff.grad(lambda x: np.sum(recursion_too_deep(x, 60)))
    np.testing.assert_allclose(deep(np.ones(2)), np.ones(2))


# --- generator expressions: single pass, as Python's -----------------------------------------

def generator_expression_used_twice(x):
    squares = (x[i] ** 2 for i in range(3))
    first = sum(squares)
    return first + sum(squares)  # Python's second pass is empty: 0


def generator_expressions_as_written(x):
    return sum(x[i] * 2 for i in range(3)) + max(x[i] for i in range(2)) + \
        np.stack(list(x[i] ** 2 for i in range(2))).sum()


def generator_expression_reading_a_rebound_name(x):
    scale = 2.0
    scaled = (x[i] * scale for i in range(2))
    scale = 3.0
    return sum(scaled)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_generator_expression_is_used_once(backend):
    x = np.array([1.0, 2.0, 3.0])
    value, g = symdiff.value_and_grad(generator_expression_used_twice, backend=backend)(x)
    assert value == generator_expression_used_twice(x) == 14.0
    np.testing.assert_array_equal(g, 2 * x)
    value, _ = symdiff.value_and_grad(generator_expressions_as_written, backend=backend)(x)
    assert value == generator_expressions_as_written(x)
    symdiff.check_grad(generator_expressions_as_written, x, backend=backend)
    with pytest.raises(SymdiffError, match=r"scale changed while the generator \(x\[i\] \* scale"):
        symdiff.grad(generator_expression_reading_a_rebound_name, backend=backend)(x)


def flattened_by_shape(x):
    """A flatten helper as users write one: sizes read from a shape are ints."""
    shape = x.shape
    count = int(np.prod(shape)) if all(isinstance(s, int) for s in shape) else None
    return np.sum(np.reshape(x, (count,)) ** 2) * len(shape)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sizes_in_a_shape_are_ints(backend):
    for x in (np.ones((2, 3)), np.arange(4.0).reshape(1, 4)):
        value, g = symdiff.value_and_grad(flattened_by_shape, backend=backend)(x)
        assert value == flattened_by_shape(x)
        np.testing.assert_allclose(g, 4 * x, rtol=1e-14)
