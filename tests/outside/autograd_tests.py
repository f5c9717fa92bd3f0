"""Run autograd's own test files against symdiff or JAX and count the NumPy/SciPy functions
each engine differentiates correctly.

    python -m tests.outside.autograd_tests --autograd /tmp/autograd_src
        [--engine symdiff|jax|both] [--backend numpy|numba] [--via vjp|grad]
        [-k substring] [--out results.json] [-v]

The test files are imported from ``<autograd>/tests`` with a stand-in ``autograd`` package
(``tests/outside/autograd_shim.py``): ``np`` is NumPy/SciPy for symdiff and ``jax.numpy``/
``jax.scipy`` for JAX, ``check_grads``/``combo_check`` check the engine's reverse-mode
derivative against central differences (``tests/outside/autograd_engines.py``), first order
only, and ``grad`` is the engine's. Every call of ``check_grads`` is one case, caught on its
own; a test passes when all of its cases (with real inputs) pass.

A case is pass, refused (the engine said clearly it does not support something), wrong (a
derivative disagrees with finite differences, a value with NumPy's, or an assertion of the
test failed), crash (any other exception), skipped (complex inputs: symdiff is real-only) or
na (NumPy/SciPy itself rejects the call: autograd's own signature, not NumPy's).

A test exercises the NumPy/SciPy functions passed to ``check_grads``/``combo_check`` and those
named in the functions it differentiates (its nested ``def``s and lambdas and the module
functions they reach); a function is supported by an engine when every test exercising it
passes. The summary goes to stdout as markdown, the details to ``--out`` as JSON. With
``--engine both`` (the default) the engines run one after the other, each in its own
process, and the summary compares them.

This file is not collected by pytest (its name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import functools
import importlib
import inspect
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import tokenize
import traceback
import types
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

FILES = ["test_numpy", "test_systematic", "test_scipy", "test_linalg", "test_binary_ops",
         "test_scalar_ops", "test_builtins", "test_truediv", "test_logic", "test_list",
         "test_tuple", "test_dict"]

SKIPPED_FILES = {
    "test_vspaces": "autograd's vector spaces (its machinery)",
    "test_wrappers": "autograd's function wrappers (jacobian, hessian_tensor_product, "
                     "checkpoint, ...): its own API",
    "test_graphs": "autograd's tracing of graphs (its machinery)",
    "test_complex": "complex numbers: symdiff is real-only",
    "test_fft": "np.fft on complex values: symdiff is real-only",
    "test_direct": "autograd's direct-mode helpers (its machinery)",
    "test_jacobian": "autograd.jacobian (its own API)",
    "test_core": "autograd's core (its machinery)",
    "test_misc": "autograd's misc utilities (its machinery)",
    "test_tests": "tests of autograd's test_util",
    "test_performance": "no tests",
    "test_ufunc_dispatch": "autograd's ArrayBox dispatch of ufuncs (its machinery)",
    "_test_complexity": "not a test file (timing)",
}

SKIPPED_TESTS = {
    "test_numpy.test_numpy_version": "compares autograd.numpy.__version__ with NumPy's "
                                     "(autograd's packaging)",
    "test_logic.test_nograd": "expects autograd's TypeError for a function returning a bool "
                              "(autograd's error contract)",
    "test_logic.test_no_vjp_def": "autograd.extend.primitive without a vjp (its machinery)",
    "test_logic.test_no_jvp_def": "autograd.extend.primitive / deriv (its machinery)",
    "test_logic.test_unimplemented_falseyness": "removes autograd's vjp of np.iscomplex "
                                                "(its machinery)",
}

# calls whose first argument is a function the test differentiates
CHECK_CALLS = {"check_grads", "combo_check", "stat_check", "unary_ufunc_check",
               "binary_ufunc_check", "binary_ufunc_check_no_same_args", "grad",
               "value_and_grad", "check_symmetric_matrix_grads", "symmetrize_matrix_arg",
               "partial"}
LEXICAL = {"r_", "c_"}  # NumPy objects that are indexed rather than called
NDARRAY_METHODS = {a for a in dir(np.ndarray) if not a.startswith("_")
                   and callable(getattr(np.ndarray, a))} | {"T"}


class Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise Timeout("timed out")


# ----------------------------------------------------------------------------- one engine


class Runner:
    def __init__(self, engine: Any, tests_dir: str, case_timeout: int, test_timeout: int):
        self.engine, self.tests_dir = engine, os.path.realpath(tests_dir)
        self.case_timeout, self.test_timeout = case_timeout, test_timeout
        self.record: dict[str, Any] | None = None
        self.passed_functions: list[Any] = []

    # the checker every check_grads call reaches
    def check(self, fun: Callable, argnum: Any, args: tuple, kwargs: dict, order: int,
              modes: Any) -> None:
        from tests.outside import autograd_engines as engines

        record = self.record
        assert record is not None
        index = len(record["cases"])
        seed = zlib.crc32(f"{record['id']}#{index}".encode()) % (2 ** 31)
        self.passed_functions.append(fun)
        left = signal.alarm(0)
        started = time.time()
        signal.alarm(min(self.case_timeout, left) if left else self.case_timeout)
        try:
            outcome = engines.check(self.engine, fun, argnum, args, kwargs, seed).as_dict()
        except Timeout:
            outcome = {"status": "crash", "message": f"Timeout: over {self.case_timeout} s"}
        except Exception as exc:  # noqa: BLE001 - the harness's own failure, kept per case
            outcome = {"status": "crash", "message": f"harness: {type(exc).__name__}: {exc}",
                       "traceback": traceback.format_exc(limit=-4)}
        finally:
            signal.alarm(0)
            if left:
                signal.alarm(max(1, left - int(time.time() - started)))
        outcome.update({"function": describe(fun), "argnum": repr(argnum), "order": order,
                        "modes": modes})
        record["cases"].append(outcome)

    def run_test(self, module: types.ModuleType, name: str, fn: Callable,
                 params: dict[str, Any], test_id: str) -> dict[str, Any]:
        from tests.outside import autograd_shim as shim

        record: dict[str, Any] = {"id": test_id, "file": module.__name__, "name": name,
                                  "cases": [], "exception": None}
        self.record = record
        self.passed_functions = []
        shim.FALLBACKS.clear()
        if hasattr(self.engine, "fallbacks"):
            self.engine.fallbacks = shim.FALLBACKS
        np.random.seed(42)  # autograd's conftest seeds every test
        started = time.time()
        signal.alarm(self.test_timeout)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(**params)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - pytest.fail's exceptions included
            record["exception"] = self.classify(exc)
        finally:
            signal.alarm(0)
        record["seconds"] = round(time.time() - started, 2)
        record["fallbacks"] = sorted(set(shim.FALLBACKS))
        record["status"] = aggregate(record)
        record["order2_requested"] = any((c.get("order") or 1) > 1 for c in record["cases"])
        record["functions"] = sorted(self.functions_of(module, fn))
        self.record = None
        return record

    def classify(self, exc: BaseException) -> dict[str, Any]:
        where = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if os.path.realpath(frame.filename).startswith(self.tests_dir):
                where = f"{os.path.basename(frame.filename)}:{frame.lineno}: {frame.line}"
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, Timeout):
            status, message = "crash", f"Timeout: over {self.test_timeout} s"
        elif isinstance(exc, AssertionError):
            status, message = "wrong", f"assertion of the test failed: {where}" + (
                f" ({text})" if text else "")
        elif not self.engine.owns(exc):
            status = "crash"
            message = f"outside the engine: {type(exc).__name__}: {text}"
        elif self.engine.is_refusal(exc):
            status = "refused"
            message = text if self.engine.name == "symdiff" else \
                f"{type(exc).__name__}: {text}"
            fallbacks = getattr(self.engine, "fallbacks", None)
            if fallbacks:
                message = f"not in JAX: {', '.join(sorted(set(fallbacks)))} ({message})"
        else:
            status, message = "crash", f"{type(exc).__name__}: {text}"
        return {"status": status, "message": message, "where": where,
                "traceback": traceback.format_exc(limit=-6)}

    # -------------------------------------------------------------- functions exercised

    def functions_of(self, module: types.ModuleType, fn: Callable) -> set[str]:
        names = set()
        try:
            names |= static_names(module, fn)
        except (OSError, SyntaxError, TypeError):
            pass
        seen: set[int] = set()
        for f in self.passed_functions:
            names |= self.runtime_names(f, seen, 0)
        return names

    def runtime_names(self, fun: Any, seen: set[int], depth: int) -> set[str]:
        from tests.outside import autograd_shim as shim

        if id(fun) in seen or depth > 6:
            return set()
        seen.add(id(fun))
        path = shim.path_of(fun)
        if path is not None:
            return {p for p in [verified(path)] if p}
        if isinstance(fun, functools.partial):
            found = self.runtime_names(fun.func, seen, depth + 1)
            for a in list(fun.args) + list(fun.keywords.values()):
                if callable(a):
                    found |= self.runtime_names(a, seen, depth + 1)
            return found
        if not inspect.isfunction(fun):
            return set()
        try:
            filename = os.path.realpath(inspect.getsourcefile(fun) or "")
            source = inspect.getsource(fun)
        except (OSError, TypeError):
            return set()
        if not filename.startswith(self.tests_dir):
            return set()
        scope = dict(vars(builtins))
        scope.update(fun.__globals__)
        try:
            scope.update(inspect.getclosurevars(fun).nonlocals)
        except (TypeError, ValueError):
            pass
        found = set()
        for chain in dotted_names(source):
            name = resolve(chain, scope)
            if name:
                found.add(name)
            elif len(chain) == 1 and chain[0] in scope:
                obj = scope[chain[0]]
                if callable(obj) and obj is not fun:
                    found |= self.runtime_names(obj, seen, depth + 1)
        return found


def verified(path: str) -> str | None:
    """``path`` if it names a NumPy/SciPy function (not a type, not numpy.random)."""
    from tests.outside import autograd_shim as shim

    if path.startswith("ndarray."):
        return path
    if path.startswith("numpy.random") or path.split(".")[0] not in ("numpy", "scipy"):
        return None
    try:
        obj = shim.real_object(path)
    except (ImportError, AttributeError):
        return None
    if path.split(".")[-1] in LEXICAL:
        return path
    if not callable(obj) or isinstance(obj, (type, types.ModuleType)) or \
            shim._is_namespace(obj):  # a distribution object (scipy.stats.norm)
        return None
    return path


def resolve(chain: list[str], scope: dict[str, Any]) -> str | None:
    """The NumPy/SciPy path a dotted name (``np.linalg.det``, ``stats.norm.logpdf``) read in
    ``scope`` stands for; ``ndarray.<method>`` for a method of a local name; or None."""
    from tests.outside import autograd_shim as shim

    if chain[0] not in scope:
        if len(chain) == 2 and chain[1] in NDARRAY_METHODS:
            return f"ndarray.{chain[1]}"
        return None
    obj = scope[chain[0]]
    rest = chain[1:]
    for i in range(len(rest) + 1):
        if isinstance(obj, shim.Namespace):
            return verified(".".join([obj._path] + rest[i:]))
        if isinstance(obj, types.ModuleType) and obj.__name__.split(".")[0] in ("numpy",
                                                                                  "scipy"):
            return verified(".".join([obj.__name__] + rest[i:]))
        path = shim.path_of(obj)
        if path is not None:
            return verified(".".join([path] + rest[i:]))
        if i == len(rest):
            break
        obj = getattr(obj, rest[i], None)
        if obj is None:
            return None
    return None


def dotted_names(source: str) -> list[list[str]]:
    """The names and dotted names (``np.linalg.det``) in Python source, comments and strings
    left out; tolerant of a fragment (a lambda's line)."""
    chains: list[list[str]] = []
    current: list[str] = []
    expect_name = True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline):
            if tok.type == tokenize.NAME and expect_name:
                current.append(tok.string)
                expect_name = False
            elif tok.type == tokenize.OP and tok.string == "." and current:
                expect_name = True
            else:
                if current:
                    chains.append(current)
                current, expect_name = [], True
                if tok.type == tokenize.NAME:
                    current, expect_name = [tok.string], False
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    if current:
        chains.append(current)
    return chains


