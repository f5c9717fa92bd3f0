"""Second derivatives: Hessian-vector products (``jvp`` of ``grad``) at n = 1,000 and
100,000 and full Hessians at n = 1,000, symdiff against JAX jit and a hand-written NumPy
Hessian-vector product, in one run on one core.

    python benchmarks/hvp.py

Two problems: ``separable`` is a sum of elementwise terms (its Hessian is diagonal);
``coupled`` adds a product of neighbours (a tridiagonal Hessian). A dense Hessian at
n = 100,000 would hold 80 GB, so Hessians are timed at n = 1,000 only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from run import median_seconds, pin_to_one_core

import symdiff

SIZES = (1_000, 100_000)
HESSIAN_SIZE = 1_000


def separable(x):
    return np.sum(np.log(1 + np.exp(x)) * x)


def coupled(x):
    return np.sum(np.log(1 + np.exp(x)) * x) + 0.5 * np.sum(x[1:] * x[:-1])


def hand_written_hvp(x, v, coupling):
    s = 1 / (1 + np.exp(-x))
    out = (2 * s + x * s * (1 - s)) * v
    if coupling:
        out[1:] += 0.5 * v[:-1]
        out[:-1] += 0.5 * v[1:]
    return out


def jax_functions():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def separable_jax(x):
        return jnp.sum(jnp.log(1 + jnp.exp(x)) * x)

    def coupled_jax(x):
        return separable_jax(x) + 0.5 * jnp.sum(x[1:] * x[:-1])

    out = {}
    for name, f in (("separable", separable_jax), ("coupled", coupled_jax)):
        hvp = jax.jit(lambda x, v, f=f: jax.jvp(jax.grad(f), (x,), (v,))[1])
        hessian = jax.jit(jax.hessian(f))
        out[name] = (lambda x, v, h=hvp: h(x, v).block_until_ready(),
                     lambda x, h=hessian: h(x).block_until_ready())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the times to this file (for run.py)")
    options = parser.parse_args()
    pin_to_one_core()
    measured: dict[str, dict] = {"hvp": {}, "hessian": {}}
    rng = np.random.default_rng(0)
    peers = jax_functions()
    rows = ["| problem | n | symdiff grad | symdiff HVP | JAX HVP | hand NumPy HVP | "
            "symdiff HVP / JAX | symdiff HVP / grad |", "|---|---|---|---|---|---|---|---|"]
    hessians = ["| problem | n | symdiff hessian | JAX hessian | symdiff / JAX |",
                "|---|---|---|---|---|"]
    for name, f in (("separable", separable), ("coupled", coupled)):
        gradient = symdiff.grad(f)
        for n in SIZES:
            x, v = rng.standard_normal(n), rng.standard_normal(n)
            want = hand_written_hvp(x, v, f is coupled)

            def hvp(x, v, gradient=gradient):
                return symdiff.jvp(gradient, (x,), (v,))[1]
            assert np.allclose(hvp(x, v), want, rtol=1e-10, atol=1e-12)
            t_grad = median_seconds(gradient, (x,))
            t_hvp = median_seconds(hvp, (x, v))
            coupling = f is coupled
            t_hand = median_seconds(lambda x, v, c=coupling: hand_written_hvp(x, v, c), (x, v))
            if peers:
                assert np.allclose(peers[name][0](x, v), want, rtol=1e-10, atol=1e-12)
                t_jax = median_seconds(peers[name][0], (x, v))
                jax_text, ratio = f"{t_jax * 1e3:.3f} ms", f"{t_hvp / t_jax:.2f}"
            else:
                jax_text, ratio = "not installed", "-"
            measured["hvp"][f"{name} {n}"] = {"symdiff": t_hvp, "jax": t_jax if peers else None}
            rows.append(f"| {name} | {n:,} | {t_grad * 1e3:.3f} ms | {t_hvp * 1e3:.3f} ms | "
                        f"{jax_text} | {t_hand * 1e3:.3f} ms | {ratio} | "
                        f"{t_hvp / t_grad:.2f} |")
            print(rows[-1], flush=True)
        x = rng.standard_normal(HESSIAN_SIZE)
        hessian = symdiff.hessian(f)
        h = hessian(x)
        assert np.allclose(h @ x, hand_written_hvp(x, x, f is coupled), rtol=1e-10)
        t_sym = median_seconds(hessian, (x,))
        if peers:
            assert np.allclose(peers[name][1](x), h, rtol=1e-10, atol=1e-12)
            t_jax = median_seconds(peers[name][1], (x,))
            jax_text, ratio = f"{t_jax * 1e3:.3f} ms", f"{t_sym / t_jax:.2f}"
        else:
            jax_text, ratio = "not installed", "-"
        measured["hessian"][f"{name} {HESSIAN_SIZE}"] = {"symdiff": t_sym,
                                                         "jax": t_jax if peers else None}
        hessians.append(f"| {name} | {HESSIAN_SIZE:,} | {t_sym * 1e3:.3f} ms | {jax_text} | "
                        f"{ratio} |")
        print(hessians[-1], flush=True)
    print("\n".join(rows))
    print()
    print("\n".join(hessians))
    if options.json:
        Path(options.json).write_text(json.dumps(measured))


if __name__ == "__main__":
    main()
