"""An on-disk cache of parsed files, loaded lazily.

Entries are keyed by the SHA-256 of the source text and
:data:`PARSER_VERSION`, so a changed file or a changed parser never sees a
stale tree. The directory is ``$TVIX_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/tvix-eval/parse`` (``~/.cache/tvix-eval/parse``).

Format: a magic line, the SHA-256 of the payload, then the payload: the
SHA-256 of the source text, a table of chunks and the chunks themselves. A
chunk holds the fields of one large node (a node whose source text spans at
least :data:`CHUNK_SPAN` characters) as a pickle in which every smaller node
is written whole and every large descendant stands for its own chunk. A
table row gives a chunk's place in the payload and its node's class and
offsets.

Loading reads and checks the entry and returns the root node *unfilled*:
each large node is created with its class and position only and gets its
fields from its chunk the first time one of them is read (see
:class:`tvix_eval.syntax.ast.Node`). A caller that only needs part of a big
file pays only for that part; one that walks all of it pays about what
loading it eagerly would. Unpickling is driven by the C unpickler and
restricted to the classes of :mod:`tvix_eval.syntax.ast`, so an entry can
only ever produce a syntax tree.

Entries are written to a temporary file and renamed into place, so
concurrent writers never expose half-written data. Loading an entry marks
it used (its mtime); one store in 256 (chosen by key) prunes the directory
down to three quarters of :data:`MAX_ENTRIES` when it holds more. An entry
that cannot be read, fails its checksum or does not match its text is
ignored and rewritten; a chunk that turns out malformed when it is filled in
(possible only for an entry forged with a valid checksum) raises
:class:`CacheEntryCorrupt` naming the file, which the evaluator answers by
discarding the entry and parsing afresh. Any filesystem error just disables
caching for that call.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import pickle
import struct
from array import array
from operator import attrgetter
from pathlib import Path as FsPath
from typing import Any

from tvix_eval.cache_files import PRUNE_PREFIX, prune, write_whole
from tvix_eval.syntax import ast as A
from tvix_eval.syntax.ast import Source
from tvix_eval.syntax.cache_switch import cache_dir, cache_enabled
from tvix_eval.syntax.deep import run_deep

__all__ = [
    "CHUNK_SPAN",
    "MAX_ENTRIES",
    "PARSER_VERSION",
    "CacheEntryCorrupt",
    "cache_dir",
    "cache_enabled",
    "compiles_cleanly",
    "decode",
    "encode",
    "parse_cached",
]

#: Bump whenever the tree shape or the parser's results change.
PARSER_VERSION = "3"

#: Nodes spanning at least this many characters of source get a chunk of their own.
CHUNK_SPAN = 512

#: Most entries a cache directory keeps (pruned, least recently used first, now and then).
MAX_ENTRIES = 4096

_PRUNE_PREFIX = PRUNE_PREFIX
_MAGIC = b"TVXP3\n"
_HEADER = struct.Struct("<32sQ")  # SHA-256 of the text, number of chunks
_ROW = 5  # table row: payload offset, length, class number, start, end


class CacheEntryCorrupt(RuntimeError):
    """A cache entry passed its checksum but one of its chunks is malformed."""

    def __init__(self, where: str, problem: object) -> None:
        super().__init__(f"corrupt parse cache entry {where}: {problem}")
        #: the entry's file (``<memory>`` for :func:`decode` without one)
        self.where = where

    def discard(self) -> None:
        """Remove the entry, so that the next parse of its text stores a good one."""
        with contextlib.suppress(OSError, ValueError):
            os.unlink(self.where)


# --- encoding -------------------------------------------------------------------

_NODE_CLASSES: dict[str, type[A.Node]] = {
    name: cls
    for name, cls in sorted(vars(A).items())
    if isinstance(cls, type) and issubclass(cls, A.Node) and cls is not A.Node
}
_CLASS_LIST: list[type[A.Node]] = list(_NODE_CLASSES.values())
_CLASS_NUMBER: dict[type, int] = {cls: i for i, cls in enumerate(_CLASS_LIST)}
_OWN_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(cls.__dict__["__slots__"]) for cls in _CLASS_LIST
}


def _chunk(number: int) -> A.Node:
    """Stands, in a pickle, for the node of chunk ``number`` (resolved by the loader)."""
    raise pickle.UnpicklingError("chunk reference outside a cache entry")


def _source() -> Source:
    """Stands, in a pickle, for the entry's :class:`Source` (resolved by the loader)."""
    raise pickle.UnpicklingError("source reference outside a cache entry")


