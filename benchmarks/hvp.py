"""Hessian-vector products at n = 200,000: symdiff's jvp(grad(f)) against its own gradient,
a hand-written HVP in NumPy, and JAX's jvp(grad(f)) when installed, in one run.

    python benchmarks/hvp.py
"""

from __future__ import annotations

import numpy as np
from run import median_seconds, pin_to_one_core

import symdiff

N = 200_000


def loss(x):
    return np.sum(np.log(1 + np.exp(x)) * x) + 0.5 * np.sum(x[1:] * x[:-1])


def hand_written_hvp(x, v):
    s = 1 / (1 + np.exp(-x))
    out = (2 * s + x * s * (1 - s)) * v
    out[1:] += 0.5 * v[:-1]
    out[:-1] += 0.5 * v[1:]
    return out


def main() -> None:
    pin_to_one_core()
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(N), rng.standard_normal(N)
    gradient = symdiff.grad(loss)
    _, hv = symdiff.jvp(gradient, (x,), (v,))
    assert np.allclose(hv, hand_written_hvp(x, v), rtol=1e-10, atol=1e-12)
    times = {
        "symdiff grad": median_seconds(gradient, (x,)),
        "symdiff jvp(grad)": median_seconds(lambda x, v: symdiff.jvp(gradient, (x,), (v,)),
                                            (x, v)),
        "hand-written NumPy HVP": median_seconds(hand_written_hvp, (x, v)),
    }
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy

        def loss_jax(x):
            return jnp.sum(jnp.log(1 + jnp.exp(x)) * x) + 0.5 * jnp.sum(x[1:] * x[:-1])

        hvp_jax = jax.jit(lambda x, v: jax.jvp(jax.grad(loss_jax), (x,), (v,))[1])
        assert np.allclose(hvp_jax(x, v), hv, rtol=1e-10, atol=1e-12)
        times["JAX jit(jvp(grad))"] = median_seconds(
            lambda x, v: hvp_jax(x, v).block_until_ready(), (x, v))
    except ImportError:
        pass
    base = times["symdiff grad"]
    print(f"Hessian-vector product, n = {N:,} (median of repeated calls, one core)")
    for name, t in times.items():
        print(f"  {name:24s} {t * 1e3:8.2f} ms   {t / base:5.2f} x symdiff grad")


if __name__ == "__main__":
    main()
