"""Reading a NAR stream while its sha256 is computed on a second thread."""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading

from nix_compat.nar.wire import BinaryReader

__all__ = ["READ_BLOCK", "HashingReader", "is_regular_file"]

READ_BLOCK = 1 << 20
"""How much :class:`HashingReader` reads from the stream at a time."""

_BLOCKS = 8
"""Blocks in flight at most: being read, hashed, waiting for either, or being parsed."""

_Filled = tuple[bytearray, int] | BaseException | None
"""What the caller's thread is handed: a block and its length, a read error, or the end."""


def is_regular_file(stream: BinaryReader) -> bool:
    """Whether ``stream`` reads a regular file, which any thread may read without blocking."""
    fileno = getattr(stream, "fileno", None)
    if fileno is None:
        return False
    try:
        return stat.S_ISREG(os.fstat(fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


class HashingReader:
    """Wraps a binary stream, counting and sha256-hashing every byte read through it.

    A few blocks of :data:`READ_BLOCK` bytes are used over and over, and a
    second thread hashes each filled block before it is handed back. hashlib
    releases the GIL while it hashes, and large blocks keep small the number
    of times that thread has to win the GIL back. Reusing the blocks (rather
    than reading into fresh objects) spares the allocator giving memory back
    to the system and faulting it in again for every block.

    Who reads the stream depends on ``read_ahead``: by default the second
    thread does for a regular file (which it can read without ever blocking,
    and whose reads then cost the parsing thread nothing), and the caller's
    thread for any other stream (some must be read on the thread that uses
    them, e.g. a request body bridged from an event loop). Read ahead, the
    hash covers what the thread read, which is everything once the caller
    has read to the end. Call :meth:`close` when done (``digest`` does).
    """

    def __init__(self, stream: BinaryReader, *, read_ahead: bool | None = None) -> None:
        self._read = stream.read
        self._readinto = getattr(stream, "readinto", None)
        self._hasher = hashlib.sha256()
        self.size = 0
        self._unallocated = _BLOCKS
        self._free: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[_Filled] = queue.SimpleQueue()
        self._current: bytearray | None = None
        self._block = memoryview(b"")
        self._offset = 0
        self._at_end = False
        self._stopping = False
        self._read_ahead = is_regular_file(stream) if read_ahead is None else read_ahead
        target = self._read_and_hash if self._read_ahead else self._hash
        self._thread = threading.Thread(target=target, name="nar-sha256", daemon=True)
        self._thread.start()
        self._closed = False

    def _hash(self) -> None:
        """The thread's loop when the caller reads: hash each block filled, hand it back."""
        update, get, give_back = self._hasher.update, self._filled.get, self._free.put
        while isinstance(item := get(), tuple):
            block, length = item
            update(memoryview(block)[:length])
            give_back(block)

    def _read_and_hash(self) -> None:
        """The thread's loop when reading ahead: fill a free block, hash it, pass it on."""
        update, hand_over = self._hasher.update, self._filled.put
        try:
            while not self._stopping:
                if self._unallocated:
                    self._unallocated -= 1
                    block: bytearray | None = bytearray(READ_BLOCK)
                else:
                    block = self._free.get()
                if block is None:  # closed
                    return
                length = self._fill(block)
                if not length:
                    hand_over(None)
                    return
                update(memoryview(block)[:length])
                hand_over((block, length))
        except BaseException as e:  # handed to the caller's thread, which raises it
            hand_over(e)

    def _fill(self, block: bytearray) -> int:
        """Fill ``block`` from the stream (less only at its end); returns the length."""
        view = memoryview(block)
        length = 0
        while length < READ_BLOCK:
            got = self._read_into(view[length:])
            if not got:
                break
            length += got
        return length

    def _next_block(self) -> bool:
        """Make the next block of the stream current; False at the end."""
        if self._at_end:
            return False
        if self._read_ahead:
            if self._current is not None:
                self._free.put(self._current)
                self._current = None
            item = self._filled.get()
            if isinstance(item, BaseException):
                self._at_end = True
                raise item
            if item is None:
                self._at_end = True
                return False
            block, length = item
        else:
            if self._unallocated:
                self._unallocated -= 1
                block = bytearray(READ_BLOCK)
            else:
                given_back = self._free.get()  # once the hashing thread is done with it
                assert given_back is not None
                block = given_back
            length = self._fill(block)
            if not length:
                self._free.put(block)
                self._at_end = True
                return False
            self._filled.put((block, length))
        self._current = block
        self.size += length
        self._block, self._offset = memoryview(block)[:length], 0
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
        if self._closed:
            return
        self._closed = True
        if self._read_ahead:
            self._stopping = True
            self._free.put(None)  # wakes the thread if it waits for a block
        else:
            self._filled.put(None)
        self._thread.join()

    def digest(self) -> bytes:
        """The sha256 of everything read (stops the hashing thread).

        Read ahead, the caller must have read to the end first: the thread may
        have hashed more than the caller read.
        """
        if self._read_ahead and not self._at_end:
            raise ValueError("the digest of a read-ahead stream is known only at its end")
        self.close()
        return self._hasher.digest()
