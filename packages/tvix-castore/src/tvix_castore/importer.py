"""Importing a filesystem tree into a BlobService and a DirectoryService.

The tree is walked without following symlinks (not even a symlink given as the
root), entries sorted by their byte names. Into a local store, small files are
read while a second thread hashes and stores them in batches (one transaction
each); large files are hashed with several threads and streamed. Into a
remote store, a thread pool hashes files and uploads only the blobs the store
lacks. Directories are assembled from their children and uploaded leaves
first through one DirectoryPutter, so the whole graph lands (or fails)
together. The digests are those the reference implementation computes for the
same tree.
"""

from __future__ import annotations

import io
import os
import stat
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import blake3

from tvix_castore.blobservice.base import CHUNK_SIZE
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
from tvix_castore.errors import CastoreError, IngestError

if TYPE_CHECKING:
    from tvix_castore.blobservice.base import BlobService
    from tvix_castore.directoryservice.base import DirectoryService

MAX_FILE_SIZE = (1 << 32) - 1
"""FileNode.size is a uint32 in the castore protocol."""
WHOLE_FILE_LIMIT = 16 << 20
"""Files up to this size are read into memory once; larger ones are read twice (hash, upload)."""
HASH_PIECE = 16 << 20
BATCH_BYTES = 16 << 20
BATCH_FILES = 1024
"""Small files are stored in batches of up to this many bytes or files."""


class ImportProgress(Protocol):
    """Receives progress of an import, possibly from worker threads."""

    def discovered(self, nbytes: int) -> None:
        """A file of ``nbytes`` was found and queued."""

    def advanced(self, nbytes: int) -> None:
        """A file of ``nbytes`` was hashed (and uploaded if the store lacked it)."""


class _Pending(Protocol):
    """A file node that may still be in the making (a Future or a slot filled by a batch)."""

    def result(self) -> FileNode: ...


class _Slot:
    """Receives the node of a file whose blob waits in a batch."""

    __slots__ = ("node",)

    def __init__(self, node: FileNode | None = None) -> None:
        self.node = node

    def result(self) -> FileNode:
        assert self.node is not None, "batch not flushed"
        return self.node


@dataclass
class _DirectoryRecord:
    """A directory found by the walk, with futures or nodes for its children."""

    path: bytes
    name: bytes
    files: list[_Pending] = field(default_factory=list)
    symlinks: list[SymlinkNode] = field(default_factory=list)
    subdirectories: list[_DirectoryRecord] = field(default_factory=list)
    node: DirectoryNode | None = None


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "an unsupported file type"


def _show(path: bytes) -> str:
    return os.fsdecode(path)


