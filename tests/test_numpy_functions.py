"""NumPy's functions written with other primitives (elementwise compositions, joining,
splitting, padding, repeating, reordering, constructors) and indexing as users write it: each
against central finite differences on every backend, NumPy's own value, and JAX."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.special as sc

import symdiff
from symdiff.check.finite_diff import compare
from symdiff.errors import SymdiffError
from tests.conftest import jax_or_skip

BACKENDS = ("numpy", "numba", "cuda")


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def inside(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape)


@dataclass
class Case:
    fun: Callable
    inputs: tuple[Callable, ...]
    argnums: tuple[int, ...] = (0,)
    jax: bool = True


# --- elementwise, written with other primitives ---------------------------------------------

def f_reciprocal(x): return np.sum(np.sin(x) * np.reciprocal(x))
def f_exp2(x): return np.sum(np.exp2(x) * x)
def f_float_power(x, y): return np.sum(np.float_power(x, y))
def f_logaddexp2(x, y): return np.sum(np.logaddexp2(x, y) * x)
def f_degrees(x): return np.sum(np.deg2rad(x) * np.radians(x) + np.rad2deg(x) * np.degrees(x))
def f_round(x): return np.sum(np.round(x, 1) * x + np.around(x) * x ** 2 + x.round(2) * x)
def f_nan_to_num(x, d):
    return np.sum(np.nan_to_num(d * x, nan=1.5, posinf=5.0, neginf=-3.0) * x +
                  np.nan_to_num(np.log(x)) + np.nan_to_num(d, posinf=2.0, neginf=-2.0) * x)
def f_real(x): return np.sum(np.real(x) * np.conj(x) + np.imag(x) + np.angle(x) * x)
def f_select(x): return np.sum(np.select([x < -0.5, x > 0.5], [x ** 2, np.sin(x)], x * 3))
def f_pow_at_zero(x, y): return np.sum(np.sin(x + 1) * x ** y)


# --- order, joining, splitting ---------------------------------------------------------------

def f_flip(a): return np.sum(np.flip(a) * np.arange(6).reshape(2, 3)) + \
    np.sum(np.flip(a, 1)[0] * a[1]) + np.sum(np.fliplr(a) * np.flipud(a) ** 2)
def f_rot90(a): return np.sum(np.rot90(a) * np.arange(12).reshape(4, 3)) + \
    np.sum(np.rot90(a, 2) * a ** 2) + np.sum(np.rot90(a, -1)[0] ** 3)
def f_axes(t): return np.sum(np.swapaxes(t, 0, 2) * np.arange(4)) + \
    np.sum(np.moveaxis(t, 0, -1)[..., 0] ** 2) + np.sum(np.rollaxis(t, 2)[1] * t[0, 0, 1])
def f_roll(x): return np.sum(np.roll(x, 2) * np.arange(x.shape[0])) + \
    np.sum(np.roll(x, -1) * x ** 2)
def f_roll_2d(a): return np.sum(np.roll(a, 1, axis=0) * np.roll(a, (1, -2), axis=(0, 1)) ** 2) + \
    np.sum(np.roll(a, 4) * np.arange(12).reshape(3, 4))
def f_triangles(a): return np.sum(np.triu(a) ** 2 + np.tril(a, -1) * a + np.triu(a, 1) * 3)
def f_stacks(x, y): return np.sum(np.vstack([x, y]) ** 2 * np.arange(x.shape[0])) + \
    np.sum(np.hstack([x, y, x]) * np.arange(3 * x.shape[0])) + \
    np.sum(np.column_stack([x, y]) * np.array([1.0, -2.0])) + np.sum(np.dstack([x, y]) ** 3)
def f_concatenate(x, y): return np.sum(np.concatenate([x, y]) * np.sin(np.concatenate([y, x])))
def f_append(x, y): return np.sum(np.append(x, y) ** 2 * np.arange(x.size + y.size))
def f_split(x):
    a, b = np.split(x, 2)
    c, d, e = np.array_split(x, 3)
    f, h = np.split(x, [3])
    return np.sum(a * b) + np.sum(c) * np.sum(d ** 2) - np.sum(e ** 3) + np.sum(f) * np.sum(h)
def f_tile(a): return np.sum(np.tile(a, (2, 3)) * np.arange(a.size * 6).reshape(
    2 * a.shape[0], 3 * a.shape[1])) + np.sum(np.tile(a[0], 2) ** 2)
def f_repeat(a): return np.sum(np.repeat(a, 2, axis=1) * np.arange(2 * a.shape[1])) + \
    np.sum(np.repeat(a, 3) ** 2) + np.sum(a.repeat(2, axis=0) ** 3)
def f_repeat_counts(a): return np.sum(np.repeat(a, [1, 0, 2], axis=0) * a[0]) + \
    np.sum(np.repeat(a, [2, 1], axis=1) ** 2)
def f_take(a, idx): return np.sum(np.take(a, idx) ** 2) + np.sum(np.take(a, idx, axis=1) * 3) \
    + np.sum(np.take(a, np.array([0, 2]), axis=0) ** 2) + np.sum(a.take(1, axis=1))
def f_pad(x): return sum(np.sum(np.pad(x, (2, 1), mode=m) * np.arange(x.shape[0] + 3))
                         for m in ("constant", "edge", "reflect", "symmetric", "wrap")) + \
    np.sum(np.pad(x, 1, constant_values=2.5) ** 2)
def f_pad_2d(a): return np.sum(np.pad(a, ((1, 0), (0, 2))) ** 2 * 3) + \
    np.sum(np.pad(a, 1, mode="edge") ** 3)
def f_mask_assign(x):
    y = x * 2
    y[y > 0.5] = 0.5
    y[x < -1.0] = -x[0]
    return np.sum(y ** 2)


def f_gradient(a): return np.sum(np.gradient(a[0]) ** 2) + \
    sum(np.sum(d * np.arange(12).reshape(3, 4)) for d in np.gradient(a, 0.5)) + \
    np.sum(np.gradient(a, axis=1) ** 3)
def f_index_tricks(x, y): return np.sum(np.r_[x, y, 2.0] * np.arange(x.size + y.size + 1)) + \
    np.sum(np.c_[x, x ** 2] * np.array([1.0, -1.0])) + np.sum(np.real_if_close(x) ** 2)

def f_index_ranges(x, c): return np.sum(np.r_[x, c, 1:10] ** 2) + np.sum(np.r_[2:8:2, x] * x[0])
def f_rows_joined(a): return np.sum(np.vstack(a) * np.arange(a.size).reshape(a.shape)) + \
    np.sum(np.hstack(a) ** 3) + np.sum(np.dstack(a) ** 2 * 0.5) + \
    np.sum(np.sin(np.column_stack(a)))
def f_rows_joined_3d(t): return np.sum(np.vstack(t) ** 3) + np.sum(np.sin(np.hstack(t))) + \
    np.sum(np.dstack(t) * np.arange(t.shape[0])) + np.sum(np.column_stack(t) ** 2)
def f_lists_of_values(x): return np.std([x, x + 2, 3 * x]) + np.var((x, x ** 2)) + \
    np.linalg.norm([x, x + 2])
def f_matrix_norms_of_stacks(x, w): return np.sum(np.linalg.norm(x, 2, axis=(2, 0),
                                                                 keepdims=True) * w) + \
    np.sum(np.linalg.norm(x, -2, axis=(1, 2)) ** 2) + np.sum(np.linalg.norm(x, "nuc", (0, 1)))
def f_python_sum_and_mod(x, y): return np.sum(sum(x) * y) + np.sum(x % 1.5) + sum(y, 2.0)
def f_weighted_logsumexp(x, b): return np.sum(sc.logsumexp(x, axis=0, b=b)) + \
    sc.logsumexp(x, b=b[0]) + np.sum(sc.logsumexp(x, 1, b, keepdims=True) ** 2)
def f_einsum_lists(a, b): return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]) ** 2) + \
    np.sum(np.einsum(a, [0, 1], [1, 0]) * a.T) + \
    np.sum(np.einsum(a, [Ellipsis, 1], [Ellipsis]) ** 2)


# --- constructors -----------------------------------------------------------------------------

def f_linspace(a, b): return np.sum(np.sin(np.linspace(a, b, 7))) + \
    np.sum(np.linspace(0, a, 4, endpoint=False) ** 2)
def f_linspace_sized(x): return np.sum(x * np.linspace(0.0, 1.0, x.shape[0]))
def f_arange(x): return np.sum(x * np.arange(1, 2 * x.shape[0] + 1, 2)) + \
    np.sum(x[:3] * np.arange(0.5, 2.0, 0.5)) + np.sum(x * np.arange(x.shape[0], 0, -1))


def f_casts(x):
    whole = np.int64(x)  # toward zero, as NumPy: data with no gradient
    n = np.int64(x.shape[0])
    return np.sum(x * whole) + np.sum(np.float64(x) ** 2) + x[n - 1] * 2.0 + \
        np.sum(x.astype(np.int32) * x)


def f_closeness(x, y):
    close = np.isclose(x, y, atol=0.5)
    near = np.allclose(x, x + 1e-9)
    return np.sum(np.where(close, x * y, x - y)) + \
        np.sum(np.where(np.isreal(x), x, 0.0)) * near


CASES: dict[str, Case] = {
    "casts": Case(f_casts, (inside(-3, 3, 5),)),
    "closeness": Case(f_closeness, (normal(6), normal(6)), (0, 1)),
    "reciprocal": Case(f_reciprocal, (inside(0.5, 2, 5),)),
    "exp2": Case(f_exp2, (normal(5),)),
    "float_power": Case(f_float_power, (inside(0.5, 2, 4), normal(4)), (0, 1)),
    "logaddexp2": Case(f_logaddexp2, (normal(4), normal(4)), (0, 1)),
    "degrees": Case(f_degrees, (normal(4),)),
    "round": Case(f_round, (inside(-3, 3, 6),), jax=False),  # jnp.round(x) rounds at 0 digits
    "nan_to_num": Case(f_nan_to_num, (inside(0.5, 2, 4), lambda rng: np.array(
        [np.inf, -np.inf, np.nan, 2.0])), jax=False),
    "real": Case(f_real, (normal(5),)),
    "select": Case(f_select, (inside(-1.5, 1.5, 8),)),
    "pow_at_zero": Case(f_pow_at_zero, (lambda rng: np.array([0.0, 0.0, 0.5, 2.0]),
                                        lambda rng: np.array([2.0, 0.0, 3.0, 1.5])), (0, 1),
                        jax=False),
    "flip": Case(f_flip, (normal(2, 3),)),
    "rot90": Case(f_rot90, (normal(3, 4),)),
    "axes": Case(f_axes, (normal(4, 3, 2),)),
    "roll": Case(f_roll, (normal(5),)),
    "roll_2d": Case(f_roll_2d, (normal(3, 4),)),
    "triangles": Case(f_triangles, (normal(3, 4),)),
    "stacks": Case(f_stacks, (normal(3), normal(3)), (0, 1)),
    "concatenate": Case(f_concatenate, (normal(4), normal(2)), (0, 1)),
    "append": Case(f_append, (normal(2, 2), normal(3)), (0, 1)),
    "split": Case(f_split, (normal(6),)),
    "tile": Case(f_tile, (normal(2, 3),)),
    "repeat": Case(f_repeat, (normal(3, 2),)),
    "repeat_counts": Case(f_repeat_counts, (normal(3, 2),), jax=False),  # jnp wants arrays
    "take": Case(f_take, (normal(3, 4), lambda rng: np.array([[0, 3], [2, 2]]))),
    "pad": Case(f_pad, (normal(4),)),
    "pad_2d": Case(f_pad_2d, (normal(2, 3),)),
    "mask_assign": Case(f_mask_assign, (inside(-2, 2, 9),), jax=False),
    "gradient": Case(f_gradient, (normal(3, 4),)),
    "index_tricks": Case(f_index_tricks, (normal(3), normal(2)), (0, 1), jax=False),
    "index_ranges": Case(f_index_ranges, (normal(3), normal(2)), (0, 1), jax=False),
    # given one array, the stacking functions join its rows
    "rows_joined": Case(f_rows_joined, (normal(3, 2),)),
    "rows_joined_1d": Case(f_rows_joined, (normal(4),)),
    "rows_joined_3d": Case(f_rows_joined_3d, (normal(2, 3, 2),)),
    "lists_of_values": Case(f_lists_of_values, (inside(0.5, 2),), jax=False),  # jnp: arrays
    "matrix_norms_of_stacks": Case(f_matrix_norms_of_stacks,
                                   (normal(4, 3, 5), lambda rng: rng.standard_normal((1, 3, 1)))),
    "python_sum_and_mod": Case(f_python_sum_and_mod, (inside(0.2, 4, 3, 2), normal(2)), (0, 1),
                               jax=False),  # jnp arrays are not summed by rows this way
    "weighted_logsumexp": Case(f_weighted_logsumexp, (normal(3, 4), inside(0.5, 2, 3, 4)),
                               (0, 1), jax=False),
    "einsum_lists": Case(f_einsum_lists, (normal(3, 4), normal(4, 2)), (0, 1)),
    "linspace": Case(f_linspace, (inside(-1, 1), inside(1, 2)), (0, 1)),
    "linspace_sized": Case(f_linspace_sized, (normal(6),)),
    "arange": Case(f_arange, (normal(5),)),
}


def _inputs(case: Case, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [make(rng) for make in case.inputs]


# the cases whose code takes paths of its own on the GPU (negative steps, slice adjoints of
# joined parts, gathers on a moved axis, per-element helpers); the simulated GPU runs each
# thread in Python, so the others, built of the same kernels, run on the CPU backends only
ON_THE_GPU = {"flip", "rot90", "concatenate", "pad_2d", "split", "take", "roll_2d",
              "nan_to_num", "select", "linspace", "mask_assign"}


def _backends(name: str) -> list[str]:
    return [b for b in BACKENDS if b != "cuda" or name in ON_THE_GPU]


@pytest.mark.parametrize("name, backend", [(n, b) for n in sorted(CASES) for b in _backends(n)])
def test_against_finite_differences_and_numpy(name, backend):
    case = CASES[name]
    args = _inputs(case)
    value, grads = symdiff.value_and_grad(case.fun, case.argnums, backend=backend)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    names = list(inspect.signature(case.fun).parameters)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(value, case.fun(*args), rtol=1e-13)
        compare(lambda *a: float(case.fun(*a)), args, case.argnums, names, grads,
                label=case.fun.__name__)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.jax))
def test_against_jax(name):
    jax = jax_or_skip()
    case = CASES[name]
    args = _inputs(case, seed=1)
    reference = types.FunctionType(case.fun.__code__, {**case.fun.__globals__,
                                                       "np": jax.numpy})
    expected = jax.grad(reference, argnums=case.argnums)(*args)
    got = symdiff.grad(case.fun, case.argnums)(*args)
    got = got if isinstance(got, tuple) else (got,)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)


# --- sizes known only when the code runs ------------------------------------------------------

def f_halves(x, y):
    n = y.shape[0]
    return np.sum(x[:n] * y) + np.sum(x[n:2 * n] ** 2) + np.sum(x[1:n])


@pytest.mark.parametrize("backend", BACKENDS)
def test_slices_with_run_time_bounds_at_every_size(backend):
    g = symdiff.grad(f_halves, (0, 1), backend=backend)
    rng = np.random.default_rng(2)
    # the simulated GPU runs each thread in Python: fewer sizes there
    for nx, ny in [(7, 3), (3, 3), (9, 4), (2, 0), (5, 1)][:3 if backend == "cuda" else 5]:
        x, y = rng.standard_normal(nx), rng.standard_normal(ny)
        symdiff.check_grad(f_halves, x, y, argnums=(0, 1), backend=backend)
        got = g(x, y)
        assert got[0].shape == (nx,) and got[1].shape == (ny,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_joining_arrays_of_any_length(backend):
    g = symdiff.grad(f_concatenate, (0, 1), backend=backend)
    rng = np.random.default_rng(3)
    for nx, ny in [(4, 2), (0, 3), (1, 1), (5, 0)][:2 if backend == "cuda" else 4]:
        x, y = rng.standard_normal(nx), rng.standard_normal(ny)
        symdiff.check_grad(f_concatenate, x, y, argnums=(0, 1), backend=backend)
        assert [a.shape for a in g(x, y)] == [(nx,), (ny,)]


def f_split_any(x):
    a, b, c = np.array_split(x, 3)
    return np.sum(a) + 2 * np.sum(b ** 2) + 3 * np.sum(c ** 3)


def f_roll_any(x): return np.sum(np.roll(x, 3) * np.arange(x.shape[0]))


@pytest.mark.parametrize("backend", ("numpy", "numba"))
@pytest.mark.parametrize("fun", [f_split_any, f_roll_any, f_linspace_sized])
def test_one_gradient_serves_every_length(fun, backend):
    """Sections of unequal length, a shift larger than the array: NumPy's answer at each."""
    rng = np.random.default_rng(4)
    for n in (7, 9, 3, 2, 1):
        symdiff.check_grad(fun, rng.standard_normal(n), backend=backend)


