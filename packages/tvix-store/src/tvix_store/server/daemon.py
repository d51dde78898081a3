"""The tvix-store gRPC server: castore's two services plus PathInfoService in one process.

Health checking (overall and per service) and reflection are registered; a
stop lets running calls finish for a grace period and marks the services
NOT_SERVING first, so load balancers drain before the socket closes.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import StorageError
from tvix_castore.grpc_channel import CHANNEL_OPTIONS
from tvix_castore.proto import (
    rpc_blobstore_pb2,
    rpc_directory_pb2,
    rpc_directory_pb2_grpc,
)
from tvix_castore.server import (
    BlobServiceServicer,
    Daemon,
    DirectoryServiceServicer,
    parse_listen_address,
)
from tvix_castore.server.servicers import add_blob_service_to_server

from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.proto import rpc_pathinfo_pb2, rpc_pathinfo_pb2_grpc
from tvix_store.server.servicer import PathInfoServiceServicer

__all__ = ["PATH_INFO_SERVICE_NAME", "build_store_server", "start_store_daemon"]

log = logging.getLogger("tvix_store.server")

BLOB_SERVICE_NAME = rpc_blobstore_pb2.DESCRIPTOR.services_by_name["BlobService"].full_name
DIRECTORY_SERVICE_NAME = rpc_directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name
PATH_INFO_SERVICE_NAME = rpc_pathinfo_pb2.DESCRIPTOR.services_by_name["PathInfoService"].full_name
DEFAULT_WORKERS = 32


def build_store_server(
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    *,
    workers: int = DEFAULT_WORKERS,
) -> tuple[Any, Any]:
    """A grpc.Server with the three services, health and reflection; also its health servicer."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store-rpc"),
        options=CHANNEL_OPTIONS,
    )
    add_blob_service_to_server(BlobServiceServicer(blob_service), server)
    rpc_directory_pb2_grpc.add_DirectoryServiceServicer_to_server(  # type: ignore[no-untyped-call]
        DirectoryServiceServicer(directory_service), server
    )
    rpc_pathinfo_pb2_grpc.add_PathInfoServiceServicer_to_server(  # type: ignore[no-untyped-call]
        PathInfoServiceServicer(path_info_service, blob_service, directory_service), server
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = (BLOB_SERVICE_NAME, DIRECTORY_SERVICE_NAME, PATH_INFO_SERVICE_NAME)
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    return server, health_servicer


def _remove_stale_socket(path: str) -> None:
    """Delete a socket file nobody listens on any more (left by a daemon that died)."""
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


def start_store_daemon(
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    listen_address: str,
    *,
    workers: int = DEFAULT_WORKERS,
) -> Daemon:
    """Bind ``listen_address`` (``HOST:PORT`` or ``unix:///path``) and start serving."""
    target, socket_path = parse_listen_address(listen_address)
    if socket_path is not None:
        _remove_stale_socket(socket_path)
    server, health_servicer = build_store_server(
        blob_service, directory_service, path_info_service, workers=workers
    )
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
        address = f"{target.rpartition(':')[0]}:{port}"
    log.info("listening on %s", address)
    return Daemon(server, health_servicer, address, socket_path)
