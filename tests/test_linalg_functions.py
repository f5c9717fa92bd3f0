"""Linear algebra as NumPy users write it: contractions (einsum, tensordot, batched @, ...),
diagonals and traces, and the np.linalg functions. Each is checked against central finite
differences of NumPy's own function on every backend, against JAX, at sizes 1 and 0 where
NumPy allows them, and with one gradient function reused for other sizes."""

from __future__ import annotations

import types

import numpy as np
import pytest
import scipy.linalg

import symdiff
from symdiff import SymdiffError
from tests.conftest import jax_or_skip
from tests.sizes_reference import assert_agrees, assert_refused_as_numpy

BACKENDS = ("numpy", "numba", "cuda")


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


# --- contractions written with other primitives --------------------------------------------

def traces(a):
    return np.trace(np.sin(a)) + np.trace(a, 1) + a.trace(-1) + np.trace(a, offset=-2)


def diagonals(a):
    return np.sum(np.diagonal(a) ** 2) + np.sum(a.diagonal(1) ** 3) + \
        np.sum(np.sin(np.diagonal(a, -1, axis1=-1, axis2=0)))


def diagonals_3d(t):
    return np.sum(np.sin(np.diagonal(t, 1, axis1=2, axis2=0))) + \
        np.sum(np.trace(t, axis1=-2, axis2=-1) ** 2)


def diag_of_vector(v):
    return np.sum(np.sin(np.diag(v, 1)) * np.arange(16).reshape(4, 4)) + \
        np.sum(np.diag(v) ** 2) + np.sum(np.cos(np.diag(v, -1)) * np.arange(16).reshape(4, 4))


def diag_of_matrix(a):
    return np.sum(np.diag(a) ** 2) + np.sum(np.diag(a, -1) ** 3) + np.sum(np.diag(a, 2))


def einsums(a, b):
    return np.sum(np.sin(np.einsum('ij,jk->ik', a, b))) + np.einsum('ii', a @ b) + \
        np.sum(np.einsum('ij->j', a) ** 2) + np.sum(np.sin(np.einsum('ij,jk', a, b))) + \
        np.sum(np.einsum('ji', a) * np.einsum('ij', b))


def einsum_diagonals(s):
    return np.sum(np.sin(np.einsum('ii->i', s))) + np.einsum('ii', s) ** 2 + \
        np.einsum('ij,ij->', s, s) + np.sum(np.einsum('ij,jj->i', s, s) ** 2)


def einsum_batches(x, y):
    return np.sum(np.sin(np.einsum('bij,bjk->bik', x, y))) + \
        np.sum(np.cos(np.einsum('...ij,...jk->...ik', x, y))) + \
        np.sum(np.einsum('bij,bij->b', x, x) ** 2) + np.sum(np.einsum('...ii->...i', x @ y))


def einsum_three(a, b, v):
    return np.sum(np.sin(np.einsum('ij,jk,k->i', a, b, v))) + np.einsum('i,i', v, v) + \
        np.sum(np.einsum('i,j->ij', v, v) ** 2)


def einsum_broadcast(c, r):
    return np.sum(np.sin(np.einsum('ij,ij->i', c, r))) + np.sum(np.einsum('...j,j', r, r[0]))


def batched_matmul(x, w):
    return np.sum(np.sin(x @ w)) + np.sum(np.matmul(x, w[0]) ** 2)


def batched_broadcast(x, y):
    return np.sum(np.sin(x @ y))


def stack_times_vector(x, v):
    return np.sum(np.sin(x @ v)) + np.sum(np.cos(v @ x))


def tensordots(t, u):
    return np.sum(np.sin(np.tensordot(t, u, axes=([1, 0], [0, 2])))) + \
        np.sum(np.tensordot(t, u[0], axes=([-3], [-1])) ** 2) + \
        np.sum(np.sin(np.tensordot(t, u, axes=0)))


def tensordot_int(a, b):
    return np.sum(np.sin(np.tensordot(a, b))) + np.sum(np.tensordot(a, b.T, 1) ** 2)


def dots_of_stacks(t, b):
    return np.sum(np.sin(np.dot(t, b))) + np.sum(np.dot(t, b[:, 0]) ** 2)


def inners(a, b):
    return np.sum(np.sin(np.inner(a, b))) + np.vdot(a, a) + np.inner(a[0], b[1]) + \
        np.sum(np.inner(2.0, a))


