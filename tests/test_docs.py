"""The docs cannot rot: every Python block runs, and quoted output is real output."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symdiff
from tests.conftest import env_with_repo

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_python_blocks_run(path, tmp_path, monkeypatch):
    code = blocks(path, "python")
    if not code:
        pytest.skip("no Python blocks")
    script = tmp_path / f"doc_{path.stem}.py"  # a real file: symdiff reads source
    script.write_text("\n".join(code))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")


def test_readme_quotes_the_real_generated_gradient():
    quoted = next(b for b in blocks(ROOT / "README.md", "text") if "def grad_function" in b)
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                         capture_output=True, text=True, check=True, env=env_with_repo())
    assert quoted in run.stdout


def test_readme_quotes_the_real_error(tmp_path, monkeypatch):
    quoted = next(b for b in blocks(ROOT / "README.md", "text") if "not supported" in b)
    (tmp_path / "loss.py").write_text(
        'import numpy as np\n\n\ndef spectrum_energy(x):\n    """The energy of the spectrum."""'
        "\n    x = x - np.mean(x)\n    y = np.fft.fft(x)\n    return np.sum(y * y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import loss

    with pytest.raises(symdiff.UnsupportedError) as info:
        symdiff.grad(loss.spectrum_energy)(np.ones(3))
    assert str(info.value).replace(f"{tmp_path}/", "") == quoted.rstrip("\n")


def test_tutorial_quotes_the_real_explanation(tmp_path, monkeypatch):
    """The explanation quoted in the seed-002 tutorial is what explain prints (line numbers
    are those of the tutorial's code, run as one script)."""
    path = ROOT / "docs" / "tutorials" / "002-backward-and-gradient-descent.md"
    quoted = next(b for b in blocks(path, "text") if b.startswith("Reverse mode for f"))
    script = tmp_path / "tutorial_002.py"
    script.write_text("\n".join(blocks(path, "python")))
    monkeypatch.chdir(tmp_path)  # it renders a picture
    namespace = runpy.run_path(str(script), run_name="tutorial")
    assert symdiff.explain(namespace["f"], np.array([1.0, 2.0, 3.0])) == quoted


def test_api_reference_covers_every_public_name():
    reference = (ROOT / "docs" / "api.md").read_text()
    missing = [name for name in symdiff.__all__ if name != "__version__"
               and f"symdiff.{name}" not in reference]
    assert not missing, f"docs/api.md does not describe {missing}"
    import symdiff.extend as extend

    missing = [name for name in ("custom_vjp", "register_op", "register_elementwise",
                                 "register_primitive", "check_rule")
               if name not in reference or not hasattr(extend, name)]
    assert not missing


def test_readme_counts_what_the_function_table_covers():
    import scipy.special  # noqa: F401  (SciPy's entries join the table once it is imported)
    import scipy.stats  # noqa: F401

    from symdiff.frontend.functions import supported_functions

    counts = {family: len(names) for family, names in supported_functions().items()}
    text = " ".join((ROOT / "README.md").read_text().split())
    import scipy.linalg  # noqa: F401

    for family, spelled in [("np", "`numpy` functions"), ("np.linalg", "of `numpy.linalg`"),
                            ("scipy.linalg", "of `scipy.linalg`"),
                            ("scipy.special", "of `scipy.special`"),
                            ("scipy.stats", "`scipy.stats` densities"), ("math", "of `math`"),
                            ("array methods", "array methods")]:
        assert f"{counts[family]} {spelled}" in text, (family, counts[family])
