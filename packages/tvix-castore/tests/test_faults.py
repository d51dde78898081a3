"""Bad input and faults: lying servers, broken streams, vanished clients, full or corrupt stores."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import lmdb
import pytest
from castore_fixtures import BLOB_B, BLOB_B_DIGEST, DIRECTORY_A, DIRECTORY_B, DIRECTORY_WITH_KEEP
from tvix_castore import (
    B3Digest,
    BlobService,
    Directory,
    DirectoryService,
    StorageError,
    blob_service_from_url,
    directory_digest,
    directory_service_from_url,
)
from tvix_castore.blobservice.lmdb import CHUNKED, chunk_key
from tvix_castore.proto import rpc_blobstore_pb2 as bpb
from tvix_castore.proto import rpc_blobstore_pb2_grpc as bpb_grpc
from tvix_castore.proto import rpc_directory_pb2 as dpb
from tvix_castore.proto import rpc_directory_pb2_grpc as dpb_grpc
from tvix_castore.server import Daemon, start_daemon

# --- servers that lie -----------------------------------------------------------


class LyingBlobs(bpb_grpc.BlobServiceServicer):  # type: ignore[misc]
    def Stat(self, request: Any, context: Any) -> Any:
        return bpb.BlobMeta()

    def Read(self, request: Any, context: Any) -> Iterator[Any]:
        yield bpb.BlobChunk(data=b"not what you asked for")

    def Put(self, request_iterator: Any, context: Any) -> Any:
        for _ in request_iterator:
            pass
        return bpb.PutBlobResponse(digest=bytes(32) if context.peer() else b"")


class LyingDirectories(dpb_grpc.DirectoryServiceServicer):  # type: ignore[misc]
    mode = "other"

    def Get(self, request: Any, context: Any) -> Iterator[Any]:
        if self.mode == "other":
            yield DIRECTORY_WITH_KEEP
        elif self.mode == "premature":
            yield DIRECTORY_B
        elif self.mode == "unexpected":
            yield DIRECTORY_B
            yield DIRECTORY_A
            yield DIRECTORY_WITH_KEEP
        elif self.mode == "invalid":
            yield Directory(symlinks=[{"name": b"..", "target": b"x"}])

    def Put(self, request_iterator: Any, context: Any) -> Any:
        for _ in request_iterator:
            pass
        return dpb.PutDirectoryResponse(root_digest=b"short")


@pytest.fixture
def liar(short_tmp: Path) -> Iterator[tuple[str, LyingDirectories]]:
    server = grpc.server(ThreadPoolExecutor(4))
    directories = LyingDirectories()
    bpb_grpc.add_BlobServiceServicer_to_server(LyingBlobs(), server)
    dpb_grpc.add_DirectoryServiceServicer_to_server(directories, server)
    server.add_insecure_port(f"unix:{short_tmp}/liar.sock")
    server.start()
    yield f"grpc+unix://{short_tmp}/liar.sock", directories
    server.stop(0)


def test_blob_that_does_not_hash_to_its_digest(liar: tuple[str, Any]) -> None:
    client = blob_service_from_url(liar[0])
    reader = client.open_read(BLOB_B_DIGEST)
    assert reader is not None
    with pytest.raises(StorageError, match="is corrupt: its contents hash to"):
        reader.readall()


def test_server_answering_put_with_a_wrong_digest(liar: tuple[str, Any]) -> None:
    client = blob_service_from_url(liar[0])
    with pytest.raises(StorageError, match="stored the blob as b3:AAAA"):
        client.put(b"hello")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("other", "requested directory with digest .* but .* sent"),
        ("invalid", "failed validation"),
    ],
)
def test_directory_get_checks_what_arrives(liar: tuple[str, Any], mode: str, message: str) -> None:
    url, servicer = liar
    servicer.mode = mode
    client = directory_service_from_url(url)
    with pytest.raises(StorageError, match=message):
        client.get(directory_digest(DIRECTORY_A))


@pytest.mark.parametrize(
    ("mode", "root", "message"),
    [
        ("premature", DIRECTORY_B, "still expected 1 directories.*premature end of stream"),
        ("unexpected", DIRECTORY_B, "received unexpected directory"),
        ("other", DIRECTORY_A, "received unexpected directory"),
    ],
)
def test_recursive_get_checks_the_stream(
    liar: tuple[str, Any], mode: str, root: Directory, message: str
) -> None:
    url, servicer = liar
    servicer.mode = mode
    client = directory_service_from_url(url)
    with pytest.raises(StorageError, match=message):
        list(client.get_recursive(directory_digest(root)))


def test_directory_put_with_invalid_root_digest(liar: tuple[str, Any]) -> None:
    client = directory_service_from_url(liar[0])
    with pytest.raises(StorageError, match="invalid root digest length"):
        client.put(DIRECTORY_A)


def test_unreachable_daemon_is_a_clear_error(short_tmp: Path) -> None:
    client = blob_service_from_url(f"grpc+unix://{short_tmp}/nobody-home.sock")
    with pytest.raises(StorageError, match="UNAVAILABLE"):
        client.has(BLOB_B_DIGEST)


# --- broken streams and vanished clients ------------------------------------------


@pytest.fixture
def memory_daemon(short_tmp: Path) -> Iterator[tuple[Daemon, BlobService, DirectoryService]]:
    blobs = blob_service_from_url("memory://")
    directories = directory_service_from_url("memory://")
    running = start_daemon(blobs, directories, f"unix://{short_tmp}/d.sock", workers=4)
    yield running, blobs, directories
    running.stop(0)


def test_malformed_messages_leave_the_daemon_serving(
    memory_daemon: tuple[Daemon, Any, Any],
) -> None:
    running, _, _ = memory_daemon
    channel = grpc.insecure_channel(f"unix:{running.socket_path}")
    raw_stat = channel.unary_unary("/tvix.castore.v1.BlobService/Stat", request_serializer=None)
    with pytest.raises(grpc.RpcError) as info:
        raw_stat(b"\x0a\xff\xff\xff")  # a length that runs past the end
    assert info.value.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT)
    raw_put = channel.stream_unary("/tvix.castore.v1.DirectoryService/Put", request_serializer=None)
    with pytest.raises(grpc.RpcError):
        raw_put(iter([b"\x0a\x05\x0a\x01"]))
    client = blob_service_from_url(running.url)
    assert client.put(b"still serving") == B3Digest.of(b"still serving")
    channel.close()


def test_truncated_upload_stores_nothing(memory_daemon: tuple[Daemon, BlobService, Any]) -> None:
    running, backing, _ = memory_daemon
    stub = bpb_grpc.BlobServiceStub(grpc.insecure_channel(f"unix:{running.socket_path}"))

    def chunks() -> Iterator[Any]:
        yield bpb.BlobChunk(data=BLOB_B[:1000])
        raise ConnectionError("client crashed mid-stream")

    with pytest.raises(grpc.RpcError) as info:
        stub.Put(chunks())
    assert info.value.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN)
    assert not backing.has(B3Digest.of(BLOB_B[:1000]))
    client = blob_service_from_url(running.url)
    with client.open_write() as writer:
        writer.write(BLOB_B)
        writer.abort()
    time.sleep(0.2)
    assert backing.stat(BLOB_B_DIGEST) is None
    assert client.put(b"ok") == B3Digest.of(b"ok")


def test_truncated_directory_upload_stores_nothing(
    memory_daemon: tuple[Daemon, Any, DirectoryService],
) -> None:
    running, _, backing = memory_daemon
    stub = dpb_grpc.DirectoryServiceStub(grpc.insecure_channel(f"unix:{running.socket_path}"))

    def directories() -> Iterator[Directory]:
        yield DIRECTORY_A
        yield DIRECTORY_B
        raise ConnectionError("client crashed mid-stream")

    with pytest.raises(grpc.RpcError):
        stub.Put(directories())
    time.sleep(0.1)
    assert backing.get(directory_digest(DIRECTORY_A)) is None
    assert backing.get(directory_digest(DIRECTORY_B)) is None


def test_client_process_killed_mid_upload(memory_daemon: tuple[Daemon, BlobService, Any]) -> None:
    """The client sends the first half of a blob and dies: the blob it meant is not stored.

    grpcio ends a killed client's request stream like a finished one and registers the
    cancellation a moment later; when the handler looks before that, what arrived is
    stored as a blob of its own. That is harmless in a content-addressed store (its
    digest is that of exactly the bytes received, and nothing refers to it), so only
    the intended blob's absence is asserted, and that the server goes on serving.
    """
    running, backing, _ = memory_daemon
    script = textwrap.dedent(
        f"""
        import os, sys
        from tvix_castore import blob_service_from_url
        writer = blob_service_from_url({running.url!r}).open_write()
        writer.write(b"x" * (4 << 20))  # the first half of 8 MiB
        import time; time.sleep(0.3)
        print("sent", flush=True)
        os._exit(1)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "sent"
    time.sleep(0.2)
    assert not backing.has(B3Digest.of(b"x" * (8 << 20)))
    received = B3Digest.of(b"x" * (4 << 20))
    if backing.has(received):
        assert backing.read_all(received) == b"x" * (4 << 20)
    client = blob_service_from_url(running.url)
    assert client.put(b"after the crash") == B3Digest.of(b"after the crash")


