"""An open file of the FUSE view: positioned reads over a forward-streaming blob reader.

The kernel reads ahead with several requests at once, and a multi-threaded
server may see them slightly out of order. Backends whose readers can only
stream forward (gRPC restarts the stream to go back) would then re-read from
the start. A handle therefore keeps the most recent bytes it read (a small
window) and serves requests that fall behind the reader's position from it;
a short jump forward is read through and kept as well.
"""

from __future__ import annotations

import threading
from collections import deque

from tvix_castore.blobservice.base import BlobReader

__all__ = ["BlobHandle"]

WINDOW = 4 << 20
"""Bytes kept behind the reader's position, and the longest forward jump read through."""


class BlobHandle:
    """Thread-safe ``read(size, offset)`` on one blob reader."""

    def __init__(self, reader: BlobReader) -> None:
        self.reader = reader
        self._lock = threading.Lock()
        # (offset, data) pieces just behind the reader's position, oldest first.
        self._pieces: deque[tuple[int, bytes]] = deque()
        self._kept = 0

    def _remember(self, offset: int, data: bytes) -> None:
        self._pieces.append((offset, data))
        self._kept += len(data)
        while self._kept - len(self._pieces[0][1]) >= WINDOW:
            self._kept -= len(self._pieces.popleft()[1])

    def _forget(self) -> None:
        self._pieces.clear()
        self._kept = 0

    def _from_window(self, offset: int, size: int, end: int) -> bytes | None:
        """The bytes at ``offset`` if the window holds all of them (or up to the end)."""
        if not self._pieces or offset < self._pieces[0][0]:
            return None
        stop = min(offset + size, end)
        parts: list[bytes] = []
        for start, data in self._pieces:
            piece_end = start + len(data)
            if piece_end <= offset or start >= stop:
                continue
            parts.append(data[max(0, offset - start) : stop - start])
        return b"".join(parts)

    def _read_exactly(self, size: int) -> bytes:
        parts: list[bytes] = []
        position = self.reader.tell()
        while size > 0:
            data = self.reader.read(size)
            if not data:
                break
            self._remember(position, data)
            position += len(data)
            parts.append(data)
            size -= len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, size: int, offset: int) -> bytes:
        """Up to ``size`` bytes at ``offset``; short only at the end of the blob."""
        with self._lock:
            position = self.reader.tell()
            if offset < position:
                if offset + size <= position:
                    cached = self._from_window(offset, size, position)
                    if cached is not None:
                        return cached
                elif self._pieces and offset >= self._pieces[0][0]:
                    head = self._from_window(offset, size, position)
                    if head is not None:
                        return head + self._read_exactly(offset + size - position)
                self._forget()
                self.reader.seek(offset)
            elif offset > position:
                if offset - position <= WINDOW:
                    self._read_exactly(offset - position)
                    if self.reader.tell() < offset:
                        return b""
                else:
                    self._forget()
                    self.reader.seek(offset)
            return self._read_exactly(size)

    def close(self) -> None:
        """Close the reader and drop the window."""
        self._forget()
        self.reader.close()
