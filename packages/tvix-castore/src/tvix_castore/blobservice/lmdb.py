"""``lmdb:///path``: blobs in the embedded LMDB store (see :mod:`tvix_castore.lmdb_env`).

A blob of at most 1 MiB is one record in the ``blobs`` database: a zero byte,
then the data. A larger blob has a header there (a one byte, its size, the
chunk size and the id of its chunk set) and its data in 1 MiB chunks in the
``chunks`` database, keyed by chunk-set id and index.

A writer streams full chunks into a fresh chunk set as they arrive (one
transaction per chunk), so neither memory nor temporary files grow with the
blob. Until the header is written (in one transaction, on close) no record
refers to the set, so the blob is invisible; aborting deletes the set. The set
is listed in ``pending`` while the upload runs, so the chunks of an upload cut
short by a crash can be found and removed by
:meth:`LmdbBlobService.collect_garbage`. Small blobs given whole can be
written many to a transaction through a batch. Data is checked against the
digest as it is read.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self

import blake3

from tvix_castore.blobservice.base import (
    CHUNK_SIZE,
    BlobBatch,
    BlobReader,
    BlobReadSession,
    BlobService,
    BlobStat,
    BlobWriter,
    BytesLike,
)
from tvix_castore.blobservice.checker import BackgroundChecker
from tvix_castore.blobservice.memory import BytesBlobReader, resolve_seek
from tvix_castore.blobservice.verify import SequentialVerifier
from tvix_castore.digests import B3Digest
from tvix_castore.errors import StorageError
from tvix_castore.lmdb_env import LmdbEnvironment, open_environment, release_environment
from tvix_castore.registry import ServiceUrl

INLINE = b"\x00"
CHUNKED = b"\x01"
SET_ID_LEN = 16
_HEADER = struct.Struct(">QI16s")
_INDEX = struct.Struct(">Q")
_TIME = struct.Struct(">d")
SESSION_SNAPSHOT_SECONDS = 1.0
"""A read session moves to a fresh read transaction (at the next chunk) after this long, so
that a slow consumer does not keep an old snapshot (and the pages it pins) alive."""


def chunk_key(set_id: bytes, index: int) -> bytes:
    """Key of chunk ``index`` of chunk set ``set_id`` in the chunks database."""
    return set_id + _INDEX.pack(index)


def lmdb_failure(action: str, env: LmdbEnvironment, error: Exception) -> StorageError:
    """A StorageError for an LMDB failure, spelling out a full map."""
    import lmdb

    if isinstance(error, lmdb.MapFullError):
        return StorageError(
            f"unable to {action}: the lmdb store at {env.path} is full "
            f"(map_size {env.map_size} bytes; raise it with ?map_size=)"
        )
    return StorageError(f"unable to {action} in the lmdb store at {env.path}: {error}")


def _delete_set(txn: Any, env: LmdbEnvironment, set_id: bytes, count: int) -> None:
    for index in range(count):
        txn.delete(chunk_key(set_id, index), db=env.chunks)
    txn.delete(set_id, db=env.pending)


class LmdbBlobReader(BlobReader):
    """Reads a chunked blob, one chunk (one short read transaction) at a time."""

    def __init__(
        self, env: LmdbEnvironment, digest: B3Digest, size: int, chunk_size: int, set_id: bytes
    ) -> None:
        super().__init__()
        self._env = env
        self._digest = digest
        self._size = size
        self._chunk_size = chunk_size
        self._set_id = set_id
        self._pos = 0
        self._cached_index = -1
        self._cached: bytes = b""
        self._verifier = SequentialVerifier(digest, f"lmdb store {env.path}")

    def _chunk(self, index: int) -> bytes:
        import lmdb

        if index != self._cached_index:
            try:
                with self._env.env.begin(db=self._env.chunks) as txn:
                    data = txn.get(chunk_key(self._set_id, index))
            except lmdb.Error as e:
                raise lmdb_failure(f"read blob {self._digest}", self._env, e) from None
            expected = min(self._chunk_size, self._size - index * self._chunk_size)
            if data is None or len(data) != expected:
                found = "missing" if data is None else f"{len(data)} bytes instead of {expected}"
                raise StorageError(f"blob {self._digest} is corrupt: chunk {index} is {found}")
            self._cached_index, self._cached = index, data
        return self._cached

    def read(self, size: int = -1, /) -> bytes:
        self._checkClosed()
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        parts: list[bytes] = []
        while self._pos < end:
            index, offset = divmod(self._pos, self._chunk_size)
            chunk = self._chunk(index)
            want = end - self._pos
            piece = chunk if offset == 0 and want >= len(chunk) else chunk[offset : offset + want]
            self._verifier.feed(self._pos, piece)
            self._pos += len(piece)
            parts.append(piece)
        if self._pos >= self._size:
            self._verifier.finish(self._size)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        self._checkClosed()
        self._pos = resolve_seek(offset, whence, self._pos, self._size)
        return self._pos

    def tell(self) -> int:
        return self._pos


class LmdbReadSession(BlobReadSession):
    """Reads blobs as views straight into the map, checking each as it goes.

    All reads happen in one read transaction (renewed, between two pieces,
    every :data:`SESSION_SNAPSHOT_SECONDS` so that a slow consumer does not pin
    an old snapshot), so nothing is copied on the way from the map to the
    consumer. A small blob is checked before it is handed out. A chunked one is
    hashed chunk by chunk on all cores (blake3 releases the GIL and splits a
    chunk between threads), and its last chunk is handed out only once the
    digest matched; or, with ``deferred_checks``, its chunks are hashed by a
    :class:`~tvix_castore.blobservice.checker.BackgroundChecker` while the
    consumer goes on, and :meth:`verify` waits for that.
    """

    def __init__(self, service: LmdbBlobService, *, deferred_checks: bool = False) -> None:
        super().__init__(service)
        self._env = service._env
        self._lmdb = service
        self._txn: Any = None
        self._started = 0.0
        self._closed = False
        self._checker = (
            BackgroundChecker(f"lmdb store {self._env.path}") if deferred_checks else None
        )

    def _get(self, key: bytes, db: Any, digest: B3Digest) -> memoryview | None:
        import lmdb

        if self._closed:
            raise ValueError("read from a closed blob read session")
        now = time.monotonic()
        try:
            if self._txn is not None and now - self._started > SESSION_SNAPSHOT_SECONDS:
                if self._checker is not None:
                    self._checker.wait()  # it may still be hashing views into this snapshot
                self._txn.abort()
                self._txn = None
            if self._txn is None:
                self._txn = self._env.env.begin(buffers=True)
                self._started = now
            value: memoryview | None = self._txn.get(key, db=db)
        except lmdb.Error as e:
            raise lmdb_failure(f"read blob {digest}", self._env, e) from None
        return value

    def chunks(self, digest: B3Digest) -> Iterator[memoryview] | None:
        value = self._get(digest, self._env.blobs, digest)
        if value is None:
            return None
        if value[:1] == INLINE:
            data = value[1:]
            if blake3.blake3(data).digest() != digest:
                raise StorageError(f"blob {digest} in {self._env.path} is corrupt: wrong digest")
            return iter((data,))
        size, chunk_size, set_id = self._lmdb._parse_header(digest, bytes(value))
        if self._checker is not None:
            return self._chunked_deferred(self._checker, digest, size, chunk_size, set_id)
        return self._chunked(digest, size, chunk_size, set_id)

    def _chunk(
        self, digest: B3Digest, size: int, chunk_size: int, set_id: bytes, index: int
    ) -> memoryview:
        data = self._get(chunk_key(set_id, index), self._env.chunks, digest)
        expected = min(chunk_size, size - index * chunk_size)
        if data is None or len(data) != expected:
            found = "missing" if data is None else f"{len(data)} bytes instead of {expected}"
            raise StorageError(f"blob {digest} is corrupt: chunk {index} is {found}")
        return data

    def _chunked(
        self, digest: B3Digest, size: int, chunk_size: int, set_id: bytes
    ) -> Iterator[memoryview]:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        last = max(0, (size - 1) // chunk_size)
        for index in range(last + 1):
            data = self._chunk(digest, size, chunk_size, set_id, index)
            hasher.update(data)
            if index == last and hasher.digest() != digest:
                raise StorageError(
                    f"blob {digest} from lmdb store {self._env.path} is corrupt: "
                    f"its contents hash to {B3Digest(hasher.digest())}"
                )
            yield data

    def _chunked_deferred(
        self,
        checker: BackgroundChecker,
        digest: B3Digest,
        size: int,
        chunk_size: int,
        set_id: bytes,
    ) -> Iterator[memoryview]:
        hasher = checker.hasher()
        for index in range(max(0, (size - 1) // chunk_size) + 1):
            data = self._chunk(digest, size, chunk_size, set_id, index)
            checker.feed(hasher, data, digest)
            yield data
        checker.end(hasher, digest)

    def verify(self) -> None:
        if self._checker is not None:
            self._checker.wait()

    def close(self) -> None:
        self._closed = True
        if self._checker is not None:
            self._checker.close()  # before the views it may be hashing go away
        if self._txn is not None:
            self._txn.abort()
            self._txn = None


def _immutable(data: bytes | memoryview) -> bool:
    """True if ``data`` can be kept without copying (nobody can change it later)."""
    return isinstance(data, bytes) or isinstance(data.obj, bytes)


class LmdbBlobWriter(BlobWriter):
    """Streams a blob into a fresh chunk set and publishes it with one header record on close.

    Each full chunk is written in a transaction of its own as soon as it is
    complete; LMDB copies it, so the caller's buffer is free again when
    ``write`` returns and nothing is copied on the way. Only the first full
    chunk is kept back (a blob of exactly one chunk is stored inline) until the
    blob proves longer.
    """

    def __init__(self, service: LmdbBlobService) -> None:
        super().__init__()
        self._env = service._env
        self._hasher = blake3.blake3()
        self._buffer = bytearray()
        self._held: bytearray | bytes | memoryview | None = None
        self._set_id = os.urandom(SET_ID_LEN)
        self._staged = 0
        self._size = 0

    def _write(self, data: bytes | memoryview) -> None:
        self._hasher.update(data)
        self._size += len(data)
        view = memoryview(data)
        if self._buffer:
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < CHUNK_SIZE:
                return
            chunk, self._buffer = self._buffer, bytearray()
            self._full_chunk(chunk)
        while len(view) >= CHUNK_SIZE:
            self._full_chunk(view[:CHUNK_SIZE])
            view = view[CHUNK_SIZE:]
        if view:
            self._buffer += view

    def _full_chunk(self, chunk: bytearray | bytes | memoryview) -> None:
        """Write a complete chunk, or keep it if it is the first (then it must outlive the
        caller's buffer: a bytearray is the writer's own, other mutable data is copied)."""
        if self._held is None and self._staged == 0:
            keep = isinstance(chunk, bytearray) or _immutable(chunk)
            self._held = chunk if keep else bytes(chunk)
            return
        if self._held is not None:
            held, self._held = self._held, None
            self._stage(held)
        self._stage(chunk)

    def _stage(self, chunk: bytes | bytearray | memoryview) -> None:
        """Write one chunk under the (not yet referenced) chunk set."""
        import lmdb

        try:
            with self._env.env.begin(write=True) as txn:
                if self._staged == 0:
                    txn.put(self._set_id, _TIME.pack(time.time()), db=self._env.pending)
                txn.put(chunk_key(self._set_id, self._staged), chunk, db=self._env.chunks)
        except lmdb.Error as e:
            raise lmdb_failure("store blob data", self._env, e) from None
        self._staged += 1
        self._env.committed(len(chunk))

    def _commit(self) -> B3Digest:
        import lmdb

        digest = B3Digest(self._hasher.digest())
        env = self._env
        rest = [piece for piece in (self._held, self._buffer) if piece]
        try:
            with env.env.begin(write=True) as txn:
                if txn.get(digest, db=env.blobs) is not None:
                    _delete_set(txn, env, self._set_id, self._staged)
                elif self._size <= CHUNK_SIZE:
                    txn.put(digest, INLINE + (rest[0] if rest else b""), db=env.blobs)
                else:
                    for chunk in rest:
                        txn.put(chunk_key(self._set_id, self._staged), chunk, db=env.chunks)
                        self._staged += 1
                    txn.delete(self._set_id, db=env.pending)
                    header = CHUNKED + _HEADER.pack(self._size, CHUNK_SIZE, self._set_id)
                    txn.put(digest, header, db=env.blobs)
        except lmdb.Error as e:
            raise lmdb_failure(f"store blob {digest}", env, e) from None
        env.committed(sum(map(len, rest)))
        self._staged = 0
        self._held, self._buffer = None, bytearray()
        return digest

    def _discard(self) -> None:
        import lmdb

        self._held, self._buffer = None, bytearray()
        if self._staged:
            try:
                with self._env.env.begin(write=True) as txn:
                    _delete_set(txn, self._env, self._set_id, self._staged)
            except lmdb.Error:
                pass  # left for collect_garbage
            self._staged = 0


_Record = tuple[B3Digest, BytesLike, bool]
"""A whole blob to store: its digest, and its finished inline record (True) or its data."""


def _record(digest: B3Digest, data: BytesLike) -> _Record:
    """The record storing ``data`` inline if it is small enough, else the data to chunk."""
    if len(data) <= CHUNK_SIZE:
        return digest, INLINE + data, True
    return digest, data, False


BATCH_BYTES = 2 << 20
"""A batch writes what it holds once it holds this many bytes..."""
BATCH_BLOBS = 1024
"""... or this many blobs: small transactions, each a few milliseconds of work."""


class LmdbBlobBatch(BlobBatch):
    """Keeps added blobs back and writes them in one transaction per batch.

    One transaction for many small blobs writes the B-tree pages they share
    once instead of once per blob. No transaction stays open between calls,
    so other writers (and writers of large blobs in between) are not blocked.
    A blob added with :meth:`add_filled` is filled in place in its record
    (the inline marker, then the data), which is then stored as it is.
    """

    def __init__(self, service: LmdbBlobService) -> None:
        super().__init__(service)
        self._lmdb = service
        self._records: list[_Record] = []
        self._bytes = 0

    def add(self, data: BytesLike) -> B3Digest:
        digest = B3Digest.of(data)
        self._keep(_record(digest, data))
        return digest

    def add_filled(self, size: int, fill: Callable[[memoryview], None]) -> B3Digest:
        if size > CHUNK_SIZE:
            return super().add_filled(size, fill)
        record = bytearray(1 + size)  # starts with INLINE, a zero byte
        data = memoryview(record)[1:]
        fill(data)
        digest = B3Digest.of(data)
        self._keep((digest, record, True))
        return digest

    def _keep(self, record: _Record) -> None:
        self._records.append(record)
        self._bytes += len(record[1])
        if self._bytes >= BATCH_BYTES or len(self._records) >= BATCH_BLOBS:
            self.flush()

    def flush(self) -> None:
        records, self._records, self._bytes = self._records, [], 0
        if records:
            self._lmdb._store_records(records)

    def abort(self) -> None:
        self._records, self._bytes = [], 0


class LmdbBlobService(BlobService):
    """Blobs in an LMDB environment on disk."""

    def __init__(self, env: LmdbEnvironment) -> None:
        self._env = env
        self._closed = False

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``lmdb:///abs/path``, or ``lmdb://`` for a temporary store."""
        return cls(open_environment(url))

    @property
    def environment(self) -> LmdbEnvironment:
        """The shared LMDB environment."""
        return self._env

    def _header(self, digest: B3Digest) -> bytes | None:
        import lmdb

        try:
            with self._env.env.begin(db=self._env.blobs) as txn:
                value: bytes | None = txn.get(digest)
                return value
        except lmdb.Error as e:
            raise lmdb_failure(f"look up blob {digest}", self._env, e) from None

    def _parse_header(self, digest: B3Digest, value: bytes) -> tuple[int, int, bytes]:
        if value[:1] == CHUNKED and len(value) == 1 + _HEADER.size:
            size, chunk_size, set_id = _HEADER.unpack_from(value, 1)
            if chunk_size > 0:
                return size, chunk_size, set_id
        raise StorageError(f"blob {digest} is corrupt: malformed record in {self._env.path}")

    def has(self, digest: B3Digest) -> bool:
        return self._header(digest) is not None

    def stat(self, digest: B3Digest) -> BlobStat | None:
        value = self._header(digest)
        if value is None:
            return None
        if value[:1] == INLINE:
            return BlobStat(size=len(value) - 1)
        return BlobStat(size=self._parse_header(digest, value)[0])

    def open_read(self, digest: B3Digest) -> BlobReader | None:
        value = self._header(digest)
        if value is None:
            return None
        if value[:1] == INLINE:
            data = value[1:]
            if B3Digest.of(data) != digest:
                raise StorageError(f"blob {digest} in {self._env.path} is corrupt: wrong digest")
            return BytesBlobReader(data)
        size, chunk_size, set_id = self._parse_header(digest, value)
        return LmdbBlobReader(self._env, digest, size, chunk_size, set_id)

    def open_write(self) -> BlobWriter:
        return LmdbBlobWriter(self)

    def read_session(self, *, deferred_checks: bool = False) -> BlobReadSession:
        return LmdbReadSession(self, deferred_checks=deferred_checks)

    def put(self, data: BytesLike) -> B3Digest:
        """Store a blob given whole: hashed once, written in one transaction."""
        return self.put_many([data])[0]

    def put_many(self, blobs: Sequence[BytesLike]) -> list[B3Digest]:
        """Store blobs given whole, all in one transaction."""
        records = [_record(B3Digest.of(data), data) for data in blobs]
        self._store_records(records)
        return [digest for digest, _, _ in records]

    def open_batch(self) -> BlobBatch:
        return LmdbBlobBatch(self)

    def _store_records(self, records: Sequence[_Record]) -> None:
        """Write whole blobs in one transaction, each under the digest computed from it."""
        import lmdb

        env = self._env
        blobs, stored = env.blobs, 0
        try:
            with env.env.begin(write=True) as txn:
                put = txn.put
                for digest, record, inline in records:
                    if inline:
                        if put(digest, record, db=blobs, overwrite=False):
                            stored += len(record) - 1
                        continue
                    if txn.get(digest, db=blobs) is not None:
                        continue
                    set_id = os.urandom(SET_ID_LEN)
                    view = memoryview(record).cast("B")
                    for index, start in enumerate(range(0, len(view), CHUNK_SIZE)):
                        piece = view[start : start + CHUNK_SIZE]
                        put(chunk_key(set_id, index), piece, db=env.chunks)
                    header = CHUNKED + _HEADER.pack(len(view), CHUNK_SIZE, set_id)
                    put(digest, header, db=blobs)
                    stored += len(view)
        except lmdb.Error as e:
            raise lmdb_failure(f"store {len(records)} blob(s)", env, e) from None
        env.committed(stored)

    def collect_garbage(self, older_than: float = 24 * 3600) -> int:
        """Delete the chunks of uploads that started over ``older_than`` seconds ago and never
        finished (their process died); returns how many such uploads were removed."""
        import lmdb

        cutoff = time.time() - older_than
        removed = 0
        try:
            with self._env.env.begin(write=True) as txn:
                stale = [
                    bytes(key)
                    for key, value in txn.cursor(db=self._env.pending)
                    if _TIME.unpack(value)[0] < cutoff
                ]
                for set_id in stale:
                    cursor = txn.cursor(db=self._env.chunks)
                    if cursor.set_range(set_id):
                        while cursor.key()[:SET_ID_LEN] == set_id and cursor.delete():
                            pass
                    txn.delete(set_id, db=self._env.pending)
                    removed += 1
        except lmdb.Error as e:
            raise lmdb_failure("collect garbage", self._env, e) from None
        return removed

    def flush(self) -> None:
        """Force everything committed so far to disk."""
        self._env.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_environment(self._env)
