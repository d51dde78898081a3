"""Choosing a backend by URL.

Backends register under their URL scheme in the entry-point groups
``tvix_castore.blob_services`` and ``tvix_castore.directory_services``; each
entry point names a class with a ``from_url(ServiceUrl)`` class method. The
built-in backends are also listed here, so a source checkout without
installed metadata still finds them. A third-party distribution adds a backend
by declaring an entry point in one of the groups.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tvix_castore.errors import InvalidUrlError

if TYPE_CHECKING:
    from tvix_castore.blobservice.base import BlobService
    from tvix_castore.directoryservice.base import DirectoryService

BLOB_SERVICES_GROUP = "tvix_castore.blob_services"
DIRECTORY_SERVICES_GROUP = "tvix_castore.directory_services"

_BUILTIN_BLOB_SERVICES = {
    "memory": "tvix_castore.blobservice.memory:MemoryBlobService",
    "lmdb": "tvix_castore.blobservice.lmdb:LmdbBlobService",
    "grpc+unix": "tvix_castore.blobservice.grpc:GrpcBlobService",
    "grpc+http": "tvix_castore.blobservice.grpc:GrpcBlobService",
    "grpc+https": "tvix_castore.blobservice.grpc:GrpcBlobService",
}
_BUILTIN_DIRECTORY_SERVICES = {
    "memory": "tvix_castore.directoryservice.memory:MemoryDirectoryService",
    "lmdb": "tvix_castore.directoryservice.lmdb:LmdbDirectoryService",
    "grpc+unix": "tvix_castore.directoryservice.grpc:GrpcDirectoryService",
    "grpc+http": "tvix_castore.directoryservice.grpc:GrpcDirectoryService",
    "grpc+https": "tvix_castore.directoryservice.grpc:GrpcDirectoryService",
}


@dataclass(frozen=True)
class ServiceUrl:
    """A parsed service URL, as handed to a backend's ``from_url``."""

    text: str
    scheme: str
    host: str | None
    port: int | None
    path: str
    query: dict[str, str] = field(default_factory=dict)

    @property
    def has_host(self) -> bool:
        """True if the URL names a host (``scheme://host/...``)."""
        return bool(self.host)


def parse_service_url(text: str) -> ServiceUrl:
    """Split a service URL; a missing scheme or a malformed port is an InvalidUrlError."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise InvalidUrlError(f"unable to parse url {text!r}: {e}") from None
    if not parts.scheme:
        raise InvalidUrlError(f"unable to parse url {text!r}: no scheme (e.g. memory://)")
    if parts.fragment:
        raise InvalidUrlError(f"invalid url {text!r}: a fragment is not allowed")
    try:
        query = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        if parts.query:
            raise InvalidUrlError(f"invalid url {text!r}: malformed query") from None
        query = {}
    return ServiceUrl(
        text=text,
        scheme=parts.scheme.lower(),
        host=parts.hostname or None,
        port=port,
        path=parts.path,
        query=query,
    )


def require_no_host(url: ServiceUrl) -> None:
    """Refuse a URL with a host part."""
    if url.has_host or url.port is not None:
        raise InvalidUrlError(f"invalid url {url.text!r}: {url.scheme} does not take a host")


def require_no_path(url: ServiceUrl) -> None:
    """Refuse a URL with a path (``memory:///`` has the path ``/``)."""
    if url.path:
        raise InvalidUrlError(f"invalid url {url.text!r}: {url.scheme} does not take a path")


def require_no_query(url: ServiceUrl, allowed: frozenset[str] = frozenset()) -> None:
    """Refuse query parameters the backend does not know."""
    unknown = sorted(set(url.query) - allowed)
    if unknown:
        raise InvalidUrlError(
            f"invalid url {url.text!r}: unknown parameter(s) {', '.join(unknown)}"
        )


def _load(group: str, builtins: dict[str, str], scheme: str) -> Any:
    for ep in entry_points(group=group):
        if ep.name == scheme:
            return ep.load()
    target = builtins.get(scheme)
    if target is None:
        known = sorted({ep.name for ep in entry_points(group=group)} | set(builtins))
        raise InvalidUrlError(f"unknown scheme: {scheme} (known: {', '.join(known)})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def known_schemes(group: str = BLOB_SERVICES_GROUP) -> list[str]:
    """All schemes a URL may use for the given group."""
    builtins = (
        _BUILTIN_BLOB_SERVICES if group == BLOB_SERVICES_GROUP else _BUILTIN_DIRECTORY_SERVICES
    )
    return sorted({ep.name for ep in entry_points(group=group)} | set(builtins))


def blob_service_from_url(text: str) -> BlobService:
    """Open the BlobService a URL names, e.g. ``memory://``, ``lmdb:///var/lib/castore``."""
    url = parse_service_url(text)
    cls = _load(BLOB_SERVICES_GROUP, _BUILTIN_BLOB_SERVICES, url.scheme)
    service: BlobService = cls.from_url(url)
    return service


def directory_service_from_url(text: str) -> DirectoryService:
    """Open the DirectoryService a URL names, e.g. ``grpc+unix:///run/castore.sock``."""
    url = parse_service_url(text)
    cls = _load(DIRECTORY_SERVICES_GROUP, _BUILTIN_DIRECTORY_SERVICES, url.scheme)
    service: DirectoryService = cls.from_url(url)
    return service
