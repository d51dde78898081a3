"""The sizes and hashes of compressed NARs, learnt by compressing them once and remembered.

A compressed NAR is produced on request, yet its response carries an exact
``Content-Length``: before the first answer the NAR is compressed once only to
count (and hash) the bytes, then compressed again while it is sent. The
compressors are deterministic (fixed settings, input fed in fixed-size
pieces), so both passes produce the same bytes. What a pass learnt is kept
here, in memory, per (NAR sha256, compression), for a bounded number of NARs;
concurrent requests for one unknown NAR share one counting pass.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tvix_store.http.compression import Compression

__all__ = ["CompressedFile", "CompressedFiles"]


@dataclass(frozen=True)
class CompressedFile:
    """The size and sha256 of a NAR as this cache compresses it."""

    size: int
    sha256: bytes


_Key = tuple[bytes, Compression]


class CompressedFiles:
    """A thread-safe, least-recently-used map (NAR sha256, compression) → CompressedFile."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[_Key, CompressedFile] = OrderedDict()
        self._lock = threading.Lock()
        self._measuring: dict[_Key, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def peek(self, nar_sha256: bytes, compression: Compression) -> CompressedFile | None:
        """What is known of the NAR compressed this way, or None (nothing is computed)."""
        key = (nar_sha256, compression)
        with self._lock:
            known = self._entries.get(key)
            if known is not None:
                self._entries.move_to_end(key)
            return known

    def put(self, nar_sha256: bytes, compression: Compression, file: CompressedFile) -> None:
        """Remember ``file``, forgetting the least recently used entry beyond the bound."""
        if self._max_entries <= 0:
            return
        key = (nar_sha256, compression)
        with self._lock:
            self._entries[key] = file
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, nar_sha256: bytes, compression: Compression) -> None:
        """Drop what is known (after a pass produced other bytes than recorded)."""
        with self._lock:
            self._entries.pop((nar_sha256, compression), None)

    def get(
        self,
        nar_sha256: bytes,
        compression: Compression,
        measure: Callable[[], CompressedFile],
    ) -> CompressedFile:
        """What is known of the NAR compressed this way, running ``measure`` if nothing is.

        Blocks (call it on a worker thread); callers asking for the same NAR
        meanwhile wait for the one pass instead of starting their own.
        """
        known = self.peek(nar_sha256, compression)
        if known is not None:
            return known
        key = (nar_sha256, compression)
        with self._lock:
            gate = self._measuring.setdefault(key, threading.Lock())
        try:
            with gate:
                known = self.peek(nar_sha256, compression)
                if known is None:
                    known = measure()
                    self.put(nar_sha256, compression, known)
                return known
        finally:
            with self._lock:
                if self._measuring.get(key) is gate and not gate.locked():
                    del self._measuring[key]
