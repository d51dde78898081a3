"""The gRPC side of tvix-store: the PathInfoService servicer and the three-service daemon."""

from tvix_store.server.daemon import build_store_server, start_store_daemon
from tvix_store.server.servicer import PathInfoServiceServicer, check_content_present

__all__ = [
    "PathInfoServiceServicer",
    "build_store_server",
    "check_content_present",
    "start_store_daemon",
]
