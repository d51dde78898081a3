"""NARs uploaded but not yet registered: kept until the narinfo naming them arrives.

``nix copy --to`` uploads a path's NAR first and its narinfo second. The NAR's
content goes straight into castore (content-addressed, so an upload never
registered is harmless); what it produced is remembered here, in memory,
bounded in number and age, for the narinfo upload to check and register.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tvix_castore.directory import ChildNode

from tvix_store.http.compression import Compression

__all__ = ["PendingUpload", "PendingUploads"]


@dataclass(frozen=True)
class PendingUpload:
    """What one NAR upload produced: its castore root and the sizes and hashes to check."""

    root: ChildNode
    nar_size: int
    nar_sha256: bytes
    file_size: int
    file_sha256: bytes
    compression: Compression


class PendingUploads:
    """A thread-safe map from upload file name (``nar/….nar.xz``) to what it produced."""

    def __init__(self, max_entries: int, ttl: float) -> None:
        self._max_entries = max_entries
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, PendingUpload]] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._entries:
            name, (added, _) = next(iter(self._entries.items()))
            if now - added < self._ttl and len(self._entries) <= self._max_entries:
                return
            del self._entries[name]

    def add(self, name: str, upload: PendingUpload) -> None:
        """Remember an upload under its file name (replacing an older one)."""
        now = time.monotonic()
        with self._lock:
            self._entries.pop(name, None)
            self._entries[name] = (now, upload)
            self._expire(now)

    def get(self, name: str) -> PendingUpload | None:
        """The upload stored under ``name``, unless it expired."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            entry = self._entries.get(name)
        return None if entry is None else entry[1]
