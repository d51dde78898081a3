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
from collections.abc import Generator, Iterator

from nix_compat.nar import NarError, open_nar_writer
from nix_compat.nar.wire import BinarySink
from nix_compat.nar.writer import DirectoryWriter, NodeWriter
from tvix_castore.blobservice.base import BlobReader, BlobService
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


class _CountingReader:
    """Wraps a blob reader, remembering how many bytes were handed out."""

    __slots__ = ("_reader", "count")

    def __init__(self, reader: BlobReader) -> None:
        self._reader = reader
        self.count = 0

    def read(self, size: int, /) -> bytes:
        data = self._reader.read(size)
        self.count += len(data)
        return data


def _digest(node: DirectoryNode | FileNode) -> B3Digest:
    try:
        return B3Digest(node.digest)
    except InvalidRequestError:
        kind = "directory" if isinstance(node, DirectoryNode) else "file"
        raise StorageError(f"invalid digest length in {kind} node {node.name!r}") from None


def _write_file(nar_node: NodeWriter, node: FileNode, blob_service: BlobService) -> None:
    digest = _digest(node)
    reader = blob_service.open_read(digest)
    if reader is None:
        raise BlobNotFoundError(digest, node.name)
    with reader:
        counting = _CountingReader(reader)
        try:
            nar_node.file(node.executable, node.size, counting)
        except NarError:
            short = counting.count < node.size
            raise BlobSizeMismatchError(digest, node.name, node.size, short) from None


def write_nar(
    sink: BinarySink,
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
) -> None:
    """Write the NAR serialisation of ``root`` (its name is ignored) to ``sink``."""
    nar_root = open_nar_writer(sink)
    # Each open directory: its NAR writer and the iterator over its remaining entries.
    stack: list[tuple[DirectoryWriter, Iterator[ChildNode]]] = []
    pending: tuple[NodeWriter, ChildNode] | None = (nar_root, root)
    try:
        while True:
            if pending is not None:
                nar_node, node = pending
                pending = None
                if isinstance(node, DirectoryNode):
                    digest = _digest(node)
                    directory = directory_service.get(digest)
                    if directory is None:
                        raise DirectoryNotFoundError(digest, node.name)
                    stack.append((nar_node.directory(), iter_nodes(directory)))
                elif isinstance(node, FileNode):
                    _write_file(nar_node, node, blob_service)
                else:
                    nar_node.symlink(node.target)
            if not stack:
                return
            dir_writer, entries = stack[-1]
            child = next(entries, None)
            if child is None:
                dir_writer.close()
                stack.pop()
                continue
            pending = (dir_writer.entry(child.name), child)
    except NarError as e:
        raise RenderError(f"failure using the NAR writer: {e}") from None


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
