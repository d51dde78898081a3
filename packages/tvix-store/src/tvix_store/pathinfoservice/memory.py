"""``memory://``: PathInfos in a dict, for tests and throw-away stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Self

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.registry import ServiceUrl, require_no_host, require_no_path, require_no_query

from tvix_store.pathinfoservice.local import LocalPathInfoService


class MemoryPathInfoService(LocalPathInfoService):
    """PathInfos kept (encoded) in a dict in this process."""

    def __init__(self, blob_service: BlobService, directory_service: DirectoryService) -> None:
        super().__init__(blob_service, directory_service)
        self._records: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(
        cls, url: ServiceUrl, blob_service: BlobService, directory_service: DirectoryService
    ) -> Self:
        """``memory://`` or ``memory:``; a host, a path or parameters are refused."""
        require_no_host(url)
        require_no_path(url)
        require_no_query(url)
        return cls(blob_service, directory_service)

    def _load(self, digest: bytes) -> bytes | None:
        return self._records.get(digest)

    def _store(self, digest: bytes, data: bytes) -> None:
        with self._lock:
            self._records[digest] = data

    def _iter_records(self) -> Iterator[tuple[bytes, bytes]]:
        with self._lock:
            snapshot = list(self._records.items())
        return iter(snapshot)
