"""Tracing one iteration of a loop into the body of a loop node (see ``frontend.loops``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symdiff.errors import UnsupportedError
from symdiff.frontend import calls
from symdiff.frontend.aliasing import shares_in, sharing
from symdiff.frontend.control import Broke, Continued, Ended, Exits, Returned
from symdiff.frontend.loops import NotLoopable, Unavailable, assigned_names, written_in_place
from symdiff.frontend.paths import Path, both, condition_of, either, merge, negate
from symdiff.frontend.values import StaticError, SymDim, Tensor, describe, is_number, to_tensor
from symdiff.ir.build import const
from symdiff.ir.graph import Graph, Node, make_params
from symdiff.ir.loop import add_loop, cut_body, loop_out
from symdiff.ir.shapes import ShapeError, broadcast_shapes, format_shape, same_shape

_ATTEMPTS = 4  # traces of one body while carried variables settle their types


def _carriable(value: Any) -> bool:
    return isinstance(value, (Tensor, SymDim, bool)) or is_number(value)


def _unchanged(before: Any, after: Any) -> bool:
    """Whether an iteration left a variable's value as it was (a static value equal to it)."""
    if before is after:
        return True
    if isinstance(before, (Tensor, SymDim)) or isinstance(after, (Tensor, SymDim)):
        return False
    try:
        return type(before) is type(after) and bool(before == after)
    except Exception:  # noqa: BLE001 - values that cannot compare have changed
        return False


