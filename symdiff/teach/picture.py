"""``symdiff.graph``: the forward and backward graph of one call, as Graphviz DOT.

Forward values are blue boxes named as the source names them (arguments are ellipses); adjoints
are orange boxes, joined by dashed red edges that carry each step's local derivative back to the
values it reads. Edges are labelled with the shape of what flows along them. ``render`` and the
Jupyter display need Graphviz's ``dot`` program; ``source`` is the DOT text either way.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from symdiff.errors import ArgumentError, SymdiffError, user_facing
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


def to_dot(w: Walk) -> str:
    out_name = w.step(w.output).name
    lines = [
        "digraph symdiff {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
        '  subgraph cluster_forward { label="forward"; color="#9ab0d0"; fontname="Helvetica";',
    ]
    for s in w.steps:
        lines.append(f"    {_id(s)} [{_forward_style(w, s)}];")
    lines.append("  }")
    lines.append('  subgraph cluster_backward { label="backward"; color="#e0a080"; '
                 'fontname="Helvetica";')
    for s in w.steps:
        if s.node in w.adjoints:
            style = "peripheries=2, " if s.node in w.wrt else ""
            label = f"d{out_name}/d{s.name}\n{_shape(w.adjoints[s.node])}"
            lines.append(f'    {_id(s, "b")} [{style}label={_quote(label)}, '
                         'fillcolor="#fde3cf", color="#c0603a"];')
    lines.append("  }")
    for s in w.steps:
        for u in s.reads:
            lines.append(f"  {_id(w.step(u))} -> {_id(s)} "
                         f"[label={_quote(_shape(w.values[u]))}];")
    output = w.step(w.output)
    if output.node in w.adjoints:
        lines.append(f'  {_id(output)} -> {_id(output, "b")} [style=dotted, color="#888888", '
                     'label="1"];')
    for s in reversed(w.steps):
        for u in s.reads:
            if (s.node, u) in w.passed:
                label = f"{_rule(w, s, u)}\n{_shape(w.passed[(s.node, u)])}"
                lines.append(f'  {_id(s, "b")} -> {_id(w.step(u), "b")} [style=dashed, '
                             f'color="#c0603a", fontcolor="#c0603a", label={_quote(label)}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _forward_style(w: Walk, s: Step) -> str:
    shape = _shape(w.values[s.node])
    if s.is_input:
        label = _quote(s.name + "\n" + shape)
        return f'shape=ellipse, label={label}, fillcolor="#dbe8f8"'
    if s.elementwise:
        what = f"{s.name} = {w.formula(s)}"
    else:
        node = w.graph[s.node]
        what = f"{s.name} = {node.op}"
    extra = "peripheries=2, " if s.node == w.output else ""
    label = _quote(what + "\n" + shape)
    return f'{extra}label={label}, fillcolor="#e8f0fb", color="#4a6fa5"'


def _rule(w: Walk, s: Step, u: int) -> str:
    """What an adjoint edge multiplies by: the local derivative of step ``s`` in ``u``."""
    if s.elementwise:
        return f"× ∂{s.name}/∂{w.step(u).name}"
    return f"{w.graph[s.node].op} rule"


def _shape(value: Any) -> str:
    shape = np.shape(value)
    return "scalar" if shape == () else str(shape).replace(",)", ")")


def _id(s: Step, prefix: str = "v") -> str:
    return f"{prefix}{s.node}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
