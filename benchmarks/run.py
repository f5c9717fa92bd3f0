"""Value-and-gradient timings of symdiff against hand-written code and peers, in one process.

    python benchmarks/run.py            # full sizes; writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # smaller sizes, prints only

Every method's value and gradient is first checked against the hand-written NumPy gradient.
Runs on one core with thread pools capped, so ratios compare like with like. Peers that are
not installed (JAX, PyTorch, autograd) are reported as such.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from problems import PROBLEMS, jax_loss  # noqa: E402
from timing import median_seconds  # noqa: E402, F401  (also imported from here)

import symdiff  # noqa: E402


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def flatten(result):
    value, grads = result
    grads = grads if isinstance(grads, tuple) else (grads,)
    return float(value), [np.asarray(g, dtype=float) for g in grads]


def agrees(result, reference) -> bool:
    (v, gs), (rv, rgs) = flatten(result), flatten(reference)
    if not np.isclose(v, rv, rtol=1e-7) or len(gs) != len(rgs):
        return False
    return all(g.shape == r.shape and np.allclose(g, r, rtol=1e-6, atol=1e-12)
               for g, r in zip(gs, rgs, strict=True))


def gpu_available() -> bool:
    from numba import config, cuda

    return not config.ENABLE_CUDASIM and cuda.is_available()


def methods(problem):
    out = {
        "symdiff numba": symdiff.value_and_grad(problem.loss, problem.argnums, backend="numba"),
        "symdiff numpy": symdiff.value_and_grad(problem.loss, problem.argnums, backend="numpy"),
        "hand NumPy": problem.numpy_vg,
        "hand Numba": problem.numba_vg,
    }
    if gpu_available():  # arrays go to the GPU and back on every call: timed end to end
        out["symdiff cuda"] = symdiff.value_and_grad(problem.loss, problem.argnums,
                                                     backend="cuda")
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        compiled = jax.jit(jax.value_and_grad(jax_loss(problem.key), problem.argnums))
        # JAX dispatches asynchronously: time until the results exist
        out["JAX jit"] = lambda *a: jax.block_until_ready(compiled(*a))
    except ImportError:
        out["JAX jit"] = None
    return out


FIRST_CALL = """
import json, logging, sys, time
t0 = time.perf_counter()
import symdiff
t1 = time.perf_counter()
stages = {{}}

class Stages(logging.Handler):  # the time of each stage, from symdiff's log
    def emit(self, record):
        if getattr(record, "stage", None):
            stages[record.stage] = stages.get(record.stage, 0.0) + record.seconds

logging.getLogger("symdiff").addHandler(Stages())
logging.getLogger("symdiff").setLevel(logging.DEBUG)
sys.path.insert(0, {here!r})
from problems import PROBLEMS
p = [p for p in PROBLEMS if p.key == {key!r}][0]
args = p.data({quick})
t2 = time.perf_counter()
symdiff.value_and_grad(p.loss, p.argnums, backend="numba")(*args)
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first_call": t3 - t2, "stages": stages,
                   "sympy": "sympy" in sys.modules, "libcst": "libcst" in sys.modules}}))
