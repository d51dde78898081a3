"""The servicers through raw stubs: the reference's grpc_*service tests, health, reflection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from castore_fixtures import BLOB_A, BLOB_A_DIGEST, BLOB_B, DIRECTORY_A, DIRECTORY_B, DIRECTORY_C
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tvix_castore import B3Digest, Directory, DirectoryNode, SymlinkNode, directory_digest
from tvix_castore.proto import rpc_blobstore_pb2 as bpb
from tvix_castore.proto import rpc_blobstore_pb2_grpc as bpb_grpc
from tvix_castore.proto import rpc_directory_pb2 as dpb
from tvix_castore.proto import rpc_directory_pb2_grpc as dpb_grpc
from tvix_castore.server import Daemon, parse_listen_address


@pytest.fixture
def channel(daemon: Daemon) -> Iterator[Any]:
    ch = grpc.insecure_channel(f"unix:{daemon.socket_path}")
    yield ch
    ch.close()


@pytest.fixture
def blobs(channel: Any) -> Any:
    return bpb_grpc.BlobServiceStub(channel)


@pytest.fixture
def dirs(channel: Any) -> Any:
    return dpb_grpc.DirectoryServiceStub(channel)


def get_directories(dirs: Any, digest: bytes, recursive: bool) -> list[Directory]:
    return list(dirs.Get(dpb.GetDirectoryRequest(digest=digest, recursive=recursive)))


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    code: grpc.StatusCode = info.value.code()
    return code


def test_blob_not_found_read(blobs: Any) -> None:
    assert (
        code_of(lambda: list(blobs.Read(bpb.ReadBlobRequest(digest=BLOB_A_DIGEST))))
        == grpc.StatusCode.NOT_FOUND
    )


def test_blob_not_found_stat(blobs: Any) -> None:
    assert (
        code_of(lambda: blobs.Stat(bpb.StatBlobRequest(digest=BLOB_A_DIGEST)))
        == grpc.StatusCode.NOT_FOUND
    )


def test_blob_invalid_digest_length(blobs: Any) -> None:
    with pytest.raises(grpc.RpcError) as info:
        blobs.Stat(bpb.StatBlobRequest(digest=b"\x00\x01"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "invalid digest length: 2"
    assert (
        code_of(lambda: list(blobs.Read(bpb.ReadBlobRequest(digest=b""))))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_blob_put_read_stat(blobs: Any) -> None:
    response = blobs.Put(iter([bpb.BlobChunk(data=BLOB_A)]))
    assert response.digest == BLOB_A_DIGEST
    assert blobs.Stat(bpb.StatBlobRequest(digest=BLOB_A_DIGEST)) == bpb.BlobMeta()
    chunks = list(blobs.Read(bpb.ReadBlobRequest(digest=BLOB_A_DIGEST)))
    assert [c.data for c in chunks] == [BLOB_A]


def test_blob_put_any_chunking_read_in_bounded_chunks(blobs: Any) -> None:
    pieces = [BLOB_B[i : i + 1000] for i in range(0, len(BLOB_B), 1000)] + [b""]
    response = blobs.Put(bpb.BlobChunk(data=p) for p in pieces)
    assert response.digest == B3Digest.of(BLOB_B)
    chunks = [c.data for c in blobs.Read(bpb.ReadBlobRequest(digest=response.digest))]
    assert b"".join(chunks) == BLOB_B
    assert len(chunks) > 1
    assert max(len(c) for c in chunks) <= 1 << 20


def test_blob_empty_put(blobs: Any) -> None:
    assert blobs.Put(iter([])).digest == B3Digest.of(b"")


def test_directory_not_found(dirs: Any) -> None:
    call = dirs.Get(dpb.GetDirectoryRequest(digest=directory_digest(DIRECTORY_A)))
    with pytest.raises(grpc.RpcError) as info:
        list(call)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "not found" in info.value.details()


def test_directory_put_get(dirs: Any) -> None:
    response = dirs.Put(iter([DIRECTORY_A]))
    assert response.root_digest == directory_digest(DIRECTORY_A)
    assert get_directories(dirs, directory_digest(DIRECTORY_A), False) == [DIRECTORY_A]


def test_directory_put_get_multiple(dirs: Any) -> None:
    assert code_of(lambda: dirs.Put(iter([DIRECTORY_B]))) == grpc.StatusCode.INVALID_ARGUMENT
    response = dirs.Put(iter([DIRECTORY_A, DIRECTORY_B]))
    assert response.root_digest == directory_digest(DIRECTORY_B)
    assert get_directories(dirs, directory_digest(DIRECTORY_B), False) == [DIRECTORY_B]
    assert get_directories(dirs, directory_digest(DIRECTORY_B), True) == [DIRECTORY_B, DIRECTORY_A]


def test_directory_put_get_dedup(dirs: Any) -> None:
    response = dirs.Put(iter([DIRECTORY_A, DIRECTORY_A, DIRECTORY_C]))
    assert response.root_digest == directory_digest(DIRECTORY_C)
    assert get_directories(dirs, directory_digest(DIRECTORY_C), True) == [DIRECTORY_C, DIRECTORY_A]


def test_directory_put_reject_failed_validation(dirs: Any) -> None:
    broken = Directory(symlinks=[SymlinkNode(name=b"", target=b"doesntmatter")])
    with pytest.raises(grpc.RpcError) as info:
        dirs.Put(iter([broken]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "failed validation: invalid node name b''" in info.value.details()


def test_directory_put_reject_wrong_size(dirs: Any) -> None:
    broken_parent = Directory(
        directories=[DirectoryNode(name=b"foo", digest=directory_digest(DIRECTORY_A), size=42)]
    )
    with pytest.raises(grpc.RpcError) as info:
        dirs.Put(iter([DIRECTORY_A, broken_parent]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "wrong size, expected 0, actual 42" in info.value.details()
    assert (
        code_of(lambda: get_directories(dirs, directory_digest(DIRECTORY_A), False))
        == grpc.StatusCode.NOT_FOUND
    )


def test_directory_get_requires_by_what_and_valid_digest(dirs: Any) -> None:
    with pytest.raises(grpc.RpcError) as info:
        list(dirs.Get(dpb.GetDirectoryRequest(recursive=True)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "by_what needs to be specified"
    assert (
        code_of(lambda: list(dirs.Get(dpb.GetDirectoryRequest(digest=b"xy"))))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_directory_empty_put(dirs: Any) -> None:
    with pytest.raises(grpc.RpcError) as info:
        dirs.Put(iter([]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "no directories received"


def test_directory_put_drops_unknown_fields(channel: Any) -> None:
    put = channel.stream_unary(
        "/tvix.castore.v1.DirectoryService/Put",
        request_serializer=None,
        response_deserializer=dpb.PutDirectoryResponse.FromString,
    )
    response = put(iter([b"\x50\x07"]))  # an empty Directory plus unknown field 10
    assert response.root_digest == directory_digest(DIRECTORY_A)


def test_health_checking(channel: Any) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "tvix.castore.v1.BlobService", "tvix.castore.v1.DirectoryService"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_services(channel: Any) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {
        "tvix.castore.v1.BlobService",
        "tvix.castore.v1.DirectoryService",
        "grpc.health.v1.Health",
    } <= names


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("unix:///run/castore.sock", ("unix:/run/castore.sock", "/run/castore.sock")),
        ("unix:/run/castore.sock", ("unix:/run/castore.sock", "/run/castore.sock")),
        ("[::]:8000", ("[::]:8000", None)),
        ("127.0.0.1:0", ("127.0.0.1:0", None)),
    ],
)
def test_listen_addresses(address: str, target: tuple[str, str | None]) -> None:
    assert parse_listen_address(address) == target


@pytest.mark.parametrize("address", ["localhost", "unix://relative", "host:port", "unix:", ":80"])
def test_bad_listen_addresses(address: str) -> None:
    from tvix_castore import InvalidUrlError

    with pytest.raises(InvalidUrlError, match="invalid listen address"):
        parse_listen_address(address)


def test_tcp_listener_serves(short_tmp: Any) -> None:
    from tvix_castore import blob_service_from_url, directory_service_from_url
    from tvix_castore.server import start_daemon

    running = start_daemon(
        blob_service_from_url("memory://"), directory_service_from_url("memory://"), "127.0.0.1:0"
    )
    try:
        assert running.url.startswith("grpc+http://127.0.0.1:")
        client = blob_service_from_url(running.url)
        assert client.put(b"over tcp") == B3Digest.of(b"over tcp")
        assert client.read_all(B3Digest.of(b"over tcp")) == b"over tcp"
        client.close()
    finally:
        running.stop(0)
