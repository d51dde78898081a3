"""The castore gRPC server: servicers, health checking, reflection, graceful shutdown."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidUrlError, StorageError
from tvix_castore.grpc_channel import CHANNEL_OPTIONS
from tvix_castore.proto import (
    rpc_blobstore_pb2,
    rpc_directory_pb2,
    rpc_directory_pb2_grpc,
)
from tvix_castore.server.servicers import (
    BlobServiceServicer,
    DirectoryServiceServicer,
    add_blob_service_to_server,
)

log = logging.getLogger("tvix_castore.server")

BLOB_SERVICE_NAME = rpc_blobstore_pb2.DESCRIPTOR.services_by_name["BlobService"].full_name
DIRECTORY_SERVICE_NAME = rpc_directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name
DEFAULT_WORKERS = 32


def parse_listen_address(address: str) -> tuple[str, str | None]:
    """The grpcio bind target for ``unix:///path``, ``unix:/path`` or ``HOST:PORT``.

    Also returns the socket path, if any.
    """
    if address.startswith(("unix:", "grpc+unix:")):
        path = address.removeprefix("grpc+").removeprefix("unix:")
        if path.startswith("//"):
            path = path[2:]
            if not path.startswith("/"):
                raise InvalidUrlError(
                    f"invalid listen address {address!r}: use unix:///absolute/path"
                )
        if not path:
            raise InvalidUrlError(f"invalid listen address {address!r}: no socket path")
        return f"unix:{path}", path
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise InvalidUrlError(
            f"invalid listen address {address!r}: expected HOST:PORT or unix:///path/to/socket"
        )
    return address, None


def remove_stale_socket(path: str) -> None:
    """Delete a socket file nobody listens on any more (left by a daemon that died).

    Raises StorageError if ``path`` is not a socket or another server still listens on it.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise StorageError(f"cannot listen on {path}: it exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
    else:
        raise StorageError(f"cannot listen on {path}: another server is listening there")
    finally:
        probe.close()


def new_server(workers: int = DEFAULT_WORKERS, *, thread_name_prefix: str = "castore-rpc") -> Any:
    """A grpc.Server (not yet bound or started) on a pool of ``workers`` threads.

    It uses the channel options of the castore clients (message size limits).
    """
    return grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix),
        options=CHANNEL_OPTIONS,
    )


def add_castore_services(
    server: Any, blob_service: BlobService, directory_service: DirectoryService
) -> None:
    """Register BlobService and DirectoryService servicers over these backends on ``server``."""
    add_blob_service_to_server(BlobServiceServicer(blob_service), server)
    rpc_directory_pb2_grpc.add_DirectoryServiceServicer_to_server(  # type: ignore[no-untyped-call]
        DirectoryServiceServicer(directory_service), server
    )


def add_health_and_reflection(server: Any, service_names: Iterable[str]) -> Any:
    """Register health checking and reflection on ``server`` and return the health servicer.

    The overall health and that of each of ``service_names`` (full gRPC names) start
    SERVING; reflection lists those services, health and reflection itself.
    """
    names = tuple(service_names)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    return health_servicer


def build_server(
    blob_service: BlobService,
    directory_service: DirectoryService,
    *,
    workers: int = DEFAULT_WORKERS,
) -> tuple[Any, Any]:
    """A grpc.Server with both castore services, health checking and reflection.

    Also returns the health servicer, to announce shutdown.
    """
    server = new_server(workers, thread_name_prefix="castore-rpc")
    add_castore_services(server, blob_service, directory_service)
    health_servicer = add_health_and_reflection(server, (BLOB_SERVICE_NAME, DIRECTORY_SERVICE_NAME))
    return server, health_servicer


@dataclass
class Daemon:
    """A running castore gRPC server."""

    server: Any
    health: Any
    address: str
    """Where clients connect: ``unix:///path`` or ``host:port`` (with the real port)."""
    socket_path: str | None

    @property
    def url(self) -> str:
        """The ``grpc+...`` URL a client backend uses to reach this daemon."""
        if self.socket_path is not None:
            return f"grpc+unix://{self.socket_path}"
        return f"grpc+http://{self.address}"

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting calls, give running ones ``grace`` seconds, then cancel the rest.

        Cancelled uploads store nothing.
        """
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        if self.socket_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)

    def wait(self, stop_event: threading.Event | None = None) -> None:
        """Block until the server terminates (or ``stop_event`` is set)."""
        if stop_event is None:
            self.server.wait_for_termination()
        else:
            stop_event.wait()


def start_server(listen_address: str, build: Callable[[], tuple[Any, Any]]) -> Daemon:
    """Bind ``listen_address`` and start the server that ``build`` makes.

    ``build`` returns a grpc.Server with its services registered, not yet bound, and its
    health servicer (see :func:`new_server`, :func:`add_castore_services` and
    :func:`add_health_and_reflection`). A stale unix socket is removed first. Raises
    StorageError or InvalidUrlError if it cannot listen.
    """
    target, socket_path = parse_listen_address(listen_address)
    if socket_path is not None:
        remove_stale_socket(socket_path)
    server, health_servicer = build()
    try:
        port = server.add_insecure_port(target)
    except RuntimeError as e:
        raise StorageError(f"cannot listen on {listen_address}: {e}") from None
    if not port:
        raise StorageError(f"cannot listen on {listen_address}")
    server.start()
    if socket_path is not None:
        address = f"unix://{socket_path}"
    else:
        host = target.rpartition(":")[0]
        address = f"{host}:{port}"
    return Daemon(server, health_servicer, address, socket_path)


def start_daemon(
    blob_service: BlobService,
    directory_service: DirectoryService,
    listen_address: str,
    *,
    workers: int = DEFAULT_WORKERS,
) -> Daemon:
    """Bind and start serving; raises StorageError or InvalidUrlError if it cannot listen."""
    daemon = start_server(
        listen_address,
        lambda: build_server(blob_service, directory_service, workers=workers),
    )
    log.info("listening on %s", daemon.address, extra={"listen_address": daemon.address})
    return daemon
