"""The primitives of loops in the generated code (``symdiff.ir.loop``). Their adjoint, a
reverse loop, is reverse mode run on the body: ``symdiff.ad.reverse``."""

from __future__ import annotations

from symdiff.ir.graph import Node
from symdiff.ir.primitives import Primitive, register


def _no_infer(inputs: list[Node], params: dict) -> tuple:
    raise TypeError("loop nodes are created with their shapes")


register(Primitive("loop", _no_infer, pure=False))
register(Primitive("loop_out", _no_infer))
register(Primitive("loop_count", _no_infer, differentiable=False))
register(Primitive("loop_tape", _no_infer, differentiable=False))
# the tape is no function of what is differentiated: a reverse loop is differentiated by
# nothing (see symdiff.ad.reverse), and a tape read only stands for the value it reads
register(Primitive("tape_read", _no_infer, vjp=lambda graph, node, ct: [None, None]))
# the counter and carried values while a body is traced, before it becomes a Body
register(Primitive("loop_var", _no_infer, pure=False))
