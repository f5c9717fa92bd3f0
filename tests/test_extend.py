"""Custom derivative rules: custom_vjp, seed 003's Ops, and user primitives."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symdiff
from symdiff import extend
from symdiff.errors import GradientCheckError, UnsupportedError
from symdiff.frontend import functions

BACKENDS = ["numpy", "numba"]


@symdiff.custom_vjp
def clip_gradient(x, lo, hi):
    return x


def clip_gradient_fwd(x, lo, hi):
    return x, (lo, hi)


def clip_gradient_bwd(saved, g):
    lo, hi = saved
    return (np.clip(g, lo, hi), None, None)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def clipped(x):
    return np.sum(clip_gradient(np.sin(x) * 3, -0.5, 0.5) ** 2)


@pytest.mark.parametrize("backend", BACKENDS + ["cuda"])
def test_custom_vjp_is_honoured_where_the_function_is_called(backend):
    x = np.array([0.1, 0.5, 1.0, -2.0])
    expected = np.clip(6 * np.sin(x), -0.5, 0.5) * 3 * np.cos(x)  # not what f's code gives
    np.testing.assert_allclose(symdiff.grad(clipped, backend=backend)(x), expected, rtol=1e-12)
    assert clipped(x) == pytest.approx(np.sum((np.sin(x) * 3) ** 2))  # the value is f's


@symdiff.custom_vjp
def log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


def log_sigmoid_fwd(x):
    s = 1 / (1 + np.exp(-x))
    return np.log(s), s


def log_sigmoid_bwd(s, g):
    return (g * (1 - s),)


log_sigmoid.defvjp(log_sigmoid_fwd, log_sigmoid_bwd)


def weighted(x):
    return np.sum(log_sigmoid(x) * x)


def test_a_correct_rule_agrees_with_symdiff_and_finite_differences():
    x = np.array([0.3, -1.2, 2.0])
    report = extend.check_rule(weighted, x)
    np.testing.assert_allclose(report["rule"], report["symdiff"], rtol=1e-12)
    # second order differentiates the traced backward
    np.testing.assert_allclose(symdiff.hessian(weighted)(x),
                               symdiff.hessian(weighted_without_rule)(x), rtol=1e-10)


def weighted_without_rule(x):
    return np.sum(np.log(1 / (1 + np.exp(-x))) * x)


@symdiff.custom_vjp
def wrong_square(x):
    return x ** 2


def square_fwd(x):
    return x ** 2, x


def square_bwd_forgetting_the_2(x, g):
    return (g * x,)


wrong_square.defvjp(square_fwd, square_bwd_forgetting_the_2)


def sum_of_wrong_square(x):
    return np.sum(wrong_square(x))


def test_check_rule_catches_a_wrong_rule():
    with pytest.raises(GradientCheckError, match="differs from symdiff's own derivative"):
        extend.check_rule(sum_of_wrong_square, np.array([1.0, 2.0]))


def double_fwd(x):
    return x * 2, None


def two_cotangents_bwd(saved, g):
    return (g, g)


def summed_cotangent_bwd(saved, g):
    return (np.sum(g, axis=0),)


@symdiff.custom_vjp
def two_cotangents(x):
    return x * 2


@symdiff.custom_vjp
def wrong_shape(x):
    return x * 2


two_cotangents.defvjp(double_fwd, two_cotangents_bwd)
wrong_shape.defvjp(double_fwd, summed_cotangent_bwd)


def sum_two_cotangents(x):
    return np.sum(two_cotangents(x))


def sum_wrong_shape(x):
    return np.sum(wrong_shape(x))


def test_custom_rules_returning_the_wrong_structure_are_clear_errors():
    x = np.ones((2, 3))
    with pytest.raises(UnsupportedError, match=r"returns 2 cotangent\(s\), but there are 1"):
        symdiff.grad(sum_two_cotangents, backend="numpy")(x)
    with pytest.raises(UnsupportedError, match=r"cotangent of shape \(x.shape\[1\],\)"):
        symdiff.grad(sum_wrong_shape, backend="numpy")(x)


# --- seed 003's Ops, as the document writes them ----------------------------------------------

class Logistic:
    def __init__(self):
        self.inputs = None
        self.outputs = None

    def __call__(self, inputs):
        return self.forward(inputs)

    def forward(self, inputs):
        outputs = 1.0 / (1.0 + np.exp(-inputs))
        self.outputs = outputs
        return outputs

    def backward(self, grads):
        outputs_grad_inputs = np.multiply(self.outputs, (1.0 - self.outputs))
        return np.multiply(grads, outputs_grad_inputs)


class Linear:
    def __init__(self, input_size, output_size, name, rng):
        self.params = {}
        self.params['W'] = rng.standard_normal((input_size, output_size))
        self.params['b'] = rng.standard_normal((1, output_size)) * 0.1
        self.inputs = None
        self.grads = {}
        self.name = name

    def __call__(self, inputs):
        return self.forward(inputs)

    def forward(self, inputs):
        self.inputs = inputs
        outputs = np.matmul(self.inputs, self.params['W']) + self.params['b']
        return outputs

    def backward(self, grads):
        self.grads['W'] = np.matmul(self.inputs.T, grads)
        self.grads['b'] = np.sum(grads, axis=0)
        return np.matmul(grads, self.params['W'].T)


class Model_MLP_L2:  # noqa: N801  (the seed's name)
    def __init__(self, input_size, hidden_size, output_size, rng):
        self.fc1 = Linear(input_size, hidden_size, name="fc1", rng=rng)
        self.act_fn1 = Logistic()
        self.fc2 = Linear(hidden_size, output_size, name="fc2", rng=rng)
        self.act_fn2 = Logistic()

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):
        z1 = self.fc1(X)
        a1 = self.act_fn1(z1)
        z2 = self.fc2(a1)
        a2 = self.act_fn2(z2)
        return a2


class BinaryCrossEntropyLoss:
    def __init__(self, model):
        self.predicts = None
        self.labels = None
        self.num = None
        self.model = model

    def __call__(self, predicts, labels):
        return self.forward(predicts, labels)

    def forward(self, predicts, labels):
        self.predicts = predicts
        self.labels = labels
        self.num = self.predicts.shape[0]
        loss = -1. / self.num * (np.matmul(self.labels.T, np.log(self.predicts))
                                 + np.matmul((1 - self.labels.T), np.log(1 - self.predicts)))
        loss = np.squeeze(loss, axis=1)
        return loss

    def backward(self):
        loss_grad_predicts = -1.0 * (self.labels / self.predicts
                                     - (1 - self.labels) / (1 - self.predicts)) / self.num
        # symdiff chains the Ops: the seed's self.model.backward(...) becomes a return
        return loss_grad_predicts, None


class Runner:
    def __init__(self, rng):
        self.model = Model_MLP_L2(5, 10, 1, rng)
        self.loss_fn = BinaryCrossEntropyLoss(self.model)

    def forward(self, X, y):
        return np.sum(self.loss_fn(self.model(X), y))


def _forget_ops():
    """Differentiate the Ops' forward code again instead of using their backward."""
    functions._OP_TRACERS.clear()