# --- a full store ---------------------------------------------------------------------


def test_full_lmdb_store(short_tmp: Path) -> None:
    url = f"lmdb://{short_tmp}/tiny?map_size=1MiB"
    blobs = blob_service_from_url(url)
    directories = directory_service_from_url(url)
    big = os.urandom(3 << 20)
    with pytest.raises(
        StorageError, match=r"is full \(map_size 1048576 bytes; raise it with \?map_size=\)"
    ):
        blobs.put(big)
    assert not blobs.has(B3Digest.of(big))
    assert blobs.put(b"small") == B3Digest.of(b"small"), "the store stays usable"
    running = start_daemon(blobs, directories, f"unix://{short_tmp}/full.sock", workers=2)
    try:
        client = blob_service_from_url(running.url)
        with pytest.raises(StorageError, match=r"INTERNAL: unable to store blob .* is full"):
            client.put(big)
        assert client.put(b"tiny") == B3Digest.of(b"tiny")
    finally:
        running.stop(0)
        directories.close()
        blobs.close()


def count(env: Any, db: Any) -> int:
    with env.env.begin(db=db) as txn:
        return int(txn.stat(db)["entries"])


def test_store_full_mid_upload_leaves_nothing(short_tmp: Path) -> None:
    blobs = blob_service_from_url(f"lmdb://{short_tmp}/tiny?map_size=8MiB")
    env = blobs.environment  # type: ignore[attr-defined]
    writer = blobs.open_write()
    with pytest.raises(StorageError, match="is full"):
        for _ in range(64):
            writer.write(os.urandom(1 << 20))
    assert writer.closed
    assert count(env, env.chunks) == 0
    assert count(env, env.pending) == 0
    blobs.close()


