def grad_mlp_softmax_cross_entropy(W1, b1, W2, b2, X, y):
    """Gradient of mlp_softmax_cross_entropy with respect to W1, b1, W2, b2."""
    # h = np.maximum(0, X @ W1 + b1)
    _t0 = X @ W1
    h = np.maximum(0, b1 + _t0)
    # logits = h @ W2 + b2
    _t1 = h @ W2
    logits = b2 + _t1
    # shifted = logits - np.max(logits, axis=1, keepdims=True)
    _t2 = np.max(logits, axis=1, keepdims=True)
    # log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    _t3 = np.exp(logits - _t2)
    _t4 = np.sum(_t3, axis=1, keepdims=True)
    # return -np.mean(log_probs[np.arange(X.shape[0]), y])
    _t5 = np.arange(X.shape[0])

    # backward pass
    # return -np.mean(log_probs[np.arange(X.shape[0]), y])
    _t6 = -1/X.shape[0]
    _t7 = np.broadcast_to(_t6, (X.shape[0],))
    blog_probs = _scatter_add(_t7, _t1, np.s_[_t5, y])
    # log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    _t8 = -blog_probs/_t4
    _t9 = np.sum(_t8, axis=1, keepdims=True)
    # shifted = logits - np.max(logits, axis=1, keepdims=True)
    bshifted = blog_probs + _t3*_t9
    # logits = h @ W2 + b2
    bb2 = np.sum(bshifted, axis=0)
    bh = bshifted @ W2.T
    bW2 = h.T @ bshifted
    # h = np.maximum(0, X @ W1 + b1)
    _t10 = np.where((h > 0) | np.isnan(bh), bh, 0)
    bb1 = np.sum(_t10, axis=0)
    bW1 = X.T @ _t10
    return (bW1, bb1, bW2, bb2)
