def grad_mean_of_squares(x):
    """Gradient of mean_of_squares with respect to x."""
    # backward pass
    # y = x * x
    bx = 2*x/x.shape[0]
    return bx
