"""Ingesting a NAR stream into castore: blobs, directories and a root node, in one pass.

The stream is read once through nix-compat's canonical-only reader (so a NAR
that ``nix-store --dump`` could not have produced is rejected), and the NAR's
size and sha256 are computed on the way (on a second thread). Small files go
to the BlobService whole, many at a time through a batch; larger ones in
chunks. Directories are uploaded through one DirectoryPutter that is closed
only when the whole archive was read, after the batch was flushed: a bad
archive leaves no directory graph behind (orphan blobs are harmless, being
content-addressed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nix_compat.nar import (
    NarDirectory,
    NarDirectoryEnd,
    NarError,
    NarFile,
    NarFileReader,
    NarSymlink,
    read_nar,
)
from nix_compat.nar.wire import BinaryReader
from tvix_castore.blobservice.base import CHUNK_SIZE, BlobBatch, BlobService
from tvix_castore.digests import B3Digest
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
from tvix_store.nar.hashing import HashingReader

__all__ = ["HashingReader", "IngestResult", "ingest_nar"]

MAX_FILE_SIZE = (1 << 32) - 1
"""FileNode.size is a uint32 in the castore protocol."""


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
    with directory_service.put_multiple() as putter, blob_service.open_batch() as small_blobs:
        try:
            for event in read_nar(hashing):
                name = event.path[-1] if event.path else root_name
                node: ChildNode | None
                if isinstance(event, NarFile):
                    digest = _ingest_file(event, blob_service, small_blobs)
                    if stack:  # built in place: the common case, saving a copy
                        stack[-1].directory.files.add(
                            name=name, digest=digest, size=event.size, executable=event.executable
                        )
                        continue
                    node = FileNode(
                        name=name, digest=digest, size=event.size, executable=event.executable
                    )
                elif isinstance(event, NarDirectory):
                    stack.append(_OpenDirectory(name))
                    continue
                elif isinstance(event, NarDirectoryEnd):
                    finished = stack.pop()
                    putter.put(finished.directory)
                    node = DirectoryNode(
                        name=finished.name,
                        digest=directory_digest(finished.directory),
                        size=directory_size(finished.directory),
                    )
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
        small_blobs.flush()  # the blobs before the graph that refers to them
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


def _ingest_file(event: NarFile, blob_service: BlobService, small_blobs: BlobBatch) -> B3Digest:
    """Store the file's contents and return their digest: a small file whole, in a batch
    with its neighbours; a larger one chunk by chunk through one reused buffer (each piece
    exactly a stored chunk)."""
    size = event.size
    if size > MAX_FILE_SIZE:
        raise NarIngestError(
            f"file {b'/'.join(event.path)!r} is {size} bytes, more than castore's "
            f"limit of {MAX_FILE_SIZE}"
        )
    contents = event.contents
    if size <= CHUNK_SIZE:
        return small_blobs.add_filled(size, lambda buffer: _read_exactly(contents, buffer))
    view = memoryview(bytearray(CHUNK_SIZE))
    with blob_service.open_write() as writer:
        for start in range(0, size, CHUNK_SIZE):
            piece = view[: min(CHUNK_SIZE, size - start)]
            _read_exactly(contents, piece)
            writer.write(piece)
        return writer.close()


def _read_exactly(contents: NarFileReader, view: memoryview) -> None:
    """Fill ``view`` from the file's contents (the reader raises if the archive ends early)."""
    filled = 0
    while filled < len(view):
        got = contents.readinto(view[filled:])
        if not got:
            raise NarIngestError("file contents ended before their declared size")
        filled += got
