"""Gradients stay finite and right where the mathematics is finite (DESIGN: stability)."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff import nn

LOGITS = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def bce(z, y):
    return nn.binary_cross_entropy_with_logits(z, y, reduction="sum")


def softplus_sum(z):
    return np.sum(nn.softplus(z))


def logsumexp_of(z):
    return nn.logsumexp(z)


def softmax_ce(logits, labels):
    return nn.cross_entropy(logits, labels, reduction="sum")


def naive_sigmoid_model(z):
    return np.sum(1 / (1 + np.exp(-z)))


def naive_softplus(z):
    return np.sum(np.log(1 + np.exp(z)))


def naive_bce(z, y):
    p = 1 / (1 + np.exp(-z))
    return np.sum(-(y * np.log(p) + (1 - y) * np.log(1 - p)))


def naive_logsumexp(z):
    return np.log(np.sum(np.exp(z)))


def piecewise_sqrt(x):
    return np.sum(np.where(x < 1, x, np.sqrt(x)))


def test_bce_with_logits_is_finite_and_right_at_800():
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    g = symdiff.grad(bce)(LOGITS, y)
    np.testing.assert_allclose(g, sigmoid(LOGITS) - y, rtol=1e-12, atol=1e-300)
    value, _ = symdiff.value_and_grad(bce)(LOGITS, y)
    assert np.isfinite(value)


@pytest.mark.parametrize("fun", [softplus_sum, naive_softplus, naive_sigmoid_model])
def test_softplus_and_sigmoid_gradients_are_finite(fun):
    g = symdiff.grad(fun)(LOGITS)
    assert np.all(np.isfinite(g))
    expected = sigmoid(LOGITS) if fun is not naive_sigmoid_model else \
        sigmoid(LOGITS) * sigmoid(-LOGITS)
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)


def test_naive_bce_on_probabilities_of_logits_is_rewritten_stably():
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    g = symdiff.grad(naive_bce)(LOGITS, y)
    np.testing.assert_allclose(g, sigmoid(LOGITS) - y, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fun", [logsumexp_of, naive_logsumexp])
def test_logsumexp_gradient_is_softmax_at_800(fun):
    z = np.array([800.0, -800.0, 0.0, 799.0])
    g = symdiff.grad(fun)(z)
    e = np.exp(z - z.max())
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)


def test_softmax_cross_entropy_at_800():
    logits = np.array([[800.0, -800.0, 0.0], [-800.0, 800.0, 799.0], [1.0, 2.0, 3.0]])
    labels = np.array([1, 2, 0])
    g = symdiff.grad(softmax_ce)(logits, labels)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = e / e.sum(axis=1, keepdims=True)
    expected[np.arange(3), labels] -= 1
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)


def test_where_with_sqrt_branch_has_gradient_one_at_zero():
    with np.errstate(all="raise"):  # the branch not taken must not even warn
        g = symdiff.grad(piecewise_sqrt)(np.array([0.0, 0.5, 4.0]))
    np.testing.assert_allclose(g, [1.0, 1.0, 0.25])


def scaled_softplus(x):
    return np.sum(nn.softplus(-2.5 * x))


def test_tails_keep_their_relative_accuracy():
    x = np.array([-20.0, 0.0, 20.0])
    g = symdiff.grad(scaled_softplus)(x)
    np.testing.assert_allclose(g, -2.5 * sigmoid(-2.5 * x), rtol=1e-12)
    assert g[2] != 0.0  # about -4.8e-22, not 1 - 1


def naive_softmax_cross_entropy(z, onehot):
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    return -np.sum(onehot * np.log(p))


def naive_softmax_sum(z, w):
    return np.sum(w * (np.exp(z) / np.sum(np.exp(z))))


def test_hand_written_softmax_and_its_log_are_rewritten_stably():
    z = np.array([[800.0, -800.0, 0.0], [1.0, 2.0, 3.0]])
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    value, g = symdiff.value_and_grad(naive_softmax_cross_entropy)(z, onehot)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    # row 0: -log p[1] = 800 - (-800); row 1: -log p[0] = logsumexp(1, 2, 3) - 1
    assert value == pytest.approx(1602.0 + np.log(np.exp(-2) + np.exp(-1) + 1), rel=1e-12)
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-300)
    w = np.array([1.0, 2.0, 3.0])
    x = np.array([800.0, 799.0, -5.0])
    symdiff.check_grad(naive_softmax_sum, x - 800.0, w)  # the rewrite is exact where finite
    assert np.all(np.isfinite(symdiff.grad(naive_softmax_sum)(x, w)))
