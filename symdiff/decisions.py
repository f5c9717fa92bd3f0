"""Code that returns, after its result, the conditions it checks (``pipeline``: decisions taken
on the values of the call it was generated for, and asserts on data), and how a gradient
function keeps such codes and chooses among them on each call."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from symdiff.errors import SymdiffError
from symdiff.runtime import call_compiled
from symdiff.runtime import load as load_module


def load(module: Any, with_value: bool, backend: str) -> tuple[Any, Callable]:
    """``runtime.load``, the function that checks conditions wrapped in :class:`Decided`."""
    module, compiled = load_module(module, with_value, backend)
    decisions, assertions = getattr(module, "decisions", ()), getattr(module, "assertions", ())
    if decisions or assertions:
        return module, Decided(compiled, decisions, assertions)
    return module, compiled


class DecisionsChanged(Exception):
    """Raised by :class:`Decided` code for arguments that decide a condition otherwise."""

    def __init__(self, code: Decided):
        super().__init__("the arguments decide a while loop's condition otherwise than those "
                         "the code was generated for")
        self.code = code


class Decided:
    """Code that returns conditions after its result, checked on each call: those it decided
    on, generated on the values of a call for a while loop on data written out as many times
    as those values take it (``symdiff.frontend.concrete``), then those of the function's
    checks on data (``assertions``: the builtin exception each raises where it is false, by
    name, and its message)."""

    def __init__(self, compiled: Callable, decisions: tuple[bool, ...],
                 assertions: tuple[tuple[str, str], ...] = ()):
        self.compiled = compiled
        self.decisions = decisions
        self.assertions = assertions

    def __call__(self, *values: Any) -> Any:
        result, conditions = call_compiled(self.compiled, values)
        count = len(self.decisions)
        if tuple(bool(c) for c in conditions[:count]) != self.decisions:
            raise DecisionsChanged(self)
        for holds, (kind, message) in zip(conditions[count:], self.assertions, strict=True):
            if not holds:
                raise getattr(builtins, kind)(message)
        return result


_VARIANTS = 8  # codes generated on different values kept for one signature


def deciding(attempt: Callable[[], Any], cache: dict, variants: dict, lock: Any,
             who: str) -> Any:
    """``attempt()``: fetch the code for a call from ``cache`` (key -> (module, compiled)),
    or generate it there, and run it. :class:`Decided` code generated on another call's
    values, whose while loops these arguments take another number of times, gives way to code
    generated earlier for other values (``variants``, by key: the last few are kept), and else
    to code generated for these."""
    tried: list[Any] = []
    generated = False
    while True:  # each turn tries code not tried before, or generates it
        try:
            return attempt()
        except DecisionsChanged as exc:
            tried.append(exc.code)
            if generated or len(tried) > _VARIANTS:
                raise SymdiffError(
                    f"{who}: the code generated for these arguments decides a while loop's "
                    "condition otherwise than their values did while generating (a "
                    "condition at the edge of rounding); change the tolerance it compares "
                    "with") from None
            with lock:
                generated = _next_variant(cache, variants, exc.code, tried)


def _next_variant(cache: dict, variants: dict, failed: Decided, tried: list[Any]) -> bool:
    """Put code generated on other values, not yet tried, in the place of ``failed``; True
    when there is none, so that the next attempt generates code."""
    key = next((k for k, entry in cache.items() if entry[1] is failed), None)
    if key is None:  # already replaced
        return False
    kept = variants.setdefault(key, [])
    if cache[key] not in kept:
        kept.insert(0, cache[key])
        del kept[_VARIANTS:]
    untried = [entry for entry in kept if entry[1] not in tried]
    if untried:
        cache[key] = untried[0]
        return False
    del cache[key]
    return True
