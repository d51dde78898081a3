"""Which store path an uploaded NAR file name belongs to, kept after registration.

``nix copy --to`` remembers the narinfo it uploaded (for weeks, in its local
narinfo cache) and later asks for the NAR by the name it uploaded it under,
not by the name this cache serves. The index maps those upload names to
store path digests so they stay servable; it is a SQLite file (or in memory
with ``path=None``), small, and only ever a pointer into the PathInfoService.
"""

from __future__ import annotations

import sqlite3
import threading

__all__ = ["UploadIndex"]


class UploadIndex:
    """A thread-safe map from ``nar/…`` upload names to 20-byte store path digests."""

    def __init__(self, path: str | None = None) -> None:
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS uploads (name TEXT PRIMARY KEY, digest BLOB NOT NULL)"
            )

    def put(self, name: str, digest: bytes) -> None:
        """Record (durably, for a file) that ``name`` holds the NAR of the path ``digest``."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO uploads (name, digest) VALUES (?, ?)", (name, digest)
            )

    def get(self, name: str) -> bytes | None:
        """The store path digest recorded for ``name``, or None."""
        with self._lock:
            row = self._db.execute("SELECT digest FROM uploads WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
