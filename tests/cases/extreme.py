"""One function per primitive, differentiated at extreme values by tests/test_extreme_values."""

import numpy as np

from symdiff import nn


def exp(x): return np.sum(np.exp(x))
def log(x): return np.sum(np.log(x))
def log1p(x): return np.sum(np.log1p(x))
def expm1(x): return np.sum(np.expm1(x))
def sqrt(x): return np.sum(np.sqrt(x))
def sin(x): return np.sum(np.sin(x))
def cos(x): return np.sum(np.cos(x))
def tan(x): return np.sum(np.tan(x))
def tanh(x): return np.sum(np.tanh(x))
def sinh(x): return np.sum(np.sinh(x))
def cosh(x): return np.sum(np.cosh(x))
def arcsin(x): return np.sum(np.arcsin(x))
def arccos(x): return np.sum(np.arccos(x))
def arctan(x): return np.sum(np.arctan(x))
def absolute(x): return np.sum(np.abs(x))
def square(x): return np.sum(np.square(x))
def sign(x): return np.sum(np.sign(x) * 3.0)
def reciprocal(x): return np.sum(1.0 / x)
def sigmoid(x): return np.sum(nn.sigmoid(x))
def softplus(x): return np.sum(nn.softplus(x))
def relu(x): return np.sum(nn.relu(x))
def naive_sigmoid(x): return np.sum(1 / (1 + np.exp(-x)))
def naive_softplus(x): return np.sum(np.log(1 + np.exp(x)))
def bce_positive(x): return nn.binary_cross_entropy_with_logits(x, np.ones_like(x), reduction="sum")
def bce_negative(x): return nn.binary_cross_entropy_with_logits(x, np.zeros_like(x), reduction="sum")
def logsumexp(x): return nn.logsumexp(x)
def cross_entropy_first(x): return nn.cross_entropy(x[None, :], np.zeros_like(x[:1], dtype=np.int64))
def mse(x): return nn.mse_loss(x, np.zeros_like(x), reduction="sum")
def bce_probability(p): return nn.binary_cross_entropy(p, np.ones_like(p), reduction="sum")
def logaddexp_pair(x): return np.sum(np.logaddexp(x, -x))
def maximum_pair(x): return np.sum(np.maximum(x, 0.5 * x))
def minimum_pair(x): return np.sum(np.minimum(x, 0.5 * x))
def where_pair(x): return np.sum(np.where(x > 0, x, 2.0 * x))
def power(x): return np.sum(x ** 2.5)
def softmax_first(x): return nn.softmax(x)[0]
def log_softmax_first(x): return nn.log_softmax(x)[0]
