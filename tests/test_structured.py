"""Structured arguments, model objects, freezing, GradOperation and vjp.

The MindSpore numbers of seed 001 are exact tests; everything else is checked against central
finite differences (and JAX's vjp where installed).
"""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import ArgumentError, UnsupportedError
from tests.conftest import jax_or_skip

BACKENDS = ("numpy", "numba")
X = np.array([[0.8, 0.6, 0.2], [1.8, 1.3, 1.1]])
Y = np.array([[0.11, 3.3, 1.1], [1.1, 0.2, 1.4], [1.1, 2.2, 0.3]])


class Net:
    """Seed 001's network: out = matmul(x * z, y) with a parameter z."""

    def __init__(self):
        self.z = np.array([1.0])

    def construct(self, x, y):
        x = x * self.z
        return np.matmul(x, y)


DX = [[4.51, 2.7, 3.6], [4.51, 2.7, 3.6]]
DY = [[2.6] * 3, [1.9] * 3, [1.3] * 3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_operation_reproduces_mindspore(backend):
    net = Net()
    assert symdiff.parameters(net) == ["z"]
    dx, dy = symdiff.GradOperation(get_all=True)(net, backend=backend)(X, Y)
    np.testing.assert_allclose(dx, DX, rtol=1e-13)
    np.testing.assert_allclose(dy, DY, rtol=1e-13)
    np.testing.assert_allclose(symdiff.GradOperation()(net, backend=backend)(X, Y), DX,
                               rtol=1e-13)
    (dz,) = symdiff.GradOperation(get_by_list=True)(net, ["z"], backend=backend)(X, Y)
    np.testing.assert_allclose(dz, [21.536], rtol=1e-13)
    (dx, dy), (dz,) = symdiff.GradOperation(get_all=True, get_by_list=True)(
        net, symdiff.parameters(net), backend=backend)(X, Y)
    np.testing.assert_allclose(dz, [21.536], rtol=1e-13)
    sens = np.array([[0.1, 0.6, 0.2], [0.8, 1.3, 1.1]])
    dx = symdiff.GradOperation(sens_param=True)(net, backend=backend)(X, Y, sens)
    np.testing.assert_allclose(dx, [[2.211, 0.51, 1.49], [5.588, 2.68, 4.07]], rtol=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_sensitivity_of_another_dtype_than_the_output(backend):
    """float32 data, a float64 weight: the output is float64 and a float32 sensitivity is
    converted to it (compiled code is typed for the output's dtype)."""
    x, y = X.astype(np.float32), Y.astype(np.float32)
    sens = np.array([[0.1, 0.6, 0.2], [0.8, 1.3, 1.1]], dtype=np.float32)
    dx = symdiff.GradOperation(sens_param=True)(Net(), backend=backend)(x, y, sens)
    np.testing.assert_allclose(dx, sens.astype(np.float64) @ y.T.astype(np.float64),
                               rtol=1e-6)


def test_grad_operation_on_functions():
    def f(x, y):
        return np.matmul(x, y)

    dx, dy = symdiff.GradOperation(get_all=True)(f)(X, Y)
    np.testing.assert_allclose(dx, DX, rtol=1e-13)
    np.testing.assert_allclose(dy, DY, rtol=1e-13)


def numeric_grad(f, value, eps=1e-6):
    """Central differences of the scalar ``f()`` with respect to the array ``value`` (in place)."""
    out = np.zeros_like(value)
    for i in np.ndindex(value.shape):
        old = value[i]
        value[i] = old + eps
        up = f()
        value[i] = old - eps
        down = f()
        value[i] = old
        out[i] = (up - down) / (2 * eps)
    return out


def mlp_loss(params, x, y):
    (w1, b1), last = params["layers"], params["out"]
    h = np.tanh(x @ w1 + b1)
    return np.mean((h @ last["w"] + last["b"] - y) ** 2)


@pytest.fixture
def params():
    rng = np.random.default_rng(3)
    return {"layers": [rng.normal(size=(4, 5)), rng.normal(size=5)],
            "out": {"w": rng.normal(size=(5, 1)), "b": np.zeros(1)}}


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_structures_against_finite_differences(params, backend):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 1))
    g = symdiff.grad(mlp_loss, backend=backend)(params, x, y)
    assert isinstance(g["layers"], list) and set(g["out"]) == {"w", "b"}
    leaves = [(params["layers"][0], g["layers"][0]), (params["layers"][1], g["layers"][1]),
              (params["out"]["w"], g["out"]["w"]), (params["out"]["b"], g["out"]["b"])]
    for value, grad in leaves:
        np.testing.assert_allclose(grad, numeric_grad(lambda: mlp_loss(params, x, y), value),
                                   rtol=1e-6, atol=1e-9)
    value, g2 = symdiff.value_and_grad(mlp_loss, wrt=("params.out.w", "x"),
                                       backend=backend)(params, x, y)
    assert value == pytest.approx(mlp_loss(params, x, y), rel=1e-13)
    np.testing.assert_allclose(g2["params.out.w"], g["out"]["w"], rtol=1e-13)
    np.testing.assert_allclose(g2["x"], numeric_grad(lambda: mlp_loss(params, x, y), x),
                               rtol=1e-6, atol=1e-9)