class LoopTracing:
    """The evaluator's loops that run in the generated code (mixed into ``Tracer``)."""

    graph: Graph
    env: dict[str, Any]
    guard: Any
    exits: Exits
    loops: list[Exits]
    top_level: bool
    source: Any  # the function's FunctionSource

    def expr(self, node: Any) -> Any: ...
    def suite(self, suite: Any, docstring_allowed: bool = False) -> None: ...
    def bind(self, target: Any, value: Any) -> None: ...
    def set_origin(self, node: Any) -> None: ...
    # from ControlFlow, which follows this class in Tracer's bases (no stubs here to hide them)
    snapshot: Callable[[], tuple]
    restore: Callable[[tuple], None]

    def run_time_loop(self, statement: Any, count: Any, item: Any, entry_test: Any
                      ) -> str | None:
        """Build ``statement`` as a loop node: a for loop of ``count`` iterations whose target
        takes ``item(k)``, or a while loop whose condition was ``entry_test`` on entry.
        Returns None when built, else why it cannot be (and nothing has changed)."""
        saved = self.snapshot()
        carried = sorted(n for n in assigned_names(statement)
                         if isinstance(self.env.get(n), Tensor))
        kinds: dict[str, tuple] = {}
        reason = "its variables keep changing type from one iteration to the next"
        for _ in range(_ATTEMPTS):
            self.graph.in_loop_body += 1
            try:
                if self._trace(statement, count, item, entry_test, carried, kinds):
                    return None
            except NotLoopable as exc:
                reason = str(exc)
                break
            except UnsupportedError as exc:
                if exc.outer:  # an array from outside: generated again with it as an input
                    self.restore(saved)
                    raise
                reason = exc.reason
                break
            except (StaticError, ShapeError) as exc:
                reason = str(exc)
                break
            finally:
                self.graph.in_loop_body -= 1
            self.restore(saved)
        self.restore(saved)
        return reason

    def _trace(self, statement: Any, count: Any, item: Any, entry_test: Any,
               carried: list[str], kinds: dict[str, tuple]) -> bool:
        """One trace of the body; False when a carried variable changed type (``carried`` and
        ``kinds`` now say how it starts), True when the loop node is built."""
        graph, before, guard = self.graph, dict(self.env), self.guard
        for name in sorted(written_in_place(statement) & set(before)):
            # the body is traced once on new values: a write into memory something else
            # holds would not be seen there (frontend.aliasing)
            value = before[name]
            why = sharing(graph.frames, self, name, value) \
                if isinstance(value, Tensor) and value.rank else None
            if why is not None:
                raise NotLoopable(f"it writes into {name} in place, and {why}")
        returns = len(self.exits.returns)
        init = {n: self._start(n, kinds) for n in carried}
        first = len(graph.nodes)
        counter = self._placeholder((), "int64", None, first)
        holders = {n: self._placeholder(v.shape, v.node.dtype, n, first) for n, v in init.items()}
        self.env = dict(before)
        self.env.update({n: Tensor(h) for n, h in holders.items()})
        self.guard = None
        exits = Exits()
        self.loops.append(exits)
        end: Path | None = None
        try:
            if item is not None:
                self.bind(statement.target, item(Tensor(counter)))
            self.suite(statement.body)
            end = Path(self.guard, self.env)
        except Broke:
            if self.guard is None:
                raise NotLoopable("it always breaks out in its first iteration") from None
            exits.breaks.append(Path(self.guard, self.env))
        except Continued:
            exits.continues.append(Path(self.guard, self.env))
        except Ended:
            pass
        except Returned:
            raise NotLoopable("it returns from inside the loop") from None
        finally:
            self.loops.pop()
        if len(self.exits.returns) > returns:
            raise NotLoopable("it returns from inside the loop")
        paths = ([end] if end else []) + exits.continues + exits.breaks
        if not paths:
            raise NotLoopable("no iteration reaches its end")
        after = merge(graph, paths).env
        # the next iteration, or the code after the loop, would write through such a name
        if written_in_place(statement) or written_in_place(self.source.node):
            for name in sorted(set(carried) & set(after)):
                if shares_in(after, name):
                    raise NotLoopable(f"it writes in place, and {name} becomes a view of an "
                                      "array, or another name of one, inside it")

        settled = True
        for name, value in after.items():
            if name in before and name not in carried and not _unchanged(before[name], value):
                if not _carriable(value) or not _carriable(before[name]):
                    raise NotLoopable(f"{name} is {describe(before[name])} before the loop and "
                                      f"{describe(value)} after an iteration")
                carried.append(name)
                settled = False
        if not settled:
            return False
        outputs = []
        for name in carried:
            value, holder = after[name], holders[name]
            if not _carriable(value):
                raise NotLoopable(f"{name} becomes {describe(value)} in the loop")
            out = to_tensor(graph, value)
            dtype = np.result_type(holder.dtype, out.node.dtype).name
            if not same_shape(out.shape, holder.shape):
                try:
                    wider = broadcast_shapes(holder.shape, out.shape)
                except ShapeError:
                    wider = None
                if wider is None or not same_shape(wider, out.shape):
                    raise NotLoopable(f"{name} has shape {format_shape(holder.shape)} before "
                                      f"an iteration and {format_shape(out.shape)} after it")
                kinds[name], settled = (out.shape, dtype), False
            elif dtype != holder.dtype:
                kinds[name], settled = (holder.shape, dtype), False
            outputs.append(out.node)
        if not settled:
            return False

        flag_init, flag = self._flag(statement, entry_test, exits, after, guard)
        names = tuple(carried)
        inputs = [graph[counter.id], *(graph[holders[n].id] for n in carried)]
        starts = [init[n].node for n in carried]
        if flag is not None:
            inputs.append(self._placeholder((), "bool", None, first))
            outputs.append(flag)
            starts.append(flag_init)
            names += ("_running",)
        counter_name = graph[counter.id].name
        body, captured = cut_body(graph, first, inputs, outputs, names, counter_name)
        if self.top_level:
            self.set_origin(statement)
        loop = add_loop(graph, body, getattr(count, "dim", count), starts, captured,
                        flag=len(carried) if flag is not None else None)
        self.env, self.guard = before, guard
        for j, name in enumerate(carried):
            self.env[name] = Tensor(loop_out(graph, loop, j))
        for name in assigned_names(statement) - set(carried):
            if name not in before:
                self.env[name] = Unavailable(name)
        return True

    def _start(self, name: str, kinds: dict[str, tuple]) -> Tensor:
        """The carried variable's value on entry, with the type it keeps in the loop."""
        value = to_tensor(self.graph, self.env[name])
        shape, dtype = kinds.get(name, (value.shape, value.node.dtype))
        if value.node.op == "const" and value.node.dtype != dtype:  # s = 0 holding floats
            value = Tensor(const(self.graph, np.dtype(dtype).type(value.node.param("value"))
                                 .item()))
        if value.node.dtype != dtype:
            value = calls.astype(self.graph, value, dtype)
        if not same_shape(value.shape, shape):
            value = calls.broadcast_to(self.graph, value, shape)
        return value

    def _placeholder(self, shape: tuple, dtype: str, name: str | None, tag: int) -> Node:
        return self.graph.add_raw("loop_var", (), make_params(tag=tag, name=name), shape, dtype,
                                  name=name, intern=False)

    def _flag(self, statement: Any, entry_test: Any, exits: Exits, after: dict[str, Any],
              guard: Any) -> tuple[Node | None, Node | None]:
        """Whether another iteration runs, on entry and after an iteration, for a while loop
        or a loop that breaks on data; (None, None) for a plain for loop."""
        graph = self.graph
        keep_going = None
        if entry_test is not None:
            self.env = after
            test = self.expr(statement.test)
            if not isinstance(test, (Tensor, SymDim)):
                if not test:
                    raise NotLoopable("it runs once at most")
                if not exits.breaks:
                    raise NotLoopable("its condition does not change in the loop, so it "
                                      "never ends")
            else:
                keep_going = condition_of(graph, to_tensor(graph, test))
        if exits.breaks:
            broke = either(graph, [p.guard for p in exits.breaks])
            keep_going = both(graph, keep_going, negate(graph, broke))
        if keep_going is None:
            return None, None
        start = Tensor(const(graph, True))  # a for loop, or a while on a test true on entry
        if isinstance(entry_test, (Tensor, SymDim)):
            start = condition_of(graph, to_tensor(graph, entry_test))
        if entry_test is not None:  # under a branch not taken, a while loop must not run
            start = both(graph, guard, start)
        return start.node, keep_going.node
