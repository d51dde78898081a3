"""PathInfoService: the interface and its memory, lmdb and gRPC backends."""

from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.pathinfoservice.registry import (
    PATH_INFO_SERVICES_GROUP,
    known_path_info_schemes,
    path_info_service_from_url,
)

__all__ = [
    "PATH_INFO_SERVICES_GROUP",
    "PathInfoService",
    "known_path_info_schemes",
    "path_info_service_from_url",
]
