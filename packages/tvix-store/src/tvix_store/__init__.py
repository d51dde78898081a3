"""Nix store paths on top of tvix-castore.

PathInfo records (a castore root node plus what a narinfo says), the
PathInfoService with memory, lmdb and gRPC backends, NAR rendering and
ingest, importing paths like ``nix-store --add``, the gRPC daemon and a
read-only FUSE view of the store.
"""

from tvix_store.errors import (
    BlobNotFoundError,
    BlobSizeMismatchError,
    DirectoryNotFoundError,
    NarIngestError,
    RenderError,
    StoreError,
    ValidatePathInfoError,
)
from tvix_store.nar import IngestResult, calculate_size_and_sha256, ingest_nar, iter_nar, write_nar
from tvix_store.pathinfo import (
    NARInfo,
    PathInfo,
    build_path_info,
    path_info_root_node,
    validate_path_info,
)
from tvix_store.pathinfoservice import PathInfoService, path_info_service_from_url

__all__ = [
    "BlobNotFoundError",
    "BlobSizeMismatchError",
    "DirectoryNotFoundError",
    "IngestResult",
    "NARInfo",
    "NarIngestError",
    "PathInfo",
    "PathInfoService",
    "RenderError",
    "StoreError",
    "ValidatePathInfoError",
    "build_path_info",
    "calculate_size_and_sha256",
    "ingest_nar",
    "iter_nar",
    "path_info_root_node",
    "path_info_service_from_url",
    "validate_path_info",
    "write_nar",
]
