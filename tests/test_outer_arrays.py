"""Arrays a loss reads from outside itself: module globals and closure variables.

The generated code takes them as arguments that are never differentiated, and every call passes
their values at that moment: a global rebound between calls is seen (JAX would keep the value
it traced with)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import symdiff
from tests.conftest import jax_or_skip
from tests.sizes_reference import CPU_BACKENDS, assert_agrees

rng = np.random.default_rng(7)
X = rng.standard_normal((12, 3))
y = rng.standard_normal(12)
LABELS = np.array([0, 2, 1, 1])
SCALE = np.array(0.5)


def least_squares(w):
    return np.mean((X @ w - y) ** 2)


def penalty(v):
    return np.sum(v ** 2) * len(y) * SCALE


def least_squares_with_penalty(w):
    return np.sum((X @ w - y) ** 2) + penalty(w)


def picked_log_probabilities(logits):
    return -np.mean(symdiff.nn.log_softmax(logits, axis=1)[np.arange(4), LABELS])


def make_loss(A, b):
    def loss(w):
        return np.sum(np.tanh(A @ w) * b)
    return loss


def _expected_least_squares(w, X, y):
    return 2 * X.T @ (X @ w - y) / len(y)


@pytest.mark.parametrize("f", [least_squares, least_squares_with_penalty])
def test_globals_are_read_as_inputs(f):
    assert_agrees(f, np.array([0.3, -1.2, 2.0]))


def test_integer_globals_index_arrays():
    assert_agrees(picked_log_probabilities, rng.standard_normal((4, 3)))


def test_closures_read_their_own_arrays():
    first = make_loss(X, y)
    second = make_loss(2 * X[:5], -y[:5])
    w = np.array([0.1, 0.2, -0.3])
    for f in (first, second):
        assert_agrees(f, w)
    g1, g2 = symdiff.grad(first), symdiff.grad(second)
    assert not np.allclose(g1(w), g2(w))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_global_rebound_between_calls_is_seen(backend, monkeypatch):
    w = np.array([0.5, -0.5, 1.0])
    g = symdiff.value_and_grad(least_squares, backend=backend)
    g(w)
    g(w)  # the fast path from here on
    for new_X, new_y in [(X * 3.0, y), (X[:7], y[:7]), (X[:, :3].astype(np.float32), y)]:
        monkeypatch.setattr(sys.modules[__name__], "X", new_X)
        monkeypatch.setattr(sys.modules[__name__], "y", new_y)
        value, grad = g(w)
        np.testing.assert_allclose(value, np.mean((new_X @ w - new_y) ** 2), rtol=1e-6)
        np.testing.assert_allclose(grad, _expected_least_squares(w, new_X, new_y), rtol=1e-5)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_sizes_of_globals_that_do_not_fit_are_refused_at_the_line(backend, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "X", X[:5])
    with pytest.raises(symdiff.SizeError, match=r"test_outer_arrays.py:\d+:\d+: shapes"):
        symdiff.grad(least_squares, backend=backend)(np.ones(3))


def scaled_by_global_w(w):
    return helper_reading_w(w) + np.sum(w)


def helper_reading_w(v):
    return np.sum(v * w)  # the global w, not scaled_by_global_w's argument


w = np.array([1.0, 2.0, 3.0])


def test_a_global_named_like_a_parameter_gets_its_own_name():
    assert_agrees(scaled_by_global_w, np.array([0.5, 0.25, -1.0]))
    g = symdiff.grad(scaled_by_global_w, backend="numpy")
    np.testing.assert_allclose(g(np.zeros(3)), w + 1.0)
    assert "def grad_scaled_by_global_w(w, w_1):" in g.source


def test_outer_arrays_are_never_differentiated():
    grads = symdiff.grad(least_squares_with_penalty, argnums=(0,))(np.ones(3))
    assert len(grads) == 1 and grads[0].shape == (3,)


def gradient_norm(w):
    return np.sum(symdiff.grad(least_squares)(w) ** 2)


def test_a_gradient_of_a_gradient_reads_the_globals_of_both():
    assert_agrees(gradient_norm, np.array([0.2, -0.1, 0.4]))


def test_matches_jax():
    jax = jax_or_skip()
    jnp = jax.numpy
    w0 = np.array([0.3, -0.7, 1.1])
    expected = jax.grad(lambda v: jnp.sum((X @ v - y) ** 2) + jnp.sum(v ** 2) * len(y) * 0.5)(
        w0)
    for backend in CPU_BACKENDS:
        np.testing.assert_allclose(
            symdiff.grad(least_squares_with_penalty, backend=backend)(w0), expected, rtol=1e-10)


def test_tools_that_cannot_read_them_yet_say_so():
    with pytest.raises(symdiff.UnsupportedError, match="'X' is an array from outside the "
                       "function .* pass it as an argument"):
        symdiff.explain(least_squares, np.ones(3))


# forward mode: jvp, jacfwd, hessian and jvp of grad read them on each call as grad does

DATA = np.array([0.5, -1.0, 2.0])
WEIGHT = 2.0


def quartic_fit(x):
    """autograd's gmm example differentiates an objective reading a global data array."""
    return np.sum((x - DATA) ** 4) + np.sum(np.tanh(X @ x) * y) * WEIGHT