"""


def first_calls(key: str, quick: bool) -> dict:
    """First call in a new process with a cold cache, then in another with the warm cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMDIFF_CACHE_DIR": cache}
        code = FIRST_CALL.format(here=str(HERE), key=key, quick=quick)
        runs = [json.loads(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(2)]
    return {"cold": runs[0], "warm": runs[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, no RESULTS.md")
    parser.add_argument("--problems", default="", help="comma-separated keys, e.g. P1,P3")
    options = parser.parse_args()
    pin_to_one_core()
    chosen = [p for p in PROBLEMS if not options.problems or p.key in options.problems.split(",")]
    rows = []
    for problem in chosen:
        args = problem.data(options.quick)
        reference = problem.numpy_vg(*args)
        times, notes = {}, {}
        for name, fun in methods(problem).items():
            if fun is None:
                notes[name] = "not installed"
                continue
            result = fun(*args)
            if not agrees(result, reference):
                raise SystemExit(f"{problem.key} {name}: disagrees with the hand-written gradient")
            times[name] = median_seconds(fun, args)
        forward = median_seconds(problem.loss, args)
        calls = first_calls(problem.key, options.quick)
        rows.append((problem, times, notes, forward, calls))
        print(report_row(problem, times, forward, calls), flush=True)
    if not options.quick:
        import generation

        parallel, second_order = child_json("parallel.py"), child_json("hvp.py")

        small, big = generation.generation_seconds(10), generation.generation_seconds(1_000_000)
        text = results_markdown(rows) + targets_markdown(rows, parallel, second_order) + (
            "\n## Generation cost does not depend on array sizes\n\n"
            "Logistic regression, generated from scratch (SymPy caches cleared) for each "
            "repeat (`python benchmarks/generation.py`):\n\n"
            f"| N = 10 | N = 10^6 | ratio |\n|---|---|---|\n"
            f"| {fmt(small)} | {fmt(big)} | {big / small:.2f} |\n\n"
            "The generated source is byte-identical for both sizes (`tests/test_codegen.py`).\n"
            "\n" + (HERE / "NOTES.md").read_text())
        (HERE / "RESULTS.md").write_text(text)
        print(f"wrote {HERE / 'RESULTS.md'}")


def child_json(script: str) -> dict:
    """What ``script --json`` measured, run in a new process on every core (it sets its own
    thread pools: ``parallel.py`` uses every core, ``hvp.py`` pins itself to one)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    every_core = (lambda: os.sched_setaffinity(0, range(os.cpu_count()))) \
        if hasattr(os, "sched_setaffinity") else None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "measured.json"
        subprocess.run([sys.executable, str(HERE / script), "--json", str(path)], env=env,
                       preexec_fn=every_core, check=True)
        return json.loads(path.read_text())


def targets_markdown(rows, parallel: dict, second_order: dict) -> str:
    """Each target of the performance work, with what this run measured: met or missed."""
    lines = ["## Targets", "",
             "Each target with this run's measurement. The causes of the misses, and their "
             "fixes, are in the notes below.", "",
             "| target | measured | |", "|---|---|---|"]

    def target(text: str, measured: str, met: bool) -> None:
        lines.append(f"| {text} | {measured} | {'met' if met else '**missed**'} |")

    for problem, times, _, forward, calls in rows:
        key, ours = problem.key, times["symdiff numba"]
        if key == "P1":
            target("P1: a value-and-gradient call at most 2 us, wrapper included", fmt(ours),
                   ours <= 2e-6)
        else:
            ratio = ours / times["hand Numba"]
            target(f"{key}: at most 1.1x hand-written fused Numba (one core)", f"{ratio:.2f}x",
                   ratio <= 1.1)
        if "JAX jit" in times:
            ratio = ours / times["JAX jit"]
            target(f"{key}: faster than JAX jit (one core)", f"{ratio:.2f}x", ratio < 1)
        target(f"{key}: value and gradient at most 2x the NumPy forward", f"{ours / forward:.2f}x",
               ours <= 2 * forward)
        cold, warm = calls["cold"]["first_call"], calls["warm"]["first_call"]
        target(f"{key}: first call, cold, at most 2 s", fmt(cold), cold <= 2)
        target(f"{key}: first call, warm cache, new process, at most 0.3 s", fmt(warm),
               warm <= 0.3)
    cores = parallel["cores"]
    for key in sorted(k for k in parallel if k != "cores"):
        times = parallel[key]
        speedup = times["serial"] / times["parallel"]
        target(f"{key}: `parallel=True` on {cores} cores at least 1.7x one core",
               f"{speedup:.2f}x", speedup >= 1.7)
        if "jax" in times:
            ratio = times["parallel"] / times["jax"]
            target(f"{key}: `parallel=True` faster than JAX jit on {cores} cores",
                   f"{ratio:.2f}x", ratio < 1)
    for kind, label in (("hvp", "Hessian-vector product"), ("hessian", "Hessian")):
        for problem, times in second_order[kind].items():
            if times["jax"] is not None:
                ratio = times["symdiff"] / times["jax"]
                target(f"{label}, {problem}: faster than JAX (structured problems)",
                       f"{ratio:.2f}x", ratio < 1)
    lines += ["", "## First call: where the time goes", "",
              "Seconds of each stage (symdiff's log), in a new process: cold generates and "
              "compiles; warm finds the module in the disk cache. `other` is the rest (loading "
              "SymPy and libcst to generate, Numba's start).", "",
              "| problem | run | first call | " + " | ".join(_STAGES) + " | other |",
              "|---|---|---|" + "---|" * (len(_STAGES) + 1)]
    for problem, _, _, _, calls in rows:
        for run in ("cold", "warm"):
            found = calls[run]["stages"]
            cells = [f"{found[s]:.3f}" if s in found else "-" for s in _STAGES]
            other = calls[run]["first_call"] - sum(found.values())
            lines.append(f"| {problem.key} | {run} | {calls[run]['first_call']:.3f} | "
                         f"{' | '.join(cells)} | {other:.3f} |")
    return "\n".join(lines) + "\n"


_STAGES = ("trace", "simplify", "derive", "emit", "compile", "import cached", "load compiled")


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def report_row(problem, times, forward, calls) -> str:
    ours = times["symdiff numba"]
    parts = [f"{problem.key} {problem.title}:"] + [f"{k} {fmt(v)}" for k, v in times.items()]
    parts.append(f"| numba/hand-Numba {ours / times['hand Numba']:.2f}")
    if "JAX jit" in times:
        parts.append(f"numba/JAX {ours / times['JAX jit']:.2f}")
    parts.append(f"v&g/forward {ours / forward:.2f}")
    parts.append(f"first call cold {fmt(calls['cold']['first_call'])}, "
                 f"warm {fmt(calls['warm']['first_call'])}")
    return " ".join(parts)


def gpu_markdown(rows) -> list[str]:
    if not any("symdiff cuda" in times for _, times, _, _, _ in rows):
        return ["## GPU (`backend=\"cuda\"`)", "",
                "Not measured: this machine has no NVIDIA GPU (the CUDA backend is tested on "
                "Numba's simulator).", ""]
    from numba import cuda

    lines = ["## GPU (`backend=\"cuda\"`)", "",
             f"Device: {cuda.get_current_device().name.decode()}. Each call copies the "
             "arguments to the GPU and the results back, so these are end-to-end times.", "",
             "| problem | symdiff cuda | cuda / hand Numba (CPU) | cuda / JAX jit (CPU) |",
             "|---|---|---|---|"]
    for problem, times, _, _, _ in rows:
        ours = times["symdiff cuda"]
        jax_ratio = f"{ours / times['JAX jit']:.2f}" if "JAX jit" in times else "-"
        lines.append(f"| {problem.key} | {fmt(ours)} | {ours / times['hand Numba']:.2f} | "
                     f"{jax_ratio} |")
    return lines + [""]


def results_markdown(rows) -> str:
    import numba

    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}",
                f"Numba {numba.__version__}"]
    try:
        import jax

        versions.append(f"JAX {jax.__version__}")
    except ImportError:
        versions.append("JAX not installed")
    lines = [
        "# Benchmark results", "",
        f"`python benchmarks/run.py`, {datetime.date.today().isoformat()}. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores (shared), pinned to one core with thread "
        f"pools capped. {', '.join(versions)}. Medians of repeats; ratios from the same run.",
        "",
        "## Value and gradient", "",
        "| problem | symdiff numba | symdiff numpy | hand NumPy | hand Numba | JAX jit | "
        "numba / hand Numba | numba / JAX | v&g / forward |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for problem, times, notes, forward, _ in rows:
        cells = [fmt(times[k]) if k in times else notes.get(k, "-") for k in
                 ("symdiff numba", "symdiff numpy", "hand NumPy", "hand Numba", "JAX jit")]
        ours = times["symdiff numba"]
        jax_ratio = f"{ours / times['JAX jit']:.2f}" if "JAX jit" in times else "-"
        lines.append(f"| {problem.key} {problem.title} | {' | '.join(cells)} | "
                     f"{ours / times['hand Numba']:.2f} | {jax_ratio} | {ours / forward:.2f} |")
    lines += ["", "v&g / forward divides symdiff numba's value and gradient by the user's NumPy "
              "function alone.", ""]
    lines += gpu_markdown(rows)
    lines += [
              "## First call (new process, after `import symdiff`)", "",
              "| problem | import symdiff | cold: generate + compile | warm cache | "
              "warm call loads SymPy / libcst |", "|---|---|---|---|---|"]
    for problem, _, _, _, calls in rows:
        warm = calls["warm"]
        lines.append(f"| {problem.key} | {fmt(calls['cold']['import'])} | "
                     f"{fmt(calls['cold']['first_call'])} | {fmt(warm['first_call'])} | "
                     f"{'yes' if warm['sympy'] else 'no'} / {'yes' if warm['libcst'] else 'no'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
