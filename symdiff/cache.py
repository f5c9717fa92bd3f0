"""Generated modules on disk, so that Numba can cache their compiled code between processes.

Files live in ``$SYMDIFF_CACHE_DIR`` (default ``$XDG_CACHE_HOME/symdiff`` or
``~/.cache/symdiff``), named by function and a hash of their text: a file is reused only if its
text is exactly what generation produced, so a stale or corrupted entry is rewritten, never
trusted. Numba keeps its compiled code in ``__pycache__`` beside each file and checks it
against the file itself. Deleting the directory clears the cache.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from symdiff.version import VERSION


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


# --- finding a compiled gradient before generating it -------------------------------------------
#
# A warm call must not need SymPy or libcst: the index maps a key computed from the compiler's
# fingerprint, the function's source text, the signature and the options to the module file,
# and lists every function whose source the generation read, with the hash of that source. An
# entry is used only when all of those sources are unchanged.

def source_hash(fun: object) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(fun).encode()).hexdigest()
    except (OSError, TypeError):
        return None


@functools.cache
def compiler_fingerprint() -> str:
    """Identifies this copy of symdiff: its version and the size and time of each of its source
    files, so that a changed compiler never reuses what an older one generated."""
    root = Path(__file__).parent
    stats = [(str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
             for p in sorted(root.rglob("*.py"))]
    return hashlib.sha256(repr((VERSION, stats)).encode()).hexdigest()


def index_key(fun: object, *parts: object) -> str | None:
    digest = source_hash(fun)
    if digest is None:
        return None
    # the file too: the same function in two scripts (both __main__) is two entries, each
    # module's header naming its own file
    code = getattr(fun, "__code__", None)
    text = repr((compiler_fingerprint(), getattr(fun, "__module__", ""),
                 getattr(fun, "__qualname__", ""), getattr(code, "co_filename", ""), digest,
                 *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def remember(key: str, path: Path, names: dict[str, str], functions: list[object],
             names_read: list[tuple[object, str, str]] = ()) -> None:
    """Record that ``key`` compiles to ``path`` (whose functions are ``names``), from the
    sources of ``functions`` and the values of globals in ``names_read`` ((function, name,
    token of the value, see ``value_token``)."""
    dependencies = []
    for f in functions:
        if f is None:
            return  # a function read without a Python object: nothing to check later
        digest = source_hash(f)
        if digest is None or "<locals>" in f.__qualname__:
            return  # cannot be checked later: do not index
        dependencies.append([f.__module__, f.__qualname__, digest])
    constants = []
    for f, name, token in names_read:
        if not inspect.isfunction(f) or "<locals>" in f.__qualname__ or \
                name in f.__code__.co_varnames[:f.__code__.co_argcount]:
            # an object's attribute, a closure's variable or a default: not found again
            return  # so the module is not indexed
        constants.append([f.__module__, f.__qualname__, name, token])
    entry = {"module": path.name, "names": names, "dependencies": dependencies,
             "constants": constants}
    folder = cache_dir() / "index"
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(entry, handle)
    os.replace(temporary, folder / f"{key}.json")


def recall(key: str) -> tuple[Path, dict[str, str]] | None:
    """The module file for ``key`` and its function names, if every source it was generated
    from is unchanged and the file is intact. Functions are looked up among the modules
    already imported: a module that is not is never imported (that would run its code)."""
    found = recall_with_constants(key)
    return None if found is None else found[:2]


def recall_with_constants(key: str) -> tuple[Path, dict[str, str], list] | None:
    """``recall``, and the globals the code was generated with, as ``(function, name,
    value)``: the caller watches them, since the code is stale once one is rebound."""
    index = cache_dir() / "index" / f"{key}.json"
    try:
        entry = json.loads(index.read_text())
        path = cache_dir() / entry["module"]
        for module, qualname, digest in entry["dependencies"]:
            found = _find(module, qualname)
            if found is None or source_hash(inspect.unwrap(found)) != digest:
                return None
        constants = []
        for module, qualname, name, token in entry.get("constants", []):
            found = _find(module, qualname)
            scope = getattr(inspect.unwrap(found), "__globals__", None)
            if scope is None or name not in scope or value_token(scope[name]) != token:
                return None
            constants.append((found, name, scope[name]))
        if not path.is_file():
            return None
        if not _intact(path):
            _drop(f"the generated module {path.name} is damaged", path, index)
            return None
        return path, entry["names"], constants
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        _drop(f"the index entry {index.name} is damaged", index)
        return None  # unreadable or corrupted: generate again


def value_token(value: Any) -> str:
    """How a later process recognises a value read from a global: functions by name (their
    source is checked with the other dependencies), numbers and strings by ``repr``."""
    if inspect.isfunction(value):
        return f"function {value.__module__}.{value.__qualname__}"
    return f"{type(value).__name__} {value!r}"


def _find(module: str, qualname: str) -> object | None:
    """The object ``module.qualname`` if its module is imported and has it (else the entry is
    stale, not damaged)."""
    obj: object = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _intact(path: Path) -> bool:
    """A module file holds the text its name's hash was made from (see ``module_file``)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return path.stem.endswith(hashlib.sha256(text.encode()).hexdigest()[:20])


def _drop(what: str, *paths: Path) -> None:
    """Remove damaged cache files (what a crash during a write or a full disk leaves), with a
    warning; the gradient is generated again."""
    warnings.warn(f"symdiff cache: {what}; it is removed and generated again",
                  RuntimeWarning, stacklevel=3)
    for p in paths:
        p.unlink(missing_ok=True)


def numba_cache_damaged(exc: BaseException) -> bool:
    """Whether ``exc`` came from reading Numba's cache files (its index or its data)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith("numba/core/caching.py"):
            return True
        tb = tb.tb_next
    return False


def drop_numba_cache(function: object) -> None:
    """Remove Numba's cache files for the generated module defining ``function``."""
    source = Path(getattr(function, "py_func", function).__code__.co_filename)
    files = list((source.parent / "__pycache__").glob(f"{source.stem}.*.nb[ic]"))
    _drop(f"Numba's compiled code for {source.name} is damaged", *files)