def static_names(module: types.ModuleType, fn: Callable) -> set[str]:
    """Functions named in the test's nested functions and lambdas and in the function
    position of its check_grads/combo_check/grad calls."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    test = tree.body[0]
    regions: list[ast.AST] = []
    for node in ast.walk(test):
        if node is test:
            continue
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            regions.append(node)
        elif isinstance(node, ast.Call) and node.args:
            callee = node.func
            name = callee.id if isinstance(callee, ast.Name) else \
                callee.attr if isinstance(callee, ast.Attribute) else None
            if name in CHECK_CALLS:
                regions.append(node.args[0])
    scope = dict(vars(builtins))
    scope.update(vars(module))
    found = set()
    for region in regions:
        for node in ast.walk(region):
            chain = _chain(node)
            if chain:
                name = resolve(chain, scope)
                if name:
                    found.add(name)
    return found


def _chain(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and parts:
        return [node.id] + parts[::-1]
    return None


def describe(fun: Any) -> str:
    from tests.outside import autograd_shim as shim

    path = shim.path_of(fun)
    if path:
        return path
    name = getattr(fun, "__qualname__", None) or getattr(fun, "__name__", None)
    if name is None and hasattr(fun, "func"):
        return f"partial({describe(fun.func)})"
    module = getattr(fun, "__module__", "") or ""
    return f"{module}.{name}" if name else type(fun).__name__


def aggregate(record: dict[str, Any]) -> str:
    statuses = [c["status"] for c in record["cases"]]
    if record["exception"]:
        statuses.append(record["exception"]["status"])
    for worst in ("wrong", "crash", "refused"):
        if worst in statuses:
            return worst
    if "pass" in statuses or not statuses:
        return "pass"
    return "skipped" if "skipped" in statuses else "na"


def parametrized(fn: Callable) -> list[tuple[str, dict[str, Any]]]:
    """pytest's parametrize marks on ``fn``, expanded: (suffix, keyword arguments)."""
    marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        return [("", {})]
    axes = []
    for mark in marks:
        names = [n.strip() for n in (mark.args[0].split(",") if isinstance(mark.args[0], str)
                                     else mark.args[0])]
        values = [v if len(names) > 1 else (v,) for v in mark.args[1]]
        axes.append([dict(zip(names, v, strict=True)) for v in values])
    out = []
    for combination in itertools.product(*axes):
        params = {k: v for part in combination for k, v in part.items()}
        suffix = "[" + ",".join(f"{k}={v!r}" for k, v in params.items()) + "]"
        out.append((suffix, params))
    return out


