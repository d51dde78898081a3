"""Shared logic of the backends that keep directories in this process (memory, lmdb)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator

import blake3

from tvix_castore.digests import B3Digest
from tvix_castore.directory import (
    Directory,
    decode_directory,
    directory_size,
    encode_directory,
    validate_directory,
)
from tvix_castore.directoryservice.base import DirectoryPutter, DirectoryService
from tvix_castore.directoryservice.traverse import traverse_breadth_first
from tvix_castore.errors import (
    InvalidRequestError,
    StorageError,
)


class LocalDirectoryService(DirectoryService):
    """A DirectoryService over a key-value table of canonical encodings.

    Subclasses provide raw lookups and an atomic multi-insert; this class does
    the checking: every record read is verified against its digest and
    validated, every directory written is validated and its children must be
    present with the sizes it claims.
    """

    @abstractmethod
    def _load(self, digest: bytes) -> bytes | None:
        """The stored encoding under ``digest``, or None."""

    @abstractmethod
    def _store(self, records: list[tuple[bytes, bytes]]) -> None:
        """Insert (digest, encoding) pairs atomically, keeping existing records."""

    @property
    def _location(self) -> str:
        return type(self).__name__

    def get(self, digest: B3Digest) -> Directory | None:
        data = self._load(digest)
        if data is None:
            return None
        if blake3.blake3(data).digest() != digest:
            raise StorageError(f"directory {digest} in {self._location} is corrupt: wrong digest")
        try:
            directory = decode_directory(data)
            validate_directory(directory)
        except InvalidRequestError as e:
            raise StorageError(f"directory {digest} in {self._location} is corrupt: {e}") from None
        return directory

    def has(self, digest: B3Digest) -> bool:
        return self._load(digest) is not None

    def stored_size(self, digest: bytes) -> int | None:
        """The recursive size of a stored directory, or None if it is missing."""
        directory = self.get(B3Digest(digest))
        return None if directory is None else directory_size(directory)

    def put(self, directory: Directory) -> B3Digest:
        putter = self.put_multiple()
        putter.put(directory)
        return putter.close()

    def get_recursive(self, root: B3Digest) -> Iterator[Directory]:
        return traverse_breadth_first(self, root)

    def put_multiple(self) -> DirectoryPutter:
        return GraphPutter(self)


class GraphPutter(DirectoryPutter):
    """Checks an uploaded graph is closed and stores it in one atomic step on close."""

    def __init__(self, service: LocalDirectoryService) -> None:
        self._service = service
        self._sizes: dict[bytes, int] = {}
        self._pending: list[tuple[bytes, bytes]] = []
        self._last: B3Digest | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    def put(self, directory: Directory) -> None:
        if self._closed:
            raise InvalidRequestError("directory putter already closed")
        encoded = encode_directory(directory)
        digest = B3Digest(blake3.blake3(encoded).digest())
        try:
            validate_directory(directory)
        except InvalidRequestError as e:
            raise InvalidRequestError(f"directory {digest} failed validation: {e}") from e
        for child in directory.directories:
            size = self._sizes.get(child.digest)
            if size is None:
                size = self._service.stored_size(child.digest)
            if size is None:
                raise InvalidRequestError(
                    f"child directory {child.name!r} ({B3Digest(child.digest)}) "
                    f"in directory {digest} not seen yet"
                )
            if size != child.size:
                raise InvalidRequestError(
                    f"child directory {child.name!r} ({B3Digest(child.digest)}) in directory "
                    f"{digest} referred with wrong size, expected {size}, actual {child.size}"
                )
        if digest not in self._sizes:
            self._sizes[digest] = directory_size(directory)
            self._pending.append((digest, encoded))
        self._last = digest

    def close(self) -> B3Digest:
        if self._closed:
            raise InvalidRequestError("directory putter already closed")
        self._closed = True
        if self._last is None:
            raise InvalidRequestError("no directories sent, can't show root digest")
        pending, self._pending = self._pending, []
        self._service._store(pending)
        return self._last

    def abort(self) -> None:
        self._closed = True
        self._pending = []
