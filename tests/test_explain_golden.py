"""``symdiff.explain``'s layout, text and Markdown, kept in golden files.

The numbers in them are checked elsewhere (tests/test_teach.py); these files fix what a
student reads: aligned matrix blocks, d versus ∂, textbook forms of derivatives, names in
upright type, and steps that are noise (products by ones, a maximum's zero gradient) left
out. Refresh them after an intended change with:

    SYMDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_explain_golden.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symdiff
from tests.cases.explained import logistic, matrix_layer, stable_log_softmax, two_layers
from tests.conftest import assert_matches_golden

GOLDEN = Path(__file__).parent / "golden" / "explain"


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
    assert_matches_golden(text, GOLDEN / f"{name}.{suffix}", "explain's output")


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
