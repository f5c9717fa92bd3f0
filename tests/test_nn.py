"""symdiff.nn: the values of the documented formulas, and gradients that check."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff import nn

RNG = np.random.default_rng(7)
Z = RNG.standard_normal((4, 3))
LABEL = (RNG.random((4, 3)) < 0.5).astype(float)
WEIGHT = RNG.uniform(0.5, 2.0, (4, 3))
POS_WEIGHT = RNG.uniform(0.5, 2.0, 3)


def reference_bce_with_logits(z, y, weight, pos_weight):
    p = 1 / (1 + np.exp(-z))
    return -weight * (pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("reduction, reduce", [("mean", np.mean), ("sum", np.sum),
                                               ("none", lambda a: a)])
def test_bce_with_logits_has_mindspore_semantics(reduction, reduce):
    got = nn.binary_cross_entropy_with_logits(Z, LABEL, WEIGHT, POS_WEIGHT, reduction)
    np.testing.assert_allclose(got, reduce(reference_bce_with_logits(Z, LABEL, WEIGHT,
                                                                     POS_WEIGHT)))


def weighted_bce(z, y, weight, pos_weight):
    return nn.binary_cross_entropy_with_logits(z, y, weight, pos_weight)


def test_bce_with_logits_gradient():
    symdiff.check_grad(weighted_bce, Z, LABEL, WEIGHT, POS_WEIGHT, argnums=(0, 2, 3))


def bce_on_probabilities(z, y):
    return nn.binary_cross_entropy(nn.sigmoid(z), y, reduction="sum")


def test_binary_cross_entropy():
    p = nn.sigmoid(Z)
    np.testing.assert_allclose(nn.binary_cross_entropy(p, LABEL),
                               np.mean(-(LABEL * np.log(p) + (1 - LABEL) * np.log(1 - p))))
    symdiff.check_grad(bce_on_probabilities, Z, LABEL)


def cross_entropy_axis0(logits, labels):
    return nn.cross_entropy(logits, labels, axis=0)


def test_cross_entropy_and_softmax():
    labels = np.array([0, 2, 1, 2])
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.cross_entropy(Z, labels), -np.mean(logp[np.arange(4), labels]))
    np.testing.assert_allclose(nn.softmax(Z).sum(axis=1), 1.0)
    np.testing.assert_allclose(nn.log_softmax(Z), logp)
    symdiff.check_grad(cross_entropy_axis0, Z, np.array([0, 3, 1]))


def mse(prediction, target):
    return nn.mse_loss(prediction, target)


def relu_sum(x):
    return np.sum(nn.relu(x))


def test_mse_and_relu():
    np.testing.assert_allclose(nn.mse_loss(Z, LABEL), np.mean((Z - LABEL) ** 2))
    symdiff.check_grad(mse, Z, LABEL, argnums=(0, 1))
    np.testing.assert_array_equal(symdiff.grad(relu_sum)(np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 1.0])


def logsumexp_axis(x):
    return np.sum(nn.logsumexp(x, axis=1) ** 2) + nn.logsumexp(x)


def test_logsumexp():
    np.testing.assert_allclose(nn.logsumexp(Z, axis=1), np.log(np.exp(Z).sum(axis=1)))
    symdiff.check_grad(logsumexp_axis, Z)


def bad_reduction(x):
    return nn.mse_loss(x, x, reduction="median")


def test_an_unknown_reduction_is_reported():
    with pytest.raises(symdiff.UnsupportedError, match="raises"):
        symdiff.grad(bad_reduction)(Z)
