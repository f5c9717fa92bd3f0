"""Complete objectives as people write them for autograd (tests/cases/autograd_style.py):
symdiff's value against the function's own, its gradient against central finite differences
on the numpy, numba and cuda backends, and against JAX's gradient of the same source with
``np`` and SciPy's names bound to JAX's."""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import symdiff
from symdiff.check.finite_diff import compare
from tests.cases import autograd_style as cases
from tests.conftest import jax_or_skip

LINALG = "np.linalg has no cuda kernels (refused by name on that backend)"
SLOW = "too slow on the simulated GPU for this file's time budget"


@dataclass
class Case:
    fun: str  # a name in tests/cases/autograd_style.py
    make: Callable[[np.random.Generator], tuple]
    argnums: tuple[int, ...] = (0,)
    cuda: str | None = None  # why the cuda backend is skipped
    module_globals: Callable[[np.random.Generator], dict[str, Any]] | None = None
    marks: dict[str, Any] = field(default_factory=dict)  # backend or "jax" -> pytest mark


def layers(rng, sizes, scale=0.5):
    return [(scale * rng.standard_normal((m, n)), scale * rng.standard_normal(n))
            for m, n in zip(sizes[:-1], sizes[1:], strict=True)]


def one_hot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, n)]


def binary(rng, *shape):
    return (rng.uniform(size=shape) < 0.5).astype(float)


def logistic_data(rng):
    x = rng.standard_normal((8, 3))
    return {"LR_INPUTS": x, "LR_TARGETS": binary(rng, 8)}


def rnn_params(rng, d, h, o, s=0.4):
    return {"init hiddens": s * rng.standard_normal((1, h)),
            "change": s * rng.standard_normal((d + h + 1, h)),
            "predict": s * rng.standard_normal((h + 1, o))}


def lstm_params(rng, d, h, s=0.4):
    gate = lambda: s * rng.standard_normal((d + h + 1, h))  # noqa: E731
    return {"h0": s * rng.standard_normal((1, h)), "c0": s * rng.standard_normal((1, h)),
            "forget": gate(), "ingate": gate(), "outgate": gate(), "change": gate(),
            "predict": s * rng.standard_normal((h + 1, d))}


def sequences(rng, steps, batch, d):
    return one_hot(rng, steps * batch, d).reshape(steps, batch, d)


def gmm_params(rng, k, d):
    return {"log proportions": 0.3 * rng.standard_normal(k),
            "means": rng.standard_normal((k, d)),
            "lower triangles": np.eye(d) + 0.2 * rng.standard_normal((k, d, d))}


NO_DIGAMMA = {"cuda": pytest.mark.xfail(strict=True, raises=symdiff.UnsupportedError,
                                        reason="the cuda backend has no digamma (gammaln's "
                                        "derivative)")}
CUDA_LOOPS = {"cuda": pytest.mark.xfail(strict=True, raises=symdiff.UnsupportedError,
                                        reason="a loop of run-time length or of more than 16 "
                                        "iterations runs in the generated code, which the "
                                        "cuda backend refuses")}

