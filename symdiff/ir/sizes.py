"""Sizes known only at run time, as expression trees.

A dimension is an ``int`` (known while generating) or a :class:`Size`: an expression over the
arguments' sizes such as ``x.shape[0] - 1`` or ``(x.shape[0] - 1) * x.shape[1]``. Sizes are
built only through the functions here, which keep one normal form (sums collect their terms,
products their factors, constants fold), so that two ways of writing one size compare equal.
They print through one precedence-aware printer, so a size written into generated code means
what it meant here, and evaluate on the arguments' run-time shapes for the checks made on
each call. Pure Python: the call path loads this module without the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Precedence of what a size prints as, lowest first: a sum binds looser than a product.
_SUM, _PRODUCT, _ATOM = 1, 2, 3


@dataclass(frozen=True, eq=False)
class Size:
    """One node of a size expression.

    ``op`` and ``args``:
    - ``"arg"``: ``(name, axis)``, the argument's run-time size ``name.shape[axis]``;
    - ``"add"``: ``(constant, (term, coefficient), ...)``, terms sorted, coefficients non-zero;
    - ``"mul"``: the factors in the order written (``x.shape[0] * w.shape[1]``), none an int;
      products of the same factors in another order are equal;
    - ``"floordiv"``: ``(numerator, divisor)`` with a positive int divisor;
    - ``"max"``, ``"min"``: the operands, sorted and distinct;
    - ``"range_len"``: ``(start, stop, step)``, the length of ``range(start, stop, step)``.
    """

    op: str
    args: tuple

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Size) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _identity(self) -> tuple:
        if self.op == "mul":
            return self.op, tuple(sorted(self.args, key=_key))
        return self.op, self.args

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Size({self.text()!r})"

    def text(self, context: int = _SUM) -> str:
        """Python source for this size, parenthesised to sit where ``context`` binds."""
        own, body = self._spelling()
        return f"({body})" if own < context else body

    def _spelling(self) -> tuple[int, str]:
        if self.op == "arg":
            name, axis = self.args
            return _ATOM, f"{name}.shape[{axis}]"
        if self.op == "add":
            return _SUM, _sum_text(self.args[0], self.args[1:])
        if self.op == "mul":
            return _PRODUCT, " * ".join(dim_text(f, _PRODUCT + 1) for f in self.args)
        if self.op == "floordiv":
            return _PRODUCT, f"{dim_text(self.args[0], _PRODUCT + 1)} // {self.args[1]}"
        if self.op == "range_len":
            return _ATOM, f"len(range({', '.join(dim_text(a) for a in self.args)}))"
        return _ATOM, f"{self.op}({', '.join(dim_text(a) for a in self.args)})"

    def arguments(self) -> set[tuple[str, int]]:
        """The ``(argument, axis)`` sizes this size is computed from."""
        if self.op == "arg":
            return {self.args}
        found: set[tuple[str, int]] = set()
        for a in _operands(self):
            if isinstance(a, Size):
                found |= a.arguments()
        return found

    def evaluate(self, size_of: Callable[[str, int], int]) -> int:
        """The size's value, given each argument size by ``size_of(name, axis)``."""
        return evaluate(self, size_of)


Dim = int | Size


def _operands(s: Size) -> Iterable[Dim]:
    if s.op == "add":
        return [s.args[0], *(t for t, _ in s.args[1:])]
    if s.op == "arg":
        return []
    return s.args


def _key(d: Dim) -> tuple:
    """A total order on dimensions, so that normal forms are deterministic."""
    return (0, d, "") if isinstance(d, int) else (1, 0, d.text())


