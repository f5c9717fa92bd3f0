"""``symdiff.graph``'s picture: laid out to read at a notebook's width, backward edges labelled
with the rule each step applies (as ``explain`` writes it), forward values linked to the
adjoints whose rules read them."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

import symdiff
from symdiff.teach.walk import walk


def logistic(X, y, w):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def mlp(x, y, w1, b1, w2, b2):
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    return np.mean((z - y) ** 2)


def long_formula(x):
    return np.sum(np.sin(x) * np.cos(x) + np.exp(x) * np.tanh(x) + np.log(1 + x ** 2) *
                  np.sqrt(x ** 2 + 1) + np.arctan(x) * np.cosh(x) + x ** 3 * np.sinh(x))


def examples() -> dict[str, tuple]:
    """The two calls users drew: (function, arguments, argnums)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    y = (rng.random(4) > .5).astype(float)
    w = rng.standard_normal(3)
    x, yy = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
    w1, b1 = rng.standard_normal((3, 5)), np.zeros(5)
    w2, b2 = rng.standard_normal((5, 1)), np.zeros(1)
    return {"logistic": (logistic, (X, y, w), 2),
            "mlp": (mlp, (x, yy, w1, b1, w2, b2), (2, 3, 4, 5))}


CALLS = examples()


@dataclass
class Edge:
    tail: str
    head: str
    attrs: str

    def attr(self, name: str) -> str | None:
        found = re.search(rf'\b{name}=("(?:[^"\\]|\\.)*"|[^,\]]+)', self.attrs)
        if found is None:
            return None
        value = found.group(1)
        return value[1:-1].replace("\\n", "\n") if value.startswith('"') else value


@dataclass
class Dot:
    """The parts of a picture's DOT text these tests look at."""

    source: str

    def label(self, node: str) -> str:
        found = re.search(rf'^    {node} \[.*?label="((?:[^"\\]|\\.)*)"', self.source, re.M)
        assert found, f"no node {node}"
        return found.group(1).replace("\\n", "\n")

    def name(self, node: str) -> str:
        """The value a node stands for: ``X`` for the forward ``X``, ``w`` for ``dL/dw``."""
        first = self.label(node).split("\n")[0]
        return first.split(" = ")[0] if node.startswith("v") else first.split("/d", 1)[1]

    def node(self, kind: str, name: str) -> str:
        nodes = re.findall(rf"^    ({kind}\d+) \[", self.source, re.M)
        return next(n for n in nodes if self.name(n) == name)

    def edges(self) -> list[Edge]:
        return [Edge(*e) for e in re.findall(r"^  ([vb]\d+) -> ([vb]\d+) \[(.*)\];$",
                                             self.source, re.M)]

    def adjoint_edges(self) -> list[Edge]:
        """Backward edges, each written from the adjoint it computes to the step whose rule
        computes it (drawn backwards)."""
        return [e for e in self.edges() if e.attr("dir") == "back"]

    def links(self) -> list[tuple[str, str]]:
        """(forward value, adjoint whose rule reads it), by name."""
        return [(self.name(e.tail), self.name(e.head)) for e in self.edges()
                if e.tail.startswith("v") and e.head.startswith("b")
                and e.attr("constraint") == "false"]


def picture(name: str) -> tuple[Dot, symdiff.teach.Picture]:
    fun, args, argnums = CALLS[name]
    pic = symdiff.graph(fun, *args, argnums=argnums)
    return Dot(pic.source), pic


def edge_into(dot: Dot, adjoint: str, step: str) -> Edge:
    """The backward edge along which ``step``'s rule passes its adjoint to ``adjoint``."""
    b_adjoint, b_step = dot.node("b", adjoint), dot.node("b", step)
    return next(e for e in dot.adjoint_edges() if (e.tail, e.head) == (b_adjoint, b_step))


# --- the source, without dot -----------------------------------------------------------------

@pytest.mark.parametrize("name", CALLS)
def test_picture_reads_top_down_with_each_adjoint_beside_its_value(name):
    dot, _ = picture(name)
    assert re.search(r"\brankdir=TB\b", dot.source)
    adjoints = re.findall(r"^    b(\d+) \[", dot.source, re.M)
    assert adjoints
    for n in adjoints:
        assert f"{{rank=same; v{n}; b{n}}}" in dot.source
    # drawn backwards: the arrows point from the output's adjoint up to the arguments'
    assert all(e.tail.startswith("b") and e.head.startswith("b") and
               "dashed" in e.attrs for e in dot.adjoint_edges())


@pytest.mark.parametrize("name", CALLS)
def test_every_adjoint_edge_says_what_its_step_does(name):
    dot, _ = picture(name)
    edges = dot.adjoint_edges()
    fun, args, argnums = CALLS[name]
    w = walk(fun, args, {}, argnums)
    assert len(edges) == len(w.passed)
    for e in edges:
        label = e.attr("label")
        assert label and "rule" not in label
        assert label.startswith(("×", "@")) or label.endswith("@"), label


def test_logistic_edges_are_written_as_a_student_would():
    dot, _ = picture("logistic")
    _, (X, y, w), _ = CALLS["logistic"]
    assert edge_into(dot, "w", "t1").attr("label") == "Xᵀ @"
    assert edge_into(dot, "t2", "t3").attr("label") == f"× 1/{len(y)}"  # the mean's 1/n
    assert edge_into(dot, "t1", "p").attr("label") == "× p*(1 - p)"  # the sigmoid's
    assert edge_into(dot, "t3", "logistic").attr("label") == "× (-1)"


