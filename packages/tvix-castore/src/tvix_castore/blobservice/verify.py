"""Checking blob contents against the digest they are stored under, while they are read."""

from __future__ import annotations

import blake3

from tvix_castore.digests import B3Digest
from tvix_castore.errors import StorageError


class SequentialVerifier:
    """Hashes a blob's bytes as they are read in order from the start; checks the digest at the end.

    Reads that jump around are not hashed; as soon as the reader has passed
    every byte in order, the digest must match or StorageError is raised.
    """

    def __init__(self, digest: B3Digest, source: str) -> None:
        self._digest = digest
        self._source = source
        self._hasher: blake3.blake3 | None = blake3.blake3()
        self._hashed = 0

    def feed(self, position: int, data: bytes | memoryview) -> None:
        """Record that ``data`` was read at ``position``."""
        if self._hasher is not None and position == self._hashed and data:
            self._hasher.update(data)
            self._hashed += len(data)

    def finish(self, size: int) -> None:
        """Called at the end of the blob (``size`` bytes); raise if what was read does not match."""
        if self._hasher is None or self._hashed != size:
            return
        actual = B3Digest(self._hasher.digest())
        self._hasher = None
        if actual != self._digest:
            raise StorageError(
                f"blob {self._digest} from {self._source} is corrupt: its contents hash to {actual}"
            )
