def grad_exp_sin(x):
    """Gradient of exp_sin with respect to x."""
    # backward pass
    # return np.exp(x) * np.sin(x)
    bx = (np.cos(x) + np.sin(x))*np.exp(x)
    return float(bx)
