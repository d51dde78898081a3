"""Buffered, offset-tracking access to a NAR byte stream, with NAR string decoding.

The common case (the expected token is there, padding is zero) costs one buffer comparison;
descriptions for error messages are only formatted when an error is raised.
"""

from __future__ import annotations

import struct

from nix_compat.nar.errors import NarError
from nix_compat.nar.wire import BinaryReader, encode_string, readinto_of

__all__ = ["Description", "NarInput", "NarPath", "describe", "show_path"]

READ_SIZE = 256 * 1024
"""How much is requested from the underlying stream at a time."""

MAX_TOKEN_LEN = 16
"""Longest structural token ("nix-archive-1" is 13 bytes); longer strings are never tokens."""

NarPath = tuple[bytes, ...]
"""The entry names from the root to a node; the root itself is ``()``."""

Description = str | tuple[str, NarPath]
"""What is being read, for error messages: a text, or a text and the node path it concerns."""

_unpack_u64 = struct.Struct("<Q").unpack_from
_ZEROS = bytes(8)
_ENCODED: dict[tuple[bytes, ...], bytes] = {}


def show_path(path: NarPath) -> str:
    """A node path as ``/a/b`` for messages (``/`` is the root)."""
    return "/" + "/".join(name.decode("utf-8", "backslashreplace") for name in path)


def describe(what: Description) -> str:
    """The message text of a description."""
    if isinstance(what, str):
        return what
    label, path = what
    return f"{label} {show_path(path)}"