class _Encoder:
    """Splits a tree into chunks and pickles each one."""

    def __init__(self, root: A.Node) -> None:
        self.roots: list[A.Node] = [root]
        self.numbers: dict[int, int] = {id(root): 0}
        self.current: A.Node = root
        dispatch: dict[type, Any] = {cls: self._reducer(cls) for cls in _CLASS_LIST}
        dispatch[Source] = lambda _: (_source, ())
        self.dispatch = dispatch

    def _reducer(self, cls: type[A.Node]) -> Any:
        get = attrgetter("source", "start", "end", *_OWN_FIELDS[cls])
        roots = self.roots
        numbers = self.numbers

        def reduce(node: A.Node) -> tuple[Any, tuple[Any, ...]]:
            values = get(node)
            if values[2] - values[1] >= CHUNK_SPAN and node is not self.current:
                number = numbers.get(id(node))
                if number is None:
                    number = numbers[id(node)] = len(roots)
                    roots.append(node)
                return _chunk, (number,)
            return cls, values

        return reduce

    def _dump(self, fields: tuple[Any, ...]) -> bytes:
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=5)
        pickler.dispatch_table = self.dispatch
        pickler.dump(fields)
        return buf.getvalue()

    def chunks(self) -> list[bytes]:
        """Every chunk's pickle, in chunk-number order (the root's is number 0).

        A chunk nests at most about :data:`CHUNK_SPAN` levels deep (every
        level adds a character), so :func:`run_deep` always has room for it.
        """
        out: list[bytes] = []
        i = 0
        while i < len(self.roots):
            node = self.current = self.roots[i]
            fields = tuple(getattr(node, name) for name in _OWN_FIELDS[type(node)])
            out.append(run_deep(lambda: self._dump(fields)))  # noqa: B023 - called at once
            i += 1
        return out


def encode(e: A.Node) -> bytes:
    """The cache payload of a tree (its text's hash, chunk table and chunks)."""
    encoder = _Encoder(e)
    chunks = encoder.chunks()
    table = array("q")
    offset = 0
    for node, data in zip(encoder.roots, chunks, strict=True):
        table.extend((offset, len(data), _CLASS_NUMBER[type(node)], node.start, node.end))
        offset += len(data)
    header = _HEADER.pack(_text_hash(e.source.text), len(chunks))
    return b"".join([header, table.tobytes(), *chunks])


def _text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


# --- decoding ---------------------------------------------------------------------


class _ChunkUnpickler(pickle.Unpickler):
    """Unpickles one chunk: syntax nodes, references to other chunks, and nothing else."""

    def __init__(self, data: bytes | memoryview, entry: _Entry) -> None:
        super().__init__(io.BytesIO(data))
        self.entry = entry

    def find_class(self, module: str, name: str) -> Any:
        if module == A.__name__:
            cls = _NODE_CLASSES.get(name)
            if cls is not None:
                return cls
        elif module == __name__:
            if name == "_chunk":
                return self.entry.node
            if name == "_source":
                return self.entry.get_source
        raise pickle.UnpicklingError(f"not a syntax tree class: {module}.{name}")


class _Entry:
    """A loaded cache entry: makes unfilled nodes and fills them in from their chunks."""

    def __init__(
        self, payload: bytes | memoryview, source: Source, text_hash: bytes, where: str
    ) -> None:
        stored_hash, count = _HEADER.unpack_from(payload)
        if stored_hash != text_hash:
            raise ValueError("cache entry is for another text")
        table = array("q")
        table_end = _HEADER.size + count * _ROW * table.itemsize
        if count < 1 or table_end > len(payload):
            raise ValueError("cache entry has a bad chunk table")
        table.frombytes(payload[_HEADER.size : table_end])
        data = memoryview(payload)[table_end:]
        offsets, lengths = table[0::_ROW], table[1::_ROW]
        classes, starts, ends = table[2::_ROW], table[3::_ROW], table[4::_ROW]
        if (
            min(offsets) < 0
            or min(lengths) < 0
            or max(o + n for o, n in zip(offsets, lengths, strict=True)) > len(data)
            or min(classes) < 0
            or max(classes) >= len(_CLASS_LIST)
            or min(starts) < 0
            or max(ends) > len(source.text)
            or any(s > e for s, e in zip(starts, ends, strict=True))
        ):
            raise ValueError("cache entry has a bad chunk table")
        self.table = table
        self.data = data
        self.source = source
        self.where = where

    def get_source(self) -> Source:
        return self.source

    def node(self, number: int) -> A.Node:
        """The unfilled node of chunk ``number``."""
        row = number * _ROW
        if not 0 <= row < len(self.table):
            raise pickle.UnpicklingError(f"no chunk {number}")
        cls = _CLASS_LIST[self.table[row + 2]]
        node = cls.__new__(cls)
        node.source = self.source
        node.start = self.table[row + 3]
        node.end = self.table[row + 4]
        node._pending = (self, number)
        return node

    def materialize(self, node: A.Node, number: int) -> None:
        """Give ``node`` its fields from chunk ``number`` (called by :class:`Node`)."""
        row = number * _ROW
        offset, length = self.table[row], self.table[row + 1]
        names = _OWN_FIELDS[type(node)]
        try:
            fields = _ChunkUnpickler(self.data[offset : offset + length], self).load()
        except Exception as e:
            raise CacheEntryCorrupt(self.where, e) from None
        if type(fields) is not tuple or len(fields) != len(names):
            raise CacheEntryCorrupt(self.where, f"bad chunk {number}")
        for name, value in zip(names, fields, strict=True):
            setattr(node, name, value)