def krons(a, b):
    return np.sum(np.sin(np.kron(a, b)) * np.arange(24).reshape(4, 6)) + \
        np.sum(np.kron(a[0], b) ** 2)


def crosses(a, b):
    return np.sum(np.sin(np.cross(a, b))) + np.sum(np.cross(a[0], b) ** 2)


def crosses_along_axes(a, b, c):
    """Vectors along other axes than the last (axisa, axisb, axisc, axis), broadcast."""
    return np.sum(np.sin(np.cross(a, b, axisa=0, axisb=1, axisc=0))) + \
        np.sum(np.cross(c, b[0], axis=0) ** 2) + np.sum(np.cos(np.cross(a.T, c, axisb=0)))


def multi_dots(a, b, v):
    return np.sum(np.linalg.multi_dot([a, b, v]) ** 2) + \
        np.sum(np.sin(np.linalg.multi_dot([v, b.T, a.T])))


CASES = {
    "trace": (traces, [normal(4, 4)], (0,)),
    "diagonal": (diagonals, [normal(3, 4)], (0,)),
    "diagonal_3d": (diagonals_3d, [normal(3, 2, 4)], (0,)),
    "diag_vector": (diag_of_vector, [normal(3)], (0,)),
    "diag_matrix": (diag_of_matrix, [normal(3, 4)], (0,)),
    "einsum": (einsums, [normal(3, 4), normal(4, 3)], (0, 1)),
    "einsum_diagonals": (einsum_diagonals, [normal(3, 3)], (0,)),
    "einsum_batches": (einsum_batches, [normal(2, 3, 3), normal(2, 3, 3)], (0, 1)),
    "einsum_three": (einsum_three, [normal(2, 3), normal(3, 4), normal(4)], (0, 1, 2)),
    "einsum_broadcast": (einsum_broadcast, [normal(3, 1), normal(3, 4)], (0, 1)),
    "batched_matmul": (batched_matmul, [normal(2, 3, 4), normal(2, 4, 3)], (0, 1)),
    "batched_broadcast": (batched_broadcast, [normal(2, 1, 3, 4), normal(5, 4, 2)], (0, 1)),
    "stack_times_vector": (stack_times_vector, [normal(2, 3, 3), normal(3)], (0, 1)),
    "tensordot": (tensordots, [normal(3, 4, 2), normal(4, 5, 3)], (0, 1)),
    "tensordot_int": (tensordot_int, [normal(3, 4), normal(3, 4)], (0, 1)),
    "dot_of_stacks": (dots_of_stacks, [normal(2, 3, 4), normal(4, 2)], (0, 1)),
    "inner_vdot": (inners, [normal(2, 3), normal(4, 3)], (0, 1)),
    "kron": (krons, [normal(2, 3), normal(2, 2)], (0, 1)),
    "cross": (crosses, [normal(4, 3), normal(3)], (0, 1)),
    "cross_axes": (crosses_along_axes, [normal(3, 4), normal(4, 3), normal(3, 4)], (0, 1, 2)),
    "multi_dot": (multi_dots, [normal(2, 3), normal(3, 4), normal(4)], (0, 1, 2)),
}


def _args(makers, seed=0):
    rng = np.random.default_rng(seed)
    return [make(rng) for make in makers]


def _jax_version(f, jax):
    return types.FunctionType(f.__code__, {**f.__globals__, "np": jax.numpy})


@pytest.mark.parametrize("name", sorted(CASES))
def test_contractions_against_finite_differences(name):
    f, makers, argnums = CASES[name]
    args = _args(makers)
    value, _ = symdiff.value_and_grad(f, argnums, backend="numpy")(*args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12, atol=1e-12)
    symdiff.check_grad(f, *args, argnums=argnums, backend="numpy")


# Every function once, in few functions: compiling for Numba costs seconds a function.
def diagonals_everywhere(s, v):
    return np.trace(np.sin(s)) + np.sum(np.diagonal(s, 1) ** 2) + np.sum(np.diag(s, -1) ** 3) \
        + np.sum(np.sin(np.diag(v, 1)) * np.arange(16).reshape(4, 4)) + \
        np.sum(np.einsum('ii->i', s) ** 2) + s.trace(-1)


