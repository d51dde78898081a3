"""How the lmdb backend lays out and batches blobs, and when it checks them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tvix_castore import B3Digest, BlobService, StorageError, blob_service_from_url
from tvix_castore.blobservice.base import CHUNK_SIZE
from tvix_castore.blobservice.lmdb import BATCH_BLOBS, BATCH_BYTES, CHUNKED, INLINE, chunk_key


@pytest.fixture
def blobs(short_tmp: Path) -> Iterator[BlobService]:
    service = blob_service_from_url(f"lmdb://{short_tmp}/store")
    yield service
    service.close()


def _env(blobs: BlobService) -> Any:
    return blobs.environment  # type: ignore[attr-defined]


def _record(blobs: BlobService, digest: bytes) -> bytes | None:
    env = _env(blobs)
    with env.env.begin(db=env.blobs) as txn:
        value = txn.get(digest)
    return None if value is None else bytes(value)


def _count(blobs: BlobService, db_name: str) -> int:
    env = _env(blobs)
    db = getattr(env, db_name)
    with env.env.begin(db=db) as txn:
        return int(txn.stat(db)["entries"])


# --- the writer: chunks go out as soon as the blob is known to need them -----------------


@pytest.mark.parametrize("size", [CHUNK_SIZE - 1, CHUNK_SIZE])
def test_blob_of_at_most_one_chunk_is_inline(blobs: BlobService, size: int) -> None:
    data = os.urandom(size)
    with blobs.open_write() as writer:
        writer.write(memoryview(bytearray(data)))
        assert _count(blobs, "chunks") == 0
        digest = writer.close()
    assert _record(blobs, digest) == INLINE + data
    assert _count(blobs, "chunks") == _count(blobs, "pending") == 0


def test_chunks_are_staged_as_the_blob_grows(blobs: BlobService) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 5)
    scratch = bytearray(CHUNK_SIZE)
    with blobs.open_write() as writer:
        scratch[:] = data[:CHUNK_SIZE]
        writer.write(scratch)
        assert _count(blobs, "chunks") == 0, "the first chunk is held back"
        scratch[:] = data[CHUNK_SIZE : 2 * CHUNK_SIZE]
        writer.write(scratch)
        assert _count(blobs, "chunks") == 2
        assert _count(blobs, "pending") == 1
        writer.write(data[2 * CHUNK_SIZE : 2 * CHUNK_SIZE + 7])  # across a chunk boundary
        writer.write(data[2 * CHUNK_SIZE + 7 :])
        assert _count(blobs, "chunks") == 3
        digest = writer.close()
    record = _record(blobs, digest)
    assert record is not None and record[:1] == CHUNKED
    assert _count(blobs, "chunks") == 4
    assert _count(blobs, "pending") == 0
    assert blobs.read_all(digest) == data


def test_one_write_of_many_chunks(blobs: BlobService) -> None:
    data = os.urandom(5 * CHUNK_SIZE + 1)
    with blobs.open_write() as writer:
        writer.write(data)
        digest = writer.close()
    assert _count(blobs, "chunks") == 6
    assert blobs.read_all(digest) == data


# --- batches: one transaction per batch, bounded -----------------------------------------


def test_batch_keeps_blobs_back_until_flushed(blobs: BlobService) -> None:
    with blobs.open_batch() as batch:
        digest = batch.add(b"kept back")
        assert not blobs.has(digest)
    assert blobs.read_all(digest) == b"kept back"


def test_batch_flushes_at_its_bounds(blobs: BlobService) -> None:
    with blobs.open_batch() as batch:
        digests = [batch.add(b"%d" % i) for i in range(BATCH_BLOBS)]
        assert all(blobs.has(digest) for digest in digests), "flushed at BATCH_BLOBS blobs"
        small = batch.add(b"next")
        assert not blobs.has(small)
        big = batch.add(os.urandom(BATCH_BYTES))
        assert blobs.has(small) and blobs.has(big), "flushed at BATCH_BYTES bytes"
        last = batch.add(b"last")
        assert not blobs.has(last)
    assert blobs.has(last)


def test_failed_batch_stores_nothing_it_held(blobs: BlobService) -> None:
    with pytest.raises(RuntimeError), blobs.open_batch() as batch:
        digest = batch.add(b"never stored")
        raise RuntimeError("ingest failed")
    assert not blobs.has(digest)
    batch.abort()
    assert not blobs.has(digest)


# --- deferred checks: chunks are hashed on a worker thread -------------------------------


def _corrupt_chunk(blobs: BlobService, digest: B3Digest, index: int) -> None:
    env = _env(blobs)
    record = _record(blobs, digest)
    assert record is not None
    with env.env.begin(write=True, db=env.chunks) as txn:
        txn.put(chunk_key(record[-16:], index), os.urandom(CHUNK_SIZE))


def test_deferred_checks_read_intact_blobs(blobs: BlobService) -> None:
    data = [os.urandom(3 * CHUNK_SIZE + 9), b"small", os.urandom(2 * CHUNK_SIZE)]
    digests = [blobs.put(d) for d in data]
    with blobs.read_session(deferred_checks=True) as session:
        for digest, expected in zip(digests, data, strict=True):
            chunks = session.chunks(digest)
            assert chunks is not None
            assert b"".join(bytes(piece) for piece in chunks) == expected
        session.verify()


def test_deferred_checks_report_a_corrupt_blob_at_verify(blobs: BlobService) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    digest = blobs.put(data)
    _corrupt_chunk(blobs, digest, 1)
    with blobs.read_session(deferred_checks=True) as session:
        chunks = session.chunks(digest)
        assert chunks is not None
        assert len(list(chunks)) == 3, "every chunk is handed out"
        with pytest.raises(StorageError, match="is corrupt: its contents hash to"):
            session.verify()
        with pytest.raises(StorageError, match="is corrupt"):
            session.verify()
        with pytest.raises(StorageError, match="is corrupt"):
            list(session.chunks(digest) or ())  # later reads fail too


def test_deferred_checks_wait_before_a_new_snapshot(
    blobs: BlobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Views handed to the worker stay valid: the session waits for it before renewing."""
    monkeypatch.setattr("tvix_castore.blobservice.lmdb.SESSION_SNAPSHOT_SECONDS", -1.0)
    data = os.urandom(4 * CHUNK_SIZE + 1)
    good, bad = blobs.put(data), blobs.put(data[::-1])
    _corrupt_chunk(blobs, bad, 0)
    with blobs.read_session(deferred_checks=True) as session:
        assert b"".join(session.chunks(good) or ()) == data
        assert len(list(session.chunks(bad) or ())) == 5
        with pytest.raises(StorageError, match="is corrupt"):
            session.chunks(good)  # a fresh snapshot waits for the checks, which failed


