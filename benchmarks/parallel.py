"""symdiff's ``parallel=True`` on every core against its code on one core, and JAX jit on every
core, for the problems whose loops have independent iterations (P2, P3, P5, P6), in one run.

    python benchmarks/parallel.py            # full sizes
    python benchmarks/parallel.py --quick    # smaller sizes

Every method is first checked against the hand-written NumPy gradient. "symdiff 1 core" is the
serial code (``parallel=False``) timed in a child process pinned to one core with every thread
pool at one thread, as ``run.py`` times it; the others run here on every core the process may
use, with Numba's, BLAS's and XLA's thread pools at that size.
"""

from __future__ import annotations

import os
import sys

ONE_CORE = "--one-core" in sys.argv
CORES = 1 if ONE_CORE else len(os.sched_getaffinity(0))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(CORES)  # before NumPy loads its BLAS
if ONE_CORE:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from problems import PROBLEMS, jax_loss  # noqa: E402
from timing import median_seconds  # noqa: E402

import symdiff  # noqa: E402

KEYS = ("P2", "P3", "P5", "P6")


def checked(problem, fun, args) -> float:
    """``fun``'s median time, once its value and gradient are the hand-written NumPy ones."""
    value, grads = fun(*args)
    want, want_grads = problem.numpy_vg(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    want_grads = want_grads if isinstance(want_grads, tuple) else (want_grads,)
    if not np.isclose(value, want, rtol=1e-9) or not all(
            np.allclose(g, w, rtol=1e-9, atol=1e-12) for g, w in zip(grads, want_grads,
                                                                      strict=True)):
        raise AssertionError(f"{problem.key}: wrong value or gradient")
    return median_seconds(fun, args)


def one_core_times(quick: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--one-core"] + ["--quick"] * quick,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one-core", action="store_true")
    parser.add_argument("--json", help="also write the times to this file (for run.py)")
    options = parser.parse_args()
    problems = [p for p in PROBLEMS if p.key in KEYS]
    if options.one_core:
        print(json.dumps({p.key: checked(p, symdiff.value_and_grad(p.loss, p.argnums),
                                         p.data(options.quick)) for p in problems}))
        return
    serial = one_core_times(options.quick)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    print(f"{CORES} cores; NumPy {np.__version__}, Numba {numba.__version__}, "
          f"JAX {jax.__version__ if jax else 'not installed'}")
    rows = ["| problem | symdiff 1 core | symdiff parallel | JAX jit | 1 core / parallel | "
            "parallel / JAX |", "|---|---|---|---|---|---|"]
    measured = {"cores": CORES}
    for p in problems:
        args = p.data(options.quick)
        spread = checked(p, symdiff.value_and_grad(p.loss, p.argnums, parallel=True), args)
        measured[p.key] = {"serial": serial[p.key], "parallel": spread}
        if jax is not None:
            compiled = jax.jit(jax.value_and_grad(jax_loss(p.key), p.argnums))
            peer = checked(p, lambda *a, c=compiled: jax.block_until_ready(c(*a)), args)
            measured[p.key]["jax"] = peer
            versus = f"{fmt(peer)} | {serial[p.key] / spread:.2f} | {spread / peer:.2f}"
        else:
            versus = f"not installed | {serial[p.key] / spread:.2f} | -"
        rows.append(f"| {p.title} | {fmt(serial[p.key])} | {fmt(spread)} | {versus} |")
        print(rows[-1], flush=True)
    print("\n".join(rows))
    if options.json:
        Path(options.json).write_text(json.dumps(measured))


if __name__ == "__main__":
    main()
