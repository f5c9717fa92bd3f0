"""Errors a user meets show the user's frames and the located message, not symdiff's insides;
SYMDIFF_TRACEBACK_FILTERING=off shows everything. Mistakes are reported where they are made."""

import os
import re
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import symdiff

SYMDIFF = os.path.dirname(symdiff.__file__)


def uses_fft(x):
    return np.sum(np.fft.fft(x).real)


def symdiff_frames(exc: BaseException) -> list[str]:
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)
            if f.filename.startswith(SYMDIFF)]


@pytest.mark.parametrize("call", [
    lambda: symdiff.grad(uses_fft)(np.ones(3)),
    lambda: symdiff.value_and_grad(uses_fft, backend="numpy")(np.ones(3)),
    lambda: symdiff.jvp(uses_fft, (np.ones(3),), (np.ones(3),)),
    lambda: symdiff.hessian(uses_fft)(np.ones(3)),
    lambda: symdiff.grad(uses_fft, argnums=3),
    lambda: symdiff.check_grad(uses_fft, np.ones(3)),
], ids=["grad", "value_and_grad", "jvp", "hessian", "argnums", "check_grad"])
def test_symdiffs_frames_are_left_out(call):
    with pytest.raises(symdiff.SymdiffError) as info:
        call()
    assert len(symdiff_frames(info.value)) <= 1  # the line that re-raises it, at most
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(f.filename == __file__ for f in frames)


def test_the_message_still_points_at_the_users_line():
    with pytest.raises(symdiff.UnsupportedError) as info:
        symdiff.grad(uses_fft)(np.ones(3))
    assert info.value.filename == __file__ and "np.fft.fft()" in str(info.value)
    assert "^" in str(info.value)


SCRIPT = """
import numpy as np
import symdiff

def uses_fft(x):
    return np.sum(np.fft.fft(x).real)

symdiff.grad(uses_fft)(np.ones(3))
"""


@pytest.mark.parametrize("filtering", ["on", "off"])
def test_a_script_prints_a_short_traceback(tmp_path, filtering):
    script = tmp_path / "loss.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "SYMDIFF_TRACEBACK_FILTERING": filtering}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env)
    assert out.returncode == 1
    shown = len(re.findall(r'File "[^"]*/symdiff/', out.stderr))  # (the one it imports)
    assert (shown <= 1) if filtering == "on" else (shown > 5), out.stderr
    assert "loss.py:6:19: np.fft.fft() is not supported" in out.stderr


def test_a_function_typed_at_the_prompt_is_refused_when_grad_is_applied():
    code = textwrap.dedent("""
        import numpy as np, symdiff
        def f(x):
            return np.sum(x ** 2)
        g = symdiff.grad(f)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert "cannot read the source of 'f': it was defined in <string>" in out.stderr
    assert "define them in a file" in out.stderr
    assert out.stderr.count("File ") <= 2, out.stderr


def test_a_syntax_error_is_reported_where_python_reports_it(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text("import numpy as np\n\n\ndef loss(x):\n    y = np.sum(x ** 2\n"
                      "    return y\n")
    out = subprocess.run([sys.executable, "-m", "symdiff", "gen", str(source), "--shapes",
                          "x=n", "-o", str(tmp_path / "out.py")], capture_output=True, text=True)
    assert out.returncode != 0
    assert f"{source}:5:15: syntax error: '(' was never closed" in out.stderr