def test_garbage_of_an_interrupted_upload_is_collected(short_tmp: Path) -> None:
    blobs = blob_service_from_url(f"lmdb://{short_tmp}/s")
    env = blobs.environment  # type: ignore[attr-defined]
    writer = blobs.open_write()
    for _ in range(40):
        writer.write(os.urandom(1 << 20))
    # the process "dies" here: the writer is neither closed nor aborted
    assert count(env, env.chunks) == 40  # each full chunk is staged as soon as it is complete
    assert count(env, env.pending) == 1
    assert blobs.collect_garbage(older_than=3600) == 0  # type: ignore[attr-defined]
    assert blobs.collect_garbage(older_than=0) == 1  # type: ignore[attr-defined]
    assert count(env, env.chunks) == 0
    assert count(env, env.pending) == 0
    blobs.close()


# --- corrupt records ---------------------------------------------------------------------


@pytest.fixture
def lmdb_pair(short_tmp: Path) -> Iterator[tuple[BlobService, DirectoryService, Any]]:
    url = f"lmdb://{short_tmp}/store"
    blobs, directories = blob_service_from_url(url), directory_service_from_url(url)
    yield blobs, directories, blobs.environment  # type: ignore[attr-defined]
    directories.close()
    blobs.close()


def poke(env: Any, db: Any, key: bytes, value: bytes | None) -> None:
    with env.env.begin(write=True, db=db) as txn:
        if value is None:
            txn.delete(key)
        else:
            txn.put(key, value)