CASES: dict[str, Case] = {
    # 1. logistic regression
    "logistic_map": Case("logistic_map_objective", lambda r: (
        r.standard_normal(3), r.standard_normal((10, 3)), binary(r, 10), 2.0)),
    "logistic_globals": Case("logistic_training_loss", lambda r: (r.standard_normal(4),),
                             module_globals=logistic_data),
    "logistic_expit": Case("expit_objective", lambda r: (
        r.standard_normal(3), r.standard_normal((6, 3)), binary(r, 6))),
    # 2. classifier
    "classifier": Case("classifier_objective", lambda r: (
        layers(r, [3, 4, 3]), r.standard_normal((5, 3)), one_hot(r, 5, 3), 0.1)),
    "classifier_globals": Case("classifier_training_loss", lambda r: (
        layers(r, [3, 4, 3]), 0), module_globals=lambda r: {
            "TRAIN_IMAGES": r.standard_normal((5, 3)), "TRAIN_LABELS": one_hot(r, 5, 3)}),
    "classifier_labels": Case("integer_label_loss", lambda r: (
        layers(r, [3, 4, 4, 3]), r.standard_normal((5, 3)), r.integers(0, 3, 5))),
    # 3. regression
    "regression": Case("regression_objective", lambda r: (
        layers(r, [1, 5, 1]), -0.5, r.standard_normal((6, 1)), r.standard_normal((6, 1)),
        1.5), argnums=(0, 1)),
    "relu_regression": Case("relu_regression_objective", lambda r: (
        layers(r, [2, 4, 4, 1]), r.standard_normal((6, 2)), r.standard_normal((6, 1)))),
    # 4-5. recurrent networks
    "rnn": Case("rnn_objective", lambda r: (
        rnn_params(r, 3, 4, 3), sequences(r, 2, 2, 3), sequences(r, 3, 2, 3))),
    "lstm": Case("lstm_objective", lambda r: (
        lstm_params(r, 3, 3), sequences(r, 3, 2, 3), sequences(r, 3, 2, 3)),
        marks=CUDA_LOOPS),
    # 6. Gaussian processes
    "gp_cholesky": Case("gp_neg_log_marginal_cholesky", lambda r: (
        np.array([0.1, -1.0, 0.2, -0.3, 0.1, 0.4]), r.uniform(-2, 2, (6, 3)),
        r.standard_normal(6)), cuda=LINALG),
    "gp_scipy": Case("gp_neg_log_marginal_scipy", lambda r: (
        np.array([0.1, -1.0, 0.2, -0.3]), r.uniform(-2, 2, (5, 2)), r.standard_normal(5)),
        cuda=LINALG),
    "gp_slogdet": Case("gp_neg_log_marginal_slogdet", lambda r: (
        0.2, -1.5, r.uniform(-2, 2, (5, 2)), r.standard_normal(5)), argnums=(0, 1),
        cuda=LINALG),
    # 7. mixtures
    "gmm": Case("gmm_neg_log_likelihood", lambda r: (
        gmm_params(r, 2, 2), r.standard_normal((6, 2))), cuda=LINALG),
    "gmm_diagonal": Case("diagonal_gmm_neg_log_likelihood", lambda r: (
        r.standard_normal(3), r.standard_normal((3, 2)), 0.3 * r.standard_normal((3, 2)),
        r.standard_normal((6, 2))), argnums=(0, 1, 2)),
    # 8. variational autoencoders
    "vae": Case("vae_neg_elbo", lambda r: (
        layers(r, [4, 3, 4]), layers(r, [2, 3, 4]), binary(r, 3, 4),
        r.standard_normal((3, 2))), argnums=(0, 1)),
    "gaussian_vae": Case("gaussian_vae_neg_elbo", lambda r: (
        layers(r, [3, 2]), layers(r, [1, 3, 3]), r.standard_normal((4, 3)),
        r.standard_normal((4, 1))), argnums=(0, 1)),
    # 9. black-box variational inference
    "bbvi_funnel": Case("funnel_bbvi", lambda r: (
        np.array([0.2, -0.1, -0.5, 0.3]), r.standard_normal((5, 2)))),
    "bbvi_banana": Case("banana_bbvi", lambda r: (
        r.standard_normal(4) * 0.3, r.standard_normal((5, 2)))),
    "bbvi_lambda": Case("bbvi_with_lambda", lambda r: (
        r.standard_normal(3), 0.2 * r.standard_normal(3), r.standard_normal((4, 3))),
        argnums=(0, 1)),
    # 10. convolutions
    "convnet": Case("convnet_objective", lambda r: (
        (0.5 * r.standard_normal((2, 2, 2)), 0.1 * r.standard_normal(2),
         0.3 * r.standard_normal((2 * 3 * 3, 3)), 0.1 * r.standard_normal(3)),
        r.standard_normal((2, 4, 4)), one_hot(r, 2, 3))),
    "einsum_conv": Case("einsum_conv_objective", lambda r: (
        0.5 * r.standard_normal((2, 2, 2, 2)), r.standard_normal((2, 2, 4, 4)),
        r.standard_normal((2, 2)))),
    # 11. small functions
    "sum_of_list": Case("sum_of_list", lambda r: (
        r.standard_normal(3), r.standard_normal(3), r.standard_normal(3)), argnums=(0, 1, 2)),
    "tuple_of_floats": Case("tuple_of_floats", lambda r: ((0.3, -0.7),)),
    "dict_of_floats": Case("dict_of_floats", lambda r: ({"a": 0.4, "b": -1.1},)),
    "partial": Case("partial_energy", lambda r: (r.standard_normal(4),)),
    "nested_def": Case("nested_def", lambda r: (
        r.standard_normal((2, 3)), r.standard_normal((3, 3))), argnums=(0, 1)),
    "lambda_comprehension": Case("lambda_and_comprehension", lambda r: (
        r.standard_normal(4),)),
    "method_style": Case("method_style", lambda r: (
        r.standard_normal((3, 4)), r.standard_normal((4, 2))), argnums=(0, 1)),
    "optional_bias": Case("optional_bias", lambda r: (
        {"w": r.standard_normal(3), "b": np.array(0.2)}, r.standard_normal((5, 3)),
        np.sign(r.standard_normal(5)))),
    "slice_objects": Case("slice_objects", lambda r: (r.standard_normal(6),)),
    # 12. other examples
    "rosenbrock": Case("rosenbrock", lambda r: (np.array([-0.5, 0.8]),)),
    "rosenbrock_nd": Case("rosenbrock_nd", lambda r: (r.uniform(-1, 1, 5),)),
    "tanh": Case("tanh_by_hand", lambda r: (r.uniform(-2, 2, 5),)),
    "negbin": Case("negbin_log_likelihood", lambda r: (
        2.5, 0.4, r.integers(0, 8, 10).astype(float)), argnums=(0, 1), marks=NO_DIGAMMA),
    "negbin_profile": Case("negbin_profile", lambda r: (
        0.7, r.integers(0, 8, 10).astype(float)), marks=NO_DIGAMMA),
    "ica": Case("ica_neg_log_likelihood", lambda r: (
        np.eye(3) + 0.3 * r.standard_normal((3, 3)), r.standard_normal((6, 3))),
        cuda=LINALG),
    "hmm": Case("hmm_log_likelihood", lambda r: (
        r.standard_normal(3), r.standard_normal((3, 3)), r.standard_normal((3, 4)),
        r.integers(0, 4, 5)), argnums=(0, 1, 2), marks=CUDA_LOOPS),
    "newton_sqrt": Case("newton_sqrt", lambda r: (r.uniform(0.5, 3, 4),)),
    "descent_sqrt": Case("descent_sqrt", lambda r: (r.uniform(0.5, 1.5, 4),),
                         marks=CUDA_LOOPS),
    "rkhs": Case("rkhs_fit", lambda r: (
        r.standard_normal(4), r.uniform(-2, 2, 4), r.uniform(-2, 2, 6),
        r.standard_normal(6)), argnums=(0, 1)),
    "sinusoid": Case("sinusoid_fit", lambda r: (
        np.array([1.2, 0.8, 0.1]), r.uniform(-3, 3, 8), r.standard_normal(8))),
    "taylor_sine": Case("taylor_sine", lambda r: (r.uniform(-1, 1, 4),)),
}


