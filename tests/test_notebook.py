"""A notebook run headless (nbclient): what a student sees in Jupyter, rich displays included."""

import re
import shutil

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import numpy as np\nimport symdiff\nfrom symdiff import nn",
    "def loss(w, x, y):\n    z = x @ w\n    return np.mean(nn.softplus(z) - y * z)",
    "g = symdiff.grad(loss, backend='numpy')\n"
    "x, y = np.ones((4, 3)), np.array([0.0, 1.0, 1.0, 0.0])\n"
    "g(np.zeros(3), x, y)\ng",
    "symdiff.check_grad(loss, np.zeros(3), x, y)",
    "def broken(x):\n    return np.sum(np.fft.fft(x).real)\nsymdiff.grad(broken)(np.ones(3))",
    "symdiff.graph(loss, np.zeros(3), x, y)",
    "from IPython.display import Markdown\n"
    "Markdown(symdiff.explain(loss, np.zeros(3), x, y, format='markdown'))",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    folder = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     allow_errors=True, resources={"metadata": {
                                         "path": str(folder)}})
    client.execute()
    return [cell.outputs for cell in notebook.cells]


def test_a_gradient_function_displays_what_it_is_and_its_code(outputs):
    shown = [o["data"]["text/markdown"] for o in outputs[2] if "text/markdown" in o.get(
        "data", {})]
    assert shown and shown[-1].startswith("symdiff grad of loss, backend 'numpy'; code")
    assert "def grad_loss(w, x, y):" in shown[-1]


def test_the_line_shown_while_generating_is_gone_when_done(outputs):
    """(What the line says is checked in tests/test_log.py; here, that the notebook got it
    and that it was emptied once the code was there.)"""
    lines = [o["data"]["text/html"] for o in outputs[2] if "text/html" in o.get("data", {})]
    assert lines and all(line == "" for line in lines)


def test_a_gradient_check_is_a_table(outputs):
    tables = [o["data"]["text/html"] for o in outputs[3] if "text/html" in o.get("data", {})]
    assert tables and "<table>" in tables[-1] and "<td><code>w</code></td>" in tables[-1]


def test_an_error_shows_the_users_cell_not_symdiffs_insides(outputs):
    (error,) = [o for o in outputs[4] if o["output_type"] == "error"]
    assert error["ename"] == "UnsupportedError"
    assert "np.fft.fft() is not supported" in error["evalue"]
    frames = "\n".join(error["traceback"])
    assert frames.count("symdiff/") <= 2, frames  # the re-raise, at most


def test_a_graph_shows_as_a_picture_at_notebook_width(outputs):
    (shown,) = [o["data"] for o in outputs[5] if "data" in o]
    assert shown["text/plain"].startswith("digraph symdiff")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: the notebook shows the DOT text")
    width = re.search(r'<svg width="(\d+)pt"', shown["image/svg+xml"])
    assert width and int(width.group(1)) <= 1000


def test_an_explanation_renders_as_markdown_with_latex(outputs):
    (shown,) = [o["data"]["text/markdown"] for o in outputs[6] if "text/markdown" in o.get(
        "data", {})]
    assert shown.startswith("### Reverse mode for loss")
    assert r"\frac{\mathrm{d} \mathrm{loss}}{\mathrm{d} w}" in shown