def listed_tests(path: str) -> list[str]:
    """The names of the test functions a test file defines, in order."""
    tree = ast.parse(open(path).read())
    names: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if node.name not in names:
                    names.append(node.name)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
    visit(tree.body)
    return names


def run_engine(options: argparse.Namespace) -> dict[str, Any]:
    tests_dir = os.path.join(options.autograd, "tests")
    os.environ.setdefault("SYMDIFF_CACHE_DIR", options.cache_dir)
    from tests.outside import autograd_engines as engines
    from tests.outside import autograd_shim as shim

    if options.engine == "symdiff":
        engine: Any = engines.SymdiffEngine(options.backend, options.workdir, options.via)
    else:
        engine = engines.JaxEngine()
    shim.install(engine.name, *engine.api())
    runner = Runner(engine, tests_dir, options.case_timeout, options.test_timeout)
    shim.set_checker(runner.check)
    sys.path.insert(0, tests_dir)
    signal.signal(signal.SIGALRM, _on_alarm)

    results: list[dict[str, Any]] = []
    started = time.time()
    started_commit = _commit()
    for file in FILES:
        path = os.path.join(tests_dir, f"{file}.py")
        wanted = [n for n in listed_tests(path) if not options.k or
                  any(k in f"{file}.{n}" for k in options.k)]
        if not wanted:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(file)
        except Exception as exc:  # noqa: BLE001
            for name in wanted:
                results.append({"id": f"{file}.{name}", "file": file, "name": name,
                                "status": "crash", "cases": [], "functions": [],
                                "exception": {"status": "crash", "message":
                                              f"importing {file}: {type(exc).__name__}: "
                                              f"{exc}"}})
            continue
        for name in wanted:
            fn = getattr(module, name, None)
            test_id = f"{file}.{name}"
            if test_id in SKIPPED_TESTS:
                results.append({"id": test_id, "file": file, "name": name,
                                "status": "excluded", "cases": [], "functions": [],
                                "exception": None, "message": SKIPPED_TESTS[test_id]})
                continue
            if not callable(fn):
                continue
            for suffix, params in parametrized(fn):
                record = runner.run_test(module, name, fn, params, test_id + suffix)
                results.append(record)
                if options.verbose:
                    print(f"{record['status']:8} {record['seconds']:7.2f}s {record['id']}",
                          file=sys.stderr, flush=True)
    return {"engine": engine.name,
            "backend": options.backend if engine.name == "symdiff" else None,
            "via": options.via if engine.name == "symdiff" else None,
            "versions": versions(engine.name, started_commit, _commit()),
            "autograd": options.autograd, "filter": options.k,
            "seconds": round(time.time() - started, 1),
            "tolerance": {"TOL": engines.TOL, "RTOL": engines.RTOL, "EPS": engines.EPS,
                          "recheck_steps": list(engines.RECHECK_STEPS)},
            "skipped_files": SKIPPED_FILES, "excluded_tests": SKIPPED_TESTS,
            "tests": results}


