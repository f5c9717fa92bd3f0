"""``symdiff.graph``: the forward and backward graph of one call, as Graphviz DOT.

The picture reads top to bottom at notebook width: the forward pass goes down on the left, blue
boxes named as the source names them (arguments are ellipses), and the backward pass comes back
up beside it, each orange adjoint on the level of the value it belongs to. A backward edge is
labelled with what its step does to the adjoint it carries, as ``explain`` writes the rule
(``Xᵀ @``, ``× 1/4``, ``× p*(1 - p)``), and thin dotted edges link each forward value a rule
reads to the adjoint that rule computes. Forward edges are labelled with the shape of what flows
along them, nodes with their own shapes. ``render`` and the Jupyter display need Graphviz's
``dot`` program; ``source`` is the DOT text either way.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence

from symdiff.errors import ArgumentError, SymdiffError, user_facing
from symdiff.teach.adjoint_rules import (
    REDUCTIONS,
    array_rule,
    array_rule_reads,
    derivative_reads,
    local_derivative,
    reduction_factor,
)
from symdiff.teach.notation import TEXT, Text
from symdiff.teach.walk import Step, Walk, walk

_FORMATS = ("svg", "png", "pdf")


class Picture:
    """A graph to look at: ``.source`` (DOT), ``.render(path)``, and an SVG in Jupyter."""

    def __init__(self, source: str):
        self.source = source

    def __repr__(self) -> str:
        return f"<symdiff graph: {self.source.count(' -> ')} edges; .source, .render(path)>"

    def pipe(self, format: str = "svg") -> bytes:
        """The picture as bytes in ``format`` (svg, png or pdf), drawn by Graphviz's dot."""
        if format not in _FORMATS:
            raise ArgumentError(f"format {format!r}: choose one of {', '.join(_FORMATS)}")
        dot = shutil.which("dot")
        if dot is None:
            raise SymdiffError("drawing the graph needs Graphviz's dot program, which is not "
                               "installed (apt install graphviz, brew install graphviz or conda "
                               "install graphviz); .source has the DOT text meanwhile")
        run = subprocess.run([dot, f"-T{format}"], input=self.source.encode(),
                             capture_output=True, check=False)
        if run.returncode != 0:
            raise SymdiffError(f"dot failed: {run.stderr.decode(errors='replace').strip()}")
        return run.stdout

    def render(self, path: str | Path) -> Path:
        """Write the picture to ``path``; its suffix (.svg, .png, .pdf) chooses the format, and
        ``.dot`` (or ``.gv``) writes the DOT text itself."""
        path = Path(path)
        suffix = path.suffix.lstrip(".").lower()
        if suffix in ("dot", "gv"):
            path.write_text(self.source)
        else:
            path.write_bytes(self.pipe(suffix))
        return path

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.source}
        if shutil.which("dot"):
            bundle["image/svg+xml"] = self.pipe("svg").decode()
        return bundle


@user_facing
def graph(fun: Any, *args: Any, argnums: int | tuple[int, ...] | None = None,
          wrt: str | tuple[str, ...] | None = None, **kwargs: Any) -> Picture:
    """The forward and backward graph of ``fun(*args, **kwargs)`` differentiated with respect
    to ``argnums`` or ``wrt`` (as for ``symdiff.grad``), its nodes named after the source's
    variables."""
    return Picture(to_dot(walk(fun, args, kwargs, argnums, wrt)))


# Characters per line of a label and lines of a formula before it is cut short: a label is
# then at most about 150 pt wide, so that a picture fits a notebook's width.
_LABEL_WIDTH = 24
_LABEL_LINES = 3
# stands for the adjoint coming in while a rule is written for an edge, which leaves it out
_INCOMING = "\ue000"


@dataclass(frozen=True)
class _BackwardEdge:
    step: Step  # the step whose rule passes its adjoint back
    read: Step  # the value it passes it back to
    label: str  # what the rule does to the adjoint: "Xᵀ @", "× 1/4"
    tooltip: str  # the rule in full, as explain writes it
    reads: list[Step]  # the forward values the rule reads


class _EdgeText(Text):
    """Backward edges write rules in explain's text notation, with × for a product: what an
    edge does to its adjoint reads "× 1/4"."""

    def times(self, *factors: str) -> str:
        return " × ".join(factors)