def products_everywhere(a, b, v):
    return np.sum(np.sin(np.einsum('ij,jk->ik', a, b))) + np.einsum('i,i', v, v) + \
        np.sum(np.sin(np.tensordot(a, b.T, axes=([1], [1])))) + \
        np.sum(np.inner(a, b.T) ** 2) + np.vdot(a, a) + \
        np.sum(np.cos(np.linalg.multi_dot([a, b, v]))) + np.sum(np.kron(a[0], v) ** 2)


def stacks_everywhere(x, y, c):
    return np.sum(np.sin(x @ y)) + np.sum(np.einsum('...ij,...jk->...ik', x, y) ** 2) + \
        np.sum(np.sin(np.cross(c, c * c + 1.0)))


EVERYWHERE = {
    "diagonals": (diagonals_everywhere, [normal(4, 4), normal(3)], (0, 1)),
    "products": (products_everywhere, [normal(3, 4), normal(4, 3), normal(3)], (0, 1, 2)),
    "stacks": (stacks_everywhere, [normal(2, 2, 3), normal(2, 3, 2), normal(2, 3)],
               (0, 1, 2)),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(EVERYWHERE))
def test_every_backend_against_finite_differences(name, backend):
    f, makers, argnums = EVERYWHERE[name]
    args = _args(makers)
    assert_agrees(f, *args, argnums=argnums, backends=(backend,))


@pytest.mark.parametrize("name", sorted(CASES))
def test_contractions_against_jax(name):
    jax = jax_or_skip()
    f, makers, argnums = CASES[name]
    args = _args(makers, seed=1)
    expected = jax.grad(_jax_version(f, jax), argnums=argnums)(*args)
    got = symdiff.grad(f, argnums, backend="numpy")(*args)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)


def square_things(s):
    return np.trace(s @ s) + np.sum(np.diag(s) ** 2) + np.einsum('ii', s) + \
        np.sum(np.sin(np.einsum('ij,jk->ik', s, s))) + np.sum(np.kron(s, s) ** 2)


def stacked_things(x, w):
    return np.sum(np.sin(x @ w)) + np.sum(np.einsum('...ij,...jk->...ik', x, w) ** 2) + \
        np.sum(np.trace(x, axis1=-2, axis2=-1))


def test_one_gradient_function_for_every_size():
    """Specialised on which sizes are 1: 1x1 and 0x0 matrices, then sizes the code is reused
    for."""
    functions = {b: symdiff.value_and_grad(square_things, (0,), backend=b) for b in
                 ("numpy", "numba")}
    for n in (3, 1, 5, 0, 2):
        s = np.linspace(-1, 1, n * n).reshape(n, n)
        assert_agrees(square_things, s, functions=functions)
    stacked = {"numpy": symdiff.value_and_grad(stacked_things, (0, 1), backend="numpy")}
    for batch, n in ((2, 3), (1, 3), (4, 2), (3, 1), (0, 2)):
        x = np.linspace(-1, 1, batch * n * n).reshape(batch, n, n)
        w = np.linspace(0.5, -1, n * n).reshape(n, n) if batch % 2 else \
            np.linspace(0.5, -1, batch * n * n).reshape(batch, n, n)
        assert_agrees(stacked_things, x, w, argnums=(0, 1), backends=("numpy",),
                      functions=stacked)


def rectangular_diagonals(a):
    return np.sum(np.diagonal(a, 2) ** 2) + np.sum(np.diag(a, -3) ** 2) + np.trace(a, 1)


def test_diagonals_of_rectangles_of_every_size():
    functions = {"numpy": symdiff.value_and_grad(rectangular_diagonals, (0,), backend="numpy")}
    for shape in ((3, 5), (5, 3), (1, 4), (4, 1), (2, 2), (0, 3), (6, 6)):
        a = np.linspace(-1, 2, int(np.prod(shape))).reshape(shape)
        assert_agrees(rectangular_diagonals, a, backends=("numpy",), functions=functions)


def vector_things(v):
    return np.sum(np.diag(v, 1) ** 2) + np.vdot(v, v) + np.sum(np.kron(v, v) ** 2) + \
        np.inner(v, v) + np.sum(np.einsum('i,j->ij', v, v))


