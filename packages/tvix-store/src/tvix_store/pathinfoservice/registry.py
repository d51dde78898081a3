"""Choosing a PathInfoService backend by URL, in the style of tvix_castore's registry.

Backends register under their URL scheme in the entry-point group
``tvix_store.path_info_services``; each entry point names a class with a
``from_url(ServiceUrl, blob_service, directory_service)`` class method. The
built-in backends are also listed here, so a source checkout without installed
metadata finds them.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from tvix_castore.errors import InvalidUrlError
from tvix_castore.registry import parse_service_url

if TYPE_CHECKING:
    from tvix_castore.blobservice.base import BlobService
    from tvix_castore.directoryservice.base import DirectoryService

    from tvix_store.pathinfoservice.base import PathInfoService

PATH_INFO_SERVICES_GROUP = "tvix_store.path_info_services"

_BUILTIN = {
    "memory": "tvix_store.pathinfoservice.memory:MemoryPathInfoService",
    "lmdb": "tvix_store.pathinfoservice.lmdb:LmdbPathInfoService",
    "grpc+unix": "tvix_store.pathinfoservice.grpc:GrpcPathInfoService",
    "grpc+http": "tvix_store.pathinfoservice.grpc:GrpcPathInfoService",
    "grpc+https": "tvix_store.pathinfoservice.grpc:GrpcPathInfoService",
    "nix+http": "tvix_store.pathinfoservice.nix_http:NixHttpPathInfoService",
    "nix+https": "tvix_store.pathinfoservice.nix_http:NixHttpPathInfoService",
    "nix+file": "tvix_store.pathinfoservice.nix_http:NixHttpPathInfoService",
}


def known_path_info_schemes() -> list[str]:
    """All schemes a PathInfoService URL may use."""
    return sorted({ep.name for ep in entry_points(group=PATH_INFO_SERVICES_GROUP)} | set(_BUILTIN))


def _load(scheme: str) -> Any:
    for ep in entry_points(group=PATH_INFO_SERVICES_GROUP):
        if ep.name == scheme:
            return ep.load()
    target = _BUILTIN.get(scheme)
    if target is None:
        raise InvalidUrlError(
            f"unknown scheme: {scheme} (known: {', '.join(known_path_info_schemes())})"
        )
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def path_info_service_from_url(
    text: str, blob_service: BlobService, directory_service: DirectoryService
) -> PathInfoService:
    """Open the PathInfoService a URL names, e.g. ``lmdb:///var/lib/tvix-store``.

    ``blob_service`` and ``directory_service`` are where the PathInfos' nodes
    live; local backends render NARs from them.
    """
    url = parse_service_url(text)
    cls = _load(url.scheme)
    service: PathInfoService = cls.from_url(url, blob_service, directory_service)
    return service
