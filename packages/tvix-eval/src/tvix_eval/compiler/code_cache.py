"""Compiled generated code, kept between runs.

Compiling a lambda's generated Python source (:mod:`tvix_eval.compiler.tiering`) costs about a
millisecond, mostly in CPython's parser; a program calls a few hundred distinct lambdas, so
every run would pay a few tenths of a second for the same work. The source is a pure function
of the lambda and its scope, so its code object is kept, keyed by the SHA-256 of the source
and file name, in memory for the process and as ``<key>.code`` files (``marshal``) beside the
parse cache (``$TVIX_CACHE_DIR``, see :func:`tvix_eval.syntax.cache_switch.cache_dir_name`); the
objects the code refers to (syntax nodes, builtins) are bound afresh by the generator.

As with CPython's own ``__pycache__``, whoever can write that directory can run code in
evaluations that use it; it is created private to the user (mode 0700). A file is written
under a temporary name and renamed, and carries a checksum, so a torn or damaged file is
recompiled, never run. One store in 256 (chosen by key) prunes the least recently used files
down to three quarters of :data:`MAX_ENTRIES`.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import threading
from types import CodeType

#: bump whenever generated code changes meaning for the same source (the source is the key)
CODE_VERSION = "1"
#: most files a cache directory keeps
MAX_ENTRIES = 8192
#: most code objects kept in memory
MAX_MEMORY = 4096

_MAGIC = b"TVXC1" + sys.implementation.cache_tag.encode() + b"\n"
_SUFFIX = ".code"
_PRUNE_PREFIX = "00"

_memory: dict[bytes, CodeType] = {}


def compiled(source: str, filename: str, directory: str | None) -> CodeType:
    """The code object of ``source`` (compiled for ``exec``), from a cache when it was
    compiled before; ``directory`` is the on-disk cache, ``None`` for memory only."""
    key = hashlib.sha256(
        f"{CODE_VERSION}\0{filename}\0{source}".encode("utf-8", "surrogatepass")
    ).digest()
    code = _memory.get(key)
    if code is not None:
        return code
    path = None
    if directory is not None and os.path.isabs(directory):
        path = os.path.join(directory, key.hex() + _SUFFIX)
        code = _load(path)
    if code is None:
        code = compile(source, filename, "exec")
        if path is not None:
            with contextlib.suppress(OSError):
                _store(path, code)
    if len(_memory) >= MAX_MEMORY:
        _memory.clear()
    _memory[key] = code
    return code


def _load(path: str) -> CodeType | None:
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if not blob.startswith(_MAGIC) or len(blob) < head:
        return None
    payload = memoryview(blob)[head:]
    if hashlib.sha256(payload).digest() != blob[len(_MAGIC) : head]:
        return None
    try:
        code = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if type(code) is not CodeType:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by _prune
    return code


def _store(path: str, code: CodeType) -> None:
    payload = marshal.dumps(code)
    blob = _MAGIC + hashlib.sha256(payload).digest() + payload
    directory, name = os.path.split(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{threading.get_ident()}-{name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if name.startswith(_PRUNE_PREFIX):
        _prune(directory)


def _prune(directory: str) -> None:
    """Keep at most :data:`MAX_ENTRIES` files: remove the least recently used quarter."""
    entries: list[tuple[float, str]] = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                    with contextlib.suppress(OSError):
                        entries.append((entry.stat().st_mtime, entry.path))
    except OSError:
        return
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort()
    for _, stale in entries[: len(entries) - MAX_ENTRIES * 3 // 4]:
        with contextlib.suppress(OSError):
            os.unlink(stale)
