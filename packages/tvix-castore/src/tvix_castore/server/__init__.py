"""The gRPC side of castore: servicers for BlobService and DirectoryService, and the daemon."""

from tvix_castore.server.daemon import Daemon, build_server, parse_listen_address, start_daemon
from tvix_castore.server.servicers import (
    BlobServiceServicer,
    DirectoryServiceServicer,
    add_blob_service_to_server,
)

__all__ = [
    "BlobServiceServicer",
    "Daemon",
    "DirectoryServiceServicer",
    "add_blob_service_to_server",
    "build_server",
    "parse_listen_address",
    "start_daemon",
]
