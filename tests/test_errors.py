"""Unsupported input gets an error that names the file, line and column, with a caret."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import symdiff
from symdiff import UnsupportedError
from tests.cases import unsupported

ARGUMENTS = {"qr_of_a_stack": np.ones((2, 2, 2))}
CASES = sorted(name for name, f in vars(unsupported).items()
               if inspect.isfunction(f) and f.__module__ == unsupported.__name__)


def expected_line(fun) -> tuple[int, str]:
    lines, start = inspect.getsourcelines(fun)
    for offset, line in enumerate(lines):
        match = re.search(r"# ERROR: (.*?)(\s+# noqa.*)?$", line)
        if match:
            return start + offset, match.group(1)
    raise AssertionError(f"{fun.__name__} has no ERROR marker")


def test_the_corpus_is_large():
    assert len(CASES) >= 35


@pytest.mark.parametrize("name", CASES)
def test_unsupported_input_is_located(name):
    fun = getattr(unsupported, name)
    lineno, message = expected_line(fun)
    with pytest.raises(UnsupportedError) as info:
        symdiff.grad(fun)(ARGUMENTS.get(name, np.ones(3)))
    err = info.value
    assert err.filename == unsupported.__file__
    assert err.lineno == lineno, str(err)
    assert message in err.reason  # not str(err): that quotes the marked line itself
    assert err.col >= 1
    text = str(err)
    assert text.startswith(f"{err.filename}:{err.lineno}:{err.col}: ")
    source_line, caret = text.splitlines()[1:3]
    assert source_line.strip() in open(err.filename).read().splitlines()[lineno - 1]
    assert caret.strip() == "^"


def test_function_without_source():
    namespace = {}
    exec("def f(x):\n    return x * 2\n", {"np": np}, namespace)
    with pytest.raises(UnsupportedError, match="cannot read the source"):
        symdiff.grad(namespace["f"])(1.0)


def test_caret_points_at_the_column():
    fun = unsupported.unknown_function
    with pytest.raises(UnsupportedError) as info:
        symdiff.grad(fun)(np.ones(3))
    source_line, caret = str(info.value).splitlines()[1:3]
    assert source_line[caret.index("^"):].startswith("np.fft.fft(x)")