def test_mlp_edges_are_written_as_a_student_would():
    dot, _ = picture("mlp")
    _, (x, y, *_), _ = CALLS["mlp"]
    assert edge_into(dot, "w1", "t1").attr("label") == "xᵀ @"
    assert edge_into(dot, "w2", "t2").attr("label") == "hᵀ @"
    assert edge_into(dot, "h", "t2").attr("label") == "@ w2ᵀ"
    assert edge_into(dot, "t3", "mlp").attr("label") == f"× 1/{y.size}"
    # b2 was broadcast to z's shape, so what it gets back is summed to its own
    assert edge_into(dot, "b2", "z").attr("label") == "× 1, summed to (1)"


@pytest.mark.parametrize("name", CALLS)
def test_matrix_edges_write_the_rule_explain_writes(name):
    """A matrix product's edge, with the adjoint it carries put back, is explain's line."""
    dot, _ = picture(name)
    fun, args, argnums = CALLS[name]
    text = symdiff.explain(fun, *args, argnums=argnums)
    out = fun.__name__
    checked = 0
    for e in dot.adjoint_edges():
        label = e.attr("label")
        if "@" not in label:
            continue
        mine, theirs = f"d{out}/d{dot.name(e.head)}", f"d{out}/d{dot.name(e.tail)}"
        rule = f"{mine} {label}" if label.startswith("@") else f"{label} {mine}"
        assert f"{theirs} = {rule} = " in text
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("name", CALLS)
def test_elementwise_edges_multiply_by_the_derivative_the_backward_pass_used(name):
    """Each "× formula" label, evaluated at the call's values, times the adjoint the edge
    carries, is what the backward pass passed along that edge."""
    dot, _ = picture(name)
    fun, args, argnums = CALLS[name]
    w = walk(fun, args, {}, argnums)
    by_name = {s.name: s for s in w.steps}
    checked = 0
    for e in dot.adjoint_edges():
        label = e.attr("label")
        if not label.startswith("× ") or "summed" in label or "∂" in label:
            continue
        step, read = by_name[dot.name(e.head)], by_name[dot.name(e.tail)]
        symbols = {n: sp.Symbol(n) for n in by_name}
        factor = sp.sympify(label.removeprefix("× "), locals=symbols)
        names = sorted(str(s) for s in factor.free_symbols)
        local = sp.lambdify([symbols[n] for n in names], factor, "numpy")(
            *(w.values[by_name[n].node] for n in names))
        np.testing.assert_allclose(np.asarray(w.adjoints[step.node]) * local,
                                   w.passed[(step.node, read.node)], rtol=1e-12, atol=1e-14)
        checked += 1
    assert checked >= 3


def test_logistic_links_the_values_each_rule_reads():
    dot, _ = picture("logistic")
    links = dot.links()
    assert ("X", "w") in links  # dL/dw = Xᵀ @ dL/dt1
    assert ("p", "t1") in links  # the sigmoid's derivative p(1 - p) reads its own value
    assert {("p", "p"), ("y", "p")} <= set(links)  # ∂t2/∂p reads p and y
    assert not [link for link in links if link[1] in ("t2", "t3")]  # a mean reads no value
    assert all(e.attr("style") == "dotted" for e in dot.edges()
               if e.attr("constraint") == "false")


def test_mlp_links_the_values_each_rule_reads():
    links = set(picture("mlp")[0].links())
    assert {("x", "w1"), ("h", "w2"), ("w2", "h")} <= links
    assert not {link for link in links if link[1] in ("t2", "t3", "b2")}


def test_long_formulas_are_wrapped_and_whole_in_the_tooltip():
    dot = Dot(symdiff.graph(long_formula, np.linspace(0.1, 0.9, 3)).source)
    node = re.search(r"^    (v\d+) \[tooltip=\"(t1 = [^\"]*)\"", dot.source, re.M)
    assert node, dot.source
    tooltip = node.group(2)
    lines = dot.label(node.group(1)).split("\n")[:-1]  # the last line is the shape
    assert len(tooltip) > 80 and len(lines) == 3 and lines[-1].endswith(" …")
    assert all(len(line) <= 30 for line in lines)
    assert tooltip.startswith(" ".join(lines).removesuffix(" …"))
    # no parenthesis is split across lines
    assert all(line.count("(") == line.count(")") for line in lines[:-1])


def test_wrapped_labels_lose_nothing_of_a_formula_that_fits():
    dot, _ = picture("logistic")
    node = dot.node("v", "t2")
    tooltip = re.search(rf'^    {node} \[tooltip="([^"]*)"', dot.source, re.M).group(1)
    lines = dot.label(node).split("\n")[:-1]
    assert len(lines) == 2 and " ".join(lines) == tooltip
    assert tooltip == "t2 = y*log(p) + (1 - y)*log(1 - p)"


# --- the drawing, with dot -------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dot") is None, reason="drawing needs Graphviz's dot program")
@pytest.mark.parametrize("name", CALLS)
def test_picture_fits_a_notebooks_width(name):
    _, pic = picture(name)
    svg = pic.pipe("svg").decode()
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width <= 1000
