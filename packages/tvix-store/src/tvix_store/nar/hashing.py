"""Reading a NAR stream while its sha256 is computed on a second thread."""

from __future__ import annotations

import hashlib
import queue
import threading

from nix_compat.nar.wire import BinaryReader

__all__ = ["READ_BLOCK", "HashingReader"]

READ_BLOCK = 1 << 20
"""How much :class:`HashingReader` reads from the stream at a time."""

_BLOCKS = 8
"""Blocks in flight at most: being hashed, waiting for it, or being parsed."""


class HashingReader:
    """Wraps a binary stream, counting and sha256-hashing every byte read through it.

    The stream is read on the caller's thread (some streams must be), into a
    few blocks of :data:`READ_BLOCK` bytes that are used over and over: a
    second thread hashes each filled block and hands it back. hashlib releases
    the GIL while it hashes, and large blocks keep small the number of times
    that thread has to win the GIL back. Reusing the blocks (rather than
    reading into fresh objects) spares the allocator giving memory back to the
    system and faulting it in again for every block. Call :meth:`close` when
    done (``digest`` does).
    """

    def __init__(self, stream: BinaryReader) -> None:
        self._read = stream.read
        self._readinto = getattr(stream, "readinto", None)
        self._hasher = hashlib.sha256()
        self.size = 0
        self._unallocated = _BLOCKS
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._block = memoryview(b"")
        self._offset = 0
        self._thread = threading.Thread(target=self._run, name="nar-sha256", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self) -> None:
        update, get, give_back = self._hasher.update, self._filled.get, self._free.put
        while (item := get()) is not None:
            block, length = item
            update(memoryview(block)[:length])
            give_back(block)

    def _next_block(self) -> bool:
        """Fill the next block (up to the end of the stream); False at the end."""
        if self._unallocated:
            self._unallocated -= 1
            block = bytearray(READ_BLOCK)
        else:
            block = self._free.get()  # once the hashing thread is done with it
        view = memoryview(block)
        length = 0
        while length < READ_BLOCK:
            got = self._read_into(view[length:])
            if not got:
                break
            length += got
        if not length:
            self._free.put(block)
            return False
        self.size += length
        self._filled.put((block, length))
        self._block, self._offset = view[:length], 0
        return True

    def _read_into(self, view: memoryview) -> int:
        if self._readinto is not None:
            return int(self._readinto(view) or 0)
        data = self._read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int, /) -> bytes:
        """Up to ``size`` bytes (fewer at the end of a block), empty only at the end."""
        if self._offset >= len(self._block) and not self._next_block():
            return b""
        start = self._offset
        data = bytes(self._block[start : start + size])
        self._offset = start + len(data)
        return data

    def readinto(self, buffer: memoryview, /) -> int:
        """Copy up to ``len(buffer)`` bytes into ``buffer``; 0 only at the end."""
        if self._offset >= len(self._block) and not self._next_block():
            return 0
        start = self._offset
        piece = self._block[start : start + len(buffer)]
        buffer[: len(piece)] = piece
        self._offset = start + len(piece)
        return len(piece)

    def close(self) -> None:
        """Stop the hashing thread (idempotent)."""
        if not self._closed:
            self._closed = True
            self._filled.put(None)
            self._thread.join()

    def digest(self) -> bytes:
        """The sha256 of everything read (stops the hashing thread)."""
        self.close()
        return self._hasher.digest()
