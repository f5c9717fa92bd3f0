"""The CUDA backend: what differs from the other targets.

Every primitive, the corpus, the golden functions and random programs also run on
``backend="cuda"`` in their own files. Here kernels run on Numba's simulator (see conftest.py);
with ``NUMBA_ENABLE_CUDASIM=0`` on a machine with an NVIDIA GPU the same tests run on the GPU.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import symdiff
from symdiff.errors import UnsupportedError


def loss(x, w, b, y):
    z = x @ w + b
    return np.mean(np.logaddexp(0, z) - y * z) + 0.1 * np.sum(w ** 2)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=3),
            (rng.random((6, 3)) > 0.5).astype(float))


def test_matches_the_numpy_backend(data):
    got = symdiff.value_and_grad(loss, (1, 2), backend="cuda")(*data)
    expected = symdiff.value_and_grad(loss, (1, 2), backend="numpy")(*data)
    assert isinstance(got[1][0], np.ndarray)  # results come back to the host
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
    for g, e in zip(got[1], expected[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_float32_stays_float32(data):
    x, w, b, y = (a.astype(np.float32) for a in data)
    value, (dw, db) = symdiff.value_and_grad(loss, (1, 2), backend="cuda")(x, w, b, y)
    assert dw.dtype == db.dtype == np.float32
    _, (ew, eb) = symdiff.value_and_grad(loss, (1, 2), backend="numpy")(*data)
    np.testing.assert_allclose(dw, ew, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(db, eb, rtol=1e-4, atol=1e-6)


def test_kernels_are_readable_and_shared(data):
    g = symdiff.grad(loss, (1, 2), backend="cuda")
    g(*data)
    source = g.source
    kernels = re.findall(r"@cuda\.jit\ndef (\w+)\(", source)
    launched = set(re.findall(r"(\w+)\[_grid\(", source))
    assert launched <= set(kernels) | {"_fill"}
    # grad_loss and value_and_grad_loss launch the same backward kernels, defined once
    assert len(kernels) == len(set(kernels))
    grad_body = source[source.index("def grad_loss"):source.index("def value_and_grad_loss")]
    both = source[source.index("def value_and_grad_loss"):]
    assert set(re.findall(r"(\w+)\[_grid\(", grad_body)) <= set(re.findall(r"(\w+)\[_grid\(",
                                                                            both))
    assert "# z = x @ w + b" in source  # the source lines head the launches
    assert "np." not in "".join(source[m.start():source.index("\n\n\n", m.start())]
                                for m in re.finditer(r"@cuda\.jit\ndef _\w+_kernel", source))


def test_aux_and_float_arguments():
    def f(x, s):
        y = np.tanh(s * x)
        return np.sum(y * y), y

    x = np.linspace(-1.0, 1.0, 7)
    (value, aux), (dx, ds) = symdiff.value_and_grad(f, (0, 1), has_aux=True,
                                                    backend="cuda")(x, 0.7)
    (e_value, e_aux), (ex, es) = symdiff.value_and_grad(f, (0, 1), has_aux=True,
                                                        backend="numpy")(x, 0.7)
    assert isinstance(ds, float)
    np.testing.assert_allclose(aux, e_aux, rtol=1e-14)
    np.testing.assert_allclose(dx, ex, rtol=1e-13)
    np.testing.assert_allclose([value, ds], [e_value, es], rtol=1e-13)


@pytest.mark.parametrize("fun", [
    lambda x: np.sum(x[1:] * x[:-1]),             # slices added into one gradient
    lambda x: np.sum(x[None, 2:, None] ** 2),     # new axes around a slice
    lambda x: np.sum(np.outer(x, x)),
    lambda x: x @ x,                              # a dot product: atomics into one scalar
    lambda x: np.max(np.sin(x)) + np.mean(x),
    lambda x: np.sum(np.reshape(x, (2, 3)).T @ np.reshape(x, (2, 3))),
])
def test_shapes_and_contractions(fun):
    x = np.linspace(0.1, 1.2, 6)
    np.testing.assert_allclose(symdiff.grad(fun, backend="cuda")(x),
                               symdiff.grad(fun, backend="numpy")(x), rtol=1e-13, atol=1e-15)


def test_what_it_cannot_compile_is_said_clearly():
    def f(x):
        return np.sum(np.linalg.inv(x) * x)

    with pytest.raises(UnsupportedError, match="inv.*backend='numba'"):
        symdiff.grad(f, backend="cuda")(np.eye(3))


def test_slices_with_negative_steps():
    def f(x):
        return np.sum(x[::-1] * x) + np.sum(x[-2::-2] ** 3)

    x = np.linspace(0.1, 1.2, 7)
    np.testing.assert_allclose(symdiff.grad(f, backend="cuda")(x),
                               symdiff.grad(f, backend="numpy")(x), rtol=1e-13)
