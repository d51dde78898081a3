"""A streaming NAR writer, shaped for renderers that walk a tree top-down.

``open_nar_writer(sink)`` returns the root :class:`NodeWriter`. A node becomes a file, a symlink
or a directory exactly once; a directory hands out one :class:`NodeWriter` per entry, in strictly
increasing byte order of names, and must be closed. Output goes to the sink in chunks, so memory
stays bounded whatever the file sizes. Misuse (unsorted names, a size that does not match the
content, writing a node twice) raises :class:`NarError` with the archive offset.
"""

from __future__ import annotations

import struct
from types import TracebackType

from nix_compat.nar.errors import NarError
from nix_compat.nar.wire import (
    MAX_NAME_LEN,
    TOK_DIR,
    TOK_ENT,
    TOK_EXE,
    TOK_NAR,
    TOK_NOD,
    TOK_PAR,
    TOK_REG,
    TOK_SYM,
    BinaryReader,
    BinarySink,
    encode_string,
    invalid_name_reason,
    invalid_target_reason,
    padding,
)

__all__ = ["DirectoryWriter", "NodeWriter", "open_nar_writer"]

_U64 = struct.Struct("<Q")
_DOTS = (b".", b"..")

FLUSH_THRESHOLD = 256 * 1024
"""Buffered output is handed to the sink once it grows past this many bytes."""

CHUNK_SIZE = 256 * 1024
"""File contents larger than this are streamed from the reader in chunks of this size."""

DIRECT_WRITE_SIZE = 64 * 1024
"""In-memory contents this large go to the sink as they are instead of through the buffer."""


def open_nar_writer(sink: BinarySink) -> NodeWriter:
    """Start a NAR on ``sink`` and return the writer for its root node.

    The sink receives ``bytes``, ``bytearray`` or ``memoryview`` objects and must consume each
    before ``write`` returns (files, hashers and ``io.BytesIO`` do): chunk buffers are reused.
    Everything is flushed to the sink once the root node is complete.
    """
    state = _WriterState(sink)
    state.buf += TOK_NAR
    root = NodeWriter(state)
    state.pending = root
    return root


class _WriterState:
    """What all nodes of one archive share: the output buffer and the position in the tree."""

    __slots__ = ("buf", "chunk", "failed", "flushed", "open_dirs", "pending", "sink")

    def __init__(self, sink: BinarySink) -> None:
        self.sink = sink
        self.buf = bytearray()
        self.flushed = 0
        self.chunk: bytearray | None = None
        self.open_dirs: list[DirectoryWriter] = []
        self.pending: NodeWriter | None = None
        self.failed = False

    @property
    def offset(self) -> int:
        return self.flushed + len(self.buf)

    def flush(self) -> None:
        """Hand the buffer to the sink; the writer never touches a handed-over buffer again."""
        if self.buf:
            data = self.buf
            self.buf = bytearray()
            self.flushed += len(data)
            self.sink.write(data)

    def node_finished(self) -> None:
        self.pending = None
        if not self.open_dirs or len(self.buf) >= FLUSH_THRESHOLD:
            self.flush()

    def fail(self, message: str) -> NarError:
        self.failed = True
        return NarError(message, self.offset)


class NodeWriter:
    """One node of the archive, to be made a file, a symlink or a directory exactly once."""

    __slots__ = ("_state",)

    def __init__(self, state: _WriterState) -> None:
        self._state = state

    def _claim(self) -> _WriterState:
        state = self._state
        if state.failed:
            raise NarError("the NAR writer failed earlier and cannot continue", state.offset)
        if state.pending is not self:
            raise NarError("this node was already written or its directory moved on", state.offset)
        return state

    def symlink(self, target: bytes) -> None:
        """Make this node a symlink to ``target``."""
        state = self._claim()
        reason = invalid_target_reason(target)
        if reason is not None:
            raise NarError(reason, state.offset)
        state.buf += TOK_SYM
        state.buf += encode_string(target)
        state.buf += TOK_PAR
        state.node_finished()

    def file(self, executable: bool, size: int, reader: BinaryReader) -> None:
        """Make this node a regular file of ``size`` bytes read from ``reader``.

        The reader must yield exactly ``size`` bytes: fewer or more raise :class:`NarError`.
        """
        state = self._claim()
        if size < 0:
            raise NarError(f"negative file size {size}", state.offset)
        buf = state.buf
        buf += TOK_EXE if executable else TOK_REG
        buf += _U64.pack(size)
        if size <= CHUNK_SIZE:
            self._copy_small(state, size, reader)
        else:
            self._copy_large(state, size, reader)
        if reader.read(1):
            raise state.fail(f"file content is longer than the declared size {size}")
        state.buf += padding(size)
        state.buf += TOK_PAR
        state.node_finished()

    def file_contents(self, executable: bool, data: bytes | bytearray) -> None:
        """Make this node a regular file whose whole content is ``data``."""
        state = self._claim()
        buf = state.buf
        size = len(data)
        buf += TOK_EXE if executable else TOK_REG
        buf += _U64.pack(size)
        if size >= DIRECT_WRITE_SIZE:
            state.flush()
            state.sink.write(data)
            state.flushed += size
            buf = state.buf
        else:
            buf += data
        buf += padding(size)
        buf += TOK_PAR
        state.node_finished()

    @staticmethod
    def _copy_small(state: _WriterState, size: int, reader: BinaryReader) -> None:
        """Append up to one chunk of content to the output buffer."""
        remaining = size
        while remaining:
            data = reader.read(remaining)
            if not data:
                raise state.fail(
                    f"file content ended after {size - remaining} of the declared {size} bytes"
                )
            if len(data) > remaining:
                raise state.fail(f"file content is longer than the declared size {size}")
            state.buf += data
            remaining -= len(data)

    @staticmethod
    def _copy_large(state: _WriterState, size: int, reader: BinaryReader) -> None:
        """Stream content to the sink through one reused chunk buffer."""
        state.flush()
        if state.chunk is None:
            state.chunk = bytearray(CHUNK_SIZE)
        view = memoryview(state.chunk)
        readinto = getattr(reader, "readinto", None)
        write = state.sink.write
        remaining = size
        while remaining:
            want = CHUNK_SIZE if remaining > CHUNK_SIZE else remaining
            if readinto is not None:
                got = readinto(view[:want])
                data: bytes | memoryview = view[:got] if got else b""
            else:
                data = reader.read(want)
                got = len(data)
            if not got:
                raise state.fail(
                    f"file content ended after {size - remaining} of the declared {size} bytes"
                )
            if got > remaining:
                raise state.fail(f"file content is longer than the declared size {size}")
            write(data)
            state.flushed += got
            remaining -= got

    def directory(self) -> DirectoryWriter:
        """Make this node a directory; add entries to the returned writer, then close it."""
        state = self._claim()
        state.buf += TOK_DIR
        directory = DirectoryWriter(state)
        state.open_dirs.append(directory)
        state.pending = None
        return directory


