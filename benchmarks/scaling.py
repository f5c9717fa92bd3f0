"""Gradients over Dask arrays on a LocalCluster of two worker processes, against the in-memory
Numba gradient on one core; and the array_api target on NumPy arrays against the NumPy target.

    python benchmarks/scaling.py            # 2e6 x 100, and rows from 5e5 to 4e6
    python benchmarks/scaling.py --quick    # smaller

Each Dask result is checked against the in-memory gradient first. The Dask data is made chunk by
chunk on the workers (``da.random``) and kept in their memory (``persist``), as training data
is; the in-memory arrays are the same numbers, computed into this process. Prints Markdown
tables.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from timing import median_seconds  # noqa: E402

import symdiff  # noqa: E402
from tests.cases.dask_losses import logistic, mlp  # noqa: E402

ONE_CORE = """
import os, sys, json
os.sched_setaffinity(0, {{sorted(os.sched_getaffinity(0))[0]}})
sys.path.insert(0, {here!r}); sys.path.insert(0, {root!r})
import numpy as np, symdiff
from timing import median_seconds
from tests.cases.dask_losses import logistic, mlp
args = [np.load(p) for p in {paths!r}]
fun = {{"logistic": logistic, "mlp": mlp}}[{name!r}]
g = symdiff.value_and_grad(fun, {argnums!r})
g(*args)
print(json.dumps(median_seconds(g, args, budget=0.0, least=3)))
"""


def one_core_seconds(name: str, args: list, argnums: tuple, folder: Path) -> float:
    """The in-memory Numba value and gradient, in a process pinned to one core."""
    paths = []
    for k, a in enumerate(args):
        paths.append(str(folder / f"{name}_{k}.npy"))
        np.save(paths[-1], a)
    code = ONE_CORE.format(here=str(HERE), root=str(HERE.parent), paths=paths, name=name,
                           argnums=argnums)
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def problem(name: str, n: int, d: int = 100, chunk: int = 250_000):
    """The Dask arguments, made on the workers, and the argnums of the parameters."""
    import dask.array as da

    X = da.random.RandomState(0).standard_normal((n, d), chunks=(chunk, d))
    if name == "logistic":
        y = (da.random.RandomState(1).random_sample(n, chunks=chunk) < 0.5).astype(float)
        return [np.full(d, 0.01), X, y], (0,)
    y = (da.random.RandomState(1).random_sample((n, 1), chunks=(chunk, 1)) < 0.5).astype(float)
    rng = np.random.default_rng(0)
    return [X, y, rng.standard_normal((d, 32)) * 0.1, np.zeros(32),
            rng.standard_normal((32, 1)) * 0.1, np.zeros(1)], (2, 3, 4, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    import tempfile

    import dask
    from dask.distributed import Client, LocalCluster

    rows = 200_000 if options.quick else 2_000_000
    growth = (100_000, 200_000, 400_000) if options.quick else \
        (500_000, 1_000_000, 2_000_000, 4_000_000)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster), \
            tempfile.TemporaryDirectory() as folder:
        print(f"## Dask: 2 worker processes against one core in memory ({rows:,} x 100)\n")
        print("| problem | Dask, 2 workers | in memory, 1 core | 1 core / Dask |")
        print("|---|---|---|---|")
        for name in ("logistic", "mlp"):
            args, argnums = problem(name, rows)
            args = list(dask.persist(*args))  # in the workers' memory, as training data is
            fun = logistic if name == "logistic" else mlp
            g = symdiff.value_and_grad(fun, argnums)
            local = [np.asarray(a) for a in dask.compute(*args)]
            value, grads = g(*args)
            want_value, want = symdiff.value_and_grad(fun, argnums, backend="numpy")(*local)
            assert np.isclose(value, want_value, rtol=1e-9)
            grads = grads if isinstance(grads, tuple) else (grads,)
            want = want if isinstance(want, tuple) else (want,)
            assert all(np.allclose(a, b, rtol=1e-8, atol=1e-12)
                       for a, b in zip(grads, want, strict=True))
            on_dask = median_seconds(g, args, budget=0.0, least=3)
            alone = one_core_seconds(name, local, argnums, Path(folder))
            print(f"| {name} | {on_dask:.3f} s | {alone:.3f} s | {alone / on_dask:.2f} |",
                  flush=True)
            del local
        print("\n## Dask: time per row as the rows grow (logistic regression, 2 workers)\n")
        print("| rows | Dask, 2 workers | per million rows |")
        print("|---|---|---|")
        g = symdiff.value_and_grad(logistic)
        for n in growth:
            args = list(dask.persist(*problem("logistic", n)[0]))
            g(*args)
            seconds = median_seconds(g, args, budget=0.0, least=3)
            print(f"| {n:,} | {seconds:.3f} s | {seconds / n * 1e6:.3f} s |", flush=True)
    print("\n## The array_api target on NumPy arrays against the NumPy target\n")
    print("| problem | numpy target | array_api target | array_api / numpy |")
    print("|---|---|---|---|")
    rng = np.random.default_rng(0)
    n = 20_000 if options.quick else 200_000
    X, y, w = rng.standard_normal((n, 100)), (rng.random(n) < 0.5).astype(float), \
        np.full(100, 0.01)
    for backend_args, name in (((w, X, y), "logistic 2e5 x 100"),
                               ((w[:2], X[:1000, :2], y[:1000]), "logistic 1000 x 2")):
        plain = symdiff.value_and_grad(logistic, backend="numpy")
        standard = symdiff.value_and_grad(logistic, backend="array_api")
        assert np.allclose(plain(*backend_args)[1], standard(*backend_args)[1], rtol=1e-12)
        a, b = median_seconds(plain, backend_args), median_seconds(standard, backend_args)
        print(f"| {name} | {a * 1e3:.3f} ms | {b * 1e3:.3f} ms | {b / a:.2f} |", flush=True)


if __name__ == "__main__":
    main()
