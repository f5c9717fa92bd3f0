"""Methods of plain helper objects (not models) called inside differentiated code, as people
write them: a parser of a flat parameter vector held in a global or a closure, layer objects in
a closure list whose methods call each other, an object called like a function. The methods run
from their source with ``self`` the object; its attributes are fixed in the code and watched for
changes. Also sizes computed from shapes (``np.prod(x.shape[1:])``), arrays as defaults of
nested functions, and an output of one element."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symdiff
from tests.conftest import jax_or_skip
from tests.sizes_reference import CPU_BACKENDS, assert_agrees

rng = np.random.default_rng(11)


class FlatParams:
    """Names slices of one parameter vector and the shapes they are read as."""

    def __init__(self):
        self.where = {}
        self.size = 0

    def add(self, name, shape):
        first = self.size
        self.size += np.prod(shape)  # a NumPy integer, as in the programs this mimics
        self.where[name] = (slice(first, self.size), shape)

    def read(self, vector, name):
        part, shape = self.where[name]
        return np.reshape(vector[part], shape)


class Dense:
    def __init__(self, width):
        self.width = width

    def setup(self, in_shape):
        self.params = FlatParams()
        self.params.add("W", (int(np.prod(in_shape)), self.width))
        self.params.add("b", (self.width,))
        return self.params.size, (self.width,)

    def apply(self, inputs, vector):
        W = self.params.read(vector, "W")
        b = self.params.read(vector, "b")
        if inputs.ndim > 2:  # flattened per example, the size from the shape
            inputs = inputs.reshape((inputs.shape[0], np.prod(inputs.shape[1:])))
        return self.activation(inputs @ W + b)


class TanhDense(Dense):
    def activation(self, z):
        return np.tanh(z)


class LogSoftmaxDense(Dense):
    def activation(self, z):
        return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def make_network(in_shape, layers):
    top = FlatParams()
    shape = in_shape
    for layer in layers:
        count, shape = layer.setup(shape)
        top.add(layer, (count,))

    def predict(vector, inputs):
        units = inputs
        for layer in layers:
            units = layer.apply(units, top.read(vector, layer))
        return units

    def loss(vector, inputs, targets):
        return -np.sum(predict(vector, inputs) * targets) + 0.01 * np.dot(vector, vector)

    return top.size, loss


N_WEIGHTS, network_loss = make_network((2, 3), [TanhDense(4), LogSoftmaxDense(3)])


def _batch(n):
    return rng.standard_normal((n, 2, 3)), np.eye(3)[rng.integers(0, 3, n)]


def test_layer_objects_from_a_closure_list():
    vector = 0.3 * rng.standard_normal(int(N_WEIGHTS))
    inputs, targets = _batch(5)
    assert_agrees(network_loss, vector, inputs, targets)
    for backend in CPU_BACKENDS:
        report = symdiff.check_grad(network_loss, vector, inputs, targets, backend=backend)
        assert report.ok


def test_one_gradient_function_for_batches_of_other_sizes():
    vector = 0.3 * rng.standard_normal(int(N_WEIGHTS))
    functions = {b: symdiff.value_and_grad(network_loss, (0,), backend=b) for b in CPU_BACKENDS}
    for n in (4, 7, 1):
        inputs, targets = _batch(n)
        assert_agrees(network_loss, vector, inputs, targets, functions=functions)


def test_layer_objects_match_jax():
    jax = jax_or_skip()
    jnp = jax.numpy
    vector = 0.3 * rng.standard_normal(int(N_WEIGHTS))
    inputs, targets = _batch(6)

    def reference(v):
        W1, b1 = v[:24].reshape(6, 4), v[24:28]
        W2, b2 = v[28:40].reshape(4, 3), v[40:43]
        h = jnp.tanh(inputs.reshape(6, 6) @ W1 + b1)
        z = h @ W2 + b2
        out = z - jax.scipy.special.logsumexp(z, axis=1, keepdims=True)
        return -jnp.sum(out * targets) + 0.01 * jnp.dot(v, v)

    expected = jax.grad(reference)(vector)
    for backend in CPU_BACKENDS:
        got = symdiff.grad(network_loss, backend=backend)(vector, inputs, targets)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


# --- a parser in a global, a plain method, an object called like a function -----------------

parser = FlatParams()
parser.add("w", (2, 3))
parser.add("s", (1,))


class Scaled:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, x):
        return self.factor * np.sin(x)


scaled = Scaled(1.5)


def from_global_parser(v):
    return np.sum(np.tanh(parser.read(v, "w")) ** 2) * parser.read(v, "s")[0]


def calls_an_object(v):
    return np.sum(scaled(v) ** 2)


def make_reader(helper):
    def loss(v):
        return np.sum(np.cos(helper.read(v, "w")) * np.arange(3))
    return loss


@pytest.mark.parametrize("f", [from_global_parser, calls_an_object, make_reader(parser)])
def test_helper_methods(f):
    assert_agrees(f, rng.standard_normal(7))


def test_attributes_changed_between_calls_are_seen():
    v = rng.standard_normal(7)
    for backend in CPU_BACKENDS:
        g = symdiff.grad(calls_an_object, backend=backend)
        try:
            first = g(v)
            scaled.factor = 2.5
            np.testing.assert_allclose(g(v), first * (2.5 / 1.5) ** 2, rtol=1e-12)
        finally:
            scaled.factor = 1.5


def test_a_dict_attribute_changed_in_place_is_seen():
    helper = FlatParams()
    helper.add("w", (2, 3))
    loss = make_reader(helper)
    v = rng.standard_normal(8)
    for backend in CPU_BACKENDS:
        helper.where["w"] = (slice(0, 6), (2, 3))
        g = symdiff.grad(loss, backend=backend)
        assert np.all(g(v)[6:] == 0)
        helper.where["w"] = (slice(2, 8), (2, 3))  # the same dict, another slice
        moved = g(v)
        assert np.all(moved[:2] == 0) and np.any(moved[6:] != 0)
        assert_agrees(loss, v, backends=(backend,))


class Counter:
    def __init__(self):
        self.calls = 0

    def scale(self, x):
        self.calls = self.calls + 1
        return 2.0 * x

    def bump(self, x):
        self.calls += 1
        return 2.0 * x


class HoldsWeights:
    def __init__(self):
        self.W = np.ones((3, 3))

    def apply(self, x):
        return self.W @ x


class Collects:
    def __init__(self):
        self.parts = []

    def total(self, x):
        parts = self.parts
        parts.append(np.sum(x ** 2))
        return parts[-1]


counter = Counter()
holds_weights = HoldsWeights()
collects = Collects()
SEEN = []


def grows_an_attribute_list(x):
    return collects.total(x)


def grows_a_global_list(x):
    seen = SEEN
    seen.append(np.sum(x))
    return seen[0]


def assigns_self(x):
    return np.sum(counter.scale(x))


def bumps_self(x):
    return np.sum(counter.bump(x))


def reads_an_array_attribute(x):
    return np.sum(holds_weights.apply(x) ** 2)


@pytest.mark.parametrize("f, match", [
    (assigns_self, "assigning the attribute 'calls' of an object from outside"),
    (bumps_self, "augmented assignment to the attribute 'calls'"),
    (reads_an_array_attribute, "array comes from outside the function inside another value"),
    (grows_an_attribute_list, "parts is a list from outside the function"),
    (grows_a_global_list, "seen is a list from outside the function"),
])
def test_what_methods_cannot_do_is_refused_at_the_line(f, match):
    with pytest.raises(symdiff.UnsupportedError, match=match) as info:
        symdiff.grad(f)(np.ones(3))
    assert "test_helper_objects.py" in str(info.value)
    assert counter.calls == 0 and collects.parts == [] and SEEN == []


# --- sizes from shapes ------------------------------------------------------------------------

def flattened(x):
    h = x.reshape((x.shape[0], np.prod(x.shape[1:])))
    return np.sum(np.tanh(h) * np.arange(1, 1 + h.shape[1]))


def sizes_by_reductions(x):
    n = math.prod(x.shape)
    m = np.sum(x.shape[1:])
    return np.sum(x.reshape(n) ** 2) / m + np.sum(x) * sum(x.shape)


def test_products_of_sizes():
    functions = {b: symdiff.value_and_grad(flattened, (0,), backend=b) for b in CPU_BACKENDS}
    for shape in ((2, 3, 4), (3, 1, 5), (1, 2, 2)):
        assert_agrees(flattened, rng.standard_normal(shape), functions=functions)
    for shape in ((2, 3), (4, 1, 2)):
        assert_agrees(sizes_by_reductions, rng.standard_normal(shape))


# --- arrays as defaults of nested functions ----------------------------------------------------

def make_objective(params, X):
    def predict(x, params=params, X=X):
        return np.sum(np.exp(params[1:]) * np.tanh(X @ x))
    return lambda x: -predict(x) + np.sum(x ** 2)


def test_array_defaults_are_read_on_each_call():
    params, X = rng.standard_normal(5), rng.standard_normal((4, 2))
    objective = make_objective(params, X)
    x = rng.standard_normal(2)
    assert_agrees(objective, x)
    for backend in CPU_BACKENDS:
        g = symdiff.grad(objective, backend=backend)
        first = g(x)
        params[1:] = 0.0  # the same array, changed in place: read again
        again = make_objective(params, X)
        np.testing.assert_allclose(g(x), symdiff.grad(again, backend=backend)(x), rtol=1e-12)
        assert not np.allclose(g(x), first)
        params[:] = rng.standard_normal(5)


def test_array_defaults_match_jax():
    jax = jax_or_skip()
    jnp = jax.numpy
    params, X = rng.standard_normal(5), rng.standard_normal((4, 2))
    x = rng.standard_normal(2)
    expected = jax.grad(lambda x: -jnp.sum(jnp.exp(params[1:]) * jnp.tanh(X @ x)) +
                        jnp.sum(x ** 2))(x)
    for backend in CPU_BACKENDS:
        np.testing.assert_allclose(symdiff.grad(make_objective(params, X), backend=backend)(x),
                                   expected, rtol=1e-10)


# --- an output of one element -------------------------------------------------------------------

def one_element(x):
    x = np.atleast_2d(x)
    return -np.sum(x * np.sin(x), axis=1)


def one_element_fixed(x):
    x = np.atleast_2d(x)
    return -np.sum(x * np.sin(x), axis=1)[0]


def test_an_output_of_one_element_is_refused_saying_how_to_fix_it():
    with pytest.raises(symdiff.UnsupportedError, match=r"shape \(1,\), one element.*out\[0\]"
                       r", or np.sum\(out\)"):
        symdiff.grad(one_element)(np.array([0.3]))
    assert_agrees(one_element_fixed, np.array([0.3]))


# --- a model's attributes that are not parameters ---------------------------------------------

class Tempered:
    """A model whose forward reads a number and a dict besides its parameter."""

    def __init__(self):
        self.W = np.array([1.0, -2.0, 0.5])
        self.temperature = 2.0
        self.config = {"scale": 1.0}

    def forward(self, x):
        return np.sum(np.tanh(self.W * x) / self.temperature) * self.config["scale"]


def tempered_loss(model, x):
    return model(x) ** 2


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_model_attributes_changed_between_calls_are_seen(backend):
    """Fixed in the code and checked on each call, as helper objects' attributes are: a
    changed temperature or config entry makes the code be generated again."""
    model, x = Tempered(), np.array([0.3, -0.1, 0.8])
    by_input = symdiff.grad(model, backend=backend)
    by_parameter = symdiff.grad(tempered_loss, backend=backend)
    for temperature, scale in ((2.0, 1.0), (4.0, 1.0), (4.0, 3.0)):
        model.temperature, model.config["scale"] = temperature, scale
        expected = (1 - np.tanh(model.W * x) ** 2) * model.W / temperature * scale
        np.testing.assert_allclose(by_input(x), expected, rtol=1e-13)
        gw = by_parameter(model, x)["W"]
        np.testing.assert_allclose(gw, 2 * model.forward(x) * (1 - np.tanh(model.W * x) ** 2) * x /
                                   temperature * scale, rtol=1e-13)
