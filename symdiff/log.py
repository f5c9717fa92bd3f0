"""What symdiff is doing, and how long it takes: the ``symdiff`` logger.

Each stage of making a gradient (tracing the source, deriving, simplifying, writing the code,
compiling it, finding it in the disk cache) is logged with its time and the function and
signature it is for. The records are at DEBUG level, for an application's own logging set-up;
``symdiff.config.log_compiles = True`` (or ``SYMDIFF_LOG_COMPILES=1`` in the environment) logs
them at WARNING level, which Python prints without any set-up (as ``jax_log_compiles`` does).
"""

from __future__ import annotations

import html
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("symdiff")


class Config:
    """symdiff's switches (``symdiff.config``)."""

    def __init__(self) -> None:
        self.log_compiles = os.environ.get("SYMDIFF_LOG_COMPILES", "") not in ("", "0")

    def __repr__(self) -> str:
        return f"symdiff.config(log_compiles={self.log_compiles})"


config = Config()


def _level() -> int:
    return logging.WARNING if config.log_compiles else logging.DEBUG


def note(message: str, *args: object, stage: str | None = None,
         seconds: float | None = None) -> None:
    """Log one event of making a gradient (a cache hit, say); a stage's record carries its
    name and time as the attributes ``stage`` and ``seconds``, for programs that add them up."""
    logger.log(_level(), message, *args, extra={"stage": stage, "seconds": seconds})


@contextmanager
def stage(name: str, what: str) -> Iterator[None]:
    """Log ``name`` (a stage) for ``what`` (a function and signature) with the time it took."""
    if not logger.isEnabledFor(_level()):
        yield
        return
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    note("%s %s: %.3f s", name, what, seconds, stage=name, seconds=seconds)


@contextmanager
def shown_in_notebook(doing: str) -> Iterator[None]:
    """In a Jupyter notebook, a line saying what symdiff is doing (generating, compiling) while
    it does it, removed when it is done: the first call of a signature takes seconds, and the
    cell would otherwise sit there without a word. Elsewhere, nothing."""
    if "ipykernel" not in sys.modules:
        yield
        return
    from IPython.display import HTML, display

    handle = display(HTML(f"<small>symdiff: {html.escape(doing)}…</small>"), display_id=True)
    try:
        yield
    finally:
        if handle is not None:
            handle.update(HTML(""))
