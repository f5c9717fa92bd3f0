"""Derivative rules, one file per family, all registered in the one table
(``symdiff.ir.primitives``)."""

# Importing the families fills the table.
from symdiff.rules import (  # noqa: E402,I001
    custom, decompositions, elementwise, indexing, linalg, loops, ordering, reductions, scans,
    shape_ops,
)
from symdiff.ir.primitives import Primitive, all_primitives, lookup, promote, register

primitive = lookup

__all__ = ["Primitive", "all_primitives", "custom", "decompositions", "elementwise", "indexing",
           "linalg", "lookup", "loops", "ordering", "primitive", "promote", "reductions",
           "register", "scans", "shape_ops"]
