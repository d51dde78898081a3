"""The BlobService interface: content-addressed storage of byte strings, by blake3 digest."""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from tvix_castore.digests import B3Digest
    from tvix_castore.registry import ServiceUrl

BytesLike = bytes | bytearray | memoryview
"""Anything the services accept as blob data."""

CHUNK_SIZE = 1 << 20
"""Preferred size of the pieces blobs are read, stored and streamed in."""


@dataclass(frozen=True, slots=True)
class BlobStat:
    """What a backend knows about a stored blob; ``size`` is None where it cannot tell cheaply."""

    size: int | None


class BlobReader(io.RawIOBase):
    """A readable, seekable file object over one stored blob.

    Subclasses implement :meth:`read` (returning at most ``size`` bytes, an
    empty result only at the end) and :meth:`seek`; ``readinto``, ``readall``
    and iteration come from :class:`io.RawIOBase`.
    """

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @abstractmethod
    def read(self, size: int = -1, /) -> bytes: ...

    @abstractmethod
    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int: ...

    @abstractmethod
    def tell(self) -> int: ...

    def readinto(self, buffer: Any, /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        parts: list[bytes] = []
        while chunk := self.read(CHUNK_SIZE):
            parts.append(chunk)
        return b"".join(parts)


class BlobWriter(ABC):
    """Receives the bytes of a new blob, hashing as it goes.

    Nothing becomes visible in the store until :meth:`close` returns the digest.
    :meth:`abort` (also done by leaving a ``with`` block on an exception)
    discards everything written. ``close`` is idempotent: a repeated call
    returns the same digest, or raises again if the first close failed.
    Writing after close raises ValueError.
    """

    def __init__(self) -> None:
        self._digest: B3Digest | None = None
        self._finished = False
        self._failure: BaseException | None = None

    @abstractmethod
    def _write(self, data: bytes | memoryview) -> None:
        """Accept the next piece of the blob."""

    @abstractmethod
    def _commit(self) -> B3Digest:
        """Make the blob visible in the store and return its digest."""

    @abstractmethod
    def _discard(self) -> None:
        """Forget everything written so far."""

    @property
    def closed(self) -> bool:
        """True once the writer was closed or aborted."""
        return self._finished

    @property
    def digest(self) -> B3Digest | None:
        """The digest returned by a successful :meth:`close`, else None."""
        return self._digest

    def write(self, data: BytesLike) -> int:
        """Append ``data`` to the blob; returns the number of bytes accepted."""
        if self._finished:
            raise ValueError("write to a closed blob writer")
        piece = data if isinstance(data, bytes) else memoryview(data).cast("B")
        try:
            self._write(piece)
        except BaseException:
            self.abort()
            raise
        return len(piece)

    def close(self) -> B3Digest:
        """Finish the blob, store it (unless present) and return its digest."""
        if self._finished:
            if self._digest is not None:
                return self._digest
            raise ValueError("blob writer was aborted or failed to close") from self._failure
        self._finished = True
        try:
            self._digest = self._commit()
        except BaseException as e:
            self._failure = e
            self._discard()
            raise
        return self._digest

    def abort(self) -> None:
        """Discard the blob; nothing written becomes visible. A no-op after close."""
        if not self._finished:
            self._finished = True
            self._discard()

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
        elif not self._finished:
            self.close()


class BlobBatch:
    """Whole blobs stored together, for a caller that adds many small ones in a row.

    Made by :meth:`BlobService.open_batch`. :meth:`add` hashes a blob at once
    and returns its digest; a backend may keep the blob back and write several
    in one go. A blob is stored (visible, and as durable as after
    :meth:`BlobService.put`) once a :meth:`flush` returned, which happens by
    itself when the batch has grown past the backend's bound and when a
    ``with`` block ends without an error; an error, or :meth:`abort`, drops
    what was kept back. Until it is written the batch holds on to each added
    blob: a caller must not change it. Used from one thread at a time.

    This default stores every blob as it is added.
    """

    def __init__(self, service: BlobService) -> None:
        self._service = service

    def add(self, data: BytesLike) -> B3Digest:
        """Add one blob; returns its digest."""
        return self._service.put(data)

    def add_filled(self, size: int, fill: Callable[[memoryview], None]) -> B3Digest:
        """Add a blob of ``size`` bytes that ``fill`` writes into the buffer it is handed.

        For a caller that would otherwise read the data into a buffer of its
        own only to pass it on: a backend can hand out the memory it stores
        from, sparing a copy. ``fill`` must fill the whole buffer or raise
        (then nothing is added).
        """
        buffer = bytearray(size)
        fill(memoryview(buffer))
        return self.add(buffer)

    def flush(self) -> None:
        """Store every blob added so far."""

    def abort(self) -> None:
        """Drop the blobs not stored yet."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.flush()
        else:
            self.abort()


class BlobReadSession:
    """Whole blobs read one after the other, for a consumer that passes them straight on.

    Made by :meth:`BlobService.read_session`; used from one thread at a time,
    and closed when done. :meth:`chunks` hands out a blob's data in pieces,
    which may be views into the backend's storage: they stay valid only until
    the next call on the session (or on the iterator), so consume or copy each
    before asking for the next. Every blob is checked against its digest: a
    corrupt blob raises StorageError at the latest before its last piece is
    handed out; or, in a session opened with ``deferred_checks``, possibly
    only later (the backend checks on another thread while the consumer goes
    on), from a later call or from :meth:`verify`. Either way, a consumer that
    must not present unchecked data as complete (a NAR renderer) calls
    :meth:`verify` before its last bytes.

    This default reads through :meth:`BlobService.open_read`, which checks as
    it reads.
    """

    def __init__(self, service: BlobService) -> None:
        self._service = service

    def chunks(self, digest: B3Digest) -> Iterator[BytesLike] | None:
        """The pieces of blob ``digest`` in order, or None if it is missing.

        A blob must be read to its end to be checked. StorageError may come from
        this call or from the iteration.
        """
        reader = self._service.open_read(digest)
        return None if reader is None else _read_pieces(reader)

    def verify(self) -> None:
        """Return once everything handed out so far was checked; StorageError if any was corrupt."""

    def close(self) -> None:
        """Release what the session holds; pieces handed out must no longer be used."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_pieces(reader: BlobReader) -> Iterator[bytes]:
    with reader:
        while piece := reader.read(CHUNK_SIZE):
            yield piece


class BlobService(ABC):
    """Stores blobs by their blake3 digest.

    Backends are created from a URL through :func:`tvix_castore.blob_service_from_url`;
    each registers a ``from_url`` class method. Services are thread-safe.
    """

    remote: ClassVar[bool] = False
    """True when uploading is expensive (a network hop): callers should ask :meth:`has` first."""

    @classmethod
    @abstractmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """Build the backend from a parsed URL, rejecting parts it does not support."""

    @abstractmethod
    def has(self, digest: B3Digest) -> bool:
        """True if the blob is stored."""

    def stat(self, digest: B3Digest) -> BlobStat | None:
        """Metadata of a stored blob, or None if it is missing."""
        return BlobStat(size=None) if self.has(digest) else None

    @abstractmethod
    def open_read(self, digest: B3Digest) -> BlobReader | None:
        """A seekable reader over the blob, or None if it is missing."""

    @abstractmethod
    def open_write(self) -> BlobWriter:
        """A writer for a new blob; see :class:`BlobWriter`."""

    def put(self, data: BytesLike) -> B3Digest:
        """Store ``data`` as a blob and return its digest."""
        view = memoryview(data).cast("B")
        with self.open_write() as writer:
            for start in range(0, len(view), CHUNK_SIZE):
                writer.write(view[start : start + CHUNK_SIZE])
            return writer.close()

    def put_many(self, blobs: Sequence[BytesLike]) -> list[B3Digest]:
        """Store several blobs given whole; backends may do it in one transaction."""
        return [self.put(data) for data in blobs]

    def open_batch(self) -> BlobBatch:
        """A batch for storing many whole blobs in a row; see :class:`BlobBatch`."""
        return BlobBatch(self)

    def read_session(self, *, deferred_checks: bool = False) -> BlobReadSession:
        """A session for reading many whole blobs in a row (rendering a NAR), which a backend
        may make faster than :meth:`open_read` per blob; see :class:`BlobReadSession`.

        ``deferred_checks`` lets the backend check blobs after handing them out, for a
        consumer that calls :meth:`BlobReadSession.verify` before it relies on them.
        """
        return BlobReadSession(self)

    def read_all(self, digest: B3Digest) -> bytes | None:
        """The whole blob in memory (for small blobs), or None if it is missing."""
        reader = self.open_read(digest)
        if reader is None:
            return None
        with reader:
            return reader.readall()

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release connections, files or environments held by the service."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
