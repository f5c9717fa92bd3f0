"""The public API's semantics: argnums, wrt, has_aux, value_and_grad, dtypes, caching."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import symdiff
from symdiff import ArgumentError, SymdiffError, UnsupportedError


def loss(x, y, w, b):
    z = x @ w + b
    return np.sum((z - y) ** 2)


def with_aux(x, w):
    pred = x @ w
    return np.mean(pred ** 2), (pred, 3)


def scalar_fn(a, b):
    return a * a * b


ARGS = (np.ones((4, 3)), np.zeros(2), np.full((3, 2), 0.5), np.array([0.1, -0.2]))


def expected_grads(x, y, w, b):
    r = 2 * (x @ w + b - y)
    return x.T @ r, r.sum(axis=0)


def test_int_argnums_gives_one_gradient_tuple_gives_a_tuple():
    gw, gb = expected_grads(*ARGS)
    np.testing.assert_allclose(symdiff.grad(loss, 2)(*ARGS), gw)
    got = symdiff.grad(loss, (3, 2))(*ARGS)
    assert isinstance(got, tuple) and len(got) == 2
    np.testing.assert_allclose(got[0], gb)
    np.testing.assert_allclose(got[1], gw)


def test_wrt_names_arguments():
    gw, gb = expected_grads(*ARGS)
    np.testing.assert_allclose(symdiff.grad(loss, wrt="w")(*ARGS), gw)
    got_b, got_w = symdiff.grad(loss, wrt=("b", "w"))(*ARGS)
    np.testing.assert_allclose(got_b, gb)
    np.testing.assert_allclose(got_w, gw)


def test_default_argnums_is_zero_and_keywords_bind():
    x, y, w, b = ARGS
    g = symdiff.grad(loss)(x, y, w=w, b=b)
    np.testing.assert_allclose(g, 2 * (x @ w + b - y) @ w.T)


@pytest.mark.parametrize("kwargs, message", [
    ({"argnums": (1, 1)}, "twice"),
    ({"argnums": 4}, "out of range"),
    ({"argnums": (0, 7)}, "out of range"),
    ({"argnums": 1.5}, "integers"),
    ({"argnums": ()}, "empty"),
    ({"wrt": "nope"}, "no parameter 'nope'"),
    ({"wrt": "w", "argnums": 2}, "not both"),
])
def test_bad_argnums_and_wrt(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        symdiff.grad(loss, **kwargs)
    assert issubclass(ArgumentError, ValueError) and issubclass(ArgumentError, SymdiffError)


def test_value_and_grad():
    value, gw = symdiff.value_and_grad(loss, 2)(*ARGS)
    assert value == pytest.approx(loss(*ARGS))
    np.testing.assert_allclose(gw, expected_grads(*ARGS)[0])


def test_has_aux():
    x, w = np.arange(6.0).reshape(3, 2), np.array([0.5, -1.0])
    (value, (pred, three)), gw = symdiff.value_and_grad(with_aux, 1, has_aux=True)(x, w)
    np.testing.assert_allclose(pred, x @ w)
    assert three == 3 and value == pytest.approx(np.mean((x @ w) ** 2))
    np.testing.assert_allclose(gw, 2 * x.T @ (x @ w) / 3)
    g, (pred2, _) = symdiff.grad(with_aux, 1, has_aux=True)(x, w)
    np.testing.assert_allclose(g, gw)
    np.testing.assert_allclose(pred2, pred)


def test_has_aux_requires_a_pair():
    with pytest.raises(UnsupportedError, match="pair"):
        symdiff.grad(loss, has_aux=True)(*ARGS)


def test_python_floats_give_floats():
    ga, gb = symdiff.grad(scalar_fn, (0, 1))(3.0, 2.0)
    assert (ga, gb) == (12.0, 9.0)
    assert type(ga) is float and type(gb) is float


def test_float32_stays_float32_and_float64_stays_float64():
    args32 = tuple(a.astype(np.float32) for a in ARGS)
    g32 = symdiff.grad(loss, (2, 3))(*args32)
    assert all(g.dtype == np.float32 for g in g32)
    g64 = symdiff.grad(loss, (2, 3))(*ARGS)
    assert all(g.dtype == np.float64 for g in g64)
    np.testing.assert_allclose(g32[0], g64[0], rtol=1e-6)


def test_mixed_precision_gradient_has_the_argument_dtype():
    x, y, w, b = ARGS
    g = symdiff.grad(loss, 2)(x, y, w.astype(np.float32), b)
    assert g.dtype == np.float32


@pytest.mark.parametrize("bad, what", [
    (np.ones((3, 2), dtype=np.int64), "integer array"),
    (np.ones((3, 2), dtype=bool), "boolean array"),
    (np.ones((3, 2), dtype=complex), "complex array"),
    (3, "int"),
])
def test_non_float_differentiated_arguments_are_rejected(bad, what):
    x, y, _, b = ARGS
    with pytest.raises(ArgumentError, match=what):
        symdiff.grad(loss, 2)(x, y, bad, b)


def test_wrong_arity_is_an_argument_error():
    with pytest.raises(ArgumentError, match="missing"):
        symdiff.grad(loss)(ARGS[0])


def labelled(logits, labels):
    return symdiff.nn.cross_entropy(logits, labels)


def test_integer_arrays_are_fine_as_data():
    logits = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    g = symdiff.grad(labelled)(logits, np.array([1, 2]))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p[np.arange(2), [1, 2]] -= 1
    np.testing.assert_allclose(g, p / 2)


@symdiff.grad
def decorated(x):
    return np.sum(np.sin(x))


@symdiff.grad(argnums=1)
def decorated_with_options(x, y):
    return np.sum(x * y)


def test_decorator_forms():
    x = np.array([0.0, 1.0])
    np.testing.assert_allclose(decorated(x), np.cos(x))
    np.testing.assert_allclose(decorated_with_options(x, x), x)
    assert decorated.__name__ == "decorated"


def test_source_and_caching_per_signature():
    g = symdiff.grad(loss, 2)
    with pytest.raises(ArgumentError, match="call"):
        _ = g.source
    g(*ARGS)
    first = g._cache.copy()
    assert "def grad_loss(x, y, w, b):" in g.source
    bigger = (np.ones((40, 3)), np.zeros(2), np.ones((3, 2)), np.zeros(2))
    g(*bigger)  # same ranks, other sizes: no new generation
    assert g._cache == first
    g(*(a.astype(np.float32) for a in ARGS))  # another dtype: a new specialisation
    assert len(g._cache) == 2


def test_a_dimension_of_size_one_is_its_own_specialisation():
    x = np.ones((1, 3))
    g = symdiff.grad(loss, 3)
    np.testing.assert_allclose(g(x, np.zeros(2), np.ones((3, 2)), np.zeros(2)), [6.0, 6.0])
    np.testing.assert_allclose(g(np.ones((2, 3)), np.zeros(2), np.ones((3, 2)), np.zeros(2)),
                               [12.0, 12.0])
    assert len(g._cache) == 2


def test_threads_share_one_generation():
    g = symdiff.grad(loss, 2)
    results = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        results.append(g(*ARGS))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(g._cache) == 1 and len(results) == 4
    for r in results:
        np.testing.assert_allclose(r, expected_grads(*ARGS)[0])


def test_stop_gradient_is_identity_at_run_time():
    x = np.array([1.0, 2.0])
    assert symdiff.stop_gradient(x) is x


def static_reduction(x, reduction):
    return symdiff.nn.mse_loss(x, np.zeros_like(x), reduction=reduction)


def test_static_string_arguments_specialise():
    x = np.array([1.0, 2.0, 3.0])
    g = symdiff.grad(static_reduction)
    np.testing.assert_allclose(g(x, "mean"), 2 * x / 3)
    np.testing.assert_allclose(g(x, "sum"), 2 * x)
    assert len(g._cache) == 2


def sliced_times(x, y):
    return np.sum(x[1:] * y)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_slice_of_size_one_that_broadcasts_gets_numpys_answer(backend):
    g = symdiff.grad(sliced_times, (0, 1), backend=backend)
    gx, gy = g(np.arange(5.0), np.ones(4))
    np.testing.assert_allclose(gy, [1.0, 2.0, 3.0, 4.0])
    gx, gy = g(np.array([1.0, 2.0]), np.ones(4))  # x[1:] has one element: NumPy broadcasts
    np.testing.assert_allclose(gx, [0.0, 4.0])
    np.testing.assert_allclose(gy, [2.0, 2.0, 2.0, 2.0])
    gx, gy = g(np.arange(6.0), np.ones(5))  # and the shape-generic code serves again
    np.testing.assert_allclose(gy, [1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(UnsupportedError, match="broadcast"):
        g(np.arange(4.0), np.ones(4))  # as NumPy, refused: (3,) and (4,)


def scaled_square(x, scale=3.0):
    return np.sum(scale * x ** 2)


def test_parameters_left_to_their_defaults_take_the_fast_path():
    g = symdiff.grad(scaled_square, backend="numpy")
    first = g(np.array([1.0, 2.0]))
    assert len(g._fast) == 1  # the second call skips binding and specs
    np.testing.assert_allclose(g(np.array([1.0, 2.0])), first)
    np.testing.assert_allclose(first, [6.0, 12.0])
    np.testing.assert_allclose(g(np.array([1.0, 2.0]), 0.5), [1.0, 2.0])
    np.testing.assert_allclose(g(np.array([[1.0]])), [[6.0]])
