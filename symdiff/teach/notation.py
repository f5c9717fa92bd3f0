"""How explanations write mathematics: plain text for a terminal, or Markdown with LaTeX.

One class per format with the same methods, so the explanation is written once.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import sympy as sp


def number(x: Any) -> str:
    """Four decimals, trailing zeros dropped (0.6667, 1.3333, 2.0); scientific when tiny/huge."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == 0 or not np.isfinite(x) or 1e-4 <= abs(x) < 1e6:
        return np.format_float_positional(x, precision=4, trim="0") if np.isfinite(x) else str(x)
    return f"{x:.4e}"


def _array_text(value: Any, indent: int) -> str:
    a = np.asarray(value)
    if a.ndim == 0:
        return number(a.item())
    text = np.array2string(a, separator=", ", threshold=24, edgeitems=3, max_line_width=96,
                           formatter={"all": number})
    return text.replace("\n", "\n" + " " * indent)


def side_by_side(parts: list[str], gap: str) -> str:
    """``parts`` joined by ``gap``; parts of several lines (matrices) as blocks side by side,
    row by row, each as wide as its widest line, the gap on the first row."""
    if not any("\n" in part for part in parts):
        return gap.join(parts)
    blocks = [part.split("\n") for part in parts]
    widths = [max(len(line) for line in block) for block in blocks]
    rows = []
    for r in range(max(len(block) for block in blocks)):
        cells = [(block[r] if r < len(block) else "").ljust(width)
                 for block, width in zip(blocks, widths, strict=True)]
        rows.append((gap if r == 0 else " " * len(gap)).join(cells).rstrip())
    return "\n".join(rows)


class Text:
    """A terminal: d z/d y, ∂y/∂x, formulas as SymPy prints them, arrays as lists."""

    markdown = False

    def adjoint(self, out: str, v: str) -> str:
        return f"d{out}/d{v}"

    def partial(self, v: str, u: str) -> str:
        return f"∂{v}/∂{u}"

    def times(self, *factors: str) -> str:
        return side_by_side(list(factors), " · ")

    def formula(self, expr: sp.Basic) -> str:
        return sp.sstr(expr)

    def name(self, name: str) -> str:
        return name

    def transpose(self, text: str) -> str:
        return f"{text}ᵀ"

    def matmul(self, a: str, b: str) -> str:
        return f"{a} @ {b}"

    def outer(self, a: str, b: str) -> str:
        """The outer product of two vectors (``a @ b`` would be their dot product)."""
        return f"outer({a}, {b})"

    def value(self, value: Any, indent: int = 0) -> str:
        return _array_text(value, indent)

    def math(self, text: str) -> str:
        return text

    def code(self, text: str) -> str:
        return text

    def title(self, text: str) -> str:
        return text

    def heading(self, text: str) -> str:
        return f"\n{text}"

    def line(self, text: str, level: int = 1) -> str:
        return "  " * level + text

    def paragraph(self, text: str, width: int = 92) -> str:
        import textwrap

        return textwrap.fill(text, width, initial_indent="  ", subsequent_indent="  ")

    # the longest line an equation takes before its sides go one under the other
    WIDTH = 100

    def equation(self, *sides: str, level: int = 2) -> str:
        """``a = b = c``; arrays of several lines stand side by side as aligned blocks. Too
        wide for a terminal, the sides after the second go one under another, each after an
        ``=`` under the first one, as a derivation is written on paper."""
        prefix = "  " * level
        lines = side_by_side(list(sides), " = ").split("\n")
        if len(sides) > 2 and max(len(prefix + line) for line in lines) > self.WIDTH:
            indent = " " * max(len(line) for line in sides[0].split("\n"))
            lines = side_by_side(list(sides[:2]), " = ").split("\n")
            for side in sides[2:]:
                lines += side_by_side([indent, side], " = ").split("\n")
        return "\n".join(prefix + line for line in lines)


class Markdown(Text):
    """Markdown with LaTeX: fractions for derivatives, matrices for small arrays."""

    markdown = True

    def adjoint(self, out: str, v: str) -> str:
        """The whole derivative of the output (d), as the text version writes it."""
        return rf"\frac{{\mathrm{{d}} {self.name(out)}}}{{\mathrm{{d}} {self.name(v)}}}"

    def partial(self, v: str, u: str) -> str:
        """One step's local derivative (∂)."""
        return rf"\frac{{\partial {self.name(v)}}}{{\partial {self.name(u)}}}"

    def times(self, *factors: str) -> str:
        return r" \cdot ".join(factors)

    def formula(self, expr: sp.Basic) -> str:
        return sp.latex(expr)

    def name(self, name: str) -> str:
        """A letter (with its subscript) as LaTeX writes one, ``x_{0}``, ``\\alpha``; a word
        upright, ``\\mathrm{logistic}``, not as a product of italic letters."""
        base = name.split("_", 1)[0]
        if re.fullmatch(r"[A-Za-z]\d*", base) or sp.latex(sp.Symbol(base)).startswith("\\"):
            return sp.latex(sp.Symbol(name))
        return r"\mathrm{" + name.replace("_", r"\_") + "}"

    def transpose(self, text: str) -> str:
        return rf"{text}^\top"

    def matmul(self, a: str, b: str) -> str:
        return rf"{a} \, {b}"

    def outer(self, a: str, b: str) -> str:
        return rf"{a} \, {b}^\top"

    def value(self, value: Any, indent: int = 0) -> str:
        a = np.asarray(value)
        if a.ndim == 0:
            return number(a.item())
        if a.ndim > 2 or a.size > 36:
            return rf"\text{{array of shape {a.shape}}}"
        rows = a.reshape(1, -1) if a.ndim == 1 else a
        body = r" \\ ".join(" & ".join(number(x) for x in row) for row in rows)
        return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"

    def math(self, text: str) -> str:
        return f"${text}$"

    def code(self, text: str) -> str:
        return f"`{text}`"

    def title(self, text: str) -> str:
        return f"### {text}"

    def heading(self, text: str) -> str:
        return f"\n**{text}**\n"

    def line(self, text: str, level: int = 1) -> str:
        return "  " * (level - 1) + "- " + text

    def paragraph(self, text: str, width: int = 92) -> str:
        return text + "\n"

    def equation(self, *sides: str, level: int = 2) -> str:
        return "  " * (level - 1) + "- $" + " = ".join(sides) + "$"


TEXT, MARKDOWN = Text(), Markdown()