def flatten(tree: Any, like: Any = None) -> list:
    """The arrays and floats of a tree of dicts, lists and tuples, in the order of ``like``'s
    keys (JAX may return a dict's keys sorted)."""
    like = tree if like is None else like
    if isinstance(like, dict):
        return [leaf for k in like for leaf in flatten(tree[k], like[k])]
    if isinstance(like, (list, tuple)):
        return [leaf for t, v in zip(tree, like, strict=True) for leaf in flatten(t, v)]
    return [tree]


def rebuild(like: Any, leaves) -> Any:
    if isinstance(like, dict):
        return {k: rebuild(v, leaves) for k, v in like.items()}
    if isinstance(like, (list, tuple)):
        return type(like)(rebuild(v, leaves) for v in like)
    return next(leaves)


def arguments(case: Case, seed: int, monkeypatch, jax_module=None) -> list:
    rng = np.random.default_rng(seed)
    if case.module_globals is not None:
        for name, value in case.module_globals(rng).items():
            monkeypatch.setattr(cases, name, value)
            if jax_module is not None:
                monkeypatch.setattr(jax_module, name, jax_module.np.asarray(value))
    return list(case.make(rng))


# the simulated GPU runs each thread in Python and compiles slowly: the objectives it runs in
# a few seconds, the others are skipped (SLOW)
ON_CUDA = {"logistic_map", "logistic_expit", "taylor_sine", "lambda_comprehension",
           "rosenbrock", "rosenbrock_nd", "partial", "tanh", "newton_sqrt", "slice_objects",
           "bbvi_lambda", "descent_sqrt", "negbin", "negbin_profile", "hmm", "sinusoid",
           "optional_bias"}