def _sum_text(constant: int, terms: tuple) -> str:
    parts: list[str] = []
    for term, coefficient in terms:
        magnitude, negated = abs(coefficient), not parts and coefficient < 0
        # a minus or a coefficient binds tighter than //: -(a // 2) is not -a // 2
        whole = term.op == "floordiv" and (negated or magnitude != 1)
        body = dim_text(term, _PRODUCT + 1 if whole else _PRODUCT)
        piece = body if magnitude == 1 else f"{magnitude} * {body}"
        if not parts:
            parts.append(f"-{piece}" if negated else piece)
        else:
            parts.append(f"{'-' if coefficient < 0 else '+'} {piece}")
    if constant:
        parts.append(f"{'-' if constant < 0 else '+'} {abs(constant)}")
    return " ".join(parts)


def dim_text(d: Dim, context: int = _SUM) -> str:
    """A dimension as Python source, parenthesised to sit where ``context`` binds."""
    if isinstance(d, int):
        return str(d) if d >= 0 or context <= _SUM else f"({d})"
    return d.text(context)


def argument_size(name: str, axis: int) -> Size:
    return Size("arg", (name, axis))


# -- arithmetic in normal form ------------------------------------------------------------


def _as_terms(d: Dim) -> tuple[int, dict[Size, int]]:
    """A dimension as ``constant + sum(coefficient * term)``."""
    if isinstance(d, int):
        return d, {}
    if d.op == "add":
        return d.args[0], dict(d.args[1:])
    return 0, {d: 1}


def _from_terms(constant: int, terms: dict[Size, int]) -> Dim:
    kept = sorted(((t, c) for t, c in terms.items() if c), key=lambda tc: _key(tc[0]))
    if not kept:
        return constant
    if constant == 0 and len(kept) == 1 and kept[0][1] == 1:
        return kept[0][0]
    return Size("add", (constant, *kept))


def add(*dims: Dim) -> Dim:
    constant, terms = 0, {}
    for d in dims:
        c, ts = _as_terms(d)
        constant += c
        for t, k in ts.items():
            terms[t] = terms.get(t, 0) + k
    return _from_terms(constant, terms)


def scale(d: Dim, k: int) -> Dim:
    constant, terms = _as_terms(d)
    return _from_terms(constant * k, {t: c * k for t, c in terms.items()})


def sub(a: Dim, b: Dim) -> Dim:
    return add(a, scale(b, -1))


def mul(*dims: Dim) -> Dim:
    """A product: constants fold and scale the result; other factors are kept whole, so
    ``(n - 1) * m`` prints as written."""
    k, factors = 1, []
    for d in dims:
        if isinstance(d, int):
            k *= d
        elif d.op == "mul":
            factors.extend(d.args)
        else:
            factors.append(d)
    if k == 0 or not factors:
        return k
    if len(factors) == 1:
        return scale(factors[0], k)
    return scale(Size("mul", tuple(factors)), k)


def product(dims: Iterable[Dim]) -> Dim:
    return mul(*dims)


def floordiv(a: Dim, k: int) -> Dim:
    if k <= 0:
        raise ValueError("sizes are divided by positive numbers only")
    if isinstance(a, int):
        return a // k
    return a if k == 1 else Size("floordiv", (a, k))


def ceildiv(a: Dim, k: int) -> Dim:
    """``ceil(a / k)`` for a positive ``k``, as Python's ``-(-a // k)``."""
    return scale(floordiv(scale(a, -1), k), -1)


def _extremum(op: str, dims: Iterable[Dim]) -> Dim:
    pick = max if op == "max" else min
    flat: list[Dim] = []
    for d in dims:  # max(max(n, 3), 5) is max(n, 5)
        flat.extend(d.args if isinstance(d, Size) and d.op == op else [d])
    known = [d for d in flat if isinstance(d, int)]
    rest = [d for d in flat if isinstance(d, Size)]
    operands = sorted(set(rest), key=_key)
    if known:
        bound = pick(known)
        # sizes are never negative: max(n, 0) is n, min(n, 0) is 0
        if op == "min" and bound <= 0 and all(map(known_nonnegative, operands)):
            return bound
        if not (op == "max" and bound <= 0 and any(map(known_nonnegative, operands))):
            operands.append(bound)
    if len(operands) == 1:
        return operands[0]
    return Size(op, tuple(operands))


