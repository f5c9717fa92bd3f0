"""The array_api backend: the corpus and random programs on array-api-strict arrays give the
NumPy backend's numbers, in the caller's library and dtype; what it cannot write is refused."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import symdiff
from symdiff import SymdiffError, UnsupportedError
from symdiff.cli import main as cli_main
from symdiff.signature import check_backend
from tests.cases import array_api_programs as programs_module
from tests.cases import corpus
from tests.test_corpus import FUNCTIONS, arguments
from tests.test_random_programs import inputs, load, programs

xps = pytest.importorskip("array_api_strict")
pytest.importorskip("array_api_compat")

# corpus functions the backend refuses, with the operation its error names: none so far
REFUSED: dict[str, str] = {}


@pytest.fixture(autouse=True)
def standard_2023():
    """The version of the standard the generated code is written for: Python numbers are
    not arguments of its functions (2024.12 allows some)."""
    with xps.ArrayAPIStrictFlags(api_version="2023.12"):
        yield


def strict(values: list, dtype=None) -> list:
    return [xps.asarray(v, dtype=dtype) if isinstance(v, np.ndarray) else v for v in values]


def same(got, expected, rtol=1e-12) -> None:
    if isinstance(expected, float):
        assert type(got) is float
    else:
        assert type(got) is type(xps.asarray(0.0)), type(got)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rtol, atol=1e-300)


def compare(fun, args) -> None:
    """value_and_grad on array-api-strict arrays equals the NumPy backend's."""
    argnums = tuple(range(len(args)))
    value, grads = symdiff.value_and_grad(fun, argnums, backend="numpy")(*args)
    got_value, got = symdiff.value_and_grad(fun, argnums, backend="array_api")(*strict(args))
    np.testing.assert_allclose(float(got_value), float(value), rtol=1e-12)
    for g, e in zip(got, grads, strict=True):
        same(g, e)
    only = symdiff.grad(fun, argnums, backend="array_api")(*strict(args))
    for g, e in zip(only, grads, strict=True):
        same(g, e)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_corpus_matches_numpy(name):
    fun = getattr(corpus, name)
    if name in REFUSED:
        with pytest.raises(UnsupportedError, match=f"{REFUSED[name]}.*backend='numpy'"):
            compare(fun, arguments(fun))
        return
    compare(fun, arguments(fun))


def test_random_programs_match_numpy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("programs_array_api")

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(programs())
    def run(case):
        source, shapes = case
        compare(load(source, folder), inputs(shapes, seed=len(shapes)))

    run()


def test_code_is_the_standards():
    fun = corpus.keepdims_chain
    grad = symdiff.grad(fun, backend="array_api")
    grad(*strict(arguments(fun)))
    code = [line for line in grad.source.splitlines() if not line.lstrip().startswith("#")]
    assert not any("np." in line or "numpy" in line for line in code)
    assert "xp = array_api_compat.array_namespace(a)" in grad.source


def test_float32_in_float32_out():
    for fun in (corpus.frobenius, corpus.relu_network, corpus.keepdims_chain):
        args = strict(arguments(fun), xps.float32)
        grads = symdiff.grad(fun, tuple(range(len(args))), backend="array_api")(*args)
        assert all(g.dtype == xps.float32 for g in grads)


def test_against_finite_differences():
    for fun in (corpus.trig, corpus.quadratic_form, corpus.relu_network):
        args = arguments(fun, seed=3)
        symdiff.check_grad(fun, *args, argnums=tuple(range(len(args))), backend="array_api")


PROGRAMS = {  # the arguments of each function of tests/cases/array_api_programs.py
    "loop": [(3,), (3, 3)], "linear_algebra": [(3, 3), (3,)], "branches": [(5,)],
    "ordering": [(4,), (2, 3)], "gathers": [(4,), (3, 3)], "not_in_the_standard": [(5,)]}


# branches not selected are computed too, and the standard has nothing like np.errstate
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_programs_beyond_the_corpus(name):
    rng = np.random.default_rng(0)
    compare(getattr(programs_module, name), [rng.uniform(-1, 3, s) for s in PROGRAMS[name]])


def test_refused_by_name():
    with pytest.raises(UnsupportedError, match=r"np\.cumprod.*backend='numpy' or 'numba'") as e:
        symdiff.grad(programs_module.refused, backend="array_api")(xps.asarray([1.0, 2.0]))
    assert e.value.lineno == inspect.getsourcelines(programs_module.refused)[1] + 1


def test_other_backends_refuse_other_libraries():
    with pytest.raises(SymdiffError, match="backend='array_api'"):
        symdiff.grad(corpus.polynomial, backend="numpy")(xps.asarray([1.0, 2.0]))


def test_missing_array_api_compat_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "array_api_compat" else real(name, *a))
    with pytest.raises(SymdiffError, match=r"pip install symdiff\[array-api\]"):
        check_backend("array_api")


