"""Loops: a recurrent cell and an explicit Euler integrator, differentiated by symdiff (a
forward loop and a reverse loop in the generated code), by hand-written Numba (the same two
loops, written by hand) and by JAX (``lax.scan`` / ``lax.fori_loop``) when installed, in one
run. Every method is checked against the hand-written gradient first.

    python benchmarks/loops.py [--steps-rnn 100] [--steps-euler 100000]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from run import median_seconds, pin_to_one_core

import symdiff

HIDDEN, INPUTS = 16, 8


def rnn_loss(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h ** 2)


@numba.njit(cache=True)
def rnn_grad_numba(W, U, xs, h0):
    steps = xs.shape[0]
    hs = np.empty((steps + 1, h0.shape[0]))
    hs[0] = h0
    for t in range(steps):
        hs[t + 1] = np.tanh(W @ hs[t] + U @ xs[t])
    gW, gU = np.zeros_like(W), np.zeros_like(U)
    bh = 2.0 * hs[steps]
    for t in range(steps - 1, -1, -1):
        bz = bh * (1.0 - hs[t + 1] ** 2)
        gW += np.outer(bz, hs[t])
        gU += np.outer(bz, xs[t])
        bh = W.T @ bz
    return gW, gU


def euler_loss(k, x0, steps, dt=1e-3):
    x = x0
    t = 0.0
    for _ in range(steps):
        x = x + dt * (-k * x + np.sin(t))
        t = t + dt
    return x * x


@numba.njit(cache=True)
def euler_grad_numba(k, x0, steps, dt=1e-3):
    xs = np.empty(steps + 1)
    xs[0] = x0
    for i in range(steps):
        xs[i + 1] = xs[i] + dt * (-k * xs[i] + np.sin(i * dt))
    bx, bk = 2.0 * xs[steps], 0.0
    for i in range(steps - 1, -1, -1):
        bk -= bx * dt * xs[i]
        bx = bx * (1.0 - dt * k)
    return bk, bx


def timed_first_call(fun, args) -> float:
    start = time.perf_counter()
    fun(*args)
    return time.perf_counter() - start


def jax_methods(steps_euler: int):
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jnp, lax = jax.numpy, jax.lax

    def rnn(W, U, xs, h0):
        def cell(h, x):
            return jnp.tanh(W @ h + U @ x), None
        h, _ = lax.scan(cell, h0, xs)
        return jnp.sum(h ** 2)

    def euler(k, x0, dt=1e-3):
        def step(i, x):
            return x + dt * (-k * x + jnp.sin(i * dt))
        x = lax.fori_loop(0, steps_euler, step, x0)
        return x * x

    return jax.jit(jax.grad(rnn, (0, 1))), jax.jit(jax.grad(euler, (0, 1)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps-rnn", type=int, default=100)
    parser.add_argument("--steps-euler", type=int, default=100_000)
    options = parser.parse_args()
    pin_to_one_core()
    rng = np.random.default_rng(0)
    W = rng.standard_normal((HIDDEN, HIDDEN)) * 0.3
    U = rng.standard_normal((HIDDEN, INPUTS)) * 0.3
    xs = rng.standard_normal((options.steps_rnn, INPUTS))
    h0 = rng.standard_normal(HIDDEN) * 0.1
    k, x0 = 0.7, 1.3

    rnn_grad = symdiff.grad(rnn_loss, (0, 1))
    euler_grad = symdiff.grad(euler_loss, (0, 1))
    first = {"recurrent": timed_first_call(rnn_grad, (W, U, xs, h0)),
             "euler": timed_first_call(euler_grad, (k, x0, options.steps_euler))}
    expected_rnn = rnn_grad_numba(W, U, xs, h0)
    expected_euler = euler_grad_numba(k, x0, options.steps_euler)
    for got, want in zip(rnn_grad(W, U, xs, h0), expected_rnn, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(euler_grad(k, x0, options.steps_euler), expected_euler,
                               rtol=1e-9)
    rows = {
        "recurrent": {
            "symdiff (numba)": median_seconds(rnn_grad, (W, U, xs, h0)),
            "hand-written Numba": median_seconds(rnn_grad_numba, (W, U, xs, h0)),
        },
        "euler": {
            "symdiff (numba)": median_seconds(euler_grad,
                                                        (k, x0, options.steps_euler)),
            "hand-written Numba": median_seconds(euler_grad_numba,
                                                 (k, x0, options.steps_euler)),
        },
    }
    jaxed = jax_methods(options.steps_euler)
    if jaxed is not None:
        rnn_jax, euler_jax = jaxed
        for got, want in zip(rnn_jax(W, U, xs, h0), expected_rnn, strict=True):
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.asarray(euler_jax(k, x0)), expected_euler, rtol=1e-9)
        rows["recurrent"]["JAX jit(grad(lax.scan))"] = median_seconds(
            lambda *a: [g.block_until_ready() for g in rnn_jax(*a)], (W, U, xs, h0))
        rows["euler"]["JAX jit(grad(lax.fori_loop))"] = median_seconds(
            lambda *a: [g.block_until_ready() for g in euler_jax(*a)], (k, x0))
    titles = {"recurrent": f"recurrent cell, hidden {HIDDEN}, {options.steps_rnn} steps",
              "euler": f"explicit Euler, {options.steps_euler} steps"}
    for problem, times in rows.items():
        base = times["hand-written Numba"]
        print(f"{titles[problem]} (first symdiff call: {first[problem]:.1f} s)")
        for name, t in times.items():
            print(f"  {name:30s} {t * 1e6:10.1f} us   {t / base:6.2f} x hand-written Numba")


if __name__ == "__main__":
    main()