def test_frozen_parameters_get_no_gradient(params):
    x, y = np.ones((2, 4)), np.zeros((2, 1))
    g = symdiff.grad(mlp_loss, frozen=["params.out.b"])(params, x, y)
    assert g["out"]["b"] is None and g["out"]["w"] is not None
    with pytest.raises(ArgumentError, match="frozen='params.out.c': no such parameter"):
        symdiff.grad(mlp_loss, frozen=["params.out.c"])(params, x, y)


class Logistic:
    def __call__(self, inputs):
        return self.forward(inputs)

    def forward(self, inputs):
        outputs = 1.0 / (1.0 + np.exp(-inputs))
        self.outputs = outputs  # kept for a hand-written backward, as in seed 003
        return outputs


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.params = {"W": rng.standard_normal((n_in, n_out)), "b": np.zeros((1, n_out))}
        self.inputs = None

    def __call__(self, inputs):
        return self.forward(inputs)

    def forward(self, inputs):
        self.inputs = inputs
        return np.matmul(self.inputs, self.params["W"]) + self.params["b"]


class MLP:
    """Seed 003's two-layer network, written with layer objects."""

    def __init__(self, rng):
        self.fc1, self.act1 = Linear(5, 8, rng), Logistic()
        self.fc2, self.act2 = Linear(8, 1, rng), Logistic()

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        return self.act2(self.fc2(self.act1(self.fc1(x))))


class BCELoss:
    def __init__(self, model):
        self.model = model

    def forward(self, x, labels):
        predicts = self.model(x)
        n = predicts.shape[0]
        loss = -1.0 / n * (np.matmul(labels.T, np.log(predicts))
                           + np.matmul(1 - labels.T, np.log(1 - predicts)))
        return np.squeeze(loss)


@pytest.mark.parametrize("backend", BACKENDS)
def test_models_of_layer_objects(backend):
    rng = np.random.default_rng(5)
    loss = BCELoss(MLP(rng))
    x, labels = rng.normal(size=(7, 5)), (rng.random((7, 1)) > 0.5).astype(float)
    paths = symdiff.parameters(loss)
    assert paths == ["model.fc1.params.W", "model.fc1.params.b", "model.fc2.params.W",
                     "model.fc2.params.b"]
    g = symdiff.grad(loss, wrt=paths, frozen=("model.fc1.params.b",), backend=backend)(x, labels)
    assert list(g) == [p for p in paths if p != "model.fc1.params.b"]
    assert loss.model.fc1.inputs is None  # tracing never writes to the model
    arrays = {"model.fc1.params.W": loss.model.fc1.params["W"],
              "model.fc2.params.W": loss.model.fc2.params["W"],
              "model.fc2.params.b": loss.model.fc2.params["b"]}
    for path, value in arrays.items():
        np.testing.assert_allclose(g[path], numeric_grad(lambda: loss.forward(x, labels), value),
                                   rtol=1e-6, atol=1e-9)
    dx = symdiff.grad(loss, backend=backend)(x, labels)  # inputs by position, as for functions
    np.testing.assert_allclose(dx, numeric_grad(lambda: loss.forward(x, labels), x),
                               rtol=1e-6, atol=1e-9)


def test_clear_errors():
    net = Net()
    with pytest.raises(ArgumentError, match="no parameter 'w'.*parameters: z"):
        symdiff.grad(net, wrt=["w"])(X, Y)
    with pytest.raises(ArgumentError, match="frozen='q': no such parameter"):
        symdiff.GradOperation(get_by_list=True)(net, ["z"], frozen=["q"])(X, Y)
    with pytest.raises(ArgumentError, match="needs weights"):
        symdiff.GradOperation(get_by_list=True)(net)
    with pytest.raises(ArgumentError, match=r"cotangent \(sensitivity\) has shape \(3, 2\), but "
                                            r"the function's output has shape \(2, 3\)"):
        symdiff.GradOperation(sens_param=True)(net)(X, Y, np.ones((3, 2)))
    with pytest.raises(ArgumentError, match="nothing to differentiate: every requested"):
        symdiff.grad(net, wrt="z", frozen=["z"])(X, Y)


def test_a_structured_argument_returned_in_aux_is_refused_clearly():
    def f(p, x):
        return np.sum(p["w"] * x), p

    with pytest.raises(UnsupportedError, match="aux holds dict; aux may hold arrays, numbers"):
        symdiff.grad(f, has_aux=True)({"w": np.ones(3)}, np.arange(3.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_vjp(backend):
    def f(a, b):
        return np.sin(a) * b + a ** 2

    a, b = np.linspace(-1.0, 1.0, 5), np.linspace(0.5, 2.0, 5)
    out, f_vjp = symdiff.vjp(f, a, b, backend=backend)
    np.testing.assert_allclose(out, f(a, b))
    ct = np.array([1.0, -2.0, 0.5, 3.0, 0.25])
    da, db = f_vjp(ct)
    np.testing.assert_allclose(da, ct * (np.cos(a) * b + 2 * a), rtol=1e-13)
    np.testing.assert_allclose(db, ct * np.sin(a), rtol=1e-13)


def test_vjp_against_jax():
    jax = jax_or_skip()

    def f(w, x):
        return np.tanh(x @ w).T @ x

    rng = np.random.default_rng(6)
    w, x = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    ct = rng.normal(size=(2, 3))
    got = symdiff.vjp(f, w, x)[1](ct)
    jf = lambda w, x: jax.numpy.tanh(x @ w).T @ x  # noqa: E731
    expected = jax.vjp(jf, w, x)[1](ct)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-12, atol=1e-14)