def maximum(*dims: Dim) -> Dim:
    return _extremum("max", dims)


def minimum(*dims: Dim) -> Dim:
    return _extremum("min", dims)


def range_len(start: Dim, stop: Dim, step: Dim) -> Dim:
    if all(isinstance(v, int) for v in (start, stop, step)):
        return len(range(start, stop, step))  # type: ignore[arg-type]
    if step == 1:
        return maximum(sub(stop, start), 0)
    return Size("range_len", (start, stop, step))


# -- values at run time -------------------------------------------------------------------


def evaluate(d: Dim, size_of: Callable[[str, int], int]) -> int:
    if isinstance(d, int):
        return d
    op, args = d.op, d.args
    if op == "arg":
        return int(size_of(*args))
    if op == "add":
        return args[0] + sum(c * evaluate(t, size_of) for t, c in args[1:])
    values = [evaluate(a, size_of) if isinstance(a, Size) else a for a in args]
    if op == "mul":
        out = 1
        for v in values:
            out *= v
        return out
    if op == "floordiv":
        return values[0] // values[1]
    if op == "max":
        return max(values)
    if op == "min":
        return min(values)
    if op == "range_len":
        return len(range(*values))
    raise ValueError(f"unknown size operation {op}")


def arguments_of(d: Dim) -> set[tuple[str, int]]:
    return set() if isinstance(d, int) else d.arguments()


def known_nonnegative(d: Dim) -> bool:
    """Whether ``d >= 0`` for every value of the argument sizes (which are never negative)."""
    if isinstance(d, int):
        return d >= 0
    if d.op in ("arg", "range_len"):
        return True
    if d.op == "add":
        return d.args[0] >= 0 and all(c > 0 and known_nonnegative(t) for t, c in d.args[1:])
    if d.op == "max":
        return any(known_nonnegative(a) for a in d.args)
    return all(known_nonnegative(a) for a in d.args if isinstance(a, Size) or a < 0)


@dataclass(frozen=True)
class SizeCheck:
    """``left == right`` or ``left >= right``: what generated code assumes of its sizes."""

    left: Dim
    op: str
    right: Dim

    def text(self) -> str:
        return f"{dim_text(self.left)} {self.op} {dim_text(self.right)}"

    def holds(self, size_of: Callable[[str, int], int]) -> bool:
        left, right = evaluate(self.left, size_of), evaluate(self.right, size_of)
        return left == right if self.op == "==" else left >= right

    def arguments(self) -> set[tuple[str, int]]:
        return arguments_of(self.left) | arguments_of(self.right)


def exact_quotient(a: Dim, b: Dim) -> Dim | None:
    """``a / b`` where it is a size whatever the arguments' sizes (``n * m / n`` is ``m``):
    ``b``'s factors are among ``a``'s; None otherwise."""
    if isinstance(b, int):
        if b == 0:
            return None
        constant, terms = _as_terms(a)
        if constant % b or any(c % b for c in terms.values()):
            return None
        return _from_terms(constant // b, {t: c // b for t, c in terms.items()})
    a_k, a_factors = _monomial(a)
    b_k, b_factors = _monomial(b)
    if a_factors is None or b_factors is None or b_k == 0 or a_k % b_k:
        return None
    rest = list(a_factors)
    for f in b_factors:
        if f not in rest:
            return None
        rest.remove(f)
    return mul(a_k // b_k, *rest)


def _monomial(d: Dim) -> tuple[int, list[Size] | None]:
    """``d`` as ``k * f1 * f2 ...``, or ``(0, None)`` when it is a sum of several terms."""
    if isinstance(d, int):
        return d, []
    constant, terms = _as_terms(d)
    if constant or len(terms) != 1:
        return 0, None
    (term, k), = terms.items()
    return k, list(term.args) if term.op == "mul" else [term]
