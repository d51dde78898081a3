"""The tvix-store gRPC server: castore's two services plus PathInfoService in one process.

Health checking (overall and per service) and reflection are registered; a
stop lets running calls finish for a grace period and marks the services
NOT_SERVING first, so load balancers drain before the socket closes.
"""

from __future__ import annotations

import logging
from typing import Any

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.server import (
    BLOB_SERVICE_NAME,
    DEFAULT_WORKERS,
    DIRECTORY_SERVICE_NAME,
    Daemon,
    add_castore_services,
    add_health_and_reflection,
    new_server,
    start_server,
)

from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.proto import rpc_pathinfo_pb2, rpc_pathinfo_pb2_grpc
from tvix_store.server.servicer import PathInfoServiceServicer

__all__ = ["PATH_INFO_SERVICE_NAME", "build_store_server", "start_store_daemon"]

log = logging.getLogger("tvix_store.server")

PATH_INFO_SERVICE_NAME = rpc_pathinfo_pb2.DESCRIPTOR.services_by_name["PathInfoService"].full_name


def build_store_server(
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    *,
    workers: int = DEFAULT_WORKERS,
) -> tuple[Any, Any]:
    """A grpc.Server with the three services, health and reflection; also its health servicer."""
    server = new_server(workers, thread_name_prefix="store-rpc")
    add_castore_services(server, blob_service, directory_service)
    rpc_pathinfo_pb2_grpc.add_PathInfoServiceServicer_to_server(  # type: ignore[no-untyped-call]
        PathInfoServiceServicer(path_info_service, blob_service, directory_service), server
    )
    health_servicer = add_health_and_reflection(
        server, (BLOB_SERVICE_NAME, DIRECTORY_SERVICE_NAME, PATH_INFO_SERVICE_NAME)
    )
    return server, health_servicer


def start_store_daemon(
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    listen_address: str,
    *,
    workers: int = DEFAULT_WORKERS,
) -> Daemon:
    """Bind ``listen_address`` (``HOST:PORT`` or ``unix:///path``) and start serving.

    A stale unix socket is removed first; raises StorageError or InvalidUrlError if it
    cannot listen.
    """
    daemon = start_server(
        listen_address,
        lambda: build_store_server(
            blob_service, directory_service, path_info_service, workers=workers
        ),
    )
    log.info("listening on %s", daemon.address)
    return daemon