def _commit() -> str:
    """The symdiff checkout's commit, with "+dirty" when symdiff/ has changes not committed
    (another engineer may be editing it while the harness runs)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "symdiff"], cwd=root,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def versions(engine: str, before: str, after: str) -> dict[str, str]:
    out = {"numpy": np.__version__, "symdiff commit at start": before,
           "symdiff commit at end": after}
    with contextlib.suppress(ImportError):
        import scipy
        out["scipy"] = scipy.__version__
    if engine == "jax":
        import jax
        out["jax"] = jax.__version__
    return out


# ----------------------------------------------------------------------------- reporting


def function_table(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each function: the tests exercising it (what any engine's run saw the test
    exercise) and, per engine, whether every one of them passed ("supported") and whether
    at least one did ("passes somewhere")."""
    exercised: dict[str, set[str]] = {}
    for run in runs.values():
        for test in run["tests"]:
            exercised.setdefault(test["id"], set()).update(test["functions"])
    table: dict[str, dict[str, Any]] = {}
    for engine, run in runs.items():
        for test in run["tests"]:
            if test["status"] in ("excluded", "skipped", "na"):
                continue
            for name in sorted(exercised[test["id"]]):
                entry = table.setdefault(name, {"tests": [], "engines": {}})
                if test["id"] not in entry["tests"]:
                    entry["tests"].append(test["id"])
                mine = entry["engines"].setdefault(engine, {"supported": True,
                                                            "passes_somewhere": False,
                                                            "failing": []})
                if test["status"] == "pass":
                    mine["passes_somewhere"] = True
                else:
                    mine["supported"] = False
                    mine["failing"].append({"test": test["id"], "status": test["status"],
                                            "message": first_problem(test)})
    return dict(sorted(table.items()))