def test_corrupt_directory_record(lmdb_pair: tuple[BlobService, DirectoryService, Any]) -> None:
    _, directories, env = lmdb_pair
    digest = directory_digest(DIRECTORY_WITH_KEEP)
    poke(env, env.directories, digest, b"\x12\x03abc")
    with pytest.raises(
        StorageError,
        match=re.escape(f"directory {digest} in the lmdb store at ")
        + ".* is corrupt: wrong digest",
    ):
        directories.get(digest)
    bogus = Directory(symlinks=[{"name": b"..", "target": b"x"}])
    raw = bogus.SerializeToString()
    poke(env, env.directories, B3Digest.of(raw), raw)
    with pytest.raises(StorageError, match="is corrupt: invalid node name"):
        directories.get(B3Digest.of(raw))


def test_corrupt_small_blob(lmdb_pair: tuple[BlobService, DirectoryService, Any]) -> None:
    blobs, _, env = lmdb_pair
    digest = blobs.put(b"hello")
    poke(env, env.blobs, digest, b"\x00hellO")
    with pytest.raises(StorageError, match="is corrupt: wrong digest"):
        blobs.open_read(digest)


def dict_header(env: Any, digest: bytes) -> bytes:
    with env.env.begin(db=env.blobs) as txn:
        header = bytes(txn.get(digest))
    assert header[:1] == CHUNKED
    return header[-16:]


def test_corrupt_large_blob(lmdb_pair: tuple[BlobService, DirectoryService, Any]) -> None:
    blobs, _, env = lmdb_pair
    data = os.urandom(3 << 20)
    digest = blobs.put(data)
    set_id = dict_header(env, digest)
    poke(env, env.chunks, chunk_key(set_id, 1), os.urandom(1 << 20))
    reader = blobs.open_read(digest)
    assert reader is not None
    with pytest.raises(StorageError, match="is corrupt: its contents hash to"):
        reader.readall()
    poke(env, env.chunks, chunk_key(set_id, 2), None)
    reader = blobs.open_read(digest)
    assert reader is not None
    reader.seek(2 << 20)
    with pytest.raises(StorageError, match="chunk 2 is missing"):
        reader.read(10)
    poke(env, env.chunks, chunk_key(set_id, 2), b"short")
    with pytest.raises(StorageError, match="chunk 2 is 5 bytes instead of 1048576"):
        reader.read(10)
    poke(env, env.blobs, digest, CHUNKED + b"\x00")
    with pytest.raises(StorageError, match="malformed record"):
        blobs.open_read(digest)


def test_corrupt_record_served_as_internal(short_tmp: Path) -> None:
    url = f"lmdb://{short_tmp}/store"
    blobs, directories = blob_service_from_url(url), directory_service_from_url(url)
    digest = blobs.put(b"hello")
    env = blobs.environment  # type: ignore[attr-defined]
    poke(env, env.blobs, digest, b"\x00jello")
    running = start_daemon(blobs, directories, f"unix://{short_tmp}/c.sock", workers=2)
    try:
        stub = bpb_grpc.BlobServiceStub(grpc.insecure_channel(f"unix:{running.socket_path}"))
        with pytest.raises(grpc.RpcError) as info:
            list(stub.Read(bpb.ReadBlobRequest(digest=digest)))
        assert info.value.code() == grpc.StatusCode.INTERNAL
        assert "is corrupt" in info.value.details()
        assert stub.Put(iter([bpb.BlobChunk(data=b"fine")])).digest == B3Digest.of(b"fine")
    finally:
        running.stop(0)
        directories.close()
        blobs.close()


def test_lmdb_error_type_is_wrapped(short_tmp: Path) -> None:
    blobs = blob_service_from_url(f"lmdb://{short_tmp}/s")
    blobs.close()
    with pytest.raises((StorageError, lmdb.Error)):
        blobs.has(BLOB_B_DIGEST)