def f_split_equal(x):
    a, b = np.split(x, 2)
    return np.sum(a * b)


def test_split_into_unequal_sections_is_refused_as_numpy_refuses_it():
    g = symdiff.grad(f_split_equal)
    g(np.ones(4))
    with pytest.raises(SymdiffError, match="equal"):
        g(np.ones(5))


def f_mask_read(x): return np.max(x[x > 0])


def test_what_a_mask_selection_cannot_do_names_what_to_use_instead():
    with pytest.raises(SymdiffError, match=r"np.where\(mask, x, 0.0\)"):
        symdiff.grad(f_mask_read)(np.ones(3))


def f_masked(x, y):
    return np.sum(x[x > 0]) + np.mean((x[y > 0] - 1.0) ** 2) + \
        np.sum(np.exp(-x[y > 0]) * 2) + x[x < 0].sum() + (x[x > 0] ** 2).mean()


def f_per_label(pred, y, labels):
    err = pred - y
    return sum(np.mean(err[labels == k] ** 2) for k in range(2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sums_and_means_of_masked_selections(backend):
    rng = np.random.default_rng(6)
    for n in (5, 8):  # one gradient function for every length and every count selected
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        value, _ = symdiff.value_and_grad(f_masked, backend=backend)(x, y)
        assert value == pytest.approx(f_masked(x, y), rel=1e-13)
        symdiff.check_grad(f_masked, x, y, backend=backend)
        labels = np.arange(n) % 2
        symdiff.check_grad(f_per_label, x, y, labels, backend=backend)
