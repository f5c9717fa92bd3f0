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
