"""check_grad: it passes right gradients and catches wrong ones, naming the worst element."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff import ArgumentError, GradientCheckError


def smooth(x, w):
    return np.sum(w * np.sin(x) ** 2)


def secretly_stopped(x):
    # finite differences see the true derivative 2 * x; symdiff is told to see 0 for the
    # second factor, so the gradient differs, worst where |x| is largest
    return np.sum(x * symdiff.stop_gradient(x))


def test_right_gradients_pass_with_a_report():
    x, w = np.linspace(-1, 1, 6), np.arange(6.0)
    report = symdiff.check_grad(smooth, x, w, argnums=(0, 1))
    assert [a.name for a in report.arguments] == ["x", "w"]
    assert report.arguments[0].checks == 6
    assert report.arguments[0].max_rel_error < 1e-6
    assert "x: 6 checks" in str(report)


def test_big_arrays_are_checked_along_random_directions():
    x, w = np.linspace(-1, 1, 500), np.ones(500)
    report = symdiff.check_grad(smooth, x, w)
    assert report.arguments[0].checks == 6


def test_a_wrong_gradient_names_the_argument_and_the_worst_element():
    x = np.array([0.1, -3.0, 0.5])
    with pytest.raises(GradientCheckError, match=r"'x' is wrong at index \(1,\)"):
        symdiff.check_grad(secretly_stopped, x)


def test_nan_inputs_are_refused():
    with pytest.raises(ArgumentError, match="NaN"):
        symdiff.check_grad(smooth, np.array([np.nan, 1.0]), np.ones(2))


def _mlp(params, x):
    (w1, b1), (w2, b2) = params
    return np.sum(np.tanh(x @ w1 + b1) @ w2 + b2)


def test_lists_tuples_and_dicts_of_arrays_are_checked_leaf_by_leaf():
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)), (rng.normal(size=(4, 2)),
                                                               rng.normal(size=2))]
    x = rng.normal(size=(5, 3))
    report = symdiff.check_grad(_mlp, params, x, argnums=(0, 1), backend="numpy")
    assert [a.name for a in report.arguments] == [
        "params[0][0]", "params[0][1]", "params[1][0]", "params[1][1]", "x"]
    named = symdiff.check_grad(lambda p: np.sum(p["w"] ** 2) * p["s"],
                               {"w": np.ones(3), "s": 2.0}, backend="numpy")
    assert [a.name for a in named.arguments] == ["p['w']", "p['s']"]


def test_a_wrong_gradient_in_a_structure_names_its_leaf():
    @symdiff.custom_vjp
    def scaled(v):
        return 2.0 * v

    def forward(v):
        return 2.0 * v, None

    def backward(residuals, g):
        return (3.0 * g,)  # wrong: 3, not 2
    scaled.defvjp(forward, backward)

    def f(p):
        return np.sum(p[0]) + np.sum(scaled(p[1]))
    with pytest.raises(symdiff.GradientCheckError, match=r"p\[1\]"):
        symdiff.check_grad(f, [np.ones(2), np.ones(3)], backend="numpy")
