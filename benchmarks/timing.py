"""Timing shared by the benchmark scripts; importing it sets nothing (``run.py`` sets the
thread pools to one thread when imported)."""

from __future__ import annotations

import statistics
import time


def median_seconds(fun, args, budget: float = 0.4, least: int = 5) -> float:
    """The median time of ``fun(*args)`` over at least ``least`` calls and ``budget`` seconds,
    after one call to warm it up."""
    fun(*args)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < least or time.perf_counter() - start < budget:
        t = time.perf_counter()
        fun(*args)
        times.append(time.perf_counter() - t)
        if len(times) >= 20000:
            break
    return statistics.median(times)