def first_problem(test: dict[str, Any]) -> str:
    order = {"wrong": 0, "crash": 1, "refused": 2}
    problems = [(order[c["status"]], c["message"]) for c in test["cases"]
                if c["status"] in order]
    if test.get("exception"):
        e = test["exception"]
        problems.append((order.get(e["status"], 3), e["message"]))
    problems.sort(key=lambda p: p[0])
    return problems[0][1] if problems else ""


def markdown(runs: dict[str, dict[str, Any]]) -> str:
    engines = list(runs)
    table = function_table(runs)
    lines = ["# autograd's tests: " + " vs ".join(engines), ""]
    for engine, run in runs.items():
        backend = f" (backend {run['backend']}, via symdiff.{run.get('via') or 'vjp'})" \
            if run.get("backend") else ""
        found = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
        lines.append(f"- {engine}{backend}: {run['seconds']} s; {found}")
    tol = next(iter(runs.values()))["tolerance"]
    lines += ["", f"Check: <v, J u> by central differences (step {tol['EPS']}) against "
              f"<vjp(v), u>, close when |a-b| < {tol['TOL']} or |a-b|/|a+b| < {tol['RTOL']} "
              f"(autograd's test_util); disagreements rechecked with fourth-order differences "
              f"at steps {tol['recheck_steps']}. First order only.", ""]
    lines += ["## Functions", "",
              "| | " + " | ".join(engines) + " |", "|---|" + "---|" * len(engines)]
    counted = {e: [n for n, f in table.items() if e in f["engines"]] for e in engines}
    all_names = list(table)
    lines.append("| distinct NumPy/SciPy functions exercised | " +
                 " | ".join(str(len(counted[e])) for e in engines) + " |")
    lines.append("| supported (every test exercising it passes) | " + " | ".join(
        str(sum(table[n]["engines"][e]["supported"] for n in counted[e])) for e in engines)
        + " |")
    lines.append("| passes in at least one test exercising it | " + " | ".join(
        str(sum(table[n]["engines"][e]["passes_somewhere"] for n in counted[e]))
        for e in engines) + " |")
    lines += ["", f"{len(all_names)} distinct functions in all.", ""]
    for engine in engines:
        missed = [n for n in counted[engine] if not table[n]["engines"][engine]["supported"]]
        lines += [f"### Missed by {engine} ({len(missed)})", ""]
        for n in missed:
            fails = table[n]["engines"][engine]["failing"]
            first = fails[0]
            more = f" (+{len(fails) - 1} more tests)" if len(fails) > 1 else ""
            lines.append(f"- `{n}`: {first['status']} in {first['test']}{more}: "
                         f"{_short(first['message'])}")
        lines.append("")
    lines += ["## Tests", "", "| test | " + " | ".join(engines) + " | order 2 asked |",
              "|---|" + "---|" * (len(engines) + 1)]
    ids: list[str] = []
    for run in runs.values():
        ids += [t["id"] for t in run["tests"] if t["id"] not in ids]
    by_id = {e: {t["id"]: t for t in run["tests"]} for e, run in runs.items()}
    for test_id in ids:
        cells = []
        order2 = False
        for engine in engines:
            t = by_id[engine].get(test_id)
            if t is None:
                cells.append("")
                continue
            order2 |= bool(t.get("order2_requested"))
            counts = _case_counts(t)
            cells.append(f"{t['status']}{counts}")
        lines.append(f"| {test_id} | " + " | ".join(cells) + f" | {'yes' if order2 else ''} |")
    lines += ["", "## Test counts", "", "| status | " + " | ".join(engines) + " |",
              "|---|" + "---|" * len(engines)]
    for status in ("pass", "refused", "wrong", "crash", "skipped", "na", "excluded"):
        lines.append(f"| {status} | " + " | ".join(
            str(sum(t["status"] == status for t in run["tests"])) for run in runs.values())
            + " |")
    run0 = next(iter(runs.values()))
    lines += ["", "Files not run: " + "; ".join(f"{k} ({v})" for k, v in
                                                  run0["skipped_files"].items()) + ".",
              "", "Tests not run: " + "; ".join(f"{k} ({v})" for k, v in
                                                  run0["excluded_tests"].items()) + ".", ""]
    return "\n".join(lines)


