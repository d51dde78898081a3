"""Reading a NAR stream while its sha256 is computed on another thread."""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading

from nix_compat.nar.wire import BinaryReader, readinto_of

__all__ = ["READ_BLOCK", "HashingReader", "is_regular_file"]

READ_BLOCK = 1 << 20
"""How much :class:`HashingReader` reads from the stream at a time."""

_BLOCKS = 8
"""Blocks in flight at most: being read, hashed, waiting for either, or being parsed."""

_Block = tuple[bytearray, int]
"""A filled block and the length of its data."""

_Filled = _Block | BaseException | None
"""What the caller's thread is handed when reading ahead: a block, a read error, or the end."""


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
    hashing thread hashes each filled block before it is reused. hashlib
    releases the GIL while it hashes, and large blocks keep small the number
    of times that thread has to win the GIL back. Reusing the blocks (rather
    than reading into fresh objects) spares the allocator giving memory back
    to the system and faulting it in again for every block.

    Who reads the stream depends on ``read_ahead``: by default a reading
    thread does for a regular file (which it can read without ever blocking,
    and whose reads then cost the parsing thread nothing): it hands each block
    to the hashing thread and the caller at once, and reuses it once both gave
    it back. Any other stream is read on the caller's thread (some must be,
    e.g. a request body bridged from an event loop). Read ahead, the hash
    covers what the thread read, which is everything once the caller has read
    to the end. Call :meth:`close` when done (``digest`` does).
    """

    def __init__(self, stream: BinaryReader, *, read_ahead: bool | None = None) -> None:
        self._read_into = readinto_of(stream)
        self._hasher = hashlib.sha256()
        self.size = 0
        self._unallocated = _BLOCKS
        self._free: queue.SimpleQueue[bytearray | None] = queue.SimpleQueue()
        self._to_hash: queue.SimpleQueue[_Block | None] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[_Filled] = queue.SimpleQueue()
        self._current: bytearray | None = None
        self._block = memoryview(b"")
        self._offset = 0
        self._at_end = False
        self._stopping = False
        self._read_ahead = is_regular_file(stream) if read_ahead is None else read_ahead
        self._thread = threading.Thread(target=self._hash, name="nar-sha256", daemon=True)
        self._thread.start()
        self._reader: threading.Thread | None = None
        if self._read_ahead:
            self._reader = threading.Thread(target=self._read_loop, name="nar-read", daemon=True)
            self._reader.start()
        self._closed = False

    def _hash(self) -> None:
        """The hashing thread's loop: hash each filled block, give it back."""
        update, get, give_back = self._hasher.update, self._to_hash.get, self._free.put
        while isinstance(item := get(), tuple):
            block, length = item
            update(memoryview(block)[:length])
            give_back(block)

    def _read_loop(self) -> None:
        """The reading thread's loop: fill a block (once both users gave it back), pass it on."""
        hash_it, hand_over = self._to_hash.put, self._filled.put
        returns: dict[int, int] = {}
        try:
            while not self._stopping:
                if self._unallocated:
                    self._unallocated -= 1
                    block: bytearray | None = bytearray(READ_BLOCK)
                else:
                    while True:
                        block = self._free.get()
                        if block is None:
                            return
                        count = returns.pop(id(block), 0) + 1
                        if count == 2:
                            break
                        returns[id(block)] = count
                assert block is not None
                length = self._fill(block)
                if not length:
                    hash_it(None)
                    hand_over(None)
                    return
                hash_it((block, length))
                hand_over((block, length))
        except BaseException as e:  # handed to the caller's thread, which raises it
            hash_it(None)
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
            self._to_hash.put((block, length))
        self._current = block
        self.size += length
        self._block, self._offset = memoryview(block)[:length], 0
        return True

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
        """Stop the threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._stopping = True
            self._free.put(None)  # wakes the thread if it waits for a block
            self._reader.join()
        self._to_hash.put(None)
        self._thread.join()

    def digest(self) -> bytes:
        """The sha256 of everything read (stops the threads).

        Read ahead, the caller must have read to the end first: the reading
        thread may have read more than the caller did.
        """
        if self._read_ahead and not self._at_end:
            raise ValueError("the digest of a read-ahead stream is known only at its end")
        self.close()
        return self._hasher.digest()
