"""Losses over rows of data, as users write them: what symdiff.distributed runs per chunk
(sums and means over rows), and what it must not split."""

import numpy as np

from symdiff import nn


def logistic(w, X, y):
    z = X @ w
    return np.mean(nn.softplus(z) - y * z) + 0.01 * np.sum(w ** 2)


def squared_error_sum(w, b, X, y):
    r = X @ w + b - y
    return 0.5 * np.sum(r ** 2)


def mlp(X, y, w1, b1, w2, b2):
    h = nn.sigmoid(X @ w1 + b1)
    return nn.binary_cross_entropy_with_logits(h @ w2 + b2, y)


def softmax_cross_entropy(X, labels, W):
    return nn.cross_entropy(X @ W, labels)


def centred(w, X, y):  # each row meets the mean of all rows: does not split
    z = X @ w
    return np.sum((z - np.mean(z)) ** 2) + np.sum(y * z)


def sum_plus_constant(w, X, y):  # the constant would be counted once per chunk
    return np.sum((X @ w - y) ** 2) + 3.0


def mean_and_sum(w, X, y):  # a mean and a sum together weight chunks two ways
    z = X @ w
    return np.mean(z ** 2) + np.sum(y * z)


def written_out_mean(w, X, y):  # the number of rows read as a size
    return np.sum((X @ w - y) ** 2) / X.shape[0]


def largest_row(w, X, y):
    return np.max(X @ w - y)
