"""Looking inside backpropagation: explanations, formulas and pictures of one call.

``explain`` tells reverse mode step by step, ``formula`` gives a function or its derivative as a
SymPy expression, and ``graph`` draws the forward and backward graph. All three trace the
function the way ``grad`` does, so what they show is what the generated code computes.
"""

from symdiff.teach.explain import explain
from symdiff.teach.formula import formula, latex
from symdiff.teach.picture import Picture, graph

__all__ = ["Picture", "explain", "formula", "graph", "latex"]
