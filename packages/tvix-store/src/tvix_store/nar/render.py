"""Rendering a castore tree as a NAR stream, byte-identical to ``nix-store --dump``.

The walk keeps an explicit stack (deep trees do not hit the recursion limit),
streams file contents from the BlobService in chunks (bounded memory), and
checks every blob against the size its file node declares: a blob that ends
early or has more data is a :class:`~tvix_store.errors.BlobSizeMismatchError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import cast

from nix_compat.nar import NarError, open_nar_writer
from nix_compat.nar.wire import BinarySink
from nix_compat.nar.writer import DirectoryWriter, NodeWriter
from tvix_castore.blobservice.base import BlobReadSession, BlobService, BytesLike
from tvix_castore.digests import B3Digest
from tvix_castore.directory import ChildNode, DirectoryNode, FileNode, iter_nodes
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError, StorageError

from tvix_store.errors import (
    BlobNotFoundError,
    BlobSizeMismatchError,
    DirectoryNotFoundError,
    RenderError,
)

__all__ = ["calculate_size_and_sha256", "iter_nar", "write_nar"]


class _PieceReader:
    """Hands a blob's pieces to the NAR writer in the sizes it asks for, without copying.

    Remembers how many bytes it handed out; calls ``at_end`` (once) when asked
    for more after the last piece.
    """

    __slots__ = ("_at_end", "_chunks", "_offset", "_piece", "count")

    def __init__(self, chunks: Iterator[BytesLike], at_end: Callable[[], None] | None) -> None:
        self._chunks = chunks
        self._at_end = at_end
        self._piece = memoryview(b"")
        self._offset = 0
        self.count = 0

    def read(self, size: int, /) -> bytes:
        while self._offset >= len(self._piece):
            piece = next(self._chunks, None)
            if piece is None:
                at_end, self._at_end = self._at_end, None
                if at_end is not None:
                    at_end()
                return b""
            self._piece, self._offset = memoryview(piece).cast("B"), 0
        start = self._offset
        view = self._piece[start : start + size]
        self._offset = start + len(view)
        self.count += len(view)
        # The writer only takes the length of what it reads and passes it to the sink, which
        # must consume it before returning; a view saves a copy of every chunk.
        return cast("bytes", view)


def _digest(node: DirectoryNode | FileNode) -> B3Digest:
    try:
        return B3Digest(node.digest)
    except InvalidRequestError:
        kind = "directory" if isinstance(node, DirectoryNode) else "file"
        raise StorageError(f"invalid digest length in {kind} node {node.name!r}") from None


def _chunks(node: FileNode, blobs: BlobReadSession) -> tuple[B3Digest, Iterator[BytesLike]]:
    digest = _digest(node)
    chunks = blobs.chunks(digest)
    if chunks is None:
        raise BlobNotFoundError(digest, node.name)
    return digest, chunks


def _write_file(
    nar_node: NodeWriter,
    node: FileNode,
    blobs: BlobReadSession,
    at_end: Callable[[], None] | None = None,
) -> None:
    """Stream the file's blob into ``nar_node``; ``at_end`` runs before the node is finished."""
    digest, chunks = _chunks(node, blobs)
    reader = _PieceReader(chunks, at_end)
    try:
        nar_node.file(node.executable, node.size, reader)
    except NarError:
        short = reader.count < node.size
        raise BlobSizeMismatchError(digest, node.name, node.size, short) from None


def _small_file_contents(node: FileNode, blobs: BlobReadSession) -> BytesLike:
    """The whole content of a small file, its size checked (without reading far past it)."""
    digest, chunks = _chunks(node, blobs)
    pieces: list[BytesLike] = []
    total = 0
    for piece in chunks:
        total += len(piece)
        if total > node.size:
            raise BlobSizeMismatchError(digest, node.name, node.size, False)
        pieces.append(piece)
    if total < node.size:
        raise BlobSizeMismatchError(digest, node.name, node.size, True)
    if len(pieces) == 1:
        return pieces[0]
    return b"".join(pieces)


SMALL_FILE = 1 << 20
"""Files up to this size are read whole and added to the NAR in one step."""


