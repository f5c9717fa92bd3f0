"""The bundled examples run and do what they say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import env_with_repo

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(script: str, *args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env_with_repo())
    assert done.returncode == 0, done.stderr
    return done.stdout


def losses(output: str) -> list[float]:
    return [float(v) for v in re.findall(r"loss (\d+\.\d+)", output)]


def test_logistic_regression_learns_the_line(tmp_path):
    out = run("logistic_regression.py", cwd=tmp_path)
    values = losses(out)
    assert values[0] == pytest.approx(0.6931, abs=1e-4)  # log 2: all-zero weights
    assert values[-1] < 0.5 * values[0]
    assert float(re.search(r"accuracy (\d+\.\d)%", out).group(1)) > 85


def test_mlp_separates_the_moons(tmp_path):
    out = run("mlp.py", cwd=tmp_path)
    values = losses(out)
    assert values[-1] < 0.1 * values[0]
    assert float(re.search(r"accuracy (\d+\.\d)%", out).group(1)) > 95


def test_learning_rate_curves(tmp_path):
    out = run("learning_rates.py", str(tmp_path / "curves.png"), cwd=tmp_path)
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s*\d+\s", line)]
    first, last = [float(v) for v in rows[0][1:]], [float(v) for v in rows[-1][1:]]
    too_small, good, too_large = zip(first, last, strict=True)
    assert good[1] < too_small[1] < too_small[0]  # both fall, the good one much faster
    assert too_large[1] > 100 * too_large[0]  # overshooting: the loss grows
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plot" in out
    else:
        assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
