"""Differentiable building blocks for models and losses, written in plain NumPy.

Every function here is ordinary NumPy code: it runs without symdiff, and symdiff differentiates
it by reading its source like any user function. They are written in numerically stable forms:
``sigmoid`` and ``softplus`` never overflow, ``logsumexp`` shifts by the maximum, and the losses
work on logits through ``softplus``/``log_softmax`` rather than on probabilities.

Losses take ``reduction="mean"`` (default), ``"sum"`` or ``"none"``.
"""

from __future__ import annotations

import numpy as np

from symdiff.markers import stop_gradient


def sigmoid(x):
    """1 / (1 + exp(-x)), finite for every x."""
    return np.exp(-np.logaddexp(0.0, -x))


def softplus(x):
    """log(1 + exp(x)), finite for every x."""
    return np.logaddexp(0.0, x)


def relu(x):
    """max(x, 0); its derivative at 0 is 0."""
    return np.maximum(x, 0.0)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x), axis)), shifted by the maximum so that it never overflows."""
    shift = stop_gradient(np.max(x, axis=axis, keepdims=True))
    out = shift + np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True))
    if keepdims:
        return out
    return np.squeeze(out) if axis is None else np.squeeze(out, axis=axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x, axis): log-probabilities from logits."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x), axis), computed from log_softmax."""
    return np.exp(log_softmax(x, axis=axis))


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def binary_cross_entropy_with_logits(logits, label, weight=None, pos_weight=None,
                                     reduction="mean"):
    """Binary cross-entropy on logits, with MindSpore's semantics.

    loss = -weight * (pos_weight * label * log(sigmoid(logits))
                      + (1 - label) * log(1 - sigmoid(logits)))
    computed as weight * (pos_weight * label * softplus(-logits)
                          + (1 - label) * softplus(logits)), finite for all logits.
    """
    positive = label * softplus(-logits)
    if pos_weight is not None:
        positive = pos_weight * positive
    loss = positive + (1.0 - label) * softplus(logits)
    if weight is not None:
        loss = weight * loss
    return _reduce(loss, reduction)


def binary_cross_entropy(probs, label, weight=None, reduction="mean"):
    """Binary cross-entropy on probabilities; logs are clamped at -100 as in PyTorch."""
    log_p = np.maximum(np.log(probs), -100.0)
    log_not_p = np.maximum(np.log(1.0 - probs), -100.0)
    loss = -(label * log_p + (1.0 - label) * log_not_p)
    if weight is not None:
        loss = weight * loss
    return _reduce(loss, reduction)


def cross_entropy(logits, labels, axis=-1, reduction="mean"):
    """Softmax cross-entropy from logits and integer class labels along ``axis``."""
    log_p = log_softmax(logits, axis=axis)
    picked = np.take_along_axis(log_p, np.expand_dims(labels, axis), axis=axis)
    return _reduce(-np.squeeze(picked, axis=axis), reduction)


def mse_loss(prediction, target, reduction="mean"):
    """Mean squared error."""
    return _reduce((prediction - target) ** 2, reduction)