class NarInput:
    """Reads exact byte counts from a stream and knows the offset of the next byte.

    Data is read (with ``readinto`` where the stream has it) into one buffer
    that is used over and over: what is left of it moves to its front before it
    is refilled, so nothing is joined or sliced into new objects on the way,
    and file contents are copied once, straight into the caller's buffer.
    """

    __slots__ = ("_base", "_buf", "_end", "_pos", "_stream_readinto", "_view")

    def __init__(self, stream: BinaryReader) -> None:
        self._stream_readinto = readinto_of(stream)
        self._buf = bytearray(READ_SIZE)
        self._view = memoryview(self._buf)
        self._pos = 0
        self._end = 0
        self._base = 0  # offset in the stream of the buffer's first byte

    @property
    def offset(self) -> int:
        """Offset in the stream of the next unread byte."""
        return self._base + self._pos

    def _fill(self, need: int) -> None:
        """Try to have ``need`` bytes buffered from ``_pos`` on (which becomes 0)."""
        pos, rest = self._pos, self._end - self._pos
        if need > len(self._buf):
            self._view.release()
            self._buf.extend(bytes(need - len(self._buf)))
            self._view = memoryview(self._buf)
        view = self._view
        if rest and pos:
            view[:rest] = view[pos : self._end]
        self._base += pos
        self._pos, self._end = 0, rest
        while rest < need:
            got = self._stream_readinto(view[rest:])
            if not got:
                break
            rest += got
            self._end = rest

    def _truncated(self, what: Description) -> NarError:
        return NarError(f"archive truncated while reading {describe(what)}", self._base + self._end)

    def take(self, n: int, what: Description) -> bytes:
        """Exactly ``n`` bytes, or :class:`NarError` naming ``what`` was being read."""
        pos = self._pos
        if self._end - pos < n:
            self._fill(n)
            pos = 0
            if self._end < n:
                raise self._truncated(what)
        self._pos = pos + n
        return bytes(self._view[pos : pos + n])

    def readinto(self, view: memoryview) -> int:
        """Read up to ``len(view)`` bytes into ``view``; 0 only at end of stream."""
        pos = self._pos
        available = self._end - pos
        if not available:
            if len(view) >= len(self._buf):
                got = self._stream_readinto(view)
                self._base += got
                return got
            self._fill(1)
            pos, available = 0, self._end
            if not available:
                return 0
        n = min(available, len(view))
        view[:n] = self._view[pos : pos + n]
        self._pos = pos + n
        return n

    def skip(self, n: int, what: Description) -> None:
        """Discard exactly ``n`` bytes without holding them all in memory."""
        while n:
            available = self._end - self._pos
            if not available:
                self._fill(1)
                available = self._end
                if not available:
                    raise self._truncated(what)
            step = min(available, n)
            self._pos += step
            n -= step

    def at_eof(self) -> bool:
        """Whether the stream has no more bytes."""
        if self._pos < self._end:
            return False
        self._fill(1)
        return not self._end

    def read_u64(self, what: Description) -> int:
        """A little-endian unsigned 64-bit integer."""
        pos = self._pos
        if self._end - pos < 8:
            self._fill(8)
            pos = 0
            if self._end < 8:
                raise self._truncated(what)
        self._pos = pos + 8
        value: int = _unpack_u64(self._buf, pos)[0]
        return value

    def read_padding(self, length: int, what: Description) -> None:
        """Consume and check the zero padding that follows ``length`` bytes of data."""
        n = -length % 8
        if not n:
            return
        pos = self._pos
        if self._end - pos >= n and self._buf.startswith(_ZEROS[:n], pos):
            self._pos = pos + n
            return
        start = self.offset
        if self.take(n, _padding_of(what)) != _ZEROS[:n]:
            raise NarError(f"non-zero padding after {describe(what)}", start)

    def read_string(self, max_len: int, what: Description, *, token: bool = False) -> bytes:
        """One length-prefixed padded string of at most ``max_len`` bytes.

        ``token`` marks a structural token, whose length error says a token was expected.
        """
        pos = self._pos
        start = self._base + pos
        if self._end - pos >= 8:
            length: int = _unpack_u64(self._buf, pos)[0]
            self._pos = pos + 8
        else:
            length = self.read_u64(_length_of(what))
        if length > max_len:
            if token:
                raise NarError(
                    f"expected {describe(what)}, found a string of {length} bytes", start
                )
            raise NarError(f"{describe(what)} is {length} bytes long, more than {max_len}", start)
        padded = (length + 7) & ~7
        pos = self._pos
        if self._end - pos < padded:
            self._fill(padded)
            pos = 0
            if self._end < padded:
                raise self._truncated(what if self._end < length else _padding_of(what))
        self._pos = pos + padded
        end = pos + length
        if padded != length and not self._buf.startswith(_ZEROS[: padded - length], end):
            raise NarError(f"non-zero padding after {describe(what)}", self._base + end)
        return bytes(self._view[pos:end])

    def match(self, encoded: bytes) -> bool:
        """Consume ``encoded`` if the buffered bytes start with it; else consume nothing.

        A fast path for the expected case: False may also mean that not enough
        is buffered, so the caller goes on to read token by token.
        """
        if self._buf.startswith(encoded, self._pos, self._end):
            self._pos += len(encoded)
            return True
        return False

    def read_token(self, what: Description) -> bytes:
        """A structural token, for the caller to check against what it expects."""
        return self.read_string(MAX_TOKEN_LEN, what, token=True)

    def expect(self, *tokens: bytes) -> None:
        """Consume ``tokens`` in order, or raise :class:`NarError` naming the first mismatch."""
        encoded = _ENCODED.get(tokens)
        if encoded is None:
            encoded = _ENCODED[tokens] = b"".join(encode_string(t) for t in tokens)
        if self._buf.startswith(encoded, self._pos, self._end):
            self._pos += len(encoded)
            return
        for token in tokens:
            start = self.offset
            what = f"token {token.decode()!r}"
            found = self.read_token(what)
            if found != token:
                raise NarError(f"expected {what}, found {found!r}", start)


def _length_of(what: Description) -> Description:
    if isinstance(what, str):
        return f"the length of {what}"
    return (f"the length of {what[0]}", what[1])


def _padding_of(what: Description) -> Description:
    if isinstance(what, str):
        return f"the padding of {what}"
    return (f"the padding of {what[0]}", what[1])