def test_vectors_of_every_size():
    functions = {b: symdiff.value_and_grad(vector_things, (0,), backend=b) for b in
                 ("numpy", "numba")}
    for n in (3, 1, 0, 4):
        assert_agrees(vector_things, np.linspace(-1, 2, n), functions=functions)


def einsum_mismatch(a, b):
    return np.sum(np.einsum('ij,jk->ik', a, b))


def einsum_operand_lists(a):
    return np.sum(np.einsum(a, ["i", "j"], [1]))


def cross_of_pairs(a, b):
    return np.sum(np.cross(a, b))


def tensordot_mismatch(a, b):
    return np.sum(np.tensordot(a, b, axes=([0], [0])))


def matmul_mismatch(x, y):
    return np.sum(x @ y)


def multi_dot_of_stacks(x, y):
    return np.sum(np.linalg.multi_dot([x, y]))


def test_what_numpy_refuses_is_refused():
    assert_refused_as_numpy(einsum_mismatch, np.ones((2, 3)), np.ones((4, 2)))
    assert_refused_as_numpy(tensordot_mismatch, np.ones((2, 3)), np.ones((3, 2)))
    assert_refused_as_numpy(matmul_mismatch, np.ones((2, 2, 3)), np.ones((2, 2, 3)))
    assert_refused_as_numpy(matmul_mismatch, np.ones((2, 2, 1)), np.ones((2, 3, 3)))


def test_what_symdiff_cannot_do_is_refused_by_name():
    with pytest.raises(SymdiffError, match="followed by a list of axis numbers"):
        symdiff.grad(einsum_operand_lists)(np.ones((2, 3)))
    with pytest.raises(SymdiffError, match="incompatible dimensions for cross product"):
        symdiff.grad(cross_of_pairs)(np.ones(4), np.ones(4))  # as NumPy refuses it
    with pytest.raises(SymdiffError, match="multi_dot: array 0 has rank 3"):
        symdiff.grad(multi_dot_of_stacks)(np.ones((2, 2, 2)), np.ones((2, 2)))


def test_contractions_read_as_matrix_products():
    g = symdiff.grad(einsums, (0, 1), backend="numpy")
    g(np.ones((3, 4)), np.ones((4, 3)))
    source = g.source
    assert "a @ b" in source


# --- np.linalg -------------------------------------------------------------------------------

def well_conditioned(n):
    return lambda rng: rng.standard_normal((n, n)) + n * np.eye(n)


def spd(n):
    def make(rng):
        b = rng.standard_normal((n, n))
        return b @ b.T + n * np.eye(n)
    return make


def not_symmetric(n):
    """Positive definite in its lower triangle, anything above it."""
    return lambda rng: spd(n)(rng) + np.triu(rng.standard_normal((n, n)), 1)


def inverses(a, b, c):
    return np.sum(np.sin(np.linalg.inv(a))) + np.sum(np.sin(np.linalg.solve(a, b))) + \
        np.sum(np.linalg.solve(a.T, c) ** 2)


def determinants(a):
    sign, logdet = np.linalg.slogdet(a)
    result = np.linalg.slogdet(-a)
    return np.linalg.det(a) + sign * logdet + result.logabsdet * result.sign


def choleskys(a):
    return np.sum(np.sin(np.linalg.cholesky(a)) * np.arange(9).reshape(3, 3)) + \
        np.sum(np.linalg.cholesky(a, upper=True) ** 2)


def cholesky_of_symmetric(b):
    return np.sum(np.sin(np.linalg.cholesky(b @ b.T + np.eye(3))))


def eighs(a):
    w, v = np.linalg.eigh(a)
    result = np.linalg.eigh(2.0 * a)
    return np.sum(np.sin(w)) + np.sum(v ** 2 * np.arange(3)) + \
        np.sum(np.linalg.eigvalsh(a) ** 3) + np.sum(result.eigenvalues) + \
        np.sum(np.abs(result.eigenvectors[0]))


def eigh_of_symmetric(b):
    w, v = np.linalg.eigh((b + b.T) / 2)
    return np.sum(w * np.arange(3)) + np.sum(np.abs(v[0])) + np.sum(v[:, 2] ** 2 * w)


def qrs(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.sin(q) * np.arange(3)) + np.sum(r ** 3) + \
        np.sum(np.linalg.qr(a, mode="r") ** 2)


