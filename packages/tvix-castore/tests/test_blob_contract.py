"""The BlobService contract, run against every backend (memory, lmdb, gRPC to a real daemon)."""

from __future__ import annotations

import io
import itertools
import os
import threading
import tracemalloc
from collections.abc import Callable

import blake3
import pytest
from castore_fixtures import BLOB_A, BLOB_A_DIGEST, BLOB_B, BLOB_B_DIGEST, EMPTY_BLOB_DIGEST
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tvix_castore import B3Digest, BlobService


def test_has_nonexistent_false(blob_service: BlobService) -> None:
    assert not blob_service.has(BLOB_A_DIGEST)
    assert blob_service.stat(BLOB_A_DIGEST) is None


def test_not_found_read(blob_service: BlobService) -> None:
    assert blob_service.open_read(BLOB_A_DIGEST) is None
    assert blob_service.read_all(BLOB_A_DIGEST) is None


@pytest.mark.parametrize(
    ("contents", "digest"),
    [(BLOB_A, BLOB_A_DIGEST), (BLOB_B, BLOB_B_DIGEST), (b"", EMPTY_BLOB_DIGEST)],
    ids=["small", "big", "empty"],
)
def test_put_has_get(blob_service: BlobService, contents: bytes, digest: B3Digest) -> None:
    writer = blob_service.open_write()
    assert writer.write(contents) == len(contents)
    assert not blob_service.has(digest), "nothing is visible before close"
    assert writer.close() == digest
    assert writer.close() == digest, "close is idempotent"
    assert blob_service.has(digest)
    stat = blob_service.stat(digest)
    assert stat is not None
    assert stat.size in (None, len(contents))
    reader = blob_service.open_read(digest)
    assert reader is not None
    with reader:
        assert reader.readall() == contents


def test_write_after_close_fails(blob_service: BlobService) -> None:
    writer = blob_service.open_write()
    writer.write(b"x")
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"y")


def test_aborted_writer_leaves_nothing(blob_service: BlobService) -> None:
    data = os.urandom(3 << 20)
    digest = B3Digest.of(data)
    with pytest.raises(RuntimeError), blob_service.open_write() as writer:
        writer.write(data)
        raise RuntimeError("caller failed mid-upload")
    assert writer.closed
    assert writer.digest is None
    assert not blob_service.has(digest)
    with pytest.raises(ValueError, match="aborted"):
        writer.close()


def test_put_is_idempotent(blob_service: BlobService) -> None:
    assert blob_service.put(BLOB_B) == BLOB_B_DIGEST
    assert blob_service.put(BLOB_B) == BLOB_B_DIGEST
    assert blob_service.read_all(BLOB_B_DIGEST) == BLOB_B


def test_any_chunking_gives_the_same_digest(blob_service: BlobService) -> None:
    with blob_service.open_write() as writer:
        for i in range(0, len(BLOB_B), 777):
            writer.write(BLOB_B[i : i + 777])
        assert writer.close() == BLOB_B_DIGEST


def test_put_seek(blob_service: BlobService) -> None:
    """Port of the reference's put_seek, plus backwards and end-relative seeks."""
    blob_service.put(BLOB_B)
    r = blob_service.open_read(BLOB_B_DIGEST)
    assert r is not None
    pos = 0
    assert r.read(10) == BLOB_B[pos : pos + 10]
    pos += 10
    assert r.seek(pos) == pos
    assert r.read(10) == BLOB_B[pos : pos + 10]
    pos += 10
    assert r.seek(pos + 5) == pos + 5
    pos += 5
    assert r.read(10) == BLOB_B[pos : pos + 10]
    pos += 10
    assert r.seek(12345, os.SEEK_CUR) == pos + 12345
    pos += 12345
    assert r.read(10) == BLOB_B[pos : pos + 10]
    assert r.seek(len(BLOB_B)) == len(BLOB_B)
    assert r.read() == b""
    r.seek(len(BLOB_B) + 1)
    assert r.read() == b""
    # seeking backwards and relative to the end work on every backend
    assert r.seek(3) == 3
    assert r.read(4) == BLOB_B[3:7]
    assert r.seek(-5, os.SEEK_END) == len(BLOB_B) - 5
    assert r.read() == BLOB_B[-5:]
    assert r.tell() == len(BLOB_B)
    with pytest.raises(OSError, match="negative seek"):
        r.seek(-1)
    r.close()


def test_seeking_4000_into_4096(blob_service: BlobService) -> None:
    data = bytes(i % 256 for i in range(4096))
    digest = blob_service.put(data)
    r = blob_service.open_read(digest)
    assert r is not None
    r.seek(4000)
    assert r.read() == data[4000:]


def test_reader_is_a_file_object(blob_service: BlobService) -> None:
    digest = blob_service.put(BLOB_B)
    r = blob_service.open_read(digest)
    assert r is not None
    buffered = io.BufferedReader(r, buffer_size=8192)
    assert buffered.read(100) == BLOB_B[:100]
    buf = bytearray(50)
    assert buffered.readinto(buf) == 50
    assert bytes(buf) == BLOB_B[100:150]
    buffered.close()