def test_committed_puts_survive_a_crash(short_tmp: Path) -> None:
    """A process that dies right after a put returned loses nothing (and leaves no half blob)."""
    url = f"lmdb://{short_tmp}/crash"
    script = textwrap.dedent(
        f"""
        import os
        from tvix_castore import blob_service_from_url, directory_service_from_url, Directory
        blobs = blob_service_from_url({url!r})
        directories = directory_service_from_url({url!r})
        print(blobs.put(b"small").hex(), blobs.put(os.urandom(5 << 20)).hex(), flush=True)
        print(directories.put(Directory()).hex(), flush=True)
        writer = blobs.open_write()
        writer.write(os.urandom(40 << 20))  # staged, never closed
        os._exit(1)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    small, large, directory = result.stdout.split()
    blobs = blob_service_from_url(url)
    directories = directory_service_from_url(url)
    try:
        assert blobs.read_all(B3Digest(bytes.fromhex(small))) == b"small"
        reader = blobs.open_read(B3Digest(bytes.fromhex(large)))
        assert reader is not None
        assert len(reader.readall()) == 5 << 20
        assert directories.get(B3Digest(bytes.fromhex(directory))) == Directory()
        assert blobs.collect_garbage(older_than=0) == 1  # type: ignore[attr-defined]
    finally:
        directories.close()
        blobs.close()


# --- read sessions: zero-copy reads, checked as they go ---------------------------------


def _session_read(blobs: BlobService, digest: B3Digest) -> bytes:
    with blobs.read_session() as session:
        chunks = session.chunks(digest)
        assert chunks is not None
        data = b"".join(bytes(piece) for piece in chunks)
        session.verify()
    return data


def test_read_session_reads_like_open_read(
    lmdb_pair: tuple[BlobService, DirectoryService, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs, _, _ = lmdb_pair
    small, large = b"hello", os.urandom((3 << 20) + 5)
    d_small, d_large = blobs.put(small), blobs.put(large)
    assert _session_read(blobs, d_small) == small
    assert _session_read(blobs, d_large) == large
    assert _session_read(blobs, blobs.put(b"")) == b""
    # A fresh snapshot for every piece.
    monkeypatch.setattr("tvix_castore.blobservice.lmdb.SESSION_SNAPSHOT_SECONDS", -1.0)
    assert _session_read(blobs, d_large) == large
    with blobs.read_session() as session:
        assert session.chunks(BLOB_B_DIGEST) is None
        chunks = session.chunks(d_large)
        assert chunks is not None
        next(chunks)
    with pytest.raises(ValueError, match="closed"):
        next(chunks)
    memory = blob_service_from_url("memory://")
    assert _session_read(memory, memory.put(large)) == large
    with memory.read_session() as session:
        assert session.chunks(BLOB_B_DIGEST) is None


def test_read_session_corrupt_small_blob(
    lmdb_pair: tuple[BlobService, DirectoryService, Any],
) -> None:
    blobs, _, env = lmdb_pair
    digest = blobs.put(b"hello")
    poke(env, env.blobs, digest, b"\x00hellO")
    with blobs.read_session() as session, pytest.raises(StorageError, match="is corrupt"):
        session.chunks(digest)


def test_read_session_corrupt_large_blob(
    lmdb_pair: tuple[BlobService, DirectoryService, Any],
) -> None:
    blobs, _, env = lmdb_pair
    data = os.urandom(3 << 20)
    digest = blobs.put(data)
    set_id = dict_header(env, digest)
    poke(env, env.chunks, chunk_key(set_id, 1), os.urandom(1 << 20))
    with blobs.read_session() as session:
        chunks = session.chunks(digest)
        assert chunks is not None
        handed_out = [bytes(next(chunks)), bytes(next(chunks))]
        # The last chunk is not handed out: the digest does not match.
        with pytest.raises(StorageError, match="is corrupt: its contents hash to"):
            next(chunks)
        assert sum(map(len, handed_out)) < len(data)
    poke(env, env.chunks, chunk_key(set_id, 2), None)
    with blobs.read_session() as session, pytest.raises(StorageError, match="chunk 2 is missing"):
        chunks = session.chunks(digest)
        assert chunks is not None
        list(chunks)