def svds(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum(np.abs(u[0])) + np.sum(s ** 3) + np.sum(np.abs(vt[:, 1])) + \
        np.sum(np.linalg.svd(a, compute_uv=False))


def svd_square(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u @ vh) + np.sum(s * np.arange(3))


def pinvs(a, w):
    return np.sum(np.linalg.pinv(a) * w) + np.sum(np.sin(np.linalg.pinv(a.T)))


def pinv_of_low_rank(x):
    """x.T @ x has rank 2 (x is 2 by n): the rank does not change nearby."""
    return np.sum(np.linalg.pinv(x.T @ x) * np.arange(x.shape[1]))


def matrix_powers(a):
    return np.sum(np.linalg.matrix_power(a, 3)) + np.sum(np.linalg.matrix_power(a, -2)) + \
        np.sum(np.linalg.matrix_power(a, 0) * a) + np.sum(np.linalg.matrix_power(a, 1) ** 2)


def vector_norms(x):
    return np.linalg.norm(x[0]) + np.linalg.norm(x[0], 1) + np.linalg.norm(x[0], np.inf) + \
        np.linalg.norm(x[0], -np.inf) + np.linalg.norm(x[0], 3) + np.linalg.norm(x[1], 0.5) + \
        np.sum(np.linalg.norm(x, axis=-1)) + np.sum(np.linalg.norm(x, 2, axis=0, keepdims=True))


def matrix_norms(x):
    return np.linalg.norm(x) + np.linalg.norm(x, 'fro') + np.linalg.norm(x, 1) + \
        np.linalg.norm(x, -1) + np.linalg.norm(x, np.inf) + np.linalg.norm(x, -np.inf) + \
        np.linalg.norm(x, 'nuc') + np.linalg.norm(x, 2) + np.linalg.norm(x, -2) + \
        np.sum(np.linalg.norm(x, axis=(1, 0), keepdims=True)) + np.linalg.norm(x, 1, (-1, -2))


def stacked_inverses(a, b, w):
    return np.sum(np.linalg.inv(a) * w) + np.sum(np.sin(np.linalg.solve(a, b))) + \
        np.sum(np.linalg.det(a) ** 2) + np.sum(np.linalg.slogdet(a)[1] * np.arange(3)) + \
        np.sum(np.linalg.pinv(a[..., :3]) ** 2)


def stacked_solve_broadcast(a, b):
    return np.sum(np.linalg.solve(a[0], b) ** 2)


def stacked_symmetric(a, w):
    v, u = np.linalg.eigh(a)
    return np.sum(v * w[..., 0]) + np.sum(u[..., 0, :] ** 2 * w[..., 1, :]) + \
        np.sum(np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)) * w)


def stacked_upper(a, w):
    v, u = np.linalg.eigh(a, "U")
    return np.sum(v * w[..., 0]) + np.sum(u[..., 0, :] ** 2 * w[..., 1, :]) + \
        np.sum(np.linalg.eigvalsh(a, UPLO="U") ** 3)


def stacked_svd(x, w):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return np.sum(s * w) + np.sum(np.abs(u[..., 0])) + np.sum(vt[..., 1, :] ** 2)


def stacks(*shape):
    return lambda rng: rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def stack_norm(t):
    return np.linalg.norm(t) + np.sum(np.linalg.norm(t, axis=(0, 2)))


