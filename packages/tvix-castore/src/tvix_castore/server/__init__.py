"""The gRPC side of castore: servicers for BlobService and DirectoryService, and the daemon.

The building blocks of :func:`start_daemon` are public for daemons that serve more than
castore's two services (tvix-store adds PathInfoService): :func:`new_server`,
:func:`add_castore_services`, :func:`add_health_and_reflection`, :func:`start_server`
(which binds, removing a stale unix socket with :func:`remove_stale_socket`).
"""

from tvix_castore.server.daemon import (
    BLOB_SERVICE_NAME,
    DEFAULT_WORKERS,
    DIRECTORY_SERVICE_NAME,
    Daemon,
    add_castore_services,
    add_health_and_reflection,
    build_server,
    new_server,
    parse_listen_address,
    remove_stale_socket,
    start_daemon,
    start_server,
)
from tvix_castore.server.servicers import (
    BlobServiceServicer,
    DirectoryServiceServicer,
    add_blob_service_to_server,
)

__all__ = [
    "BLOB_SERVICE_NAME",
    "DEFAULT_WORKERS",
    "DIRECTORY_SERVICE_NAME",
    "BlobServiceServicer",
    "Daemon",
    "DirectoryServiceServicer",
    "add_blob_service_to_server",
    "add_castore_services",
    "add_health_and_reflection",
    "build_server",
    "new_server",
    "parse_listen_address",
    "remove_stale_socket",
    "start_daemon",
    "start_server",
]
