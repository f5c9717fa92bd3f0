"""Losses for `symdiff gen`: the annotations give each argument's dtype and named dimensions.

    symdiff gen examples/losses.py            # writes examples/losses_grad.py
    symdiff check examples/losses.py          # compares with finite differences, writes nothing
"""

import numpy as np

from symdiff import nn

L2 = 1e-3  # a literal constant: gen reads it without running this file


def logistic_regression(X: "f8[n, d]", y: "f8[n]", w: "f8[d]"):
    margins = X @ w
    return np.mean(nn.softplus(margins) - y * margins) + L2 * np.sum(w ** 2)


def mlp(x: "f8[n, d]", y: "f8[n, 1]", w1: "f8[d, h]", b1: "f8[h]", w2: "f8[h, 1]",
        b2: "f8[1]"):
    hidden = nn.sigmoid(x @ w1 + b1)
    return nn.binary_cross_entropy_with_logits(hidden @ w2 + b2, y)


def softmax_regression(x: "f8[n, d]", labels: "i8[n]", w: "f8[d, c]"):
    return nn.cross_entropy(x @ w, labels)


def rosenbrock(x: "f8[n]"):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