LINALG = {
    "inverses": (inverses, [well_conditioned(3), normal(3, 2), normal(3)], (0, 1, 2)),
    "determinants": (determinants, [normal(3, 3)], (0,)),
    # cholesky and eigh on a general matrix (NumPy reads its lower triangle) and on a
    # symmetric one
    "cholesky": (choleskys, [spd(3)], (0,)),
    "cholesky_general": (choleskys, [not_symmetric(3)], (0,)),
    "cholesky_symmetric": (cholesky_of_symmetric, [normal(3, 3)], (0,)),
    "eigh": (eighs, [spd(3)], (0,)),
    "eigh_general": (eighs, [normal(3, 3)], (0,)),
    "eigh_symmetric": (eigh_of_symmetric, [normal(3, 3)], (0,)),
    "qr": (qrs, [normal(4, 3)], (0,)),
    "qr_square": (qrs, [normal(3, 3)], (0,)),
    "svd_tall": (svds, [normal(4, 3)], (0,)),
    "svd_wide": (svds, [normal(2, 4)], (0,)),
    "svd_square": (svd_square, [normal(3, 3)], (0,)),
    "matrix_power": (matrix_powers, [well_conditioned(3)], (0,)),
    "pinv_tall": (pinvs, [normal(4, 3), normal(3, 4)], (0,)),
    "pinv_wide": (pinvs, [normal(2, 5), normal(5, 2)], (0,)),
    "pinv_square": (pinvs, [normal(3, 3), normal(3, 3)], (0,)),
    "pinv_low_rank": (pinv_of_low_rank, [normal(2, 4)], (0,)),
    "vector_norms": (vector_norms, [normal(3, 4)], (0,)),
    "matrix_norms": (matrix_norms, [normal(3, 4)], (0,)),
    "stack_norm": (stack_norm, [normal(2, 3, 4)], (0,)),
    "stacked_inverses": (stacked_inverses, [stacks(3, 4, 4), normal(3, 4, 2), normal(3, 4, 4)],
                         (0, 1)),
    "stacked_solve_broadcast": (stacked_solve_broadcast, [stacks(3, 4, 4), normal(2, 4, 1)],
                                (0, 1)),
    "stacked_symmetric": (stacked_symmetric, [stacks(2, 3, 4, 4), normal(2, 3, 4, 4)], (0,)),
    "stacked_upper": (stacked_upper, [stacks(2, 4, 4), normal(2, 4, 4)], (0,)),
    "stacked_svd": (stacked_svd, [normal(2, 3, 5), normal(2, 3)], (0,)),
}
# JAX symmetrises the input of cholesky and eigh, where NumPy reads the lower triangle: the
# gradients agree where the function makes the matrix symmetric itself
NOT_LIKE_JAX = {"cholesky", "cholesky_general", "eigh", "eigh_general", "stacked_symmetric",
                "stacked_upper"}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_against_finite_differences(name):
    f, makers, argnums = LINALG[name]
    args = _args(makers)
    value, _ = symdiff.value_and_grad(f, argnums, backend="numpy")(*args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12, atol=1e-12)
    symdiff.check_grad(f, *args, argnums=argnums, backend="numpy")


@pytest.mark.parametrize("name", sorted(set(LINALG) - NOT_LIKE_JAX))
def test_linalg_against_jax(name):
    jax = jax_or_skip()
    f, makers, argnums = LINALG[name]
    args = _args(makers, seed=1)
    expected = jax.grad(_jax_version(f, jax), argnums=argnums)(*args)
    got = symdiff.grad(f, argnums, backend="numpy")(*args)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-11)


def decompositions_everywhere(a, g, b):
    w, v = np.linalg.eigh(g)
    q, r = np.linalg.qr(b)
    u, s, vt = np.linalg.svd(b, full_matrices=False)
    return np.sum(np.sin(np.linalg.inv(a))) + np.sum(np.linalg.solve(a, b) ** 2) + \
        np.linalg.det(a) + np.linalg.slogdet(a)[1] + np.sum(np.linalg.cholesky(g) ** 2) + \
        np.sum(np.linalg.pinv(b) ** 2) + np.sum(np.sin(w)) + np.sum(v[1] ** 2 * w) + \
        np.sum(q[0] * r[0]) + np.sum(np.abs(u[0])) + np.sum(s ** 2) + np.sum(np.abs(vt[1]))


def test_linalg_on_numba_against_finite_differences():
    """NumPy reads the lower triangle in cholesky and eigh, Numba another: the generated code
    gives NumPy's answer (``g`` is not symmetric); the code is reused for other sizes."""
    functions = {"numba": symdiff.value_and_grad(decompositions_everywhere, (0, 1, 2),
                                                 backend="numba")}
    for n, k in ((3, 2), (4, 3)):
        args = _args([well_conditioned(n), not_symmetric(n), normal(n, k)])
        assert_agrees(decompositions_everywhere, *args, argnums=(0, 1, 2), backends=("numba",),
                      functions=functions)


@pytest.mark.parametrize("case, name", [("inverses", "inv"), ("determinants", "slogdet"),
                                        ("cholesky", "cholesky"), ("eigh", "eigh"),
                                        ("qr", "qr"), ("svd_tall", "svd"),
                                        ("matrix_power", "inv"), ("pinv_tall", "pinv")])