class _Importer:
    """The state of one import: services, worker threads, the batch being filled."""

    def __init__(
        self,
        blob_service: BlobService,
        directory_service: DirectoryService,
        pool: ThreadPoolExecutor | None,
        progress: ImportProgress | None,
    ) -> None:
        self.blobs = blob_service
        self.directories = directory_service
        self.pool = pool
        self.progress = progress
        self.batch: list[tuple[_Slot, bytes, bool, bytes]] = []
        self.batch_bytes = 0
        self.storer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="castore-store")
        self.stored: list[Future[None]] = []

    def file(self, path: bytes, name: bytes, st: os.stat_result) -> _Pending:
        if st.st_size > MAX_FILE_SIZE:
            raise IngestError(f"{_show(path)}: file too large for castore ({st.st_size} bytes)")
        if self.progress is not None:
            self.progress.discovered(st.st_size)
        executable = bool(st.st_mode & stat.S_IXUSR)
        if self.pool is not None:
            return self.pool.submit(self.upload, path, name, executable)
        if st.st_size > WHOLE_FILE_LIMIT or self.blobs.remote:
            return _Slot(self.upload(path, name, executable))
        try:
            with open(path, "rb", buffering=0) as f:
                data = f.readall()
        except OSError as e:
            raise IngestError(f"unable to read {_show(path)}: {e.strerror or e}") from None
        slot = _Slot()
        self.batch.append((slot, name, executable, data))
        self.batch_bytes += len(data)
        if self.batch_bytes >= BATCH_BYTES or len(self.batch) >= BATCH_FILES:
            self.flush()
        return slot

    def flush(self) -> None:
        """Hand the batched small blobs to the storing thread, which stores them together.

        Reading the next files overlaps with hashing and storing this batch; at
        most two batches wait, which bounds the memory in flight.
        """
        if self.batch:
            batch, self.batch, self.batch_bytes = self.batch, [], 0
            self.stored.append(self.storer.submit(self._store_batch, batch))
        while len(self.stored) > 2:
            self.stored.pop(0).result()

    def finish(self) -> None:
        """Wait until every batch is stored (raising the first failure)."""
        self.flush()
        while self.stored:
            self.stored.pop(0).result()

    def _store_batch(self, batch: list[tuple[_Slot, bytes, bool, bytes]]) -> None:
        try:
            digests = self.blobs.put_many([data for _, _, _, data in batch])
        except CastoreError as e:
            raise IngestError(f"unable to store file contents: {e}") from e
        for (slot, name, executable, data), digest in zip(batch, digests, strict=True):
            slot.node = FileNode(name=name, digest=digest, size=len(data), executable=executable)
        if self.progress is not None:
            self.progress.advanced(sum(len(data) for _, _, _, data in batch))

    def upload(self, path: bytes, name: bytes, executable: bool) -> FileNode:
        try:
            with open(path, "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                if size <= WHOLE_FILE_LIMIT:
                    data = f.readall()
                    size = len(data)
                    if self.blobs.remote:
                        digest = B3Digest.of(data)
                        if not self.blobs.has(digest):
                            self._check(path, self.blobs.put(data), digest)
                    else:
                        digest = self.blobs.put(data)
                else:
                    digest, size = self._upload_large(f, path)
        except OSError as e:
            raise IngestError(f"unable to read {_show(path)}: {e.strerror or e}") from None
        except CastoreError as e:
            if isinstance(e, IngestError):
                raise
            raise IngestError(f"unable to upload {_show(path)}: {e}") from e
        if self.progress is not None:
            self.progress.advanced(size)
        return FileNode(name=name, digest=digest, size=size, executable=executable)

    def _upload_large(self, f: io.FileIO, path: bytes) -> tuple[B3Digest, int]:
        buffer = bytearray(HASH_PIECE)
        view = memoryview(buffer)
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        size = 0
        while n := f.readinto(buffer):
            hasher.update(view[:n])
            size += n
        digest = B3Digest(hasher.digest())
        if size > MAX_FILE_SIZE:
            raise IngestError(f"{_show(path)}: file too large for castore ({size} bytes)")
        if self.blobs.has(digest):
            return digest, size
        f.seek(0)
        with self.blobs.open_write() as writer:
            while n := f.readinto(buffer):
                for start in range(0, n, CHUNK_SIZE):
                    writer.write(view[start : min(n, start + CHUNK_SIZE)])
            self._check(path, writer.close(), digest)
        return digest, size

    @staticmethod
    def _check(path: bytes, stored: B3Digest, digest: B3Digest) -> None:
        if stored != digest:
            raise IngestError(f"{_show(path)} changed while it was being imported")

    def walk(self, root_path: bytes, root_name: bytes) -> list[_DirectoryRecord]:
        """Scan the tree, queue file uploads, and return directory records in pre-order."""
        root = _DirectoryRecord(root_path, root_name)
        order = [root]
        stack = [root]
        while stack:
            record = stack.pop()
            try:
                with os.scandir(record.path) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                raise IngestError(
                    f"unable to list {_show(record.path)}: {e.strerror or e}"
                ) from None
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError as e:
                    raise IngestError(
                        f"unable to stat {_show(entry.path)}: {e.strerror or e}"
                    ) from None
                if stat.S_ISDIR(st.st_mode):
                    child = _DirectoryRecord(entry.path, entry.name)
                    record.subdirectories.append(child)
                    order.append(child)
                    stack.append(child)
                elif stat.S_ISREG(st.st_mode):
                    record.files.append(self.file(entry.path, entry.name, st))
                elif stat.S_ISLNK(st.st_mode):
                    record.symlinks.append(self.symlink(entry.path, entry.name))
                else:
                    raise IngestError(
                        f"{_show(entry.path)} is {_kind(st.st_mode)}, which castore cannot store"
                    )
        return order

    def symlink(self, path: bytes, name: bytes) -> SymlinkNode:
        try:
            target = os.readlink(path)
        except OSError as e:
            raise IngestError(f"unable to read symlink {_show(path)}: {e.strerror or e}") from None
        return SymlinkNode(name=name, target=target)

    def directory_tree(self, root_path: bytes, root_name: bytes) -> DirectoryNode:
        order = self.walk(root_path, root_name)
        self.finish()
        with self.directories.put_multiple() as putter:
            for record in reversed(order):
                directory = Directory(
                    directories=[sub.node for sub in record.subdirectories if sub.node is not None],
                    files=[future.result() for future in record.files],
                    symlinks=record.symlinks,
                )
                try:
                    putter.put(directory)
                except CastoreError as e:
                    raise IngestError(
                        f"failed to upload directory {_show(record.path)}: {e}"
                    ) from e
                record.node = DirectoryNode(
                    name=record.name,
                    digest=directory_digest(directory),
                    size=directory_size(directory),
                )
            try:
                putter.close()
            except CastoreError as e:
                raise IngestError(f"failed to upload directories of {_show(root_path)}: {e}") from e
        assert order[0].node is not None
        return order[0].node


def import_path(
    path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
    blob_service: BlobService,
    directory_service: DirectoryService,
    *,
    workers: int | None = None,
    progress: ImportProgress | None = None,
) -> ChildNode:
    """Import the file, symlink or directory tree at ``path`` and return its root node.

    The root node is named after the last component of ``path``. ``workers``
    threads hash and upload files; 0 imports in the calling thread, storing
    small files in batches. The default is 0 for local backends (where
    batching wins) and a few threads per CPU for remote ones (where they hide
    latency). Unsupported file types (sockets, devices, pipes) and
    unreadable entries raise IngestError naming the path.
    """
    raw = os.fsencode(os.path.abspath(os.fsdecode(path)))
    name = os.path.basename(raw.rstrip(b"/"))
    try:
        st = os.lstat(raw)
    except OSError as e:
        raise IngestError(f"unable to stat {_show(raw)}: {e.strerror or e}") from None
    if workers is None:
        workers = min(8, 2 * (os.cpu_count() or 1)) if blob_service.remote else 0
    pool = (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="castore-import")
        if workers > 0
        else None
    )
    importer = _Importer(blob_service, directory_service, pool, progress)
    try:
        if stat.S_ISLNK(st.st_mode):
            return importer.symlink(raw, name)
        if stat.S_ISREG(st.st_mode):
            pending = importer.file(raw, name, st)
            importer.finish()
            return pending.result()
        if stat.S_ISDIR(st.st_mode):
            return importer.directory_tree(raw, name)
        raise IngestError(f"{_show(raw)} is {_kind(st.st_mode)}, which castore cannot store")
    finally:
        importer.storer.shutdown(wait=True, cancel_futures=True)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