def test_large_blob_streams_with_bounded_memory(blob_service: BlobService) -> None:
    """A 100 MiB blob goes in and out in 1 MiB pieces without being held in memory whole."""
    size = 100 << 20
    piece = os.urandom(1 << 20)
    hasher = blake3.blake3()
    tracemalloc.start()
    try:
        with blob_service.open_write() as writer:
            for i in range(size >> 20):
                chunk = piece[i:] + piece[:i]
                hasher.update(chunk)
                writer.write(chunk)
            digest = writer.close()
        assert digest == hasher.digest()
        reader = blob_service.open_read(digest)
        assert reader is not None
        check = blake3.blake3()
        total = 0
        with reader:
            while data := reader.read(1 << 20):
                check.update(data)
                total += len(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert check.digest() == digest
    if type(blob_service).__name__ != "MemoryBlobService":
        # The gRPC server runs in this process, so its in-flight messages count too; holding
        # the blob whole would need well over 100 MiB (the blob plus its copies).
        assert peak < 64 << 20, f"peak traced memory {peak} bytes"


def test_concurrent_writers(blob_service: BlobService) -> None:
    blobs = [os.urandom(n) for n in (0, 1, 1000, 1 << 20, (1 << 20) + 1, 3 << 20)] * 2
    results: list[B3Digest | None] = [None] * len(blobs)
    errors: list[BaseException] = []

    def upload(i: int) -> None:
        try:
            with blob_service.open_write() as writer:
                for start in range(0, len(blobs[i]), 100_000):
                    writer.write(blobs[i][start : start + 100_000])
                results[i] = writer.close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(blobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for data, digest in zip(blobs, results, strict=True):
        assert digest == B3Digest.of(data)
        assert blob_service.read_all(digest) == data


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=3 << 20).map(lambda b: b * 3) | st.binary(max_size=2000),
    cuts=st.lists(st.integers(0, 4 << 20), max_size=6),
    seeks=st.lists(st.tuples(st.integers(-100, 4 << 20), st.integers(0, 3 << 20)), max_size=6),
)
def test_round_trip_and_random_access(
    blob_service: BlobService, data: bytes, cuts: list[int], seeks: list[tuple[int, int]]
) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    with blob_service.open_write() as writer:
        for start, end in itertools.pairwise(bounds):
            writer.write(data[start:end])
        digest = writer.close()
    assert digest == B3Digest.of(data)
    reader = blob_service.open_read(digest)
    assert reader is not None
    with reader:
        for position, length in seeks:
            if position < 0:
                continue
            assert reader.seek(position) == position
            assert reader.read(length) == data[position : position + length]


def test_writer_copies_mutable_buffers(blob_service: BlobService) -> None:
    """Data written from a bytearray that is reused afterwards is stored as it was."""
    original = os.urandom(1 << 20)
    scratch = bytearray(original)
    immutable = os.urandom(1 << 20)
    with blob_service.open_write() as writer:
        writer.write(memoryview(scratch))
        writer.write(memoryview(immutable)[:])
        scratch[:] = bytes(len(scratch))
        writer.write(scratch[:10])
        digest = writer.close()
    assert blob_service.read_all(digest) == original + immutable + bytes(10)


def test_concurrent_readers(blob_service: BlobService) -> None:
    data = os.urandom((3 << 20) + 17)
    digest = blob_service.put(data)
    results: list[bytes | None] = [None] * 6

    def read(i: int) -> None:
        reader = blob_service.open_read(digest)
        assert reader is not None
        with reader:
            reader.seek(i * 1000)
            results[i] = reader.read()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [data[i * 1000 :] for i in range(len(results))]


def test_batch_stores_whole_blobs(blob_service: BlobService) -> None:
    blobs = [b"", BLOB_A, BLOB_B, os.urandom(1 << 20), os.urandom((1 << 20) + 1)]
    with blob_service.open_batch() as batch:
        digests = [batch.add(data) for data in blobs]
        batch.add(bytearray(BLOB_A))  # again, from a mutable buffer
    assert digests == [B3Digest.of(data) for data in blobs]
    for data, digest in zip(blobs, digests, strict=True):
        assert blob_service.read_all(digest) == data


def test_batch_flush_makes_blobs_visible(blob_service: BlobService) -> None:
    with blob_service.open_batch() as batch:
        digest = batch.add(BLOB_A)
        batch.flush()
        assert blob_service.read_all(digest) == BLOB_A
        batch.flush()  # nothing left: a no-op


def test_batch_failing_block_raises_its_own_error(blob_service: BlobService) -> None:
    """A backend may drop what it kept back; the caller's exception is what comes out."""
    data = os.urandom(100)
    with pytest.raises(RuntimeError, match="caller failed"), blob_service.open_batch() as batch:
        assert batch.add(data) == B3Digest.of(data)
        raise RuntimeError("caller failed")
    assert blob_service.put(data) == B3Digest.of(data)


def test_batch_add_filled_stores_what_was_filled_in(blob_service: BlobService) -> None:
    blobs = [b"", BLOB_A, os.urandom(1 << 20), os.urandom((1 << 20) + 1)]

    def filler(data: bytes) -> Callable[[memoryview], None]:
        def fill(buffer: memoryview) -> None:
            assert len(buffer) == len(data)
            buffer[:] = data

        return fill

    with blob_service.open_batch() as batch:
        digests = [batch.add_filled(len(data), filler(data)) for data in blobs]
    assert digests == [B3Digest.of(data) for data in blobs]
    for data, digest in zip(blobs, digests, strict=True):
        assert blob_service.read_all(digest) == data


def test_batch_add_filled_adds_nothing_when_filling_fails(blob_service: BlobService) -> None:
    def fail(buffer: memoryview) -> None:
        buffer[:3] = b"abc"
        raise RuntimeError("source broke")

    with blob_service.open_batch() as batch:
        with pytest.raises(RuntimeError, match="source broke"):
            batch.add_filled(10, fail)
        digest = batch.add(BLOB_B)
    assert blob_service.read_all(digest) == BLOB_B
    assert not blob_service.has(B3Digest.of(b"abc" + bytes(7)))
