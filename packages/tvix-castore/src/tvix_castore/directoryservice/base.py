"""The DirectoryService interface: Directory messages by digest, forming a Merkle DAG."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from tvix_castore.digests import B3Digest
    from tvix_castore.directory import Directory
    from tvix_castore.registry import ServiceUrl


class DirectoryPutter(ABC):
    """Uploads a graph of directories, leaves first, and returns the root digest on close.

    Every child a directory refers to must have been put earlier through the
    same putter, or already be in the store, with the size the parent claims.
    Errors may surface at a later :meth:`put` or at :meth:`close` (remote
    backends send in bursts). An aborted or failed upload stores nothing that
    was not already complete on its own.
    """

    @abstractmethod
    def put(self, directory: Directory) -> None:
        """Send the next directory (after all its children)."""

    @abstractmethod
    def close(self) -> B3Digest:
        """Finish the upload and return the digest of the last directory put (the root)."""

    @abstractmethod
    def abort(self) -> None:
        """Give up the upload."""

    @property
    @abstractmethod
    def is_closed(self) -> bool:
        """True once closed or aborted."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.is_closed:
            self.close()


class DirectoryService(ABC):
    """Stores Directory messages by the blake3 digest of their canonical encoding.

    Backends are created from a URL through
    :func:`tvix_castore.directory_service_from_url`. Services are thread-safe.
    """

    @classmethod
    @abstractmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """Build the backend from a parsed URL, rejecting parts it does not support."""

    @abstractmethod
    def get(self, digest: B3Digest) -> Directory | None:
        """The directory with this digest (checked and validated), or None if it is missing."""

    @abstractmethod
    def put(self, directory: Directory) -> B3Digest:
        """Validate and store one directory whose children are already stored; return its digest."""

    def has(self, digest: B3Digest) -> bool:
        """True if the directory is stored."""
        return self.get(digest) is not None

    @abstractmethod
    def get_recursive(self, root: B3Digest) -> Iterator[Directory]:
        """The root and every directory below it, breadth-first, each once.

        A directory is never yielded before one that refers to it. A missing
        root raises NotFoundError; a missing or corrupt directory below it
        raises StorageError when the walk reaches it.
        """

    @abstractmethod
    def put_multiple(self) -> DirectoryPutter:
        """A putter for uploading a whole graph leaves first; see :class:`DirectoryPutter`."""

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release connections, files or environments held by the service."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
