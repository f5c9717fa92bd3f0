"""symdiff in one screen: the gradient of a logistic layer's loss, and the code behind it.

This is seed 000's example: x (5,) ones, y (3,) zeros, w (5, 3) and b (3,) standard normal,
loss = binary_cross_entropy_with_logits(x @ w + b, y, ones, ones).
"""

import numpy as np

import symdiff


def function(x, y, w, b):
    z = np.matmul(x, w) + b
    return symdiff.nn.binary_cross_entropy_with_logits(z, y, np.ones_like(z), np.ones_like(z))


rng = np.random.default_rng(0)
x = np.ones(5)
y = np.zeros(3)
w = rng.standard_normal((5, 3))
b = rng.standard_normal(3)

grad_fn = symdiff.grad(function, (2, 3))
gw, gb = grad_fn(x, y, w, b)
print("dloss/dw, shape", gw.shape)
print(gw)
print("dloss/db, shape", gb.shape)
print(gb)
print()
print(symdiff.check_grad(function, x, y, w, b, argnums=(2, 3)))
print()
print("The generated code:")
print(grad_fn.source)
