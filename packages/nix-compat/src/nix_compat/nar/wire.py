"""The byte-level vocabulary of NAR: length-prefixed padded strings and the fixed token runs.

Every NAR string is a little-endian u64 length, the bytes, then zero padding to a multiple of
eight. The writer emits the pre-encoded token runs below; the reader checks them one by one.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Protocol, TypeAlias

__all__ = [
    "MAX_NAME_LEN",
    "MAX_TARGET_LEN",
    "TOK_DIR",
    "TOK_ENT",
    "TOK_EXE",
    "TOK_NAR",
    "TOK_NOD",
    "TOK_PAR",
    "TOK_REG",
    "TOK_SYM",
    "BinaryReader",
    "BinarySink",
    "FsPath",
    "encode_string",
    "invalid_name_reason",
    "invalid_target_reason",
    "padding",
    "readinto_of",
]

MAX_NAME_LEN = 255
"""Longest directory entry name accepted (Linux NAME_MAX)."""

MAX_TARGET_LEN = 4095
"""Longest symlink target accepted (Linux PATH_MAX minus the terminating NUL)."""

FsPath: TypeAlias = str | bytes | os.PathLike[str] | os.PathLike[bytes]
"""A filesystem path as the os module accepts it."""

_U64 = struct.Struct("<Q")
_ZEROS = bytes(8)


class BinarySink(Protocol):
    """Anything with a ``write`` for bytes: a file opened ``wb``, a socket, a hashing wrapper."""

    def write(self, data: bytes | bytearray | memoryview, /) -> object: ...


class BinaryReader(Protocol):
    """Anything with a ``read(n)`` returning bytes (empty at end of stream)."""

    def read(self, size: int, /) -> bytes: ...


def readinto_of(stream: BinaryReader) -> Callable[[memoryview], int]:
    """A ``readinto`` for ``stream``: its own if it has one, else one built on ``read``.

    The function fills a prefix of the view it is given and returns the count,
    0 only at the end of the stream.
    """
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return lambda view: int(readinto(view) or 0)
    read = stream.read

    def from_read(view: memoryview) -> int:
        data = read(len(view))
        view[: len(data)] = data
        return len(data)

    return from_read


def padding(length: int) -> bytes:
    """The zero bytes that follow ``length`` bytes of string data."""
    return _ZEROS[: -length % 8]


def encode_string(data: bytes) -> bytes:
    """One NAR string: length prefix, data, zero padding."""
    return _U64.pack(len(data)) + data + _ZEROS[: -len(data) % 8]


def _tokens(*words: bytes) -> bytes:
    return b"".join(encode_string(word) for word in words)


TOK_NAR = _tokens(b"nix-archive-1", b"(", b"type")
TOK_REG = _tokens(b"regular", b"contents")
TOK_EXE = _tokens(b"regular", b"executable", b"", b"contents")
TOK_SYM = _tokens(b"symlink", b"target")
TOK_DIR = _tokens(b"directory")
TOK_ENT = _tokens(b"entry", b"(", b"name")
TOK_NOD = _tokens(b"node", b"(", b"type")
TOK_PAR = _tokens(b")")


def invalid_name_reason(name: bytes) -> str | None:
    """Why ``name`` cannot be a directory entry name, or None when it can."""
    if not name:
        return "empty entry name"
    if name in (b".", b".."):
        return f"entry name {name!r} is not allowed"
    if b"/" in name:
        return f"entry name {name!r} contains '/'"
    if b"\0" in name:
        return f"entry name {name!r} contains NUL"
    if len(name) > MAX_NAME_LEN:
        return f"entry name is {len(name)} bytes long, more than {MAX_NAME_LEN}"
    return None


def invalid_target_reason(target: bytes) -> str | None:
    """Why ``target`` cannot be a symlink target, or None when it can."""
    if not target:
        return "empty symlink target"
    if b"\0" in target:
        return f"symlink target {target!r} contains NUL"
    if len(target) > MAX_TARGET_LEN:
        return f"symlink target is {len(target)} bytes long, more than {MAX_TARGET_LEN}"
    return None
