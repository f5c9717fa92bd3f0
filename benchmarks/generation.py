"""Generation cost does not depend on array sizes.

Generates the gradient of a logistic-regression loss for N = 10 and N = 10^6 in fresh gradient
functions (so nothing is cached between them) and reports the median generation time of each,
and the time of one value-and-gradient call against hand-written NumPy at the large size.

    python benchmarks/generation.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import symdiff


def logistic_regression(X, y, w):
    margins = X @ w
    return np.mean(np.logaddexp(0.0, margins) - y * margins)


def hand_written(X, y, w):
    margins = X @ w
    value = np.mean(np.logaddexp(0.0, margins) - y * margins)
    p = np.exp(-np.logaddexp(0.0, -margins))
    return value, X.T @ ((p - y) / len(y))


def data(n: int, d: int = 100):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, d)), (rng.random(n) < 0.5).astype(float), \
        rng.standard_normal(d) * 0.1


def generation_seconds(n: int, repeats: int = 5) -> float:
    args = data(n)
    times = []
    for _ in range(repeats):
        from symdiff.calculus import derive  # SymPy results are cached: clear them

        for cached in vars(derive).values():
            if hasattr(cached, "cache_clear"):
                cached.cache_clear()
        start = time.perf_counter()
        symdiff.value_and_grad(logistic_regression, 2, backend="numpy").specialise(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def call_seconds(fun, args, repeats: int = 20) -> float:
    fun(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fun(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    small, big = generation_seconds(10), generation_seconds(1_000_000)
    print(f"generation, N=10:      {small * 1e3:8.1f} ms")
    print(f"generation, N=10^6:    {big * 1e3:8.1f} ms   (ratio {big / small:.2f})")
    args = data(100_000)
    ours = call_seconds(symdiff.value_and_grad(logistic_regression, 2, backend="numpy"), args)
    hand = call_seconds(hand_written, args)
    print(f"value_and_grad N=1e5, D=100: symdiff numpy {ours * 1e3:.1f} ms, "
          f"hand-written NumPy {hand * 1e3:.1f} ms (ratio {ours / hand:.2f})")


if __name__ == "__main__":
    main()