_EDGE = _EdgeText()


def to_dot(w: Walk) -> str:
    """The walk's picture as DOT: the forward cluster, the backward cluster, each adjoint's
    level, then the forward, seed, backward and link edges."""
    edges = _backward_edges(w)
    lines = [
        "digraph symdiff {",
        # top to bottom: the width is that of the widest level, not the length of the pass;
        # newrank lets an adjoint share its value's level although the two are in clusters
        "  rankdir=TB; newrank=true; nodesep=0.3; ranksep=0.35;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        *_forward_cluster(w),
        *_backward_cluster(w),
        *_levels(w),
        *_forward_edges(w),
        *_seed_edge(w),
        *(_backward_edge_line(e) for e in edges),
        *_links(w, edges),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _forward_cluster(w: Walk) -> list[str]:
    lines = ['  subgraph cluster_forward { label="forward ↓"; color="#9ab0d0"; '
             'fontname="Helvetica";']
    lines += [f"    {_id(s)} [{_forward_style(w, s)}];" for s in w.steps]
    return [*lines, "  }"]


def _backward_cluster(w: Walk) -> list[str]:
    out_name = w.step(w.output).name
    lines = ['  subgraph cluster_backward { label="backward ↑"; color="#e0a080"; '
             'fontname="Helvetica";']
    for s in w.steps:
        if s.node in w.adjoints:
            style = "peripheries=2, " if s.node in w.wrt else ""
            label = f"{TEXT.adjoint(out_name, s.name)}\n{_shape(w.adjoints[s.node])}"
            lines.append(f'    {_id(s, "b")} [{style}label={_quote(label)}, '
                         'fillcolor="#fde3cf", color="#c0603a"];')
    return [*lines, "  }"]


def _levels(w: Walk) -> list[str]:
    """Each adjoint on its value's level, so that the backward pass climbs back beside the
    forward one."""
    return [f"  {{rank=same; {_id(s)}; {_id(s, 'b')}}}" for s in w.steps
            if s.node in w.adjoints]


def _forward_edges(w: Walk) -> list[str]:
    return [f"  {_id(w.step(u))} -> {_id(s)} [label={_quote(_shape(w.values[u]))}];"
            for s in w.steps for u in s.reads]


def _seed_edge(w: Walk) -> list[str]:
    """d output / d output = 1 starts the backward pass."""
    output = w.step(w.output)
    if output.node not in w.adjoints:
        return []
    return [f'  {_id(output)} -> {_id(output, "b")} [style=dotted, color="#888888", '
            'label="1"];']


def _backward_edges(w: Walk) -> list[_BackwardEdge]:
    """One for each value a step passes its adjoint back to, the last step first."""
    return [_backward_edge(w, s, u) for s in reversed(w.steps) for u in s.reads
            if (s.node, u) in w.passed]


def _backward_edge(w: Walk, s: Step, u: int) -> _BackwardEdge:
    out, name = w.step(w.output).name, w.step(u).name
    mine, theirs = TEXT.adjoint(out, s.name), TEXT.adjoint(out, name)
    if s.elementwise:
        partial = TEXT.partial(s.name, name)
        derivative = local_derivative(w, s, u)
        formula = TEXT.formula(derivative.shown)
        factor = _factor(derivative.shown)
        # the derivative itself where it is short, else its name (the tooltip has it)
        label = _EDGE.times(_INCOMING, factor if len(factor) <= _LABEL_WIDTH else partial)
        passed = w.passed[(s.node, u)]
        if np.shape(passed) != np.shape(w.values[s.node]):  # u was broadcast to s's shape
            label += f", summed to {_shape(passed)}"
        tooltip = f"{theirs} = {TEXT.times(mine, partial)}; {partial} = {formula}"
        reads = derivative_reads(w, s, derivative.shown)
    elif w.graph[s.node].op in REDUCTIONS:
        factor, _ = reduction_factor(w, s, u)
        label = _EDGE.times(_INCOMING, factor)
        tooltip = f"{theirs} = {TEXT.times(mine, factor)}"
        reads = []
    else:
        label = array_rule(w, _EDGE, s, u, _INCOMING)
        tooltip = f"{theirs} = {array_rule(w, TEXT, s, u, mine)}"
        reads = array_rule_reads(w, s, u)
    return _BackwardEdge(s, w.step(u), "\n".join(_wrap(_operation(label))), tooltip,
                         [w.step(i) for i in reads])


def _factor(expr: sp.Basic) -> str:
    """``expr`` as a factor of a product: in parentheses where it is a sum or negative, so that
    "× (1 - h**2)" is not read as "× 1 - h**2"."""
    text = TEXT.formula(expr)
    return f"({text})" if precedence(expr) < PRECEDENCE["Mul"] else text


def _operation(rule: str) -> str:
    """A rule written with ``_INCOMING`` for the adjoint it takes, as an edge label: the
    adjoint left out where it begins or ends the rule ("Xᵀ @", "× 1/4"), else written ·."""
    if rule.count(_INCOMING) == 1:
        if rule.startswith(_INCOMING + " "):
            return rule.removeprefix(_INCOMING + " ")
        if rule.endswith(" " + _INCOMING):
            return rule.removesuffix(" " + _INCOMING)
    return rule.replace(_INCOMING, "·")


def _backward_edge_line(e: _BackwardEdge) -> str:
    # written from the value read to the step and drawn backwards (dir=back): dot puts a tail
    # above its head, so the backward pass climbs from the output's adjoint to the arguments'
    return (f'  {_id(e.read, "b")} -> {_id(e.step, "b")} [dir=back, style=dashed, '
            f'color="#c0603a", fontcolor="#c0603a", label={_quote(e.label)}, '
            f'tooltip={_quote(e.tooltip)}];')


def _links(w: Walk, edges: list[_BackwardEdge]) -> list[str]:
    """A thin dotted edge from each forward value a rule reads to the adjoint it computes
    (dw reads X); left out of the layout, which the two passes' own edges decide."""
    out = w.step(w.output).name
    lines: list[str] = []
    for e in edges:
        for value in e.reads:
            reads = f"{TEXT.adjoint(out, e.read.name)} reads {value.name}"
            line = (f'  {_id(value)} -> {_id(e.read, "b")} [style=dotted, constraint=false, '
                    f'color="#7f95c0", penwidth=0.7, arrowsize=0.5, tooltip={_quote(reads)}];')
            if line not in lines:
                lines.append(line)
    return lines


def _forward_style(w: Walk, s: Step) -> str:
    shape = _shape(w.values[s.node])
    if s.is_input:
        label = _quote(s.name + "\n" + shape)
        return f'shape=ellipse, label={label}, fillcolor="#dbe8f8"'
    extra = "peripheries=2, " if s.node == w.output else ""
    if s.elementwise:
        what = f"{s.name} = {w.formula(s)}"
        extra += f"tooltip={_quote(what)}, "
    else:
        what = f"{s.name} = {w.graph[s.node].op}"
    label = _quote("\n".join([*_wrap(what), shape]))
    return f'{extra}label={label}, fillcolor="#e8f0fb", color="#4a6fa5"'


def _wrap(text: str) -> list[str]:
    """``text`` in lines of about ``_LABEL_WIDTH`` characters, broken only at spaces outside
    brackets so that no parenthesis is split; at most ``_LABEL_LINES``, the last cut short
    with … where more would follow."""
    lines: list[str] = []
    for word in _top_level_words(text):
        if lines and len(lines[-1]) + 1 + len(word) <= _LABEL_WIDTH:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > _LABEL_LINES:
        lines = [*lines[:_LABEL_LINES - 1], lines[_LABEL_LINES - 1] + " …"]
    return lines


def _top_level_words(text: str) -> list[str]:
    """``text`` split at its spaces outside brackets, an operator kept with what follows it
    ("a*b + c" gives "a*b", "+ c"), so that a wrapped line starts with its operator."""
    words: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if char == " " and depth == 0 and i > start:
            words.append(text[start:i])
            start = i + 1
    words.append(text[start:])
    joined: list[str] = []
    for word in words:
        if joined and joined[-1] in _OPERATORS:
            joined[-1] += " " + word
        else:
            joined.append(word)
    return joined


_OPERATORS = {"+", "-", "*", "/", "**", "@", "=", "×", "·"}


def _shape(value: Any) -> str:
    shape = np.shape(value)
    return "scalar" if shape == () else str(shape).replace(",)", ")")


def _id(s: Step, prefix: str = "v") -> str:
    return f"{prefix}{s.node}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
