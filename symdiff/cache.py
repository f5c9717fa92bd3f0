"""Generated modules on disk, so that Numba can cache their compiled code between processes.

Files live in ``$SYMDIFF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/symdiff`` or
``~/.cache/symdiff``), named by function and a hash of their text: a file is reused only if its
text is exactly what generation produced, so a stale or corrupted entry is rewritten, never
trusted. Numba keeps its compiled code in ``__pycache__`` beside each file and checks it
against the file itself. Deleting the directory clears the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType


def cache_dir() -> Path:
    configured = os.environ.get("SYMDIFF_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symdiff"


def module_file(text: str, stem: str) -> Path:
    """The cache file holding ``text``, written (atomically) unless an identical one exists."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}_{hashlib.sha256(text.encode()).hexdigest()[:20]}.py"
    try:
        if path.read_text() == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass  # missing or unreadable: write it
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return path


def import_file(path: Path) -> ModuleType:
    """Import a cached module under its file's name (Numba's cache looks modules up by name)."""
    name = f"symdiff_generated.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