def test_the_cuda_backend_refuses_linalg_by_name(case, name):
    f, makers, argnums = LINALG[case]
    with pytest.raises(SymdiffError, match=rf"cannot compute np\.linalg\.{name}\(\).*"
                                           r"backend='numba' or 'numpy'"):
        symdiff.grad(f, argnums, backend="cuda")(*_args(makers))


def linalg_at_sizes(a, b):
    w, v = np.linalg.eigh(a @ a.T)
    return np.sum(np.linalg.inv(a)) + np.linalg.slogdet(a)[1] + np.sum(np.linalg.pinv(b)) + \
        np.sum(np.linalg.solve(a, b)) + np.sum(np.linalg.cholesky(a @ a.T)) + np.sum(w) + \
        np.sum(np.linalg.svd(b, compute_uv=False)) + np.linalg.norm(b, 'fro')


def test_linalg_of_1x1_and_other_sizes_reuses_the_code():
    functions = {"numpy": symdiff.value_and_grad(linalg_at_sizes, (0, 1), backend="numpy")}
    for n, k in ((3, 2), (1, 1), (4, 1), (2, 3), (1, 3)):
        a = np.linspace(-1, 1, n * n).reshape(n, n) + 2 * n * np.eye(n)
        b = np.linspace(0.5, 2, n * k).reshape(n, k)
        assert_agrees(linalg_at_sizes, a, b, argnums=(0, 1), backends=("numpy",),
                      functions=functions)


def empty_matrices(a):
    return np.sum(np.linalg.inv(a)) + np.linalg.det(a) + np.linalg.norm(a)


def test_empty_matrices():
    assert_agrees(empty_matrices, np.zeros((0, 0)))


def eig_of(a):
    return np.sum(np.linalg.eig(a)[0])


def qr_wide(a):
    return np.sum(np.linalg.qr(a)[1])


def svd_full(a):
    return np.sum(np.linalg.svd(a)[0])


def norm_zero(x):
    return np.linalg.norm(x, 0)


def eigh_upper(a):
    return np.sum(np.linalg.eigh(a, UPLO="u")[0])


def qr_of_stack(t):
    return np.sum(np.linalg.qr(t)[1])


def test_what_has_no_derivative_here_is_refused_by_name():
    square, wide = np.eye(3) + 0.5, np.ones((2, 3))
    for f, arg, match in [
            (eig_of, square, "np.linalg.eig is not supported: the eigenvalues of a general "
                             "matrix are complex"),
            (qr_wide, wide, "at least as many rows as columns"),
            (svd_full, wide, "pass full_matrices=False"),
            (norm_zero, np.ones(3), "ord=0 counts the non-zero elements"),
            (eigh_upper, square, "UPLO must be 'L' or 'U'"),
            (qr_of_stack, np.ones((2, 3, 3)), "one matrix .a 2-D array., not a stack")]:
        for backend in ("numpy", "numba"):
            with pytest.raises(SymdiffError, match=match):
                symdiff.grad(f, backend=backend)(arg)


def det_of(a):
    return np.linalg.det(a)


def test_what_numpy_refuses_in_linalg_is_refused():
    assert_refused_as_numpy(det_of, np.ones((2, 3)), numpy_raises=np.linalg.LinAlgError)


def test_second_derivatives_of_decompositions():
    """Hessians against central differences of the gradient (itself checked above)."""
    for f, makers in [(inverses, [well_conditioned(3), normal(3, 2), normal(3)]),
                      (cholesky_of_symmetric, [normal(3, 3)]),
                      (eigh_of_symmetric, [normal(3, 3)]), (qrs, [normal(4, 3)]),
                      (svds, [normal(4, 3)]), (pinv_of_low_rank, [normal(2, 4)])]:
        x, *rest = _args(makers, seed=2)
        gradient = symdiff.grad(f, backend="numpy")
        expected = np.empty(x.shape + x.shape)
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = 1e-5
            expected[(...,) + index] = (gradient(x + step, *rest) -
                                        gradient(x - step, *rest)) / 2e-5
        np.testing.assert_allclose(symdiff.hessian(f, backend="numpy")(x, *rest), expected,
                                   rtol=1e-5, atol=1e-6)


