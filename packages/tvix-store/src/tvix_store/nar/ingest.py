"""Ingesting a NAR stream into castore: blobs, directories and a root node, in one pass.

The stream is read once through nix-compat's canonical-only reader (so a NAR
that ``nix-store --dump`` could not have produced is rejected), file contents
go to the BlobService in chunks, and the NAR's size and sha256 are computed on
the way. Directories are uploaded through one DirectoryPutter that is closed
only when the whole archive was read: a bad archive leaves no directory graph
behind (orphan blobs are harmless, being content-addressed).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass, field

from nix_compat.nar import NarDirectory, NarDirectoryEnd, NarError, NarFile, NarSymlink, read_nar
from nix_compat.nar.wire import BinaryReader
from tvix_castore.blobservice.base import CHUNK_SIZE, BlobService
from tvix_castore.directory import (
    ChildNode,
    Directory,
    DirectoryNode,
    FileNode,
    SymlinkNode,
    directory_digest,
    directory_size,
)
from tvix_castore.directoryservice.base import DirectoryService

from tvix_store.errors import NarIngestError

__all__ = ["HashingReader", "IngestResult", "ingest_nar"]

MAX_FILE_SIZE = (1 << 32) - 1
"""FileNode.size is a uint32 in the castore protocol."""


class HashingReader:
    """Wraps a binary stream, counting and sha256-hashing every byte read through it.

    Hashing runs on a second thread (hashlib releases the GIL on large
    buffers), overlapping with parsing and storing; at most a few reads wait.
    Call :meth:`close` when done (``digest`` does).
    """

    def __init__(self, stream: BinaryReader) -> None:
        self._stream = stream
        self._hasher = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._run, name="nar-sha256", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self) -> None:
        update = self._hasher.update
        get = self._queue.get
        while (data := get()) is not None:
            update(data)

    def read(self, size: int, /) -> bytes:
        data = bytes(self._stream.read(size))
        if data:
            self.size += len(data)
            self._queue.put(data)
        return data

    def close(self) -> None:
        """Stop the hashing thread (idempotent)."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()

    def digest(self) -> bytes:
        """The sha256 of everything read (stops the hashing thread)."""
        self.close()
        return self._hasher.digest()


_QUEUE_DEPTH = 16


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest_nar` produced: the root node and the NAR's size and sha256."""

    root: ChildNode
    nar_size: int
    nar_sha256: bytes


@dataclass
class _OpenDirectory:
    name: bytes
    directory: Directory = field(default_factory=Directory)


def ingest_nar(
    stream: BinaryReader,
    blob_service: BlobService,
    directory_service: DirectoryService,
    root_name: bytes = b"",
    *,
    expected_sha256: bytes | None = None,
    expected_size: int | None = None,
) -> IngestResult:
    """Read one NAR from ``stream`` into castore and return its root node named ``root_name``.

    With ``expected_sha256``/``expected_size``, an archive whose content does
    not match is refused before its directory graph is committed.
    """
    hashing = HashingReader(stream)
    try:
        return _ingest(
            hashing,
            blob_service,
            directory_service,
            root_name,
            expected_sha256=expected_sha256,
            expected_size=expected_size,
        )
    finally:
        hashing.close()


def _ingest(
    hashing: HashingReader,
    blob_service: BlobService,
    directory_service: DirectoryService,
    root_name: bytes,
    *,
    expected_sha256: bytes | None,
    expected_size: int | None,
) -> IngestResult:
    root: ChildNode | None = None
    stack: list[_OpenDirectory] = []
    with directory_service.put_multiple() as putter:
        try:
            for event in read_nar(hashing):
                name = event.path[-1] if event.path else root_name
                node: ChildNode | None
                if isinstance(event, NarDirectory):
                    stack.append(_OpenDirectory(name))
                    continue
                if isinstance(event, NarDirectoryEnd):
                    finished = stack.pop()
                    putter.put(finished.directory)
                    node = DirectoryNode(
                        name=finished.name,
                        digest=directory_digest(finished.directory),
                        size=directory_size(finished.directory),
                    )
                elif isinstance(event, NarFile):
                    node = _ingest_file(event, name, blob_service)
                else:
                    assert isinstance(event, NarSymlink)
                    node = SymlinkNode(name=name, target=event.target)
                if stack:
                    _add_child(stack[-1].directory, node)
                else:
                    root = node
        except NarError as e:
            raise NarIngestError(f"invalid NAR: {e}") from None
        assert root is not None
        nar_size, nar_sha256 = hashing.size, hashing.digest()
        if expected_size is not None and expected_size != nar_size:
            raise NarIngestError(
                f"NAR size mismatch: expected {expected_size} bytes, got {nar_size}"
            )
        if expected_sha256 is not None and expected_sha256 != nar_sha256:
            raise NarIngestError(
                f"NAR hash mismatch: expected sha256 {expected_sha256.hex()}, "
                f"got {nar_sha256.hex()}"
            )
        if isinstance(root, DirectoryNode):
            putter.close()
        else:
            putter.abort()
    return IngestResult(root, nar_size, nar_sha256)


def _add_child(directory: Directory, node: ChildNode) -> None:
    if isinstance(node, DirectoryNode):
        directory.directories.append(node)
    elif isinstance(node, FileNode):
        directory.files.append(node)
    else:
        directory.symlinks.append(node)


def _ingest_file(event: NarFile, name: bytes, blob_service: BlobService) -> FileNode:
    if event.size > MAX_FILE_SIZE:
        raise NarIngestError(
            f"file {b'/'.join(event.path)!r} is {event.size} bytes, more than castore's "
            f"limit of {MAX_FILE_SIZE}"
        )
    contents = event.contents
    with blob_service.open_write() as writer:
        buf = bytearray(min(CHUNK_SIZE, event.size) or 1)
        view = memoryview(buf)
        while True:
            got = contents.readinto(view)
            if not got:
                break
            writer.write(view[:got])
        digest = writer.close()
    return FileNode(name=name, digest=digest, size=event.size, executable=event.executable)
