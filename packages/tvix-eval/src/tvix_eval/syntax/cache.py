"""An on-disk cache of parsed files.

Trees are stored as nested plain tuples (``marshal`` format: fast, and
unable to execute code when loaded), keyed by the SHA-256 of the source text
and :data:`PARSER_VERSION`, so a file that changes or a parser that changes
never sees a stale tree. The directory is ``$TVIX_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/tvix-eval/parse`` (``~/.cache/tvix-eval/parse``).

Entries are written to a temporary file and renamed into place, so
concurrent writers never expose half-written data. An entry that cannot be
read, fails its checksum or does not decode is ignored and rewritten; any
filesystem error just disables caching for that call.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import os
import tempfile
from pathlib import Path as FsPath
from typing import Any

from tvix_eval.syntax import ast as A
from tvix_eval.syntax.ast import Source
from tvix_eval.syntax.deep import run_deep
from tvix_eval.syntax.parser import parse_source

__all__ = ["PARSER_VERSION", "cache_dir", "decode", "encode", "parse_cached"]

#: Bump whenever the tree shape or the parser's results change.
PARSER_VERSION = "1"

_MAGIC = b"TVXP1\n"


def cache_dir() -> FsPath:
    """Where cached trees live (not created until something is stored)."""
    override = os.environ.get("TVIX_CACHE_DIR")
    if override:
        return FsPath(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = FsPath(xdg) if xdg else FsPath.home() / ".cache"
    return base / "tvix-eval" / "parse"


# --- encoding ---------------------------------------------------------------------

_TAGS: dict[type, int] = {
    cls: i
    for i, cls in enumerate(
        [
            A.Int, A.Float, A.Str, A.Path, A.SearchPath, A.Uri, A.Ident, A.Select,
            A.HasAttr, A.AttrSet, A.AttrBinding, A.Inherit, A.Let, A.LegacyLet,
            A.With, A.Assert, A.If, A.Lambda, A.Formals, A.Formal, A.Apply,
            A.UnaryOp, A.BinOp, A.List,
        ]
    )
}  # fmt: skip


def _enc(x: Any) -> Any:
    if isinstance(x, A.Node):
        cls = type(x)
        return (_TAGS[cls], x.start, x.end, *tuple(_enc(getattr(x, f)) for f in cls.__slots__))
    if isinstance(x, tuple):
        # Wrapped so that a tuple field is never mistaken for a node.
        return [_enc(i) for i in x]
    return x


def encode(e: A.Expr) -> Any:
    """A tree as nested tuples and lists of plain values (positions kept)."""
    return run_deep(lambda: _enc(e))


def decode(data: Any, source: Source) -> A.Expr:
    """The inverse of :func:`encode`, attaching ``source`` to every node."""
    classes = list(_TAGS)
    node_cls = tuple

    def dec(x: Any) -> Any:
        t = type(x)
        if t is node_cls:
            return classes[x[0]](source, x[1], x[2], *[dec(i) for i in x[3:]])
        if t is list:
            return tuple([dec(i) for i in x])
        return x

    return run_deep(lambda: dec(data))  # type: ignore[no-any-return]


# --- the cache ------------------------------------------------------------------------


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
    if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 32:
        return None
    digest = blob[len(_MAGIC) : len(_MAGIC) + 32]
    payload = blob[len(_MAGIC) + 32 :]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        data = marshal.loads(payload)
        return decode(data, source)
    except Exception:  # any malformed entry is simply not used
        return None


def _store(path: FsPath, e: A.Expr) -> None:
    payload = marshal.dumps(encode(e))
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
    with contextlib.suppress(OSError):
        _store(path, e)
    return e