def test_signature_is_kept_between_calls():
    """The fast path keys arrays of other libraries by type, dtype and shape."""
    grad = symdiff.grad(corpus.polynomial, backend="array_api")
    first = grad(xps.asarray([1.0, 2.0]))
    again = grad(xps.asarray([3.0, 4.0, 5.0]))
    assert again.shape == (3,) and first.shape == (2,)
    assert len(inspect.signature(grad.fun).parameters) == 1


def test_written_module_runs_without_symdiff(tmp_path):
    """``symdiff gen --backend array-api``: a module importing only array_api_compat."""
    source = tmp_path / "loss.py"
    source.write_text("import numpy as np\n\n\n"
                      "def loss(w, x, y):\n"
                      "    z = x @ w\n"
                      "    return np.mean(np.logaddexp(0.0, z) - y * z)\n")
    written = tmp_path / "loss_grad.py"
    assert cli_main(["gen", "--backend", "array-api", str(source), "--shapes", "w=d", "x=n,d",
                     "y=n", "-o", str(written)]) in (0, None)
    assert "import numpy" not in written.read_text()
    check = (
        "import sys\n"
        "import array_api_strict as xp\n"
        "import loss_grad\n"
        "w, x = xp.asarray([0.5, -0.2]), xp.asarray([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]])\n"
        "value, (bw, bx, by) = loss_grad.value_and_grad_loss(w, x, xp.asarray([1.0, 0.0, 1.0]))\n"
        "assert 'symdiff' not in sys.modules\n"
        "print(float(value), float(bw[0]))\n")
    out = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    w, x, y = np.array([0.5, -0.2]), np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]), \
        np.array([1.0, 0.0, 1.0])
    z = x @ w
    expected = np.mean(np.logaddexp(0.0, z) - y * z)
    bw = x.T @ ((1 / (1 + np.exp(-z)) - y) / 3)
    np.testing.assert_allclose([float(v) for v in out.stdout.split()], [expected, bw[0]],
                               rtol=1e-12)


# -- PyTorch tensors (CPU), float64 and float32 ----------------------------------------------


def torch_compare(fun, args, dtype_name: str) -> None:
    """value_and_grad on PyTorch tensors equals the NumPy backend's on NumPy arrays of the same
    dtype: at rtol 1e-12 in float64; in float32, within float32's rounding of the two
    libraries' own kernels."""
    torch = pytest.importorskip("torch")
    numpy_args = [a.astype(dtype_name) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                  else a for a in args]
    argnums = tuple(range(len(args)))
    value, grads = symdiff.value_and_grad(fun, argnums, backend="numpy")(*numpy_args)
    tensors = [torch.asarray(a) if isinstance(a, np.ndarray) else a for a in numpy_args]
    got_value, got = symdiff.value_and_grad(fun, argnums, backend="array_api")(*tensors)
    rtol = 1e-12 if dtype_name == "float64" else 1e-5
    np.testing.assert_allclose(float(got_value), float(value), rtol=rtol)
    for g, e, a in zip(got, grads, tensors, strict=True):
        if isinstance(a, float):
            assert type(g) is float
        else:
            assert isinstance(g, torch.Tensor) and g.dtype == a.dtype and g.shape == a.shape
        scale = max(np.abs(np.asarray(e)).max(initial=0.0), 1.0)
        np.testing.assert_allclose(np.asarray(g), e, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_corpus_on_torch_tensors(name, dtype):
    torch_compare(getattr(corpus, name), arguments(getattr(corpus, name)), dtype)


def test_random_programs_on_torch_tensors(tmp_path_factory):
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("programs_torch")

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(programs())
    def run(case):
        source, shapes = case
        torch_compare(load(source, folder), inputs(shapes, seed=len(shapes)), "float64")

    run()


def test_torch_gradients_stay_on_their_device_and_detached():
    torch = pytest.importorskip("torch")
    w = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], dtype=torch.float64)
    g = symdiff.grad(lambda_free_loss, backend="array_api")(w, x)
    assert g.device == w.device and not g.requires_grad
    np.testing.assert_allclose(g.numpy(), symdiff.grad(lambda_free_loss, backend="numpy")(
        w.numpy(), x.numpy()), rtol=1e-12)


def lambda_free_loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


# -- CuPy arrays on a GPU ----------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_corpus_on_cupy_arrays(name):
    """On a machine with an NVIDIA GPU and CuPy; elsewhere skipped, saying so."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (it needs an NVIDIA GPU)")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:
        pytest.skip("no NVIDIA GPU for CuPy")
    fun = getattr(corpus, name)
    args = arguments(fun)
    argnums = tuple(range(len(args)))
    value, grads = symdiff.value_and_grad(fun, argnums, backend="numpy")(*args)
    on_gpu = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    got_value, got = symdiff.value_and_grad(fun, argnums, backend="array_api")(*on_gpu)
    np.testing.assert_allclose(float(got_value), float(value), rtol=1e-12)
    for g, e, a in zip(got, grads, on_gpu, strict=True):
        if isinstance(a, float):
            assert type(g) is float
        else:
            assert isinstance(g, cupy.ndarray) and g.device == a.device
        np.testing.assert_allclose(cupy.asnumpy(g) if not isinstance(g, float) else g, e,
                                   rtol=1e-12, atol=1e-300)
