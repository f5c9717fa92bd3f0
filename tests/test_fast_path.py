"""The fast path of a gradient function: a call whose argument types and sizes were seen before
runs the compiled code with no binding and no size checks; sizes that keep changing do not
grow it without bound."""

import numpy as np

import symdiff


def shifted(x):
    return np.sum(x[1:] * np.sin(x[:-1]))


def test_sizes_seen_before_and_new_ones_give_the_right_gradient():
    g = symdiff.grad(shifted, backend="numba")
    reference = symdiff.grad(shifted, backend="numpy")
    for n in (5, 2, 5, 1, 9, 2, 0, 5):
        x = np.linspace(-1.0, 1.0, n)
        got = g(x)
        np.testing.assert_allclose(got, reference(x), rtol=1e-14, atol=1e-15)
        assert got.flags.owndata and got.flags.writeable and got.shape == (n,)


def test_the_fast_path_stays_bounded():
    g = symdiff.grad(shifted, backend="numba")
    for n in range(2, 302):
        g(np.ones(n))
    assert 0 < len(g._fast) <= 256
    np.testing.assert_allclose(g(np.ones(4)), symdiff.grad(shifted, backend="numpy")(np.ones(4)))
