"""The size checks of generated code, made on every call.

Generation records what the code assumes of its arguments' sizes and cannot prove (see
``symdiff.ir.shapes``): each check is its Python text over the arguments, such as
``x.shape[0] == y.shape[0] - 1``, with the ``(argument, axis)`` sizes it reads. A call whose
sizes fail a check is not run; the caller generates code for those sizes as numbers instead.
Pure Python, so that a call served from the cache loads nothing of the compiler.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from symdiff.errors import SymdiffError, UnsupportedError
from symdiff.signature import passed

Check = tuple[str, tuple[tuple[str, int], ...]]  # (text, the sizes it reads)
Checker = Callable[..., int]  # the arguments -> index of the first check that fails, or -1


def compile_checks(checks: Sequence[Check], names: Sequence[str]) -> Checker | None:
    """One Python function making all ``checks`` over the arguments ``names``, in order; None
    when there is nothing to check."""
    if not checks:
        return None
    lines = [f"def check_sizes({', '.join([*names, '*_'])}):"]  # a VJP's cotangent follows
    lines += [f"    if not ({text}):\n        return {k}" for k, (text, _) in enumerate(checks)]
    lines.append("    return -1")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<symdiff size checks>", "exec"), namespace)
    return namespace["check_sizes"]


def failed_sizes(module: Any, values: Sequence[Any]) -> frozenset[tuple[str, int]]:
    """The sizes read by the first of ``module``'s checks that ``values`` fail (empty if
    none does): the sizes to generate again as numbers."""
    checker = module.size_checker
    if checker is None:
        return frozenset()
    failed = checker(*values)
    return frozenset() if failed < 0 else frozenset(tuple(s) for s in module.size_checks[failed][1])


class SizeChecked:
    """For generated modules: ``size_checks`` over the parameters of ``signature`` (a tuple
    of ``ArgSpec``), compiled on first use."""

    size_checks: tuple
    signature: tuple

    @functools.cached_property
    def size_checker(self) -> Checker | None:
        return compile_checks(self.size_checks, [s.name for s in passed(self.signature)])


def specialised_entry(compile_pinned: Callable[[frozenset], tuple[Any, Callable]],
                      values: dict[str, Any], who: str, needed: set) -> tuple[Any, Callable]:
    """``fitting_entry``, where generation may also ask for sizes as numbers (a loop's length,
    a position that depends on a length): they join ``needed``, which the caller keeps for
    every call from then on, and the code is generated again."""
    def entry_for(pinned: frozenset) -> tuple[Any, Callable]:
        while True:
            try:
                return compile_pinned(pinned | needed)
            except UnsupportedError as exc:
                new = {s for s in exc.sizes if s[0] in values} - pinned - needed
                if not new:
                    raise
                needed.update(new)

    return fitting_entry(entry_for, values, who)


def fitting_entry(entry_for: Callable[[frozenset], tuple[Any, Callable]],
                  values: dict[str, Any], who: str) -> tuple[Any, Callable]:
    """The ``(module, function)`` that ``entry_for(pinned)`` generates for a call whose
    arguments are ``values`` (by parameter name), starting from the shape-generic code: while
    the call fails a size check, the sizes that check reads are generated again as numbers
    (pinned). Generation that refuses the code (shapes that cannot work together) under an
    assumption the call's sizes do not meet is tried again the same way."""
    pinned: frozenset = frozenset()
    while True:
        try:
            entry = entry_for(pinned)
        except UnsupportedError as exc:
            names, checks = getattr(exc, "assumed", ((), ()))
            checker = compile_checks(checks, names)
            if checker is None or any(n not in values for n in names):
                raise
            failed = checker(*(values[n] for n in names))
            if failed < 0:
                raise
            sizes = frozenset(tuple(s) for s in checks[failed][1])
        else:
            module = entry[0]
            sizes = failed_sizes(module, [values[s.name] for s in passed(module.signature)])
            if not sizes:
                return entry
        if sizes <= pinned:  # cannot happen: a check reads only sizes not yet numbers
            raise SymdiffError(f"{who}: the size checks of the code generated for "
                               f"{sorted(sizes)} fail for their own sizes")
        pinned |= sizes
