def grad_logistic_layer(x, y, w, b):
    """Gradient of logistic_layer with respect to w, b."""
    # z = np.matmul(x, w) + b
    _t0 = x @ w

    # backward pass
    # loss = symdiff.nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))
    bz = (_sigmoid(b + _t0) - y)/y.shape[0]
    # z = np.matmul(x, w) + b
    bw = np.outer(x, bz)
    return (bw, bz)
