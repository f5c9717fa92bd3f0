"""Control flow that depends on data, turned into selections.

The evaluator runs Python's own control flow while generating wherever it can (``if`` on a
constant, a loop over ``range(3)``). Where a condition is an array value, both branches are
evaluated and each variable they change becomes ``np.where(condition, then, else)``: the
rules differentiate each branch separately, so the branch not taken contributes neither value
nor NaN. ``return``, ``break`` and ``continue`` under such a condition end one *path* of the
program but not the other; a path is a guard (the condition under which it runs, ``None``
for always) with the variables it has, and paths meet again by selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from symdiff.frontend import calls
from symdiff.frontend.aliasing import held_state, restore_state
from symdiff.frontend.concrete import decide
from symdiff.frontend.loops import (
    RUN_TIME_LENGTH,
    UNROLL_ONLY,
    UNROLLED,
    Indexed,
    range_items,
)
from symdiff.frontend.paths import (
    Guard,
    Path,
    both,
    condition_of,
    merge,
    negate,
    sizes_only,
)
from symdiff.frontend.values import (
    SizeNeeded,
    StaticError,
    SymDim,
    Tensor,
    describe,
    to_tensor,
)
from symdiff.ir.graph import Graph


class Returned(Exception):
    """``return`` on the current path."""

    def __init__(self, value: Any):
        self.value = value


class Broke(Exception):
    """``break`` on the current path."""


class Continued(Exception):
    """``continue`` on the current path."""


class Ended(Exception):
    """Every path through a block left it (each by return, break or continue)."""


@dataclass
class Exits:
    """Paths that left a construct early, waiting to meet the others where it ends."""

    returns: list[tuple[Guard, Any]] = field(default_factory=list)
    breaks: list[Path] = field(default_factory=list)
    continues: list[Path] = field(default_factory=list)


def _is_iterator(value: Any) -> bool:
    """A generator, ``map``, ``zip``, ``enumerate``...: items taken once, as the loop goes."""
    return not isinstance(value, (Tensor, SymDim, Indexed)) and hasattr(value, "__next__")


MAX_UNROLLED = 10_000  # iterations of one loop written out while generating


class _Restart(Exception):
    """A while loop being written out had better run in the generated code: it ran past
    ``UNROLLED`` iterations, or its test came to read data."""


class ControlFlow:
    """The evaluator's statements that branch and loop (mixed into ``Tracer``).

    Short loops run while generating, one iteration after another; long loops and loops of
    run-time length run in the generated code (``frontend.loops``). Conditions on data split
    the current path in two.
    """

    graph: Graph
    env: dict[str, Any]
    guard: Guard
    exits: Exits  # this function's early returns
    loops: list[Exits]  # the enclosing loops' breaks and continues, innermost last
    top_level: bool  # the differentiated function itself (its lines head generated code)

    # what the evaluator provides
    def expr(self, node: Any) -> Any: ...
    def suite(self, suite: Any, docstring_allowed: bool = False) -> None: ...
    def bind(self, target: Any, value: Any) -> None: ...
    def error(self, node: Any, reason: str) -> Exception: ...
    def located(self, node: Any, exc: Exception) -> Exception: ...
    def set_origin(self, node: Any) -> None: ...
    def rows(self, value: Tensor) -> Indexed: ...
    def run_time_loop(self, statement: Any, count: Any, item: Any, entry: Any) -> str | None: ...

    def raise_on_data(self, statement: Any, condition: Tensor) -> bool: ...

    def _meet_at(self, statement: Any) -> None:
        """Selections where paths meet are written under the statement that branched."""
        if self.top_level:
            self.set_origin(statement)

    def if_statement(self, statement: Any) -> None:
        import libcst as cst

        condition = self.expr(statement.test)
        orelse = statement.orelse

        def otherwise() -> None:
            if isinstance(orelse, cst.If):
                self.if_statement(orelse)
            elif orelse is not None:
                self.suite(orelse.body)

        if not isinstance(condition, (Tensor, SymDim)):  # known while generating
            if condition:
                self.suite(statement.body)
            else:
                otherwise()
            return
        try:
            condition = condition_of(self.graph, to_tensor(self.graph, condition))
        except StaticError as exc:
            raise self.error(statement.test, str(exc)) from None
        if self.raise_on_data(statement, condition):
            return

        taken = self._branch(lambda: self.suite(statement.body), condition)
        skipped = self._branch(otherwise, negate(self.graph, condition))
        if taken is None and skipped is None:
            raise Ended
        if taken is None or skipped is None:
            self.guard, self.env = (skipped or taken).guard, (skipped or taken).env
            return
        self._meet_at(statement)
        try:
            merged = merge(self.graph, [Path(condition, taken.env), Path(None, skipped.env)])
        except StaticError as exc:
            sizes = sizes_only(self.graph, condition)
            if sizes is not None:  # a branch on sizes: the gradient can specialise on them
                exc = SizeNeeded(f"{exc} (the condition depends on {sizes}, known only when "
                                 "the code runs)", sizes)
            raise self.located(statement, exc) from None
        self.env = merged.env

    def _branch(self, run: Any, condition: Tensor) -> Path | None:
        """Run one branch on a copy of the variables, under ``condition``; its path, or None
        when it leaves by return, break or continue (recorded for where paths meet)."""
        saved_env, saved_guard = self.env, self.guard
        self.env, self.guard = dict(saved_env), both(self.graph, saved_guard, condition)
        self.graph.in_data_branch += 1
        try:
            run()
            return Path(self.guard, self.env)
        except Returned as ret:
            self.exits.returns.append((self.guard, ret.value))
        except Broke:
            self.loops[-1].breaks.append(Path(self.guard, self.env))
        except Continued:
            self.loops[-1].continues.append(Path(self.guard, self.env))
        except Ended:
            pass
        finally:
            self.graph.in_data_branch -= 1
            self.env, self.guard = saved_env, saved_guard
        return None

    def for_statement(self, statement: Any) -> None:
        iterable = self.expr(statement.iter)
        if _is_iterator(iterable):  # item by item, as Python: a break leaves the rest
            def taking():
                while True:
                    try:
                        item = next(iterable)
                    except StopIteration:
                        return
                    except StaticError as exc:
                        raise self.located(statement.iter, exc) from None
                    yield item
            self._loop(statement, taking(), lambda item: self.bind(statement.target, item),
                       over=iterable)
            return
        try:
            items = self.sequence(iterable)
        except StaticError as exc:
            raise self.located(statement.iter, exc) from None
        if isinstance(items, Indexed):
            count = items.count
            reason = UNROLL_ONLY
            why = None
            if self._runs_in_generated_code(count):
                why = self.run_time_loop(statement, count, items.item, None)
                if why is None:
                    return
                reason = f"this loop cannot run in the generated code: {why}"
            if not isinstance(count, int):
                raise self.located(statement.iter, SizeNeeded(
                    RUN_TIME_LENGTH.format(count.dim, reason), count.dim))
            self._loop(statement, iter(items), lambda item: self.bind(statement.target, item),
                       why)
            return
        self._loop(statement, iter(items), lambda item: self.bind(statement.target, item))

    def _runs_in_generated_code(self, count: int | SymDim | None) -> bool:
        return self.graph.loops and not (isinstance(count, int) and count <= UNROLLED)

    def while_statement(self, statement: Any) -> None:
        saved = self.snapshot()
        entry = self.expr(statement.test)
        if isinstance(entry, (Tensor, SymDim)):
            sizes = sizes_only(self.graph, to_tensor(self.graph, entry))
            reason = UNROLL_ONLY
            if self.graph.loops:
                reason = self.run_time_loop(statement, None, None, entry)
                if reason is None:
                    return
                reason = f"this loop cannot run in the generated code: {reason}"
            if sizes is not None:
                raise self.located(statement.test, SizeNeeded(
                    RUN_TIME_LENGTH.format(sizes, reason), sizes))
            entry = self._decided(statement.test, entry, reason)
            if entry is None:
                raise self.error(statement.test, "this while loop's condition depends on array "
                                 "values, so its number of iterations is known only when the "
                                 f"gradient runs; {reason}")

        def tests(in_code: bool, why: str | None = None):
            """The loop's tests while it is written out; ``in_code``: stop with _Restart where
            it had better run in the generated code (it is long, or its test reads data)."""
            test = entry
            for count in range(MAX_UNROLLED + 1):
                if not test:
                    return
                if in_code and count == UNROLLED:
                    raise _Restart
                yield None
                test = self.expr(statement.test)
                if isinstance(test, (Tensor, SymDim)):
                    if in_code:
                        raise _Restart
                    test = self._decided(statement.test, test, why or UNROLL_ONLY)
                    if test is None:
                        raise self.error(statement.test, "this while loop's condition depends "
                                         "on array values after its first iteration; "
                                         f"{why or UNROLL_ONLY}")
        if self._runs_in_generated_code(None):
            try:
                self._loop(statement, tests(True), lambda item: None)
                return
            except _Restart:
                self.restore(saved)
                why = self.run_time_loop(statement, None, None, entry)
                if why is None:
                    return
                why = f"this loop cannot run in the generated code: {why}"
                self._loop(statement, tests(False, why), lambda item: None, why)
                return
        self._loop(statement, tests(False), lambda item: None)

    def _decided(self, test: Any, value: Tensor | SymDim, why: str) -> bool | None:
        """A loop condition on data, decided on the values of the call the code is generated
        for (``frontend.concrete``); None where they are not known, or it reads only sizes.
        ``why``: why the loop is written out."""
        if isinstance(value, SymDim):
            return None
        try:
            return decide(self.graph, to_tensor(self.graph, value).node)
        except StaticError as exc:
            raise self.error(test, f"{exc}; {why}") from None

    def snapshot(self) -> tuple:
        """The tracer's state, to go back to when a way of tracing a loop is abandoned (the
        nodes it added stay in the graph, unused): its variables, the contents of the lists
        and dicts they reach and of the values yielded so far, and how far each generator
        they reach has handed out its items (the abandoned iterations may have changed
        them)."""
        return (dict(self.env), self.guard, len(self.exits.returns), self.graph.origin,
                held_state([*self.env.values(), self.yielded]))

    def restore(self, saved: tuple) -> None:
        env, self.guard, returns, self.graph.origin, contents = saved
        self.env = dict(env)
        del self.exits.returns[returns:]
        restore_state(contents)

    def sequence(self, iterable: Any) -> list[Any] | Indexed:
        """What a for loop walks: a list of items, or an :class:`Indexed` sequence."""
        if isinstance(iterable, Tensor):
            return self.rows(iterable)
        if isinstance(iterable, Indexed):
            return iterable
        if isinstance(iterable, range) and len(iterable) > UNROLLED:
            return range_items(iterable.start, iterable.stop, iterable.step, self.offset)
        if isinstance(iterable, SymDim):
            raise StaticError("cannot loop over a size")
        try:
            return list(iterable)
        except TypeError:
            raise StaticError(f"cannot loop over {describe(iterable)}") from None

    def offset(self, k: Any, by: int, how: str) -> Any:
        """``k + by`` or ``k * by`` for a counter that may be traced."""
        if isinstance(k, int):
            return k + by if how == "add" else k * by
        return calls.elementwise(self.graph, how, k, by)

    def _loop(self, statement: Any, items: Any, start: Any, why: str | None = None,
              over: Any = None) -> None:
        """Unroll: one iteration after another, while some path still runs the loop;
        ``why``: why it does not run in the generated code, for the error when it is long;
        ``over``: the iterator the items are taken from."""
        exits = Exits()
        returns = len(self.exits.returns)
        before = [(g, g.position) for g in self.graph.live_generators if g.alive]
        self.loops.append(exits)
        running, stopped = True, False  # some path still loops; a break ended every path
        try:
            for count, item in enumerate(items):
                if count == MAX_UNROLLED:
                    raise self.error(statement, f"this loop runs more than {MAX_UNROLLED} "
                                     f"times while generating: {why or 'it is written out'}")
                exits.continues = []
                live = self._iteration(statement, item, start, exits)
                if live is False:
                    stopped = True
                    break
                if exits.continues:
                    self._meet_at(statement)
                merged = merge(self.graph, ([live] if live else []) + exits.continues)
                if merged is None:
                    running = False
                    break
                self.guard, self.env = merged.guard, merged.env
        finally:
            self.loops.pop()
        if over is not None and (exits.breaks or len(self.exits.returns) > returns):
            for generator, position in before:  # how far they went depends on data
                if generator.position != position:
                    generator.decided_by_data = True
        if statement.orelse is not None:
            if exits.breaks:
                raise self.error(statement, "a loop's else clause after a break that depends "
                                 "on data is not supported")
            if running and not stopped:
                self.suite(statement.orelse.body)
        paths = ([Path(self.guard, self.env)] if running else []) + exits.breaks
        if exits.breaks:
            self._meet_at(statement)
        try:
            merged = merge(self.graph, paths)
        except StaticError as exc:
            raise self.error(statement, str(exc)) from None
        if merged is None:
            raise Ended
        self.guard, self.env = merged.guard, merged.env

    def _iteration(self, statement: Any, item: Any, start: Any, exits: Exits
                   ) -> Path | None | bool:
        """Run the body once: the path that reaches its end, None if none does, False if a
        break ends the loop on every path."""
        try:
            start(item)
            self.suite(statement.body)
            return Path(self.guard, self.env)
        except Broke:
            if self.guard is None:
                return False
            exits.breaks.append(Path(self.guard, self.env))
        except Continued:
            exits.continues.append(Path(self.guard, self.env))
        except Ended:
            pass
        except StaticError as exc:
            raise self.error(statement, str(exc)) from None
        return None