def stacked_on_numba(a, b):
    return np.sum(np.sin(np.linalg.inv(a))) + np.sum(np.linalg.solve(a, b) ** 2) + \
        np.sum(np.linalg.slogdet(a)[1])


def test_stacks_on_numba_one_matrix_at_a_time():
    """The Numba module loops over the stack (NumPy's answer, checked above); the code is
    reused for other stack sizes. (Each decomposition's adjoint is checked on one matrix.)"""
    rng = np.random.default_rng(7)
    compiled = symdiff.value_and_grad(stacked_on_numba, (0, 1), backend="numba")
    reference = symdiff.value_and_grad(stacked_on_numba, (0, 1), backend="numpy")
    for k in (3, 1):
        a = rng.standard_normal((k, 4, 4)) + 4 * np.eye(4)
        args = a, rng.standard_normal((k, 4, 2))
        (value, grads), (expected, expected_grads) = compiled(*args), reference(*args)
        assert value == pytest.approx(expected, rel=1e-12)
        for g, e in zip(grads, expected_grads, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    symdiff.check_grad(stacked_on_numba, *args, argnums=(0, 1), backend="numba")


def solve_stack_broadcast(a, b):
    return np.sum(np.linalg.solve(a, b[:1]) ** 2)


def test_what_stacks_cannot_do_on_numba_is_refused_by_name():
    args = _args([stacks(3, 4, 4), normal(2, 4, 1)])
    with pytest.raises(SymdiffError, match=r"numba backend computes np\.linalg\.solve of stacks "
                                           r"of matrices whose leading dimensions are the same"):
        symdiff.grad(solve_stack_broadcast, backend="numba")(*args)
    symdiff.check_grad(solve_stack_broadcast, *args, argnums=(0, 1), backend="numpy")
    with pytest.raises(SymdiffError, match=r"UPLO='L' only; pass a\.T"):
        symdiff.grad(stacked_upper, backend="numba")(*_args([stacks(2, 4, 4), normal(2, 4, 4)]))


def solve_vectors_of_a_stack(a, b):
    return np.sum(np.linalg.solve(a, b))


def test_a_stack_solved_for_one_vector_is_refused():
    """NumPy 1 and 2 read b of rank 1 below a's differently: say how to write it."""
    with pytest.raises(SymdiffError, match=r"write b\[\.\.\., None\]"):
        symdiff.grad(solve_vectors_of_a_stack, backend="numpy")(np.ones((2, 3, 3)), np.ones(3))


def scipy_linalg_functions(a, b):
    """scipy.linalg's functions that compute what NumPy's do (cholesky's factor is upper by
    default)."""
    m = a @ a.T + 3.0 * np.eye(3)
    return np.sum(scipy.linalg.inv(m) * 2.0) + scipy.linalg.det(m) + \
        np.sum(scipy.linalg.solve(m, b, check_finite=False)) + \
        np.sum(np.cos(scipy.linalg.cholesky(m))) + \
        np.sum(scipy.linalg.cholesky(m, lower=True) ** 3)


def sylvester(a, b):
    """JAX has no derivative of it (of the Schur decomposition it uses)."""
    m = a @ a.T + 3.0 * np.eye(3)
    return np.sum(np.sin(scipy.linalg.solve_sylvester(m, a.T @ a, a @ b.T)))


def test_scipy_linalg():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    for f in (scipy_linalg_functions, sylvester):
        value, _ = symdiff.value_and_grad(f, (0, 1), backend="numpy")(a, b)
        assert value == pytest.approx(f(a, b), rel=1e-13)
        symdiff.check_grad(f, a, b, argnums=(0, 1), backend="numpy")
    with pytest.raises(symdiff.UnsupportedError, match=r"assume_a='pos' is not supported"):
        symdiff.grad(lambda m: np.sum(scipy.linalg.solve(m, m, assume_a="pos")),
                     backend="numpy")(np.eye(2))
    jax = jax_or_skip()
    reference = types.FunctionType(scipy_linalg_functions.__code__, {
        **scipy_linalg_functions.__globals__, "np": jax.numpy,
        "scipy": types.SimpleNamespace(linalg=jax.scipy.linalg)})
    expected = jax.grad(reference, argnums=(0, 1))(a, b)
    got = symdiff.grad(scipy_linalg_functions, (0, 1), backend="numpy")(a, b)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-11)

