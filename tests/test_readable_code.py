"""Generated gradients a student can read: no longer than a careful hand-written one needs.

Each case's NumPy-backend gradient is kept in ``tests/golden/readable/<case>.py`` and compared
with a hand-written gradient of the same function, which is itself checked against the
generated one. Code lines are the statements of the function's body: not its ``def`` line,
docstring, comments or blank lines. The hand-written gradients are written as the generated
ones are (each gradient under a name, then one return), so that the count compares work, not
style. Refresh the golden files after an intended change with:

    SYMDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_readable_code.py
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import symdiff
from tests.conftest import assert_matches_golden

GOLDEN = Path(__file__).parent / "golden" / "readable"
RATIO = 1.6  # generated / hand-written code lines, at most
rng = np.random.default_rng(7)


# -- the functions, as their users write them, and their gradients written by hand -----------

def mlp_softmax_cross_entropy(W1, b1, W2, b2, X, y):
    h = np.maximum(0, X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(X.shape[0]), y])


def hand_mlp_softmax_cross_entropy(W1, b1, W2, b2, X, y):
    z1 = X @ W1 + b1
    h = np.maximum(0, z1)
    logits = h @ W2 + b2
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    blogits = e / np.sum(e, axis=1, keepdims=True)
    blogits[np.arange(X.shape[0]), y] -= 1
    blogits /= X.shape[0]
    bW2 = h.T @ blogits
    bb2 = np.sum(blogits, axis=0)
    bz1 = (blogits @ W2.T) * (z1 > 0)
    bW1 = X.T @ bz1
    bb1 = np.sum(bz1, axis=0)
    return bW1, bb1, bW2, bb2


def logistic_layer(x, y, w, b):  # tutorial 000
    z = np.matmul(x, w) + b
    loss = symdiff.nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))
    return loss


def hand_logistic_layer(x, y, w, b):
    z = x @ w + b
    bz = (1 / (1 + np.exp(-z)) - y) / z.shape[0]
    bw = np.outer(x, bz)
    return bw, bz


def sum_of_product(x, y):  # tutorial 001
    out = np.matmul(x, y)
    return np.sum(out)


def hand_sum_of_product(x, y):
    bx = np.ones((x.shape[0], y.shape[1])) @ y.T
    return bx


def mean_of_squares(x):  # tutorial 002
    y = x * x
    z = y.mean()
    return z


def hand_mean_of_squares(x):
    bx = 2 * x / x.shape[0]
    return bx


def exp_sin(x):  # tutorial 003
    return np.exp(x) * np.sin(x)


def hand_exp_sin(x):
    bx = np.exp(x) * (np.sin(x) + np.cos(x))
    return bx


CASES = {
    "mlp_softmax_cross_entropy": (
        mlp_softmax_cross_entropy, hand_mlp_softmax_cross_entropy, (0, 1, 2, 3),
        (rng.standard_normal((5, 7)), rng.standard_normal(7), rng.standard_normal((7, 3)),
         rng.standard_normal(3), rng.standard_normal((11, 5)), rng.integers(0, 3, 11))),
    "logistic_layer": (logistic_layer, hand_logistic_layer, (2, 3),
                       (np.ones(5), np.zeros(3), rng.standard_normal((5, 3)), np.zeros(3))),
    "sum_of_product": (sum_of_product, hand_sum_of_product, 0,
                       (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)))),
    "mean_of_squares": (mean_of_squares, hand_mean_of_squares, 0,
                        (np.array([1.0, 2.0, 3.0]),)),
    "exp_sin": (exp_sin, hand_exp_sin, 0, (1.0,)),
}

# the first function of each tutorial in docs/tutorials
TUTORIALS = ["logistic_layer", "sum_of_product", "mean_of_squares", "exp_sin"]


def code_lines(source: str) -> list[str]:
    """The statements of the first function in ``source``, one per line, without its def line,
    docstring, comments and blank lines."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def "))
    body = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", '"""')):
            body.append(stripped)
    return body


def generated_gradient(name: str) -> tuple[str, object]:
    fun, _, argnums, args = CASES[name]
    grad = symdiff.grad(fun, argnums=argnums, backend="numpy")
    value = grad(*args)
    source = grad.source
    start = source.index("def grad_")
    return source[start:source.index("\n\n\n", start)] + "\n", value


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_readable_gradient(name):
    text, _ = generated_gradient(name)
    assert_matches_golden(text, GOLDEN / f"{name}.py")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_written_gradient_is_right(name):
    """The comparison is with a gradient that computes the same numbers."""
    _, hand, argnums, args = CASES[name]
    _, value = generated_gradient(name)
    expected = hand(*args)
    single = isinstance(argnums, int)
    for got, want in zip([value] if single else value, [expected] if single else expected,
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_gradient_no_longer_than_by_hand(name):
    _, hand, _, _ = CASES[name]
    text, _ = generated_gradient(name)
    generated, by_hand = code_lines(text), code_lines(inspect.getsource(hand))
    assert len(generated) <= RATIO * len(by_hand), "\n".join(generated)
    # fewer lines from less work, never from longer ones
    assert max(map(len, generated)) <= 100


def test_mlp_softmax_cross_entropy_in_at_most_22_lines():
    """Each step of the hand-written gradient once: no second maximum, no gradient through the
    shift by the maximum (exactly zero: the softmax weights sum to one), no guard around the
    ReLU's mask, and log_probs not computed only for its shape."""
    text, _ = generated_gradient("mlp_softmax_cross_entropy")
    lines = code_lines(text)
    assert len(lines) <= 22, "\n".join(lines)
    assert sum(line.count("np.max(") for line in lines) == 1
    assert "==" not in text  # the mask of where the maximum is, for its gradient
    assert "errstate" not in text
    assert not any(line.startswith("log_probs =") for line in lines)