def test_deferred_checks_closing_early_is_safe(blobs: BlobService) -> None:
    digest = blobs.put(os.urandom(8 * CHUNK_SIZE))
    with blobs.read_session(deferred_checks=True) as session:
        chunks = session.chunks(digest)
        assert chunks is not None
        next(chunks), next(chunks)
    with pytest.raises(ValueError, match="closed"):
        next(chunks)


# --- flushing ahead: data goes to disk while an upload goes on ---------------------------


def test_flush_starts_in_the_background_and_close_waits(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from tvix_castore.lmdb_env import LmdbEnvironment

    monkeypatch.setattr("tvix_castore.lmdb_env.FLUSH_AHEAD_BYTES", CHUNK_SIZE)
    flushes: list[str] = []
    original = LmdbEnvironment._flush_ahead

    def slow_flush(self: LmdbEnvironment) -> None:
        flushes.append(threading.current_thread().name)
        time.sleep(0.2)
        original(self)
        flushes.append("done")

    monkeypatch.setattr(LmdbEnvironment, "_flush_ahead", slow_flush)
    blobs = blob_service_from_url(f"lmdb://{short_tmp}/store")
    with blobs.open_write() as writer:
        for _ in range(4):
            writer.write(os.urandom(CHUNK_SIZE))  # each chunk is committed as it comes
        digest = writer.close()
    assert flushes == ["lmdb-flush-ahead"], "one flush at a time"
    blobs.close()
    assert flushes[-1] == "done", "closing waits for the flush"
    always = blob_service_from_url(f"lmdb://{short_tmp}/always?sync=always")
    always.put(os.urandom(3 * CHUNK_SIZE))
    always.close()
    assert flushes.count("done") == 1, "sync=always flushes every commit anyway"
    blobs = blob_service_from_url(f"lmdb://{short_tmp}/store")
    assert blobs.has(digest)
    blobs.close()


def test_sync_none_never_flushes_and_keeps_the_data(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvix_castore.lmdb_env import LmdbEnvironment

    monkeypatch.setattr("tvix_castore.lmdb_env.FLUSH_AHEAD_BYTES", CHUNK_SIZE)
    flushes: list[str] = []
    monkeypatch.setattr(LmdbEnvironment, "_flush_ahead", lambda self: flushes.append("ahead"))
    url = f"lmdb://{short_tmp}/store?sync=none"
    blobs = blob_service_from_url(url)
    env = blobs.environment  # type: ignore[attr-defined]

    class CountingSyncs:
        """The lmdb environment, with its fsync counted instead of done."""

        def __init__(self, real: object) -> None:
            self._real = real

        def sync(self, force: bool = False) -> None:
            flushes.append("sync")

        def __getattr__(self, name: str) -> object:
            return getattr(self._real, name)

    monkeypatch.setattr(env, "env", CountingSyncs(env.env))
    data = os.urandom(3 * CHUNK_SIZE)
    digest = blobs.put(data)
    blobs.flush()
    blobs.close()
    assert flushes == []
    blobs = blob_service_from_url(url)
    assert blobs.read_all(digest) == data
    blobs.close()
