"""An on-disk cache of parsed files.

Entries are keyed by the SHA-256 of the source text and
:data:`PARSER_VERSION`, so a changed file or a changed parser never sees a
stale tree. The directory is ``$TVIX_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/tvix-eval/parse`` (``~/.cache/tvix-eval/parse``).

Format: a magic line, the SHA-256 of the payload, then the payload: a pickle
of the tree in which every node is reduced to ``(class, fields)``. Loading
is then driven by the C unpickler (about 2.5 times faster than rebuilding
nodes from marshalled tuples in Python). The unpickler is restricted to the
classes of :mod:`tvix_eval.syntax.ast`, so an entry can only ever produce a
syntax tree; anything else fails the load. The :class:`Source` in an entry
is replaced by the caller's (same text, possibly another file name).

Entries are written to a temporary file and renamed into place, so
concurrent writers never expose half-written data. An entry that cannot be
read, fails its checksum or does not unpickle is ignored and rewritten; any
filesystem error just disables caching for that call. Pickling recurses in
C once per nesting level, so it runs in a thread with a large stack, and a
tree too deep for the recursion limit is simply not cached.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import pickle
import tempfile
import threading
from operator import attrgetter
from pathlib import Path as FsPath
from typing import Any

from tvix_eval.syntax import ast as A
from tvix_eval.syntax.ast import Source
from tvix_eval.syntax.parser import parse_source

__all__ = ["PARSER_VERSION", "cache_dir", "decode", "encode", "parse_cached"]

#: Bump whenever the tree shape or the parser's results change.
PARSER_VERSION = "2"

_MAGIC = b"TVXP2\n"
_DUMP_STACK_BYTES = 1 << 30


def cache_dir() -> FsPath:
    """Where cached trees live (not created until something is stored)."""
    override = os.environ.get("TVIX_CACHE_DIR")
    if override:
        return FsPath(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = FsPath(xdg) if xdg else FsPath.home() / ".cache"
    return base / "tvix-eval" / "parse"


# --- encoding -------------------------------------------------------------------

_NODE_CLASSES: dict[str, type] = {
    name: cls
    for name, cls in vars(A).items()
    if isinstance(cls, type) and issubclass(cls, A.Node) and cls is not A.Node
}


def _reducer(cls: type) -> Any:
    get = attrgetter("source", "start", "end", *cls.__dict__["__slots__"])
    return lambda node: (cls, get(node))


_DISPATCH: dict[type, Any] = {cls: _reducer(cls) for cls in _NODE_CLASSES.values()}
_DISPATCH[Source] = lambda s: (Source, (s.name, s.text))


def _dump(e: A.Expr) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(e)
    return buf.getvalue()


class _TreeUnpickler(pickle.Unpickler):
    """Unpickles syntax trees and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == A.__name__:
            cls = _NODE_CLASSES.get(name) or (Source if name == "Source" else None)
            if cls is not None:
                return cls
        raise pickle.UnpicklingError(f"not a syntax tree class: {module}.{name}")


def encode(e: A.Expr) -> bytes:
    """The cache payload of a tree (raises RecursionError if too deep)."""
    result: list[bytes] = []
    error: list[BaseException] = []

    def work() -> None:
        try:
            result.append(_dump(e))
        except BaseException as exc:  # re-raised below
            error.append(exc)

    old = threading.stack_size()
    threading.stack_size(_DUMP_STACK_BYTES)
    try:
        worker = threading.Thread(target=work, name="tvix-parse-cache")
        worker.start()
    finally:
        threading.stack_size(old)
    worker.join()
    if error:
        raise error[0]
    return result[0]


def decode(payload: bytes, source: Source) -> A.Expr:
    """The tree in ``payload``, with ``source`` attached to every node."""
    tree = _TreeUnpickler(io.BytesIO(payload)).load()
    if not isinstance(tree, A.Node):
        raise pickle.UnpicklingError("cache entry does not hold a syntax tree")
    stored = tree.source
    if stored.text != source.text:
        raise pickle.UnpicklingError("cache entry is for another text")
    # Every node shares the unpickled Source: give it the caller's identity.
    stored.name = source.name
    return tree  # type: ignore[return-value]


# --- the cache ----------------------------------------------------------------------


def _key(text: str) -> str:
    h = hashlib.sha256()
    h.update(PARSER_VERSION.encode())
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _load(path: FsPath, source: Source) -> A.Expr | None:
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if not blob.startswith(_MAGIC) or len(blob) < head:
        return None
    payload = blob[head:]
    if hashlib.sha256(payload).digest() != blob[len(_MAGIC) : head]:
        return None
    try:
        return decode(payload, source)
    except Exception:  # any malformed entry is simply not used
        return None


def _store(path: FsPath, e: A.Expr) -> None:
    payload = encode(e)
    blob = _MAGIC + hashlib.sha256(payload).digest() + payload
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parse")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def parse_cached(text: str, file: str | None = None, *, directory: FsPath | None = None) -> A.Expr:
    """Parse ``text`` like :func:`tvix_eval.syntax.parse`, reusing a cached
    tree when the same text was parsed before. Errors are never cached."""
    source = Source("«string»" if file is None else file, text)
    path = (directory or cache_dir()) / f"{_key(text)}.parse"
    enabled = gc.isenabled()
    gc.disable()
    try:
        cached = _load(path, source)
    finally:
        if enabled:
            gc.enable()
    if cached is not None:
        return cached
    e = parse_source(source)
    gc.disable()  # pickling creates many short-lived tuples; see parse_source
    try:
        with contextlib.suppress(OSError, RecursionError):
            _store(path, e)
    finally:
        if enabled:
            gc.enable()
    return e
