"""Every primitive against central finite differences (and JAX when installed).

One spec table drives it. A registered primitive that no spec exercises fails the suite.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import linalg as scipy_linalg
from scipy import special

import symdiff
from symdiff.frontend.tracing import trace
from symdiff.frontend.values import Tensor
from symdiff.ir.graph import Graph, make_params
from symdiff.ir.sizes import argument_size
from symdiff.rules import all_primitives
from tests.conftest import jax_or_skip

BACKENDS = ("numpy", "numba", "cuda")

# Primitives that only the machinery creates (adjoint rules, leaves, kernels): they are
# exercised by every gradient, and by the adjoint checks below.
# built by the compiler itself, and tested where it builds them (test_higher_order, test_extend)
INTERNAL = {"input", "const", "dim", "fused", "scatter", "take_along_axis_adjoint", "fresh",
            "custom_vjp", "cumprod_adjoint", "running_extreme_adjoint",
            # loops in the generated code: tests/test_generated_loops.py
            "loop", "loop_out", "loop_count", "loop_tape", "tape_read", "loop_var"}


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def inside(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape)


def labels(n, classes):
    return lambda rng: rng.integers(0, classes, n)


@dataclass
class Spec:
    fun: Callable
    inputs: dict[str, Callable[[np.random.Generator], Any]]
    argnums: tuple[int, ...] = (0,)
    jax: bool = True
    extra_ops: set[str] = field(default_factory=set)
    cuda: bool = True  # else the cuda backend refuses it by name
    compiled: bool = True  # else the numba and cuda backends refuse it by name


# --- the corpus: one small function per primitive (argument names say the domain) ----------

def f_exp(x, w): return np.sum(w * np.exp(x))
def f_log(x, w): return np.sum(w * np.log(x))
def f_log1p(x, w): return np.sum(w * np.log1p(x))
def f_expm1(x, w): return np.sum(w * np.expm1(x))
def f_sqrt(x, w): return np.sum(w * np.sqrt(x))
def f_sin(x, w): return np.sum(w * np.sin(x))
def f_cos(x, w): return np.sum(w * np.cos(x))
def f_tan(x, w): return np.sum(w * np.tan(x))
def f_tanh(x, w): return np.sum(w * np.tanh(x))
def f_sinh(x, w): return np.sum(w * np.sinh(x))
def f_cosh(x, w): return np.sum(w * np.cosh(x))
def f_arcsin(x, w): return np.sum(w * np.arcsin(x))
def f_arccos(x, w): return np.sum(w * np.arccos(x))
def f_arctan(x, w): return np.sum(w * np.arctan(x))
def f_abs(x, w): return np.sum(w * np.abs(x))
def f_square(x, w): return np.sum(w * np.square(x))
def f_neg(x, w): return np.sum(w * -x)
def f_sign(x, w): return np.sum(w * np.sign(x) * x)
def f_add(x, y): return np.sum(np.sin(x + y))
def f_sub(x, y): return np.sum(np.sin(x - y))
def f_mul(x, y): return np.sum(np.sin(x * y))
def f_div(x, y): return np.sum(np.sin(x / y))
def f_pow(x, y): return np.sum(x ** y)
def f_pow_const(x): return np.sum(x ** 3 - 2.0 * x ** 0.5)
def f_maximum(x, y): return np.sum(np.maximum(x, y) ** 2)
def f_minimum(x, y): return np.sum(np.minimum(x, y) ** 2)
def f_logaddexp(x, y): return np.sum(np.logaddexp(x, y))
def f_where(x, y): return np.sum(np.where(x < y, x * y, np.sin(x)))
def f_compare(x, y):
    a = np.where(x <= y, x, y) + np.where(x > 0.1, x, 0.0) + np.where(x >= y, y, x ** 2)
    return np.sum(a + np.where(x == y, 0.0, x) + np.where(x != 0.5, 2 * x, x))
def f_logical(x, y):
    both = np.logical_and(x > 0, y > 0)
    either = np.logical_or(x > 1, np.logical_not(y < 0))
    return np.sum(np.where(both, x * y, 0.0) + np.where(either, x, -y))
def f_clip(x): return np.sum(np.clip(x, -0.5, 0.5) * x)
def f_stop_gradient(x): return np.sum(symdiff.stop_gradient(x) * np.sin(x))
def f_sum(x): return np.sum(np.sin(x).sum(axis=0) ** 2) + x.sum()
def f_sum_keepdims(x): return np.sum((x - np.sum(x, axis=1, keepdims=True)) ** 2)
def f_mean(x): return np.mean(x ** 2) + np.sum(x.mean(axis=-1) ** 2)
def f_max(x): return np.max(x * x) + np.sum(np.max(x, axis=0))
def f_min(x): return np.min(x, axis=1, keepdims=True).sum() + np.min(np.sin(x))
def f_matmul_22(a, b): return np.sum(np.sin(a @ b))
def f_matmul_12(v, b): return np.sum(np.sin(np.matmul(v, b)))
def f_matmul_21(a, u): return np.sum(np.sin(np.dot(a, u)))
def f_matmul_11(u, v): return np.sin(u @ v)
def f_outer(u, v): return np.sum(np.sin(np.outer(u, v)))
def f_transpose(a): return np.sum(np.sin(a.T) * np.arange(4)) + np.sum(np.transpose(a) @ a)
def f_reshape(a):
    return np.sum(np.sin(a.reshape(-1)) * np.arange(12)) + np.sum(np.reshape(a, (4, 3)) @ a)
def f_expand_dims(u): return np.sum(np.expand_dims(u, 1) * u)
def f_squeeze(c): return np.sum(np.squeeze(c, axis=1) * np.sin(np.squeeze(c)))
def f_broadcast_to(u): return np.sum(np.sin(np.broadcast_to(u, (3, 4))) * np.arange(4))
def f_getitem(x): return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
def f_getitem_2d(a): return np.sum(a[:, 0] * a[1, :]) + np.sum(a[..., None] * a[::2, None, :].sum())
def f_gather(logits, labels): return np.sum(np.sin(logits[np.arange(logits.shape[0]), labels]))
def f_take_along_axis(logits, labels):
    return np.sum(np.take_along_axis(logits, labels[:, None], axis=1) ** 2)
def f_fill(x): return np.sum(np.ones_like(x) * x + np.zeros_like(x) + np.full_like(x, 2.0) * x ** 2)
def f_astype(x): return np.sum(x.astype(np.float64) ** 2)
def f_broadcasting(col, row): return np.sum(np.sin(col * row) + col)
def f_arctan2(x, y): return np.sum(np.arctan2(x, y) ** 2)
def f_hypot(x, y): return np.sum(np.sin(np.hypot(x, y)))
def f_arcsinh(x, w): return np.sum(w * np.arcsinh(x))
def f_arccosh(x, w): return np.sum(w * np.arccosh(x + 1.5))
def f_arctanh(x, w): return np.sum(w * np.arctanh(x))
def f_cbrt(x, w): return np.sum(w * np.cbrt(x))
def f_sinc(x, w): return np.sum(w * np.sinc(x))
def f_heaviside(x, h): return np.sum(np.heaviside(x, h) * x + np.heaviside(x * 0.0, h))
def f_steps(x):
    return np.sum(np.floor(x) * x + np.ceil(x) * x ** 2 + np.trunc(x) * np.sin(x) + np.rint(x) * x)
def f_fmax(x, y): return np.sum(np.fmax(x, y) ** 2)
def f_fmin(x, y): return np.sum(np.fmin(x, y) ** 2)
def f_mod(x, y): return np.sum(np.mod(x, y) ** 2)
def f_fmod(x, y): return np.sum(np.fmod(x, y) ** 2)
def f_isnan(x, d):
    return np.sum(np.where(np.isnan(d), x, 0.0) + np.where(np.isinf(d), 0.0, x ** 2) +
                  np.where(np.isfinite(d), np.sin(x), 0.0))
def f_special_erf(x, w): return np.sum(w * special.erf(x) + special.erfc(x) ** 2)
def f_special_erfinv(p):
    return np.sum(special.erfinv(p) ** 2 + special.erfcinv(p + 0.5) + special.erfcx(p))
def f_special_gamma(x):
    return np.sum(special.gammaln(x) * special.digamma(x) + special.polygamma(2, x)
                  + special.gamma(x) + special.rgamma(x))
def f_special_beta(a, b): return np.sum(special.beta(a, b) + special.betaln(a, b) ** 2)
def f_special_bessel(x):
    return np.sum(special.jv(1.5, x) + special.yv(0, x) + special.iv(2, x) * special.ive(0.5, x))
def f_special_gammainc(x): return np.sum(special.gammainc(1.5, x) * special.gammaincc(3.0, x))
def f_special_betainc(x):
    return np.sum(special.betainc(2.0, 1.5, x) + special.stdtr(2.5, x) * special.gammasgn(x - 2))
def f_partition(x, w):
    return np.sum(np.partition(x, (1, -2)) * w) + np.sum(x[np.argpartition(x, 2)[:2]])
def f_inv_solve(a, b): return np.sum(np.sin(np.linalg.inv(a))) + np.sum(np.linalg.solve(a, b) ** 2)
def f_pinv(a): return np.sum(np.sin(np.linalg.pinv(a)))
def f_solve_sylvester(a, b, q): return np.sum(np.sin(scipy_linalg.solve_sylvester(a, b, q)))
def f_det(a):
    sign, logdet = np.linalg.slogdet(a)
    return np.linalg.det(a) + sign * logdet
def f_cholesky(a): return np.sum(np.sin(np.linalg.cholesky(a @ a.T + np.eye(3))))
def f_eigh(a):
    w, v = np.linalg.eigh(a + a.T)
    return np.sum(np.sin(w)) + np.sum(v[0] ** 2 * w) + np.sum(np.abs(v[:, 1]))
def f_qr(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.sin(q) * np.arange(3)) + np.sum(r ** 3)
def f_svd(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum(np.abs(u[0])) + np.sum(s ** 3) + np.sum(np.abs(vt[:, 1]))
def f_cumsum(x): return np.sum(np.sin(np.cumsum(x, axis=1))) + np.sum(np.cumsum(x) ** 2)
def f_cumprod(x): return np.sum(np.cumprod(x, axis=0) * np.arange(4)) + np.sum(np.cumprod(x))
def f_prod(x): return np.sum(np.prod(x, axis=1) ** 2) + np.prod(np.sin(x))
def f_sort(x): return np.sum(np.sort(x, axis=0) * np.arange(3)[:, None])
def f_argmax(x): return np.sum(np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), 1) ** 2)
def f_argmin(x): return np.sum(np.sin(x[np.argmin(x, axis=0), np.arange(4)]))
def f_running_max(x): return np.sum(np.maximum.accumulate(x, axis=1) * np.arange(4))
def f_running_min(x): return np.sum(np.minimum.accumulate(x) * np.arange(3)[:, None])


SPECS: dict[str, Spec] = {
    "exp": Spec(f_exp, {"x": normal(5), "w": normal(5)}),
    "log": Spec(f_log, {"x": positive(5), "w": normal(5)}),
    "log1p": Spec(f_log1p, {"x": inside(-0.5, 2, 5), "w": normal(5)}),
    "expm1": Spec(f_expm1, {"x": normal(5), "w": normal(5)}),
    "sqrt": Spec(f_sqrt, {"x": positive(5), "w": normal(5)}),
    "sin": Spec(f_sin, {"x": normal(5), "w": normal(5)}),
    "cos": Spec(f_cos, {"x": normal(5), "w": normal(5)}),
    "tan": Spec(f_tan, {"x": inside(-1.2, 1.2, 5), "w": normal(5)}),
    "tanh": Spec(f_tanh, {"x": normal(5), "w": normal(5)}),
    "sinh": Spec(f_sinh, {"x": normal(5), "w": normal(5)}),
    "cosh": Spec(f_cosh, {"x": normal(5), "w": normal(5)}),
    "arcsin": Spec(f_arcsin, {"x": inside(-0.9, 0.9, 5), "w": normal(5)}),
    "arccos": Spec(f_arccos, {"x": inside(-0.9, 0.9, 5), "w": normal(5)}),
    "arctan": Spec(f_arctan, {"x": normal(5), "w": normal(5)}),
    "abs": Spec(f_abs, {"x": normal(5), "w": normal(5)}),
    "square": Spec(f_square, {"x": normal(5), "w": normal(5)}),
    "neg": Spec(f_neg, {"x": normal(5), "w": normal(5)}),
    "sign": Spec(f_sign, {"x": normal(5), "w": normal(5)}),
    "add": Spec(f_add, {"x": normal(4), "y": normal(4)}, (0, 1)),
    "sub": Spec(f_sub, {"x": normal(4), "y": normal(4)}, (0, 1)),
    "mul": Spec(f_mul, {"x": normal(4), "y": normal(4)}, (0, 1)),
    "div": Spec(f_div, {"x": normal(4), "y": positive(4)}, (0, 1)),
    "pow": Spec(f_pow, {"x": positive(4), "y": normal(4)}, (0, 1)),
    "pow_const": Spec(f_pow_const, {"x": positive(4)}),
    "maximum": Spec(f_maximum, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "minimum": Spec(f_minimum, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "logaddexp": Spec(f_logaddexp, {"x": normal(4), "y": normal(4)}, (0, 1)),
    "where": Spec(f_where, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "compare": Spec(f_compare, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "logical": Spec(f_logical, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "clip": Spec(f_clip, {"x": inside(-1, 1, 8)}),
    "stop_gradient": Spec(f_stop_gradient, {"x": normal(4)}, jax=False),
    "sum": Spec(f_sum, {"x": normal(3, 4)}),
    "sum_keepdims": Spec(f_sum_keepdims, {"x": normal(3, 4)}),
    "mean": Spec(f_mean, {"x": normal(3, 4)}),
    "max": Spec(f_max, {"x": normal(3, 4)}),
    "min": Spec(f_min, {"x": normal(3, 4)}),
    "matmul_22": Spec(f_matmul_22, {"a": normal(3, 4), "b": normal(4, 2)}, (0, 1)),
    "matmul_12": Spec(f_matmul_12, {"v": normal(4), "b": normal(4, 2)}, (0, 1)),
    "matmul_21": Spec(f_matmul_21, {"a": normal(3, 4), "u": normal(4)}, (0, 1)),
    "matmul_11": Spec(f_matmul_11, {"u": normal(4), "v": normal(4)}, (0, 1)),
    "outer": Spec(f_outer, {"u": normal(3), "v": normal(4)}, (0, 1)),
    "transpose": Spec(f_transpose, {"a": normal(4, 3)}),
    "reshape": Spec(f_reshape, {"a": normal(3, 4)}),
    "expand_dims": Spec(f_expand_dims, {"u": normal(4)}),
    "squeeze": Spec(f_squeeze, {"c": normal(4, 1)}),
    "broadcast_to": Spec(f_broadcast_to, {"u": normal(4)}),
    "getitem": Spec(f_getitem, {"x": normal(7)}),
    "getitem_2d": Spec(f_getitem_2d, {"a": normal(3, 3)}),
    "gather": Spec(f_gather, {"logits": normal(5, 3), "labels": labels(5, 3)}),
    "take_along_axis": Spec(f_take_along_axis, {"logits": normal(5, 3), "labels": labels(5, 3)}),
    "fill": Spec(f_fill, {"x": normal(4)}),
    "astype": Spec(f_astype, {"x": lambda rng: rng.standard_normal(4).astype(np.float32)},
                   jax=False),
    "broadcasting": Spec(f_broadcasting, {"col": normal(3, 1), "row": normal(4)}, (0, 1)),
    "arctan2": Spec(f_arctan2, {"x": normal(5), "y": normal(5)}, (0, 1)),
    "hypot": Spec(f_hypot, {"x": normal(5), "y": normal(5)}, (0, 1)),
    "arcsinh": Spec(f_arcsinh, {"x": normal(5), "w": normal(5)}),
    "arccosh": Spec(f_arccosh, {"x": positive(5), "w": normal(5)}),
    "arctanh": Spec(f_arctanh, {"x": inside(-0.9, 0.9, 5), "w": normal(5)}),
    "cbrt": Spec(f_cbrt, {"x": normal(5), "w": normal(5)}),
    "sinc": Spec(f_sinc, {"x": normal(5), "w": normal(5)}),
    "heaviside": Spec(f_heaviside, {"x": normal(5), "h": normal(5)}, (0, 1)),
    "steps": Spec(f_steps, {"x": inside(-3, 3, 8)}),
    "fmax": Spec(f_fmax, {"x": normal(6), "y": normal(6)}, (0, 1)),
    "fmin": Spec(f_fmin, {"x": normal(6), "y": normal(6)}, (0, 1)),
    # x / y stays between integers, where the remainders are smooth
    "mod": Spec(f_mod, {"x": inside(3.1, 3.2, 5), "y": inside(-1.2, -1.15, 5)}, (0, 1)),
    "fmod": Spec(f_fmod, {"x": inside(-3.2, -3.1, 5), "y": inside(1.15, 1.2, 5)}, (0, 1)),
    "isnan": Spec(f_isnan, {"x": normal(8), "d": lambda rng: np.array(
        [np.nan, np.inf, -np.inf, 1.0, 2.0, np.nan, 0.5, -np.inf])}),
    # scipy.special (more in tests/test_special_functions.py)
    "special_erf": Spec(f_special_erf, {"x": normal(5), "w": normal(5)}),
    "special_erfinv": Spec(f_special_erfinv, {"p": inside(-0.4, 0.4, 5)}, jax=False, cuda=False),
    "special_gamma": Spec(f_special_gamma, {"x": positive(5)}, jax=False, cuda=False),
    "special_beta": Spec(f_special_beta, {"a": positive(4), "b": positive(4)}, (0, 1),
                         cuda=False),
    "special_bessel": Spec(f_special_bessel, {"x": positive(5)}, jax=False, cuda=False),
    "special_gammainc": Spec(f_special_gammainc, {"x": positive(5)}, cuda=False),
    "special_betainc": Spec(f_special_betainc, {"x": inside(0.1, 0.9, 5)}, jax=False,
                            cuda=False),
    "partition": Spec(f_partition, {"x": normal(6), "w": normal(6)}, jax=False,
                      compiled=False),  # JAX arranges the other elements otherwise
    # np.linalg (the cuda backend refuses it, by name)
    "inv_solve": Spec(f_inv_solve, {"a": lambda rng: rng.standard_normal((3, 3)) + 3 * np.eye(3),
                                    "b": normal(3, 2)}, (0, 1), cuda=False),
    "det": Spec(f_det, {"a": normal(3, 3)}, cuda=False),
    "pinv": Spec(f_pinv, {"a": normal(4, 3)}, cuda=False),
    "solve_sylvester": Spec(f_solve_sylvester, {"a": normal(3, 3), "b": normal(2, 2),
                                                "q": normal(3, 2)}, (0, 1, 2), jax=False,
                            compiled=False),
    "cholesky": Spec(f_cholesky, {"a": normal(3, 3)}, cuda=False),
    "eigh": Spec(f_eigh, {"a": normal(3, 3)}, cuda=False),
    "qr": Spec(f_qr, {"a": normal(4, 3)}, cuda=False),
    "svd": Spec(f_svd, {"a": normal(4, 3)}, cuda=False),
    "cumsum": Spec(f_cumsum, {"x": normal(3, 4)}),
    "cumprod": Spec(f_cumprod, {"x": normal(3, 4)}),
    "prod": Spec(f_prod, {"x": normal(3, 4)}),
    "argsort": Spec(f_sort, {"x": normal(3, 4)}),
    "argmax": Spec(f_argmax, {"x": normal(3, 4)}),
    "argmin": Spec(f_argmin, {"x": normal(3, 4)}),
    "running_argmax": Spec(f_running_max, {"x": normal(3, 4)}),
    "running_argmin": Spec(f_running_min, {"x": normal(3, 4)}),
}


def _inputs(spec: Spec, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [make(rng) for make in spec.inputs.values()]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_against_finite_differences(name, backend):
    spec = SPECS[name]
    args = _inputs(spec)
    if backend != "numpy" and not spec.compiled:
        with pytest.raises(symdiff.UnsupportedError, match="use backend='numpy'"):
            symdiff.grad(spec.fun, spec.argnums, backend=backend)(*args)
        return
    if backend == "cuda" and not spec.cuda:
        with pytest.raises(symdiff.UnsupportedError, match="use backend='numba' or 'numpy'"):
            symdiff.grad(spec.fun, spec.argnums, backend=backend)(*args)
        return
    if name == "astype":  # finite differences need float64; check the float32 path by hand
        g = symdiff.grad(spec.fun, backend=backend)(*args)
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, 2 * args[0].astype(np.float64), rtol=1e-6)
        return
    if name == "stop_gradient":  # finite differences see through stop_gradient: compare by hand
        (x,) = args
        np.testing.assert_allclose(symdiff.grad(spec.fun, backend=backend)(x), x * np.cos(x),
                                   rtol=1e-12)
        return
    symdiff.check_grad(spec.fun, *args, argnums=spec.argnums, backend=backend)


@pytest.mark.parametrize("name", sorted(n for n, s in SPECS.items() if s.jax))
def test_against_jax(name):
    jax = jax_or_skip()
    from jax.scipy import special as jax_special

    spec = SPECS[name]
    args = _inputs(spec, seed=1)
    reference_fun = types.FunctionType(spec.fun.__code__, {**spec.fun.__globals__,
                                                           "np": jax.numpy,
                                                           "special": jax_special})
    expected = jax.grad(reference_fun, argnums=spec.argnums)(*args)
    got = symdiff.grad(spec.fun, spec.argnums)(*args)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)


def _traced_ops(spec: Spec) -> set[str]:
    graph = Graph()
    env = {}
    for i, (name, value) in enumerate(zip(spec.inputs, _inputs(spec), strict=True)):
        node = graph.add_raw("input", (), make_params(index=i, name=name),
                             tuple(1 if d == 1 else argument_size(name, k)
                                   for k, d in enumerate(np.shape(value))),
                             np.asarray(value).dtype.name, name=name, intern=False)
        env[name] = Tensor(node)
    trace(graph, spec.fun, env)
    return {n.op for n in graph.nodes}


def test_every_primitive_has_a_spec():
    covered = set().union(*(_traced_ops(s) for s in SPECS.values()))
    user = {name for name in all_primitives() if name.startswith("ext.")}  # symdiff.extend's
    missing = set(all_primitives()) - covered - INTERNAL - user
    assert not missing, f"primitives without a spec: {sorted(missing)}"