def _case_counts(test: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for c in test["cases"]:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    if not counts or set(counts) == {test["status"]} and counts[test["status"]] == 1:
        return ""
    return " (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"


def _short(text: str, n: int = 160) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= n else text[:n - 3] + "..."


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--autograd", required=True, help="an autograd checkout (tests/ used)")
    parser.add_argument("--engine", choices=["symdiff", "jax", "both"], default="both")
    parser.add_argument("--backend", choices=["numpy", "numba"], default="numpy",
                        help="symdiff's backend (default numpy: nothing to compile)")
    parser.add_argument("--via", choices=["vjp", "grad"], default="vjp",
                        help="symdiff: symdiff.vjp where the output is one array (default), "
                             "or symdiff.grad of sum(out * v) for every case")
    parser.add_argument("-k", action="append", default=[],
                        help="run the tests whose file.name contains this (repeatable)")
    parser.add_argument("--out", help="write the details as JSON here")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(),
                                                          "symdiff_autograd_cases"),
                        help="where the generated modules for symdiff are written")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(),
                                                            "symdiff_autograd_cache"),
                        help="SYMDIFF_CACHE_DIR, unless it is set already")
    parser.add_argument("--case-timeout", type=int, default=120)
    parser.add_argument("--test-timeout", type=int, default=900)
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args(argv)
    options.autograd = os.path.abspath(options.autograd)

    if options.engine == "both":
        runs = {}
        with tempfile.TemporaryDirectory() as tmp:
            for engine in ("symdiff", "jax"):  # one after the other: the machine is shared
                out = os.path.join(tmp, f"{engine}.json")
                command = [sys.executable, "-m", "tests.outside.autograd_tests",
                           "--autograd", options.autograd, "--engine", engine,
                           "--backend", options.backend, "--via", options.via, "--out", out,
                           "--workdir", options.workdir, "--cache-dir", options.cache_dir,
                           "--case-timeout", str(options.case_timeout),
                           "--test-timeout", str(options.test_timeout)]
                command += [a for k in options.k for a in ("-k", k)]
                command += ["-v"] if options.verbose else []
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                               cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                   os.path.abspath(__file__)))))
                with open(out) as handle:
                    runs[engine] = json.load(handle)
    else:
        with contextlib.redirect_stdout(sys.stderr):  # tests that print
            runs = {options.engine: run_engine(options)}
    summary = markdown(runs)
    if options.out:
        payload = runs[options.engine] if options.engine != "both" else \
            {"runs": runs, "functions": function_table(runs)}
        if options.engine != "both":
            payload = {**payload, "functions": function_table(runs)}
        with open(options.out, "w") as handle:
            json.dump(payload, handle, indent=1, default=repr)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
