"""Central finite differences in float64, the reference every gradient is held to.

``check_grad`` evaluates the original Python function (plain NumPy) at perturbed inputs and
compares with symdiff's gradient: element by element for small arrays, along random directions
for big ones.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symdiff.api import grad
from symdiff.errors import ArgumentError, GradientCheckError, user_facing
from symdiff.library import spread_arguments, takes_spread
from symdiff.runtime import normalise_argnums

ELEMENTWISE_MAX_SIZE = 64  # arrays up to this size are checked element by element


@dataclass
class ArgumentReport:
    name: str
    checks: int
    max_abs_error: float
    max_rel_error: float


@dataclass
class GradCheckReport:
    """What :func:`check_grad` compared; ``ok`` is always true (mismatches raise)."""

    value: float
    arguments: list[ArgumentReport]
    ok: bool = True

    def _repr_html_(self) -> str:
        """In a notebook: a table, one row per argument."""
        rows = "".join(f"<tr><td><code>{html.escape(a.name)}</code></td><td>{a.checks}</td>"
                       f"<td>{a.max_abs_error:.2e}</td><td>{a.max_rel_error:.2e}</td></tr>"
                       for a in self.arguments)
        return (f"<p>Gradient check passed: value {self.value:.6g}, each derivative against "
                "central finite differences.</p><table><thead><tr><th>argument</th>"
                "<th>checks</th><th>max abs error</th><th>max rel error</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")

    def __str__(self) -> str:
        lines = [f"value {self.value:.6g}"]
        for a in self.arguments:
            lines.append(f"  {a.name}: {a.checks} checks, max abs error {a.max_abs_error:.2e}, "
                         f"max rel error {a.max_rel_error:.2e}")
        return "\n".join(lines)


@user_facing
def check_grad(fun: Callable, *args: Any, argnums: int | Sequence[int] | None = None,
               wrt: str | Sequence[str] | None = None, eps: float | None = None,
               rtol: float | None = None, atol: float | None = None,
               seed: int = 0, backend: str | None = None) -> GradCheckReport:
    """Compare symdiff's gradient of ``fun`` at ``args`` with central finite differences.

    Args:
        fun: the scalar function.
        args: where to check; floats and float arrays are converted to float64.
        argnums, wrt: which arguments to check, as in :func:`symdiff.grad` (default 0).
        eps: relative step (default 1e-6, scaled by 1 + |x|).
        rtol, atol: tolerance ``atol + rtol * max(|fd|, |symdiff|)``; defaults 1e-5 and
            1e-7 * max(1, |f(x)|).
        seed: for the random directions used on arrays bigger than 64 elements.
        backend: the backend whose gradient is checked (default: ``grad``'s default).

    Returns:
        A report of the errors seen.

    Raises:
        GradientCheckError: naming the argument and the worst element, on a mismatch.
    """
    if takes_spread(fun):  # checked as the function of as many named parameters
        fun = spread_arguments(fun, len(args))
    positions, _ = normalise_argnums(fun, argnums, wrt)
    names = list(inspect.signature(fun).parameters)
    x = [_tree_map(a, names[i], lambda leaf, name: _float64(leaf, name, True))
         if i in positions else a for i, a in enumerate(args)]
    options = {} if backend is None else {"backend": backend}
    grads = grad(fun, tuple(positions), **options)(*x)
    # a list, tuple or dict of arrays (model parameters) is checked leaf by leaf
    flat, flat_positions, flat_names, flat_grads = [], [], [], []
    for i, a in enumerate(x):
        if i not in positions:
            flat.append(a)
            flat_names.append(names[i])
            continue
        gradients = _leaves(grads[positions.index(i)], names[i])
        for (name, leaf), (_, gradient) in zip(_leaves(a, names[i]), gradients, strict=True):
            flat_positions.append(len(flat))
            flat.append(leaf)
            flat_names.append(name)
            flat_grads.append(gradient)

    def value(*values: Any) -> float:
        items = iter(values)
        rebuilt = [_tree_map(a, names[i], lambda leaf, name: next(items)) if i in positions
                   else next(items) for i, a in enumerate(x)]
        return float(fun(*rebuilt))
    return compare(value, flat, flat_positions, flat_names, flat_grads, eps, rtol, atol, seed,
                   fun.__qualname__)


def _leaves(value: Any, name: str) -> list[tuple[str, Any]]:
    """Each leaf of ``value``'s lists, tuples and dicts, with its path (see ``_tree_map``)."""
    found: list[tuple[str, Any]] = []
    _tree_map(value, name, lambda leaf, path: found.append((path, leaf)))
    return found


def _tree_map(value: Any, name: str, f: Callable[[Any, str], Any]) -> Any:
    """``value`` with ``f(leaf, name)`` in place of each leaf of its lists, tuples and dicts,
    named by its path (``params[0]['W']``)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_tree_map(v, f"{name}[{k}]", f) for k, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _tree_map(v, f"{name}[{k!r}]", f) for k, v in value.items()}
    return f(value, name)


def compare(value: Callable[..., float], x: list[Any], positions: Sequence[int],
            names: Sequence[str], grads: Sequence[Any], eps: float | None = None,
            rtol: float | None = None, atol: float | None = None, seed: int = 0,
            label: str = "the function") -> GradCheckReport:
    """Check ``grads`` (one per position) of ``value`` at ``x`` by central differences."""
    f0 = value(*x)
    if not np.isfinite(f0):
        raise ArgumentError(f"{label} is {f0} at these arguments; finite differences need a "
                            "finite value")
    eps = 1e-6 if eps is None else eps
    rtol = 1e-5 if rtol is None else rtol
    atol = 1e-7 * max(1.0, abs(f0)) if atol is None else atol
    rng = np.random.default_rng(seed)
    reports = []
    for p, g in zip(positions, grads, strict=True):
        reports.append(_check_argument(value, x, p, names[p], np.asarray(g, dtype=np.float64),
                                       eps, rtol, atol, rng, label))
    return GradCheckReport(f0, reports)


def _float64(value: Any, name: str, differentiated: bool) -> Any:
    if not differentiated:
        return value
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise ArgumentError(f"argument {name!r} is not a float array")
    if not np.all(np.isfinite(array)):
        raise ArgumentError(f"argument {name!r} contains NaN or inf; finite differences need "
                            "finite inputs")
    return float(array) if isinstance(value, float) else array.astype(np.float64)


def _check_argument(value: Callable[..., float], x: list[Any], p: int, name: str, g: np.ndarray,
                    eps: float, rtol: float, atol: float, rng: np.random.Generator,
                    label: str) -> ArgumentReport:
    base = np.asarray(x[p], dtype=np.float64)
    if g.shape != base.shape:
        raise GradientCheckError(f"gradient for {name!r} has shape {g.shape}, the argument has "
                                 f"shape {base.shape}")

    def f_at(point: np.ndarray) -> float:
        args = list(x)
        args[p] = float(point) if isinstance(x[p], float) else point
        return value(*args)

    if base.size <= ELEMENTWISE_MAX_SIZE:
        directions = [(idx, _unit(base.shape, idx)) for idx in np.ndindex(base.shape)]
    else:
        directions = [(None, rng.standard_normal(base.shape)) for _ in range(6)]
    worst_abs, worst_rel = 0.0, 0.0
    worst_excess, failure = 0.0, None
    h = eps * (1.0 + float(np.max(np.abs(base)))) if base.size else eps
    for idx, v in directions:
        fd = (f_at(base + h * v) - f_at(base - h * v)) / (2 * h)
        analytic = float(np.sum(g * v))
        err = abs(fd - analytic)
        scale = max(abs(fd), abs(analytic))
        tolerance = atol + rtol * scale
        worst_abs = max(worst_abs, err)
        worst_rel = max(worst_rel, err / scale if scale else 0.0)
        if not err <= tolerance and (failure is None or err / tolerance > worst_excess):
            worst_excess, failure = err / tolerance, (idx, analytic, fd, err, tolerance)
    if failure is not None:
        idx, analytic, fd, err, tolerance = failure
        where = f"at index {idx}" if idx is not None else "along a random direction"
        raise GradientCheckError(
            f"gradient of {label} with respect to {name!r} is wrong {where} (the "
            f"worst of {len(directions)} checks): symdiff gives {analytic!r}, central finite "
            f"differences give {fd!r} (error {err:.3g}, tolerance {tolerance:.3g})")
    return ArgumentReport(name, len(directions), worst_abs, worst_rel)


def _unit(shape: tuple[int, ...], idx: tuple[int, ...]) -> np.ndarray:
    v = np.zeros(shape)
    v[idx] = 1.0
    return v