# Numba compiles these in 10-25 s each (np.linalg's adjoints, loops in the generated code,
# convolutions written out offset by offset); SYMDIFF_LONG=1 runs them too
LONG = bool(os.environ.get("SYMDIFF_LONG"))
LONG_ON_NUMBA = {"lstm", "einsum_conv", "gp_cholesky", "convnet", "gmm"}


def params(marked: str) -> list:
    out = []
    for name, case in sorted(CASES.items()):
        mark = case.marks.get(marked)
        if marked == "numba" and mark is None and name in LONG_ON_NUMBA and not LONG:
            mark = pytest.mark.skip(reason="slow to compile with Numba; SYMDIFF_LONG=1 runs it")
        if marked == "cuda" and mark is None and (case.cuda or name not in ON_CUDA):
            mark = pytest.mark.skip(reason=case.cuda or SLOW)
        out.append(pytest.param(name, marks=mark) if mark else name)
    return out


def check(case: Case, backend: str, monkeypatch) -> None:
    fun = getattr(cases, case.fun)
    args = arguments(case, 0, monkeypatch)
    value, grads = symdiff.value_and_grad(fun, case.argnums, backend=backend)(*args)
    np.testing.assert_allclose(value, fun(*args), rtol=1e-12)
    # every array and float of the differentiated arguments is one argument of ``flat``
    names = list(inspect.signature(fun).parameters)
    flat, positions, flat_names, flat_grads = [], [], [], []
    for i, a in enumerate(args):
        if i not in case.argnums:
            flat.append(a)
            flat_names.append(names[i])
            continue
        g = grads[case.argnums.index(i)]
        for k, (leaf, grad) in enumerate(zip(flatten(a), flatten(g, a), strict=True)):
            positions.append(len(flat))
            flat.append(leaf)
            flat_names.append(f"{names[i]}[{k}]")
            flat_grads.append(grad)

    def value_of(*values):
        it = iter(values)
        rebuilt = [rebuild(a, it) if i in case.argnums else next(it)
                   for i, a in enumerate(args)]
        return float(fun(*rebuilt))

    compare(value_of, flat, positions, flat_names, flat_grads, label=case.fun)


@pytest.mark.parametrize("name", params("numpy"))
def test_numpy_backend(name, monkeypatch):
    check(CASES[name], "numpy", monkeypatch)


@pytest.mark.parametrize("name", params("numba"))
def test_numba_backend(name, monkeypatch):
    check(CASES[name], "numba", monkeypatch)


@pytest.mark.parametrize("name", params("cuda"))
def test_cuda_backend(name, monkeypatch):
    check(CASES[name], "cuda", monkeypatch)


@pytest.fixture(scope="module")
def jax_cases():
    """This module's objectives again, with NumPy's and SciPy's names bound to JAX's."""
    jax = jax_or_skip()
    from jax.scipy import special, stats

    spec = importlib.util.spec_from_file_location("autograd_style_jax", cases.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.np = jax.numpy
    module.logsumexp, module.gammaln, module.expit = special.logsumexp, special.gammaln, \
        special.expit
    module.norm, module.multivariate_normal = stats.norm, stats.multivariate_normal
    for name in ("funnel_bbvi", "banana_bbvi"):  # closures made before the swap: again
        density = getattr(module, name.replace("bbvi", "log_density"))
        setattr(module, name, module.make_bbvi_objective(density, 2))
    jnp = jax.numpy
    # jnp.sum takes no lists: the JAX version beside it
    module.sum_of_list = lambda a, b, c: jnp.sum(jnp.array([a, b, c])) + \
        jnp.sum(jnp.array([a * b, b * c]))
    return jax, module


@pytest.mark.parametrize("name", params("jax"))
def test_against_jax(name, jax_cases, monkeypatch):
    jax, module = jax_cases
    case = CASES[name]
    args = arguments(case, 1, monkeypatch, module)
    expected = jax.jit(jax.grad(getattr(module, case.fun), case.argnums))(*args)
    # value_and_grad on numpy, as test_numpy_backend: the code generated there is reused
    _, got = symdiff.value_and_grad(getattr(cases, case.fun), case.argnums,
                                    backend="numpy")(*args)
    for i, e, g in zip(case.argnums, expected, got, strict=True):
        for want, have in zip(flatten(e, args[i]), flatten(g, args[i]), strict=True):
            np.testing.assert_allclose(have, np.asarray(want), rtol=1e-10, atol=1e-12)
