"""``symdiff.explain``'s layout, text and Markdown, kept in golden files.

The numbers in them are checked elsewhere (tests/test_teach.py); these files fix what a
student reads: aligned matrix blocks, d versus ∂, textbook forms of derivatives, names in
upright type, and steps that are noise (products by ones, a maximum's zero gradient) left
out. Refresh them after an intended change with:

    SYMDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_explain_golden.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import numpy as np
import pytest

import symdiff

GOLDEN = Path(__file__).parent / "golden" / "explain"


def two_layers(x, W1, W2):
    h = np.tanh(W1 @ x)
    return np.sum(W2 @ h)


def matrix_layer(X, W):
    return np.sum(np.tanh(X @ W))


def logistic(X, y, w):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def stable_log_softmax(z, w):
    s = z - np.max(z)
    return np.sum(w * (s - np.log(np.sum(np.exp(s)))))


CASES = {
    "two_layers": (two_layers, (np.array([1.0, -2.0]), np.array([[0.5, -1.0], [2.0, 0.25]]),
                                np.array([[1.0, 0.5]])), (1, 2)),
    "matrix_layer": (matrix_layer, (np.array([[1.0, 2.0], [-0.5, 0.25]]),
                                    np.array([[0.5, -1.0], [0.75, 0.125]])), (0, 1)),
    "logistic": (logistic, (np.array([[1.0, 2.0], [-1.0, 0.5], [0.25, -2.0]]),
                            np.array([1.0, 0.0, 1.0]), np.array([0.5, -0.25])), 2),
    "stable_log_softmax": (stable_log_softmax, (np.array([1.0, 3.0, -0.5]),
                                                np.array([0.25, -1.0, 2.0])), 0),
}


@pytest.mark.parametrize("format, suffix", [("text", "txt"), ("markdown", "md")])
@pytest.mark.parametrize("name", sorted(CASES))
def test_explain_layout(name, format, suffix):
    fun, args, argnums = CASES[name]
    text = symdiff.explain(fun, *args, argnums=argnums, format=format)
    path = GOLDEN / f"{name}.{suffix}"
    if os.environ.get("SYMDIFF_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(path), "explained"))
        pytest.fail(f"explain's output differs from the golden file:\n{diff}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_lines_fit_a_terminal(name):
    fun, args, argnums = CASES[name]
    text = symdiff.explain(fun, *args, argnums=argnums)
    assert max(map(len, text.splitlines())) <= 100


def test_a_cancelling_maximum_gets_no_gradient():
    """The shift by the maximum passes nothing back: no -4e-17 in place of 0, no mask."""
    fun, args, argnums = CASES["stable_log_softmax"]
    text = symdiff.explain(fun, *args, argnums=argnums)
    assert "e-1" not in text  # no rounding noise shown as a gradient
    gradient = symdiff.grad(fun)(*args)
    np.testing.assert_allclose(gradient.sum(), 0.0, atol=1e-15)