@pytest.fixture
def seed003():
    for op in (Logistic, Linear, BinaryCrossEntropyLoss):
        extend.register_op(op)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5))
    y = (rng.random((8, 1)) > 0.5).astype(float)
    yield Runner(rng), X, y
    _forget_ops()


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed003_ops_use_their_backward(seed003, backend):
    runner, X, y = seed003
    assert symdiff.parameters(runner) == ["model.fc1.params.W", "model.fc1.params.b",
                                          "model.fc2.params.W", "model.fc2.params.b"]
    ruled = symdiff.grad(runner, wrt=symdiff.parameters(runner), backend=backend)(X, y)
    _forget_ops()
    derived = symdiff.grad(runner, wrt=symdiff.parameters(runner), backend=backend)(X, y)
    for path in ruled:
        np.testing.assert_allclose(ruled[path], derived[path], rtol=1e-10, atol=1e-14)
        assert ruled[path].shape == derived[path].shape


def test_seed003_ops_hand_written_backward_against_finite_differences(seed003):
    runner, X, y = seed003
    W1 = runner.model.fc1.params["W"]

    def loss_at(W):
        runner.model.fc1.params["W"] = W
        try:
            return float(runner.forward(X, y))
        finally:
            runner.model.fc1.params["W"] = W1

    g = symdiff.grad(runner, wrt="model.fc1.params.W", backend="numpy")(X, y)
    numeric = np.zeros_like(W1)
    for idx in np.ndindex(W1.shape):
        step = np.zeros_like(W1)
        step[idx] = 1e-6
        numeric[idx] = (loss_at(W1 + step) - loss_at(W1 - step)) / 2e-6
    np.testing.assert_allclose(g, numeric, atol=1e-8)


