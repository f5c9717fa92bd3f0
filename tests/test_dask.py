"""Gradients over Dask arrays: losses that are sums or means over rows run as one compiled
task per chunk and a tree reduction; the rest runs the array_api code on Dask. Every gradient
equals the in-memory one."""

import os

import numpy as np
import pytest

import symdiff
from tests.cases import dask_losses as losses

da = pytest.importorskip("dask.array")
pytest.importorskip("array_api_compat")
distributed = pytest.importorskip("symdiff.distributed")


def data(n=403, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), (rng.random(n) < 0.4).astype(float), \
        rng.standard_normal(d) * 0.3


def expect_same(fun, numpy_args, dask_args, argnums, backend="numba"):
    value, grads = symdiff.value_and_grad(fun, argnums, backend=backend)(*dask_args)
    want_value, want = symdiff.value_and_grad(fun, argnums, backend="numpy")(*numpy_args)
    assert type(value) is float
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    for g, w in zip(grads, want, strict=True):
        assert type(g) is type(w) and np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("chunks", [(100, 6), (57, 3), ((1, 200, 1, 201), 6), (403, 6)],
                         ids=["rows", "rows-and-columns", "single-row-chunks", "one-chunk"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_mean_over_rows_runs_per_chunk(chunks, backend):
    X, y, w = data()
    Xd, yd = da.from_array(X, chunks=chunks), da.from_array(y, chunks=150)
    g = symdiff.value_and_grad(losses.logistic, backend=backend)
    assert distributed.plan(g, w, Xd, yd) == distributed.Plan(
        "chunks", "mean", "the loss is a mean over the rows of its data")
    expect_same(losses.logistic, (w, X, y), (w, Xd, yd), 0, backend)


def test_a_sum_over_rows_with_a_float_parameter():
    X, y, w = data()
    args = (w, 0.3, X, y)
    dask_args = (w, 0.3, da.from_array(X, chunks=(64, 6)), da.from_array(y, chunks=64))
    assert distributed.plan(symdiff.grad(losses.squared_error_sum, (0, 1)), *dask_args).split \
        == "sum"
    expect_same(losses.squared_error_sum, args, dask_args, (0, 1))


@pytest.mark.parametrize("fun", [losses.centred, losses.sum_plus_constant, losses.mean_and_sum,
                                 losses.written_out_mean, losses.largest_row],
                         ids=lambda f: f.__name__)
def test_losses_that_do_not_split_run_on_dask_as_a_whole(fun):
    X, y, w = data()
    dask_args = (w, da.from_array(X, chunks=(100, 6)), da.from_array(y, chunks=100))
    assert distributed.plan(symdiff.grad(fun), *dask_args).path == "lazy"
    expect_same(fun, (w, X, y), dask_args, 0)


def test_gradient_with_respect_to_dask_data_stays_lazy():
    X, y, w = data()
    Xd = da.from_array(X, chunks=(100, 6))
    g = symdiff.grad(losses.logistic, argnums=1)(w, Xd, da.from_array(y, chunks=100))
    assert distributed.is_dask_array(g) and g.shape == X.shape
    np.testing.assert_allclose(g.compute(), symdiff.grad(losses.logistic, 1, backend="numpy")(
        w, X, y), rtol=1e-12)


def test_softmax_cross_entropy_with_integer_labels():
    rng = np.random.default_rng(1)
    X, labels, W = rng.standard_normal((300, 7)), rng.integers(0, 4, 300), \
        rng.standard_normal((7, 4))
    dask_args = (da.from_array(X, chunks=(70, 7)), da.from_array(labels, chunks=70), W)
    assert distributed.plan(symdiff.grad(losses.softmax_cross_entropy, 2), *dask_args).split \
        == "mean"
    expect_same(losses.softmax_cross_entropy, (X, labels, W), dask_args, 2)


# -- on a cluster of two worker processes ------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    dask_distributed = pytest.importorskip("dask.distributed")
    with dask_distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit="1GiB", dashboard_address=None) as cluster, \
            dask_distributed.Client(cluster) as connected:
        yield connected


def test_on_a_cluster_logistic_mlp_and_softmax(client):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((2000, 20)), (rng.random((2000, 1)) < 0.5).astype(float)
    params = (rng.standard_normal((20, 16)) * 0.3, np.zeros(16), rng.standard_normal((16, 1)),
              np.zeros(1))
    Xd, yd = da.from_array(X, chunks=(300, 20)), da.from_array(y, chunks=(300, 1))
    expect_same(losses.mlp, (X, y, *params), (Xd, yd, *params), (2, 3, 4, 5))
    w = rng.standard_normal(20) * 0.2
    expect_same(losses.logistic, (w, X, y[:, 0]), (w, Xd, yd[:, 0]), 0)
    labels, W = rng.integers(0, 5, 2000), rng.standard_normal((20, 5))
    expect_same(losses.softmax_cross_entropy, (X, labels, W),
                (Xd, da.from_array(labels, chunks=300), W), 2)


def test_on_a_cluster_data_larger_than_a_workers_memory(client):
    """About 1.5 GB, made chunk by chunk on the workers (1 GiB each): each task holds one
    chunk; no worker is restarted for memory."""
    before = client.run(os.getpid)
    n, d = 1_900_000, 100
    X = da.random.RandomState(0).standard_normal((n, d), chunks=(100_000, d))
    y = (da.random.RandomState(1).random_sample(n, chunks=100_000) < 0.5).astype(float)
    assert X.nbytes > 1.4e9
    w = np.full(d, 0.01)
    value, grad = symdiff.value_and_grad(losses.logistic)(w, X, y)
    assert client.run(os.getpid) == before
    # the same mean, by Dask's own arithmetic over the same chunks
    z = X @ w
    want = (da.logaddexp(0.0, z) - y * z).mean() + 0.01 * np.sum(w ** 2)
    want_grad = X.T @ ((1 / (1 + da.exp(-z)) - y) / n) + 0.02 * w
    want, want_grad = client.compute([want, want_grad], sync=True)
    np.testing.assert_allclose(value, want, rtol=1e-10)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-12)
