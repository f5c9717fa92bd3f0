"""Loss curves for a learning rate that is too small, one that is good and one too large.

Gradient descent w <- w - lr * dL/dw on a least-squares fit, L(w) = mean((x @ w - y)^2), with
symdiff's gradient. L is a quadratic whose curvature along its steepest direction is the
largest eigenvalue h of the Hessian 2 x^T x / n, so the step size is judged against 1/h: a step
of 1/h (good) is about the largest that is safe along that direction, and the loss falls fast;
a much smaller one crawls; one beyond 2/h overshoots the minimum further at every step, so the
loss grows without bound.

    python examples/learning_rates.py [OUTPUT.png]

The curves are saved as a PNG when matplotlib is installed (pip install "symdiff[plot]"),
and printed as a table either way.
"""

import sys

import numpy as np

import symdiff


def loss(w, x, y):
    residual = x @ w - y
    return np.mean(residual ** 2)


def descend(learning_rate, x, y, steps=40):
    grad = symdiff.grad(loss)
    w = np.zeros(x.shape[1])
    history = [loss(w, x, y)]
    for _ in range(steps):
        w = w - learning_rate * grad(w, x, y)
        history.append(loss(w, x, y))
    return history


def main(output="learning_rates.png"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)) * np.array([1.0, 2.0, 0.5])
    y = x @ np.array([1.5, -0.5, 2.0]) + 0.1 * rng.standard_normal(200)
    curvature = np.linalg.eigvalsh(2 * x.T @ x / len(x)).max()
    rates = {"too small": 0.02 / curvature, "good": 1.0 / curvature,
             "too large": 2.1 / curvature}
    curves = {name: descend(lr, x, y) for name, lr in rates.items()}

    print("step  " + "  ".join(f"{name} (lr={lr:.3g})".rjust(22) for name, lr in rates.items()))
    for step in range(0, 41, 5):
        print(f"{step:4d}  " + "  ".join(f"{curves[name][step]:22.4g}" for name in rates))
    assert curves["good"][-1] < curves["too small"][-1] < curves["too small"][0]
    assert curves["too large"][-1] > curves["too large"][0]

    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for name, lr in rates.items():
        axes.semilogy(curves[name], label=f"{name}: lr = {lr:.3g}")
    axes.set_xlabel("step")
    axes.set_ylabel("loss (log scale)")
    axes.set_title("Gradient descent on a least-squares fit")
    axes.legend()
    figure.tight_layout()
    figure.savefig(output, dpi=120)
    print(f"saved {output}")


if __name__ == "__main__":
    main(*sys.argv[1:])
