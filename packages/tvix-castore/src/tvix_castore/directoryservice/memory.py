"""``memory://``: directories in a dict, for tests and throw-away stores."""

from __future__ import annotations

import threading
from typing import Self

from tvix_castore.directoryservice.local import LocalDirectoryService
from tvix_castore.registry import ServiceUrl, require_no_host, require_no_path


class MemoryDirectoryService(LocalDirectoryService):
    """Directories kept (as canonical encodings) in a dict in this process."""

    def __init__(self) -> None:
        self._records: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``memory://`` or ``memory:``; a host or a path is refused."""
        require_no_host(url)
        require_no_path(url)
        return cls()

    def _load(self, digest: bytes) -> bytes | None:
        return self._records.get(digest)

    def _store(self, records: list[tuple[bytes, bytes]]) -> None:
        with self._lock:
            for digest, data in records:
                self._records.setdefault(digest, data)