class ForgetsBias(Linear):
    def backward(self, grads):
        self.grads['W'] = np.matmul(self.inputs.T, grads)
        return np.matmul(grads, self.params['W'].T)


def summed_output(m, x):
    return np.sum(m(x))


def test_an_op_that_forgets_a_parameter_gradient_is_refused():
    extend.register_op(ForgetsBias)
    try:
        layer = ForgetsBias(3, 2, "fc", np.random.default_rng(0))
        with pytest.raises(UnsupportedError, match=r"no gradient for the parameter\(s\) b"):
            symdiff.grad(summed_output, wrt="m.params.b", backend="numpy")(layer,
                                                                            np.ones((4, 3)))
    finally:
        _forget_ops()


# --- new primitives -----------------------------------------------------------------------------

def softplus(x):
    return np.log1p(np.exp(x))


extend.register_elementwise(softplus, lambda x: sympy.log(1 + sympy.exp(x)))


def softplus_loss(x):
    return np.sum(softplus(x) * x)


@pytest.mark.parametrize("backend", BACKENDS + ["cuda"])
def test_register_elementwise_derives_the_derivative(backend):
    x = np.array([0.5, -1.0, 30.0])
    g = symdiff.grad(softplus_loss, backend=backend)(x)
    np.testing.assert_allclose(g, x / (1 + np.exp(-x)) + np.log1p(np.exp(x)), rtol=1e-12)
    symdiff.check_grad(softplus_loss, np.array([0.5, -1.0]), backend=backend)


def cumsum(x):
    return np.cumsum(x)


def cumsum_vjp(g, out, x):
    return cumsum(g[::-1])[::-1]


extend.register_primitive(cumsum, cumsum_vjp)


def cumulative(x):
    return np.sum(cumsum(x) ** 2 * x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_register_primitive_calls_the_function_and_its_adjoint(backend):
    x = np.random.default_rng(1).standard_normal(6)
    symdiff.check_grad(cumulative, x, backend=backend)
    g = symdiff.grad(cumulative, backend=backend)
    g(x)
    assert "def _cumsum(x):" in g.source and "_cumsum(" in g.source.split("def grad_")[1]


def test_register_primitive_is_refused_clearly_on_cuda():
    with pytest.raises(UnsupportedError, match="cannot call"):
        symdiff.grad(cumulative, backend="cuda")(np.ones(3))


class Doubler:
    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        return 2.0 * x

    def backward(self, grads):
        return 2.0 * grads


DOUBLER = Doubler()


def doubled_sum(x):
    return np.sum(DOUBLER(x))


def test_a_registered_op_outside_a_model_is_refused_clearly():
    extend.register_op(Doubler)
    try:
        with pytest.raises(UnsupportedError, match="make it an attribute of the model"):
            symdiff.grad(doubled_sum, backend="numpy")(np.ones(2))
    finally:
        _forget_ops()
