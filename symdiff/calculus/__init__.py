"""The scalar calculus, in SymPy only: the scalar functions symdiff adds to SymPy (``scalar``),
derivation and tidying of derivatives (``derive``), the rewrites that keep them stable in
floating point (``stable``), and the check that a rewrite is finite wherever its original is
(``finite``). The rules (``symdiff.rules``) build on it; it knows nothing of graphs."""
