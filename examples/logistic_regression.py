"""Logistic regression trained by gradient descent with a symdiff gradient.

Generated data: 500 points in 2-D whose label is 1 on one side of a line (with a few labels
flipped). The loss is the mean binary cross-entropy of the logits, written as plain NumPy;
symdiff differentiates it with respect to the weights and the bias.

    python examples/logistic_regression.py
"""

import numpy as np

import symdiff


def loss(w, b, x, y):
    logits = x @ w + b
    return symdiff.nn.binary_cross_entropy_with_logits(logits, y)


def make_data(rng, n=500):
    x = rng.standard_normal((n, 2))
    y = (x @ np.array([2.0, -1.0]) + 0.5 > 0).astype(float)
    flipped = rng.random(n) < 0.05
    y[flipped] = 1.0 - y[flipped]
    return x, y


def train(x, y, learning_rate=0.5, steps=300, report_every=50):
    step = symdiff.value_and_grad(loss, argnums=(0, 1))
    w, b = np.zeros(2), 0.0
    history = []
    for i in range(steps):
        value, (gw, gb) = step(w, b, x, y)
        w, b = w - learning_rate * gw, b - learning_rate * gb
        history.append(value)
        if report_every and i % report_every == 0:
            print(f"step {i:4d}  loss {value:.4f}")
    return w, b, history


def main():
    x, y = make_data(np.random.default_rng(0))
    w, b, history = train(x, y)
    accuracy = np.mean(((x @ w + b) > 0) == (y > 0.5))
    print(f"final loss {history[-1]:.4f}, training accuracy {accuracy:.1%}")
    print(f"w = {np.round(w, 3)}, b = {b:.3f} (the line is 2 x0 - x1 + 0.5 = 0)")


if __name__ == "__main__":
    main()
