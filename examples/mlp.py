"""A two-layer perceptron trained by gradient descent with symdiff gradients.

Generated data: two interleaved half-moons, which no straight line separates. The model is
sigmoid(W2 . tanh(W1 . x + b1) + b2), the loss binary cross-entropy on the logits; the
parameters are a dict, and symdiff returns their gradients as a dict of the same shape.

    python examples/mlp.py
"""

import numpy as np

import symdiff


def loss(params, x, y):
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    logits = hidden @ params["W2"] + params["b2"]
    return symdiff.nn.binary_cross_entropy_with_logits(logits, y)


def make_moons(rng, n=400, noise=0.15):
    angle = rng.uniform(0.0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None],
                 np.stack([np.cos(angle), np.sin(angle)], axis=1),
                 np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1))
    return x + noise * rng.standard_normal((n, 2)), upper.astype(float)


def init(rng, hidden=16):
    return {"W1": rng.standard_normal((2, hidden)), "b1": np.zeros(hidden),
            "W2": rng.standard_normal(hidden) / np.sqrt(hidden), "b2": np.zeros(())}


def train(params, x, y, learning_rate=1.0, steps=1000, report_every=200):
    step = symdiff.value_and_grad(loss)
    history = []
    for i in range(steps):
        value, grads = step(params, x, y)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
        history.append(value)
        if report_every and i % report_every == 0:
            print(f"step {i:5d}  loss {value:.4f}")
    return params, history


def main():
    rng = np.random.default_rng(0)
    x, y = make_moons(rng)
    params, history = train(init(rng), x, y)
    hidden = np.tanh(x @ params["W1"] + params["b1"])
    accuracy = np.mean(((hidden @ params["W2"] + params["b2"]) > 0) == (y > 0.5))
    print(f"final loss {history[-1]:.4f}, training accuracy {accuracy:.1%}")


if __name__ == "__main__":
    main()
