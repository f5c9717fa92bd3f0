"""Teaching tools: explain, formula, graph and the notebook display of generated code."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import sympy as sp

import symdiff
from symdiff.cli import main
from symdiff.teach.walk import walk
from tests.cases import corpus
from tests.test_corpus import FUNCTIONS, arguments
from tests.test_extend import clipped


def seed_002(x):
    y = x * x
    z = y.mean()
    return z


def layer(x, w, b):
    z = np.tanh(x @ w + b)
    return np.sum(z * z) + np.sum(b * x[0])


def shared(x):
    a = np.exp(x)
    return np.sum(a * np.sin(x)) + np.sum(a)


X = np.array([1.0, 2.0, 3.0])


# --- explain ---------------------------------------------------------------------------------

def test_explain_reproduces_the_seed_walk_through():
    text = symdiff.explain(seed_002, X)
    assert "y = x**2 = [1.0, 4.0, 9.0]" in text
    assert "z = np.mean(y) = 4.6667" in text
    assert "∂z/∂y = 1/3 for each of the 3 elements averaged" in text
    assert "dz/dy = dz/dz · ∂z/∂y = 1.0 · 1/3 = [0.3333, 0.3333, 0.3333]" in text
    assert "∂y/∂x = 2*x = [2.0, 4.0, 6.0]" in text
    assert ("dz/dx = dz/dy · ∂y/∂x = [0.3333, 0.3333, 0.3333] · [2.0, 4.0, 6.0] "
            "= [0.6667, 1.3333, 2.0]") in text
    assert text.rstrip().endswith("dz/dx = [0.6667, 1.3333, 2.0]")
    # the backward pass runs in reverse: the mean's step comes before the square's
    assert text.index("∂z/∂y") < text.index("∂y/∂x")


def test_explain_in_markdown_writes_latex():
    text = symdiff.explain(seed_002, X, format="markdown")
    assert r"$\frac{\partial y}{\partial x} = 2 x = \begin{bmatrix} 2.0 & 4.0 & 6.0 " \
           r"\end{bmatrix}$" in text
    assert re.search(r"^- line \d+: `y = x \* x`$", text, flags=re.M)
    with pytest.raises(symdiff.ArgumentError, match="format='html'"):
        symdiff.explain(seed_002, X, format="html")


def test_explain_names_values_read_twice_and_sums_their_parts():
    text = symdiff.explain(shared, X)
    assert "a = exp(x)" in text
    assert "dshared/dx (part)" in text
    assert "adds up the 2 parts passed back to x" in text
    g = symdiff.grad(shared, backend="numpy")(X)
    got = re.search(r"dshared/dx = (\[.*\])\s*$", text).group(1)
    np.testing.assert_allclose(np.array(eval(got)), g, rtol=1e-3)


def test_explain_matrix_steps_and_several_arguments():
    x, w, b = np.array([1.0, 2.0]), np.full((2, 3), 0.1), np.array([0.0, 0.5, -0.5])
    text = symdiff.explain(layer, x, w, b, argnums=(1, 2))
    # the matrix product's rule, in the source's names: of vectors, an outer product
    assert "dlayer/dw = outer(x, dlayer/dt1)" in text
    assert "differentiated with respect to w, b" in text
    assert "dlayer/dx" not in text  # x is data here
    assert symdiff.explain(layer, x, w, b, wrt=("w", "b")) == text
    with pytest.raises(symdiff.ArgumentError, match="no parameter 'v'"):
        symdiff.explain(layer, x, w, b, wrt="v")


def test_explain_shows_a_custom_rule_as_its_own_step():
    x = np.array([0.1, 0.5, 1.0])
    text = symdiff.explain(clipped, x)
    assert "t2 = clip_gradient(t1, -0.5, 0.5)" in text
    assert "through the backward of clip_gradient's own rule = [0.5, 0.5, 0.5]" in text
    got = re.search(r"dclipped/dx = (\[.*\])\s*$", text).group(1)
    np.testing.assert_allclose(eval(got), symdiff.grad(clipped, backend="numpy")(x), rtol=1e-3)


def test_explain_command_reads_the_file_without_running_it(tmp_path, capsys):
    path = tmp_path / "loss.py"
    path.write_text("import numpy as np\n\nraise SystemExit('never run')\n\n\n"
                    "def f(x):\n    y = x * x\n    z = y.mean()\n    return z\n")
    assert main(["explain", str(path), "--args", "x=[1, 2, 3]"]) == 0
    out = capsys.readouterr().out
    assert "line 7: y = x * x" in out and "dz/dx = [0.6667, 1.3333, 2.0]" in out
    assert main(["explain", str(path), "--args", "x=[1, 2"]) == 2
    assert "not a Python literal" in capsys.readouterr().err
    assert main(["explain", str(path), "--args", "x=[1.0]", "--wrt", "w"]) == 2
    assert "has no parameter 'w'" in capsys.readouterr().err


@pytest.mark.parametrize("name", FUNCTIONS)
def test_walk_gradients_are_the_generated_gradients(name):
    """Every adjoint an explanation shows comes from running the same backward pass: its
    gradients equal the generated code's, and each value's adjoint is the sum of its parts."""
    fun = getattr(corpus, name)
    args = arguments(fun)
    argnums = tuple(range(len(args)))
    w = walk(fun, tuple(args), {}, argnums)
    expected = symdiff.grad(fun, argnums, backend="numpy")(*args)
    for i, e in zip(w.wrt, expected, strict=True):
        np.testing.assert_allclose(w.adjoints[i], e, rtol=1e-10, atol=1e-12)
    for step in w.steps:
        parts = [v for (_, read), v in w.passed.items() if read == step.node]
        if parts and step.node != w.output:
            np.testing.assert_allclose(sum(parts), w.adjoints[step.node], rtol=1e-10,
                                       atol=1e-12)


# --- formula ---------------------------------------------------------------------------------

def seed_003(x):
    return 3 * x - x + 2 * x + 1


def logistic(x, w, b):
    return 1 / (np.exp(-(w * x + b)) + 1)


def quadratic(A, x):
    return x @ A @ x


def test_formula_simplifies_the_seed_expression():
    x = sp.Symbol("x")
    assert symdiff.formula(seed_003) == 4 * x + 1
    assert symdiff.formula(seed_003, "x") == 4
    assert symdiff.latex(symdiff.formula(seed_003)) == "4 x + 1"


def test_formula_derivatives_are_sympys():
    x, w, b = sp.symbols("x w b")
    f = 1 / (sp.exp(-(w * x + b)) + 1)
    assert sp.simplify(symdiff.formula(logistic) - f) == 0
    rng = np.random.default_rng(0)
    for name, d in zip("xwb", symdiff.formula(logistic, ("x", "w", "b")), strict=True):
        expected = sp.diff(f, sp.Symbol(name))
        for point in rng.uniform(-2, 2, (5, 3)):  # the simplified form may differ in spelling
            at = dict(zip((x, w, b), point, strict=True))
            assert abs(float(d.subs(at)) - float(expected.subs(at))) < 1e-12


def test_formula_of_small_arrays():
    g = symdiff.formula(quadratic, "x", shapes={"A": (2, 2), "x": (2,)})
    A = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"A_{i}_{j}"))
    x = sp.Matrix([sp.Symbol("x_0"), sp.Symbol("x_1")])
    expected = (A + A.T) * x
    assert g.shape == (2,)
    assert all(sp.expand(g[i] - expected[i]) == 0 for i in range(2))
    value = symdiff.formula(quadratic, shapes={"A": (2, 2), "x": (2,)})
    assert sp.expand(value - (x.T * A * x)[0]) == 0


def horner(c, x):
    y = 0.0
    for k in range(len(c)):
        y = y * x + c[k]
    return y


def test_formula_of_a_loop_over_a_fixed_shape():
    c0, c1, c2, x = sp.symbols("c_0 c_1 c_2 x")
    assert sp.expand(symdiff.formula(horner, shapes={"c": (3,)})) == c0 * x**2 + c1 * x + c2
    assert sp.expand(symdiff.formula(horner, "x", shapes={"c": (3,)})) == 2 * c0 * x + c1


def test_formula_errors_are_clear():
    with pytest.raises(symdiff.ArgumentError, match="no parameter 'y'"):
        symdiff.formula(seed_003, "y")
    with pytest.raises(symdiff.ArgumentError, match="returns an array"):
        symdiff.formula(lambda x: x * 2, "x", shapes={"x": (2,)})
    with pytest.raises(symdiff.ArgumentError, match="small fixed sizes"):
        symdiff.formula(seed_003, shapes={"x": (100,)})


# --- graph -----------------------------------------------------------------------------------

def test_graph_source_names_values_and_separates_the_backward_pass():
    picture = symdiff.graph(seed_002, X)
    dot = picture.source
    assert 'label="y = x**2\\n(3)"' in dot and 'label="z = mean\\nscalar"' in dot
    assert 'label="dz/dx\\n(3)"' in dot
    forward = re.findall(r"^  v\d+ -> v\d+ \[(.*)\];$", dot, flags=re.M)
    backward = re.findall(r"^  b\d+ -> b\d+ \[(.*)\];$", dot, flags=re.M)
    assert len(forward) == 2 and len(backward) == 2
    assert all("dashed" in e for e in backward) and not any("dashed" in e for e in forward)
    assert all('label="(3)"' in e for e in forward)


def test_graph_renders_dot_text_and_pictures(tmp_path):
    picture = symdiff.graph(layer, np.ones(2), np.ones((2, 3)), np.zeros(3), argnums=(1, 2))
    assert picture.render(tmp_path / "g.dot").read_text() == picture.source
    bundle = picture._repr_mimebundle_()
    assert bundle["text/plain"] == picture.source
    if shutil.which("dot") is None:
        with pytest.raises(symdiff.SymdiffError, match="Graphviz"):
            picture.render(tmp_path / "g.svg")
        return
    assert picture.render(tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    assert picture.render(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in bundle["image/svg+xml"]


# --- notebooks -------------------------------------------------------------------------------

def test_gradient_functions_show_their_code_in_notebooks():
    g = symdiff.grad(seed_002, backend="numpy")
    assert "no code yet" in g._repr_markdown_()
    g(X)
    shown = g._repr_markdown_()
    assert "```python\n" in shown and "def grad_seed_002(x):" in shown


def stable_softmax_loss(z):
    s = z - np.max(z)
    return np.log(np.sum(np.exp(s))) - s[0]


def test_formula_of_the_stable_softmax_with_shapes_and_a_hint_without():
    import sympy as sp

    value = symdiff.formula(stable_softmax_loss, shapes={"z": (3,)})
    grad = symdiff.formula(stable_softmax_loss, "z", shapes={"z": (3,)})
    point = {sp.Symbol(f"z_{i}"): v for i, v in enumerate([0.3, -1.2, 2.0])}
    z = np.array([0.3, -1.2, 2.0])
    assert "stop_gradient" not in str(value)
    np.testing.assert_allclose(float(value.subs(point)), stable_softmax_loss(z), rtol=1e-12)
    want = np.exp(z) / np.sum(np.exp(z)) - np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose([float(g.subs(point)) for g in grad], want, rtol=1e-12)
    with pytest.raises(symdiff.UnsupportedError, match=r"give arrays small fixed shapes: "
                                                       r"shapes=\{'z': \(3,\)\}"):
        symdiff.formula(stable_softmax_loss)


def logistic_mean(w, x):
    logistic = 1 / (1 + np.exp(-(x @ w)))
    return np.mean(logistic)


def test_markdown_keeps_d_and_partial_apart_and_writes_words_upright():
    shown = symdiff.explain(logistic_mean, np.ones(2), np.ones((3, 2)), argnums=0,
                            format="markdown")
    assert r"\frac{\mathrm{d} \mathrm{logistic\_mean}}{\mathrm{d} \mathrm{logistic}}" in shown
    assert r"\frac{\partial \mathrm{logistic\_mean}}{\partial \mathrm{logistic}}" in shown
    assert r"\partial logistic" not in shown and r"\mathrm{d} logistic" not in shown
    assert "$t_{1} = " in shown  # a letter and its subscript stay as LaTeX writes them


def sigmoid_and_tanh(z, A):
    s = symdiff.nn.sigmoid(z)
    t = np.tanh(A)
    return np.sum(s) + np.sum(t * np.exp(A))


def test_explain_writes_local_derivatives_as_textbooks_do():
    shown = symdiff.explain(sigmoid_and_tanh, np.array([0.5, -2.0]), np.array([0.2, 1.5]),
                            argnums=(0, 1))
    assert "∂s/∂z = s*(1 - s) = [0.235, 0.105]" in shown
    assert "∂t/∂A = 1 - t**2 = " in shown
    assert "cosh" not in shown and "logaddexp" not in shown.split("Backward")[1]


def dot_then_matrix(x, W1, w2):
    h = np.tanh(W1 @ x)
    return np.sum(h @ w2)


def test_explain_writes_products_of_vectors_as_what_they_are():
    text = symdiff.explain(dot_then_matrix, np.ones(2), np.ones((3, 2)), np.ones(3),
                           argnums=(1, 2))
    assert "ddot_then_matrix/dh = ddot_then_matrix/dt2 · w2 = " in text  # a number times
    assert "ddot_then_matrix/dW1 = outer(ddot_then_matrix/dt1, x) = " in text
    markdown = symdiff.explain(dot_then_matrix, np.ones(2), np.ones((3, 2)), np.ones(3),
                               argnums=(1, 2), format="markdown")
    assert r"\, x^\top" in markdown


def tanh_layer(x, W):
    return np.sum(np.tanh(x @ W))


def test_explain_lays_out_matrices_as_aligned_blocks():
    text = symdiff.explain(tanh_layer, np.array([[1.0, 2.0], [3.0, 4.0]]),
                           np.array([[0.1, 0.2], [0.3, 0.4]]), argnums=1)
    lines = text.splitlines()
    row = next(k for k, line in enumerate(lines) if line.lstrip().startswith("dlayer/dt1 =")
               or line.lstrip().startswith("dtanh_layer/dt1 ="))
    first, second = lines[row], lines[row + 1]
    # each matrix's second row starts under its first row's bracket
    for opening in [k for k, c in enumerate(first) if first.startswith("[[", k)]:
        assert second[opening:opening + 2] == " [", (first, second)
    assert max(len(line) for line in lines) <= 110  # three 2 x 2 blocks, the names: one line


def sigmoid_plus_tanh(z, A):
    return np.sum(symdiff.nn.sigmoid(z)) + np.sum(np.tanh(A))


def test_formula_writes_the_sigmoid_and_tanh_derivatives_as_textbooks_do():
    import sympy as sp

    dz, dA = symdiff.formula(sigmoid_plus_tanh, ("z", "A"))
    assert str(dz) == "(1 - sigmoid(z))*sigmoid(z)" and str(dA) == "1 - tanh(A)**2"
    for value in (-3.0, 0.4, 2.5):
        s = 1 / (1 + np.exp(-value))
        np.testing.assert_allclose(float(dz.subs(sp.Symbol("z"), value)), s * (1 - s),
                                   rtol=1e-12)
        np.testing.assert_allclose(float(dA.subs(sp.Symbol("A"), value)),
                                   1 - np.tanh(value) ** 2, rtol=1e-12)


def tutorial_model(x, w, b):
    return 1 / (np.exp(-(w * x + b)) + 1)


def test_formula_of_the_tutorials_sigmoid_is_the_textbook_one():
    assert str(symdiff.formula(tutorial_model, wrt="w")) == \
        "x*(1 - sigmoid(b + w*x))*sigmoid(b + w*x)"


def test_explain_leaves_out_products_by_ones_and_rounding_through_a_shift():
    text = symdiff.explain(stable_softmax_loss, np.array([0.31, -1.27, 2.05, 0.7]))
    shift = next(line for line in text.splitlines() if "dstable_softmax_loss/dt1 =" in line)
    assert shift.rstrip().endswith("= 0.0"), shift  # exactly what the shift passes back
    through_ones = next(line for line in text.splitlines()
                        if "dstable_softmax_loss/dz (part) = dstable_softmax_loss/ds" in line)
    assert "[1.0, 1.0, 1.0, 1.0]" not in through_ones
