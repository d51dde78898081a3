"""Compiled generated code, kept between runs.

Compiling a lambda's generated Python source (:mod:`tvix_eval.compiler.tiering`) costs about a
millisecond, mostly in CPython's parser; a program calls a few hundred distinct lambdas (and
the closure compiler makes a few hundred small templates), so every run would pay a few tenths
of a second for the same work. The source is a pure function
of the lambda and its scope, so its code object is kept in memory for the process and as
``<key>.code`` files (``marshal``) beside the parse cache (``$TVIX_CACHE_DIR``, see
:func:`tvix_eval.syntax.cache_switch.cache_dir_name`); the objects the code refers to (syntax
nodes, builtins) are bound afresh by the generator. The key is two CRC-32s of file name and
source (zlib loads in well under a millisecond, hashlib in several), and a file also holds
the file name and source it was compiled from, which must match, so two sources that share
a key only ever cost a compilation.

As with CPython's own ``__pycache__``, whoever can write that directory can run code in
evaluations that use it; it is created private to the user (mode 0700). A file is written
under a temporary name and renamed, and carries a CRC-32 of its payload, checked before it is
unmarshalled, so a torn or damaged file is recompiled, never run. One store in 256 (chosen by
key) prunes the least recently used files down to three quarters of :data:`MAX_ENTRIES`.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import time
from types import CodeType

from tvix_eval.cache_files import PRUNE_PREFIX, prune, write_whole

#: bump whenever generated code changes meaning for the same source (the source is the key)
CODE_VERSION = "1"
#: most files a cache directory keeps
MAX_ENTRIES = 8192
#: seconds after which a file that is used is marked used again (its mtime, for pruning);
#: marking it on every use would cost as much as reading it
TOUCH_AFTER = 3600
#: most code objects kept in memory
MAX_MEMORY = 4096

_MAGIC = b"TVXC1" + sys.implementation.cache_tag.encode() + b"\n"
_SUFFIX = ".code"
_PRUNE_PREFIX = PRUNE_PREFIX

_memory: dict[tuple[str, str], CodeType] = {}


def compiled(source: str, filename: str, directory: str | None) -> CodeType:
    """The code object of ``source`` (compiled for ``exec``), from a cache when it was
    compiled before; ``directory`` is the on-disk cache, ``None`` for memory only."""
    key = (filename, source)
    code = _memory.get(key)
    if code is not None:
        return code
    path = None
    if directory is not None and os.path.isabs(directory):
        path = os.path.join(directory, _file_key(filename, source) + _SUFFIX)
        code = _load(path, filename, source)
    if code is None:
        code = compile(source, filename, "exec")
        if path is not None:
            with contextlib.suppress(OSError):
                _store(path, filename, source, code)
    if len(_memory) >= MAX_MEMORY:
        _memory.clear()
    _memory[key] = code
    return code


def _file_key(filename: str, source: str) -> str:
    from zlib import crc32

    text = f"{CODE_VERSION}\0{filename}\0{source}".encode("utf-8", "surrogatepass")
    return f"{crc32(text):08x}{crc32(text, 0x5EED):08x}"


def _load(path: str, filename: str, source: str) -> CodeType | None:
    from zlib import crc32

    try:
        with open(path, "rb") as f:
            blob = f.read()
            stale = time.time() - os.fstat(f.fileno()).st_mtime > TOUCH_AFTER
    except OSError:
        return None
    head = len(_MAGIC) + 4
    if not blob.startswith(_MAGIC) or len(blob) < head:
        return None
    payload = memoryview(blob)[head:]
    if crc32(payload).to_bytes(4, "little") != blob[len(_MAGIC) : head]:
        return None
    try:
        entry = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if (
        type(entry) is not tuple
        or len(entry) != 3
        or entry[0] != filename
        or entry[1] != source
        or type(entry[2]) is not CodeType
    ):
        return None
    if stale:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept by _prune
    return entry[2]


def _store(path: str, filename: str, source: str, code: CodeType) -> None:
    from zlib import crc32

    payload = marshal.dumps((filename, source, code))
    blob = _MAGIC + crc32(payload).to_bytes(4, "little") + payload
    write_whole(path, blob, mode=0o600, dir_mode=0o700)
    if os.path.basename(path).startswith(_PRUNE_PREFIX):
        _prune(os.path.dirname(path))


def _prune(directory: str) -> None:
    """Keep at most :data:`MAX_ENTRIES` files: remove the least recently used."""
    prune(directory, _SUFFIX, MAX_ENTRIES)
