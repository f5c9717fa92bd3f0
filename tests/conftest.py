import difflib
import os

# CUDA kernels run on Numba's simulator unless a run asks for the GPU (NUMBA_ENABLE_CUDASIM=0);
# set before anything imports Numba, which reads it once.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
# Compiled code that reads or writes out of bounds fails a test instead of passing silently.
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def jax_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def env_with_repo() -> dict[str, str]:
    """The environment for a script run in a subprocess, finding this checkout's symdiff
    whether or not (and wherever) it is installed."""
    root = str(Path(__file__).parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def assert_matches_golden(text: str, path: Path, what: str = "generated code") -> None:
    """``text`` equals the golden file ``path``; with SYMDIFF_UPDATE_GOLDEN=1 set, the file is
    written first (after an intended change)."""
    if os.environ.get("SYMDIFF_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(path), "now"))
        pytest.fail(f"{what} differs from the golden file:\n{diff}")
