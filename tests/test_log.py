"""The ``symdiff`` logger: each stage of a first call, with its time; nothing on later calls."""

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np

import symdiff


def loss(w, x):
    return np.sum(np.tanh(x * w) ** 2)


def cubes(x):
    return np.sum(np.sin(x) ** 3)


def stages_of(records):
    return [r.stage for r in records if getattr(r, "stage", None)]


def test_a_first_call_logs_its_stages_and_a_later_call_nothing(caplog, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDIFF_CACHE_DIR", str(tmp_path))
    g = symdiff.grad(loss, backend="numba")
    with caplog.at_level(logging.DEBUG, logger="symdiff"):
        g(np.ones(3), np.arange(3.0))
    stages = stages_of(caplog.records)
    assert stages[:4] == ["trace", "simplify", "derive", "emit"], stages
    assert stages[-1] in ("compile", "load compiled")
    assert all(r.levelno == logging.DEBUG and r.seconds >= 0 for r in caplog.records
               if getattr(r, "stage", None))
    assert "loss(w: float64[:], x: float64[:])" in caplog.records[-1].getMessage()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="symdiff"):
        g(np.ones(5), np.arange(5.0))
    assert caplog.records == []


def test_log_compiles_logs_at_warning(caplog, monkeypatch):
    monkeypatch.setattr(symdiff.config, "log_compiles", True)
    with caplog.at_level(logging.WARNING, logger="symdiff"):
        symdiff.grad(loss, backend="numpy")(np.ones(2), np.ones(2))
    assert stages_of(caplog.records) == ["trace", "simplify", "derive", "emit"]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_the_environment_variable_prints_the_stages(tmp_path):
    script = tmp_path / "use.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import symdiff

        def f(x):
            return np.sum(x ** 3)

        symdiff.grad(f, backend="numpy")(np.ones(2))
    """))
    env = {**os.environ, "SYMDIFF_LOG_COMPILES": "1", "SYMDIFF_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                         text=True, check=True)
    assert "generating grad_f for f(x: float64[:]) [numpy]" in out.stderr
    assert "derive f(x: float64[:]):" in out.stderr


def test_a_notebook_shows_what_is_compiling_while_it_compiles(monkeypatch, tmp_path):
    """In a Jupyter kernel, a transient line says what is being generated and compiled."""
    import sys
    import types

    shown = []

    class Handle:
        def update(self, content):
            shown.append(("update", content.data))

    display_module = types.ModuleType("IPython.display")
    display_module.HTML = lambda text: types.SimpleNamespace(data=text)
    display_module.display = lambda content, display_id: shown.append(("show", content.data)) \
        or Handle()
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setenv("SYMDIFF_CACHE_DIR", str(tmp_path))
    symdiff.grad(cubes, backend="numba")(np.ones(3))  # (compiled nowhere else)
    messages = [text for kind, text in shown if kind == "show"]
    assert any("generating grad_cubes for cubes(x: float64[:])" in m for m in messages)
    assert any("compiling cubes(x: float64[:]) [numba] with Numba" in m for m in messages)
    assert [text for kind, text in shown if kind == "update"] == [""] * len(messages)
