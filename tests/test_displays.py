"""What a gradient function and a gradient check show at the prompt and in a notebook."""

import numpy as np

import symdiff


def scaled(x, y):
    return np.sum(x * y ** 2)


def test_a_gradient_function_says_what_it_is_and_the_code_it_has():
    g = symdiff.value_and_grad(scaled, (0, 1), backend="numpy")
    assert repr(g) == ("<symdiff value_and_grad of scaled, backend 'numpy'; code for: none yet "
                       "(generated at the first call)>")
    assert "no code yet" in g._repr_markdown_()
    g(np.ones(3), np.ones(3))
    g(np.ones((2, 2)), np.ones((2, 2)))
    assert repr(g) == ("<symdiff value_and_grad of scaled, backend 'numpy'; code for: "
                       "(x: float64[:], y: float64[:]); (x: float64[:, :], y: float64[:, :])>")
    shown = g._repr_markdown_()
    assert "- `(x: float64[:], y: float64[:])`" in shown
    assert "```python\n" + g.source in shown
    assert "parallel" in repr(symdiff.grad(scaled, parallel=True))


def test_a_gradient_check_shows_a_table():
    report = symdiff.check_grad(scaled, np.ones(3), np.full(3, 2.0), argnums=(0, 1))
    table = report._repr_html_()
    assert table.count("<tr>") == 3 and "<th>max rel error</th>" in table
    assert "<td><code>y</code></td><td>3</td>" in table