class DirectoryWriter:
    """The entries of a directory node, added in strictly increasing byte order of names.

    Usable as a context manager that closes the directory when the block succeeds.
    """

    __slots__ = ("_closed", "_prev_name", "_state")

    def __init__(self, state: _WriterState) -> None:
        self._state = state
        self._prev_name: bytes | None = None
        self._closed = False

    def _check_current(self, action: str) -> _WriterState:
        state = self._state
        if state.failed:
            raise NarError("the NAR writer failed earlier and cannot continue", state.offset)
        if self._closed:
            raise NarError(f"cannot {action}: the directory is closed", state.offset)
        if state.open_dirs[-1] is not self:
            raise NarError(f"cannot {action}: a subdirectory is still open", state.offset)
        if state.pending is not None:
            raise NarError(f"cannot {action}: the previous entry was not written", state.offset)
        return state

    def _start_entry(self, name: bytes) -> _WriterState:
        """Check ``name`` and write everything of the entry up to its node's type."""
        state = self._state
        if (
            state.failed
            or self._closed
            or state.pending is not None
            or state.open_dirs[-1] is not self
        ):
            self._check_current("add an entry")
        if not name or len(name) > MAX_NAME_LEN or b"/" in name or b"\0" in name or name in _DOTS:
            raise NarError(invalid_name_reason(name) or f"invalid name {name!r}", state.offset)
        prev = self._prev_name
        buf = state.buf
        if prev is not None:
            if name <= prev:
                relation = "duplicate" if name == prev else "unsorted"
                raise NarError(f"{relation} entry name {name!r} after {prev!r}", state.offset)
            buf += TOK_PAR
        self._prev_name = name
        buf += TOK_ENT
        buf += _U64.pack(len(name))
        buf += name
        buf += padding(len(name))
        buf += TOK_NOD
        return state

    def entry(self, name: bytes) -> NodeWriter:
        """Add the entry ``name`` and return the writer for its node."""
        state = self._start_entry(name)
        node = NodeWriter(state)
        state.pending = node
        return node

    def add_file(self, name: bytes, executable: bool, data: bytes | bytearray) -> None:
        """Add a regular file whose whole content is ``data``, in one step.

        The same as ``entry(name).file_contents(executable, data)``, with less overhead for
        trees of many small files.
        """
        size = len(data)
        if size >= DIRECT_WRITE_SIZE:
            self.entry(name).file_contents(executable, data)
            return
        state = self._start_entry(name)
        buf = state.buf
        buf += TOK_EXE if executable else TOK_REG
        buf += _U64.pack(size)
        buf += data
        buf += padding(size)
        buf += TOK_PAR
        if len(buf) >= FLUSH_THRESHOLD:
            state.flush()

    def add_symlink(self, name: bytes, target: bytes) -> None:
        """Add a symlink entry: ``entry(name).symlink(target)``."""
        self.entry(name).symlink(target)

    def close(self) -> None:
        """Finish the directory, writing its terminators."""
        state = self._check_current("close the directory")
        if self._prev_name is not None:
            state.buf += TOK_PAR
        state.buf += TOK_PAR
        self._closed = True
        state.open_dirs.pop()
        state.node_finished()

    def __enter__(self) -> DirectoryWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