def write_nar(
    sink: BinarySink,
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
) -> None:
    """Write the NAR serialisation of ``root`` (its name is ignored) to ``sink``.

    Blobs are read through a :class:`~tvix_castore.blobservice.base.BlobReadSession`
    (zero-copy where the backend allows) and checked against their digests as
    they are read, large ones possibly on another thread while rendering goes
    on; the last bytes of the NAR are written only after the session's
    ``verify``, so a corrupt blob always ends in an exception and an incomplete
    NAR.
    """
    try:
        with blob_service.read_session(deferred_checks=True) as blobs:
            _render(open_nar_writer(sink), root, blobs, directory_service)
    except NarError as e:
        raise RenderError(f"failure using the NAR writer: {e}") from None


def _open_directory(
    node: DirectoryNode, directory_service: DirectoryService
) -> Iterator[ChildNode]:
    digest = _digest(node)
    directory = directory_service.get(digest)
    if directory is None:
        raise DirectoryNotFoundError(digest, node.name)
    return iter_nodes(directory)


def _render(
    nar_root: NodeWriter,
    root: ChildNode,
    blobs: BlobReadSession,
    directory_service: DirectoryService,
) -> None:
    if isinstance(root, FileNode):
        _write_file(nar_root, root, blobs, at_end=blobs.verify)
        return
    if not isinstance(root, DirectoryNode):
        nar_root.symlink(root.target)
        return
    # Each open directory: its NAR writer and the iterator over its remaining entries.
    stack: list[tuple[DirectoryWriter, Iterator[ChildNode]]] = [
        (nar_root.directory(), _open_directory(root, directory_service))
    ]
    while stack:
        dir_writer, entries = stack[-1]
        child = next(entries, None)
        if child is None:
            if len(stack) == 1:
                blobs.verify()  # before the bytes that complete the NAR
            dir_writer.close()
            stack.pop()
        elif isinstance(child, FileNode):
            if child.size <= SMALL_FILE:
                data = _small_file_contents(child, blobs)
                # memoryviews work as well as bytes here: copied into the writer's buffer or
                # written to the sink before add_file returns.
                dir_writer.add_file(child.name, child.executable, cast("bytes", data))
            else:
                _write_file(dir_writer.entry(child.name), child, blobs)
        elif isinstance(child, DirectoryNode):
            node_writer = dir_writer.entry(child.name)
            stack.append((node_writer.directory(), _open_directory(child, directory_service)))
        else:
            dir_writer.add_symlink(child.name, child.target)


def calculate_size_and_sha256(
    root: ChildNode, blob_service: BlobService, directory_service: DirectoryService
) -> tuple[int, bytes]:
    """The size and sha256 digest of the NAR serialisation of ``root``."""
    sink = _HashingSink()
    try:
        write_nar(sink, root, blob_service, directory_service)
    finally:
        sink.close()
    return sink.size, sink.hasher.digest()


class _HashingSink:
    """Counts and sha256-hashes what is written, hashing on a second thread.

    hashlib releases the GIL on large buffers, so hashing overlaps with reading
    blobs; at most a few buffers wait. Memoryviews (which a writer may reuse)
    are copied.
    """

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(16)
        self._thread = threading.Thread(target=self._run, name="nar-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        update = self.hasher.update
        get = self._queue.get
        while (data := get()) is not None:
            update(data)

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        n = len(data)
        if n:
            self.size += n
            self._queue.put(bytes(data) if isinstance(data, memoryview) else data)
        return n

    def close(self) -> None:
        """Wait for the hashing thread to catch up and stop it."""
        self._queue.put(None)
        self._thread.join()


_QUEUE_DEPTH = 8
_END = object()


def iter_nar(
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
) -> Generator[bytes, None, None]:
    """The NAR serialisation of ``root`` as an iterator of chunks, produced on a worker thread.

    At most a few chunks wait at a time, so memory stays bounded however large
    the tree. An error while rendering is raised from the iterator; closing the
    iterator early stops the worker.
    """
    chunks: queue.Queue[object] = queue.Queue(_QUEUE_DEPTH)
    stop = threading.Event()

    class _QueueSink:
        def write(self, data: bytes | bytearray | memoryview, /) -> int:
            if stop.is_set():
                raise _Stopped
            chunks.put(bytes(data))
            return len(data)

    def run() -> None:
        try:
            write_nar(_QueueSink(), root, blob_service, directory_service)
        except _Stopped:
            return
        except BaseException as e:
            chunks.put(e)
            return
        chunks.put(_END)

    worker = threading.Thread(target=run, name="nar-render", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.05)
        worker.join()


class _Stopped(Exception):
    """The consumer of :func:`iter_nar` went away."""