def quartic_fit_explicit(x, data, X, y):
    return np.sum((x - data) ** 4) + np.sum(np.tanh(X @ x) * y) * WEIGHT


def features(x):
    return np.sin(X @ x) * y


def _gradient_differences(x, v, data, X, y, eps=1e-6):
    """Central differences of the gradient (with the arrays passed) along ``v``."""
    g = symdiff.grad(quartic_fit_explicit, backend="numpy")
    return (g(x + eps * v, data, X, y) - g(x - eps * v, data, X, y)) / (2 * eps)


def _rebind(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setitem(globals(), name, value)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_hessian_vector_products_read_globals_on_each_call(backend, monkeypatch):
    hvp = symdiff.grad(quartic_fit, backend=backend)
    x, v = np.array([0.1, 0.3, -0.2]), np.array([1.0, -0.5, 2.0])
    local = np.random.default_rng(3)
    for data, rows in ((DATA, 12), (np.array([1.5, 0.0, -0.3]), 5), (np.ones(3), 1)):
        X_now, y_now = local.standard_normal((rows, 3)), local.standard_normal(rows)
        _rebind(monkeypatch, DATA=data, X=X_now, y=y_now)  # sizes change between calls
        out, product = symdiff.jvp(hvp, (x,), (v,), backend=backend)
        expected_gradient = symdiff.grad(quartic_fit_explicit, backend="numpy")(
            x, data, X_now, y_now)
        np.testing.assert_allclose(out, expected_gradient, rtol=1e-12)
        np.testing.assert_allclose(product, _gradient_differences(x, v, data, X_now, y_now),
                                   rtol=1e-6, atol=1e-6)


def test_hessian_vector_products_match_jax(monkeypatch):
    jax = jax_or_skip()
    jnp = jax.numpy
    x, v = np.array([0.1, 0.3, -0.2]), np.array([1.0, -0.5, 2.0])

    def objective(x, data, X, y):
        return jnp.sum((x - data) ** 4) + jnp.sum(jnp.tanh(X @ x) * y) * WEIGHT

    for data in (DATA, np.array([-2.0, 0.25, 1.0])):
        _rebind(monkeypatch, DATA=data)
        expected = jax.jvp(lambda x, data=data: jax.grad(objective)(x, data, X, y), (x,),
                           (v,))[1]
        for backend in CPU_BACKENDS:
            product = symdiff.jvp(symdiff.grad(quartic_fit, backend=backend), (x,), (v,),
                                  backend=backend)[1]
            np.testing.assert_allclose(product, expected, rtol=1e-10)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_hessian_and_jacfwd_read_globals_on_each_call(backend, monkeypatch):
    x = np.array([0.1, 0.3, -0.2])
    hessian = symdiff.hessian(quartic_fit, backend=backend)
    jacobian = symdiff.jacfwd(features, backend=backend)
    for data, rows in ((DATA, 12), (np.array([0.2, 0.4, -1.0]), 4), (np.zeros(3), 1)):
        X_now = np.random.default_rng(rows).standard_normal((rows, 3))
        y_now = np.linspace(-1.0, 1.0, rows)
        _rebind(monkeypatch, DATA=data, X=X_now, y=y_now)
        g = symdiff.grad(quartic_fit_explicit, backend="numpy")
        columns = [_gradient_differences(x, e, data, X_now, y_now) for e in np.eye(3)]
        np.testing.assert_allclose(hessian(x), np.stack(columns, axis=1), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(g(x, data, X_now, y_now), symdiff.grad(
            quartic_fit, backend=backend)(x), rtol=1e-12)
        expected = (X_now * (np.cos(X_now @ x) * y_now)[:, None])
        np.testing.assert_allclose(jacobian(x), expected, rtol=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_jvp_reads_closure_arrays_and_sees_rebound_numbers(backend, monkeypatch):
    A, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    loss = make_loss(A, b)
    w, t = np.array([0.2, -0.1, 0.5]), np.array([1.0, 2.0, -1.0])
    expected = np.sum((1 - np.tanh(A @ w) ** 2) * b * (A @ t))
    assert symdiff.jvp(loss, (w,), (t,), backend=backend)[1] == pytest.approx(expected,
                                                                              rel=1e-12)
    # a number from a global is fixed in the code: rebinding it generates the code again
    x = np.array([0.1, 0.3, -0.2])
    before = symdiff.jvp(quartic_fit, (x,), (t,), backend=backend)[1]
    _rebind(monkeypatch, WEIGHT=5.0)
    after = symdiff.jvp(quartic_fit, (x,), (t,), backend=backend)[1]
    quartic = np.sum(4 * (x - DATA) ** 3 * t)
    tanh_part = np.sum((1 - np.tanh(X @ x) ** 2) * y * (X @ t))
    assert before == pytest.approx(quartic + 2.0 * tanh_part, rel=1e-12)
    assert after == pytest.approx(quartic + 5.0 * tanh_part, rel=1e-12)


def test_a_new_process_reads_globals_through_the_disk_cache(tmp_path):
    script = tmp_path / "uses_globals.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, symdiff
        A = np.arange(6.0).reshape(3, 2)

        def loss(v):
            return np.sum((A @ v) ** 2)

        g = symdiff.grad(loss, backend="numba")
        print(g(np.ones(2)).tolist())
        A = A * 2
        print(g(np.ones(2)).tolist())
    """))
    env = {"SYMDIFF_CACHE_DIR": str(tmp_path / "cache"), "PATH": "", "HOME": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    runs = [subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                           text=True, check=True).stdout.split("\n")[:2] for _ in range(2)]
    A = np.arange(6.0).reshape(3, 2)
    first = (2 * A.T @ (A @ np.ones(2))).tolist()
    second = (2 * (2 * A).T @ (2 * A @ np.ones(2))).tolist()
    assert runs[0] == runs[1] == [str(first), str(second)]


# -- what a review found -----------------------------------------------------------------------

def make_layer(W):
    def layer(h):
        return np.tanh(W @ h)
    return layer


layer1 = make_layer(np.array([[1.0, 0.5], [-0.5, 1.0]]))
layer2 = make_layer(np.array([[2.0, 0.0], [0.0, -3.0]]))


def two_layers(x):
    return np.sum(layer2(layer1(x)))


def test_two_closures_of_one_factory_read_their_own_arrays():
    assert_agrees(two_layers, np.array([0.3, -0.7]))


def make_penalty(M):
    def penalty_of(v):
        return np.sum((M @ v) ** 2)
    return penalty_of


current_penalty = make_penalty(np.eye(2))


def penalised(v):
    return current_penalty(v)


LAMBDA = 2.0
SIGMA = np.float64(1.5)


def with_constants(v):
    return LAMBDA * np.sum(v ** 2 / SIGMA)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_rebinding_a_helper_or_a_number_generates_again(backend, monkeypatch):
    module = sys.modules[__name__]
    v = np.array([1.0, 2.0])
    g = symdiff.grad(penalised, backend=backend)
    g(v)
    monkeypatch.setattr(module, "current_penalty", make_penalty(3 * np.eye(2)))
    np.testing.assert_allclose(g(v), 18 * v)
    h = symdiff.grad(with_constants, backend=backend)
    np.testing.assert_allclose(h(v), 2 * 2.0 * v / 1.5)
    h(v)
    monkeypatch.setattr(module, "LAMBDA", 5.0)
    monkeypatch.setattr(module, "SIGMA", np.float64(0.5))
    np.testing.assert_allclose(h(v), 2 * 5.0 * v / 0.5)
    monkeypatch.setattr(module, "SIGMA", np.array([1.0, 4.0]))  # a number becomes an array
    np.testing.assert_allclose(h(v), 2 * 5.0 * v / np.array([1.0, 4.0]))


def shifted(v):
    return np.sum((v - y[:3]) ** 2)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_global_rebound_to_a_list_is_read_as_an_array(backend, monkeypatch):
    g = symdiff.grad(shifted, backend=backend)
    g(np.zeros(3))
    g(np.zeros(3))
    monkeypatch.setattr(sys.modules[__name__], "y", [1.0, 2.0, 4.0])
    np.testing.assert_allclose(g(np.zeros(3)), [-2.0, -4.0, -8.0])


A = np.array([[0.5, 0.1, 0.0], [0.0, 0.6, 0.1], [0.2, 0.0, 0.4]])


def grow(v):
    while np.sum(v ** 2) < 50.0:
        v = A @ v + 0.5 * v
    return np.sum(v)


def test_a_loop_on_data_reads_globals():
    assert_agrees(grow, np.array([0.3, -0.2, 0.5]))


def test_threads_learn_the_arrays_once():
    import threading
    for _ in range(5):
        g = symdiff.grad(least_squares, backend="numpy")
        errors = []

        def work(g=g, errors=errors):
            try:
                g(np.zeros(3))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors


def loss_of_a_dict(params):
    return np.sum(np.tanh(X @ params["w"]))


def layers_loss(layers, scale):
    """A list of (W, b) layers, as autograd's examples hold a network, over global data."""
    h = X
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum((h[:, 0] - y) ** 2) * scale


class GlobalDataModel:
    def __init__(self):
        self.w = np.array([0.5, -0.2, 0.1])

    def loss(self):
        return np.mean((X @ self.w - y) ** 2)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_structured_arguments_and_models_read_globals(backend):
    w = np.array([0.3, -0.1, 0.2])
    g = symdiff.grad(loss_of_a_dict, backend=backend)({"w": w})
    np.testing.assert_allclose(g["w"], X.T @ (1 - np.tanh(X @ w) ** 2), rtol=1e-12)
    layers = [(rng.standard_normal((3, 4)), rng.standard_normal(4)),
              (rng.standard_normal((4, 1)), rng.standard_normal(1))]
    grads = symdiff.grad(layers_loss, backend=backend)(layers, 0.5)
    flat = np.concatenate([a.ravel() for layer in layers for a in layer])

    def as_flat(v):
        parts, k = [], 0
        for W, b in layers:
            parts.append((v[k:k + W.size].reshape(W.shape), v[k + W.size:k + W.size + b.size]))
            k += W.size + b.size
        return layers_loss(parts, 0.5)

    h, expected = 1e-6, []
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = h
        expected.append((as_flat(flat + e) - as_flat(flat - e)) / (2 * h))
    got = np.concatenate([a.ravel() for layer in grads for a in layer])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    model = GlobalDataModel()
    g = symdiff.grad(GlobalDataModel.loss, backend=backend)(model)
    np.testing.assert_allclose(g["w"], _expected_least_squares(model.w, X, y), rtol=1e-12)


def test_vjp_reads_globals():
    w = np.array([0.3, -0.1, 0.2])
    out, products = symdiff.vjp(lambda_free_product, w)
    (g,) = products(np.ones(12))
    np.testing.assert_allclose(out, np.tanh(X @ w))
    np.testing.assert_allclose(g, X.T @ (1 - np.tanh(X @ w) ** 2), rtol=1e-12)


def lambda_free_product(w):
    return np.tanh(X @ w)


def test_a_new_process_sees_a_changed_number_through_the_disk_cache(tmp_path):
    script = tmp_path / "uses_a_constant.py"
    script.write_text(textwrap.dedent("""
        import os, numpy as np, symdiff
        LAM = float(os.environ["LAM"])

        def loss(v):
            return LAM * np.sum(v ** 2)

        print(symdiff.grad(loss, backend="numba")(np.ones(2)).tolist())
    """))
    env = {"SYMDIFF_CACHE_DIR": str(tmp_path / "cache"), "PATH": "", "HOME": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    seen = [subprocess.run([sys.executable, str(script)], env={**env, "LAM": lam},
                           capture_output=True, text=True, check=True).stdout.strip()
            for lam in ("1", "5", "5", "1")]
    assert seen == ["[2.0, 2.0]", "[10.0, 10.0]", "[10.0, 10.0]", "[2.0, 2.0]"]