def decode(
    payload: bytes | memoryview,
    source: Source,
    text_hash: bytes | None = None,
    where: str = "<memory>",
) -> A.Expr:
    """The tree in ``payload`` for the text of ``source`` (unfilled; see the module doc).

    ``text_hash`` is the SHA-256 of the text, if the caller has it already."""
    if text_hash is None:
        text_hash = _text_hash(source.text)
    try:
        entry = _Entry(payload, source, text_hash, where)
    except (ValueError, struct.error) as e:
        raise pickle.UnpicklingError(str(e)) from None
    return entry.node(0)  # type: ignore[return-value]


# --- the cache ----------------------------------------------------------------------


def _key(text_hash: bytes) -> str:
    return hashlib.sha256(PARSER_VERSION.encode() + b"\0" + text_hash).hexdigest()


def _load(path: FsPath, source: Source, text_hash: bytes) -> A.Expr | None:
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if not blob.startswith(_MAGIC) or len(blob) < head:
        return None
    payload = memoryview(blob)[head:]
    if hashlib.sha256(payload).digest() != blob[len(_MAGIC) : head]:
        return None
    try:
        tree = decode(payload, source, text_hash, str(path))
    except Exception:  # any malformed entry is simply not used
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by _prune
    return tree


def _prune(directory: FsPath, suffix: str = ".parse") -> None:
    """Keep at most :data:`MAX_ENTRIES` entries (or marks): remove the least recently used."""
    prune(str(directory), suffix, MAX_ENTRIES)


def _store(path: FsPath, e: A.Expr) -> None:
    payload = encode(e)
    write_whole(str(path), _MAGIC + hashlib.sha256(payload).digest() + payload)
    if path.name.startswith(_PRUNE_PREFIX):  # one store in 256, chosen by the key
        _prune(path.parent)


def _parse(source: Source) -> A.Expr:
    # the parser and its lexer load only when a file is not in the cache
    from tvix_eval.syntax.parser import parse_source

    return parse_source(source)


def compiles_cleanly(text: str, context: str, *, directory: FsPath | None = None) -> CleanMark:
    """Whether ``text`` is known to compile without error where ``context`` (the names in
    scope) holds; see :class:`CleanMark`."""
    return CleanMark(text, context, directory or cache_dir())


class CleanMark:
    """A file known to compile without error (no undefined variable) with the names in scope
    ``context``: an empty ``<key>.clean`` file beside its tree, made once the whole file has
    compiled. An evaluator then compiles the file's lambda bodies only when they are called:
    most lambdas of a big file never are, and the errors C++ Nix reports before evaluating
    cannot be there. Marks are pruned like entries."""

    def __init__(self, text: str, context: str, directory: FsPath) -> None:
        self.path: FsPath | None = None
        if directory.is_absolute():
            key = hashlib.sha256(
                f"{PARSER_VERSION}\0{context}\0".encode() + _text_hash(text)
            ).hexdigest()
            self.path = directory / f"{key}.clean"

    def __bool__(self) -> bool:
        return self.path is not None and self.path.exists()

    def set(self) -> None:
        """Record that the file compiled cleanly."""
        if self.path is None:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644))
            if self.path.name.startswith(_PRUNE_PREFIX):
                _prune(self.path.parent, ".clean")


def parse_cached(text: str, file: str | None = None, *, directory: FsPath | None = None) -> A.Expr:
    """Parse ``text`` like :func:`tvix_eval.syntax.parse`, reusing a cached
    tree when the same text was parsed before. Errors are never cached."""
    source = Source("«string»" if file is None else file, text)
    directory = directory or cache_dir()
    if not directory.is_absolute():  # no home directory to resolve it against
        return _parse(source)
    text_hash = _text_hash(text)
    path = directory / f"{_key(text_hash)}.parse"
    cached = _load(path, source, text_hash)
    if cached is not None:
        return cached
    e = _parse(source)
    enabled = gc.isenabled()
    gc.disable()  # pickling creates many short-lived tuples; see parse_source
    try:
        with contextlib.suppress(OSError, RecursionError):
            _store(path, e)
    finally:
        if enabled:
            gc.enable()
    return e
