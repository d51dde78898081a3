"""The gRPC servicer and daemon: status codes, health, reflection, shutdown, the daemon command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from tvix_castore.directory import (
    DirectoryNode,
    FileNode,
    Node,
    SymlinkNode,
    directory_digest,
    node_to_proto,
)
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.pathinfo import PathInfo, build_path_info
from tvix_store.pathinfoservice import path_info_service_from_url
from tvix_store.proto import rpc_pathinfo_pb2 as pb
from tvix_store.proto import rpc_pathinfo_pb2_grpc as pb_grpc
from tvix_store.server import start_store_daemon

from .fixtures import DIRECTORY_COMPLICATED, DUMMY_NAME, HELLOWORLD_BLOB_DIGEST


@pytest.fixture
def channel(socket_dir: Path) -> Iterator[grpc.Channel]:
    blobs = blob_service_from_url("memory://")
    dirs = directory_service_from_url("memory://")
    infos = path_info_service_from_url("memory://", blobs, dirs)
    sock = socket_dir / "s.sock"
    daemon = start_store_daemon(blobs, dirs, infos, f"unix://{sock}")
    with grpc.insecure_channel(f"unix:{sock}") as ch:
        yield ch
    daemon.stop(grace=None)
    assert not sock.exists()


def _code(call: object, request: object) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as e:
        call(request)  # type: ignore[operator]
    code: grpc.StatusCode = e.value.code()
    return code


def test_get_status_codes(channel: grpc.Channel) -> None:
    stub = pb_grpc.PathInfoServiceStub(channel)  # type: ignore[no-untyped-call]
    assert _code(stub.Get, pb.GetPathInfoRequest()) == grpc.StatusCode.UNIMPLEMENTED
    assert (
        _code(stub.Get, pb.GetPathInfoRequest(by_output_hash=b"x"))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        _code(stub.Get, pb.GetPathInfoRequest(by_output_hash=bytes(20)))
        == grpc.StatusCode.NOT_FOUND
    )


def test_put_status_codes(channel: grpc.Channel) -> None:
    stub = pb_grpc.PathInfoServiceStub(channel)  # type: ignore[no-untyped-call]
    assert _code(stub.Put, PathInfo()) == grpc.StatusCode.INVALID_ARGUMENT
    missing_dir = build_path_info(
        DirectoryNode(
            name=DUMMY_NAME.encode(), digest=directory_digest(DIRECTORY_COMPLICATED), size=3
        ),
        0,
        bytes(32),
    )
    assert _code(stub.Put, missing_dir) == grpc.StatusCode.NOT_FOUND
    missing_blob = build_path_info(
        FileNode(name=DUMMY_NAME.encode(), digest=HELLOWORLD_BLOB_DIGEST, size=12), 0, bytes(32)
    )
    assert _code(stub.Put, missing_blob) == grpc.StatusCode.NOT_FOUND
    ok = PathInfo(node=node_to_proto(SymlinkNode(name=DUMMY_NAME.encode(), target=b"x")))
    assert stub.Put(ok) == ok
    assert stub.Get(pb.GetPathInfoRequest(by_output_hash=bytes(20))) == ok
    assert list(stub.List(pb.ListPathInfoRequest())) == [ok]


def test_calculate_nar_status_codes(channel: grpc.Channel) -> None:
    stub = pb_grpc.PathInfoServiceStub(channel)  # type: ignore[no-untyped-call]
    assert _code(stub.CalculateNAR, Node()) == grpc.StatusCode.INVALID_ARGUMENT
    missing = node_to_proto(
        DirectoryNode(name=b"x", digest=directory_digest(DIRECTORY_COMPLICATED), size=3)
    )
    assert _code(stub.CalculateNAR, missing) == grpc.StatusCode.NOT_FOUND
    response = stub.CalculateNAR(
        node_to_proto(SymlinkNode(name=b"x", target=b"/nix/store/somewhereelse"))
    )
    assert response.nar_size == 136


def test_health_and_reflection(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in (
        "",
        "tvix.store.v1.PathInfoService",
        "tvix.castore.v1.BlobService",
        "tvix.castore.v1.DirectoryService",
    ):
        status = health.Check(health_pb2.HealthCheckRequest(service=service)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(channel)
    [response] = list(
        refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    )
    names = {s.name for s in response.list_services_response.service}
    assert {
        "tvix.store.v1.PathInfoService",
        "tvix.castore.v1.BlobService",
        "tvix.castore.v1.DirectoryService",
    } <= names


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"daemon did not start: {err.decode()}")
        time.sleep(0.05)


def test_daemon_command_serves_and_shuts_down(tmp_path: Path, socket_dir: Path) -> None:
    sock = socket_dir / "d.sock"
    store = f"lmdb://{tmp_path / 'store'}"
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tvix_store",
            "daemon",
            "-l",
            f"unix://{sock}",
            "--blob-service-addr",
            store,
            "--directory-service-addr",
            store,
            "--path-info-service-addr",
            store,
            "--grace-period",
            "1",
        ],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(sock, daemon)
        src = tmp_path / "src"
        src.mkdir()
        (src / "f").write_bytes(b"hello")
        url = f"grpc+unix://{sock}"
        env = {
            **os.environ,
            "BLOB_SERVICE_ADDR": url,
            "DIRECTORY_SERVICE_ADDR": url,
            "PATH_INFO_SERVICE_ADDR": url,
        }
        cli = [sys.executable, "-m", "tvix_store"]
        imported = subprocess.run(
            [*cli, "import", str(src)], env=env, capture_output=True, check=True
        )
        store_path = imported.stdout.decode().strip()
        listed = subprocess.run([*cli, "list"], env=env, capture_output=True, check=True)
        assert listed.stdout.decode() == store_path + "\n"
        cat = subprocess.run(
            [*cli, "cat", store_path + "/f"], env=env, capture_output=True, check=True
        )
        assert cat.stdout == b"hello"
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=20)
    assert daemon.returncode == 0, err.decode()
    assert b'"msg": "stopped"' in err
    assert not sock.exists()


def test_daemon_bad_listen_address(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tvix_store",
            "daemon",
            "-l",
            "nonsense",
            "--path-info-service-addr",
            "memory://",
            "--blob-service-addr",
            "memory://",
            "--directory-service-addr",
            "memory://",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1].startswith("error: invalid listen address")


def test_interrupted_import_registers_nothing(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for i in range(64):  # 2 GiB in sparse files: far more than can be imported in the wait below
        with open(big / f"sparse{i:02}", "wb") as f:
            f.truncate(32 << 20)
    store = f"lmdb://{tmp_path / 'store'}"
    env = {
        **os.environ,
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }
    cli = [sys.executable, "-m", "tvix_store"]
    process = subprocess.Popen(
        [*cli, "import", str(big)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Interrupt once the store is open and the import is under way (start-up may be slow).
    deadline = time.monotonic() + 30
    while not (tmp_path / "store" / "data.mdb").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert process.poll() is None, "the import finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert out == b""
    assert err.decode().splitlines()[-1] == "interrupted"
    listed = subprocess.run([*cli, "list"], env=env, capture_output=True, check=True)
    assert listed.stdout == b""


def test_tcp_listener_and_grpc_http_client() -> None:
    blobs = blob_service_from_url("memory://")
    dirs = directory_service_from_url("memory://")
    infos = path_info_service_from_url("memory://", blobs, dirs)
    daemon = start_store_daemon(blobs, dirs, infos, "127.0.0.1:0")
    try:
        url = f"grpc+http://{daemon.address}"
        client = path_info_service_from_url(url, blobs, dirs)
        info = PathInfo(node=node_to_proto(SymlinkNode(name=DUMMY_NAME.encode(), target=b"x")))
        assert client.put(info) == info
        assert list(client.list()) == [info]
        client.close()
    finally:
        daemon.stop(grace=None)
