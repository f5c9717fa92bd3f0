"""Generated code: golden files, byte-identical output, and generation that ignores sizes.

Refresh the golden files after an intended change with:

    SYMDIFF_UPDATE_GOLDEN=1 python -m pytest tests/test_codegen.py
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symdiff
from symdiff.calculus import scalar as S
from symdiff.codegen.printer import NumpyPrinter
from tests.cases.golden_functions import CASES

GOLDEN = Path(__file__).parent / "golden"


def generated(name: str, backend: str = "numpy") -> str:
    fun, args, argnums = CASES[name]
    g = symdiff.grad(fun, argnums, backend=backend)
    g(*args)
    return g.source


@pytest.mark.parametrize("backend", ["numpy", "numba", "cuda"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, backend):
    path = GOLDEN / ("" if backend == "numpy" else backend) / f"{name}.py"
    text = generated(name, backend)
    if os.environ.get("SYMDIFF_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(path), "generated"))
        pytest.fail(f"generated code differs from the golden file:\n{diff}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_code_is_right(name):
    fun, args, argnums = CASES[name]
    if name == "stopped":  # finite differences see through stop_gradient
        x, y = args
        np.testing.assert_allclose(symdiff.grad(fun)(*args), np.ones((2, 3)) @ y.T)
        return
    symdiff.check_grad(fun, *args, argnums=argnums)


def test_output_is_byte_identical_across_processes():
    script = ("from tests.test_codegen import generated; from tests.cases.golden_functions "
              "import CASES; print(''.join(generated(n, b) for n in sorted(CASES) "
              "for b in ('numpy', 'numba', 'cuda')))")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, cwd=Path(__file__).parent.parent, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1


def logistic(X, y, w):
    margins = X @ w
    return np.mean(np.logaddexp(0.0, margins) - y * margins)


def test_generation_does_not_depend_on_array_sizes():
    small = (np.ones((10, 3)), np.ones(10), np.ones(3))
    big = (np.ones((1_000_000, 3)), np.ones(1_000_000), np.ones(3))
    g_small = symdiff.grad(logistic, 2, backend="numpy")
    g_big = symdiff.grad(logistic, 2, backend="numpy")
    module_small = g_small.specialise(*small)
    module_big = g_big.specialise(*big)
    assert module_small.source == module_big.source
    assert len(module_small.graph.nodes) == len(module_big.graph.nodes)


@pytest.mark.parametrize("expr, text", [
    (lambda x, y: S.sigmoid(x) - y, "_sigmoid(x) - y"),
    (lambda x, y: 1 / sp.sqrt(x), "1/np.sqrt(x)"),
    (lambda x, y: sp.sqrt(x) * y, "y*np.sqrt(x)"),
    (lambda x, y: sp.Piecewise((x, x < 1), (y, True)), "np.where(x < 1, x, y)"),
    (lambda x, y: S.logaddexp(0, x), "np.logaddexp(0, x)"),
    (lambda x, y: S.maximum(x, 0) + sp.Float(0.1) * y, "0.1*y + np.maximum(x, 0)"),
    (lambda x, y: (x + y) ** -2, "(x + y)**(-2)"),
    (lambda x, y: sp.exp(-x) / (1 + x), "np.exp(-x)/(1 + x)"),
    (lambda x, y: S.stop_gradient(x) * y + x, "x + y*x"),
])
def test_printer(expr, text):
    x, y = sp.symbols("x y", real=True)
    assert NumpyPrinter({}).doprint(expr(x, y)) == text


def test_printer_refuses_what_numpy_cannot_spell():
    from symdiff.codegen.printer import UnprintableError

    x = sp.Symbol("x", real=True)
    with pytest.raises(UnprintableError):
        NumpyPrinter({}).doprint(sp.gamma(x))
