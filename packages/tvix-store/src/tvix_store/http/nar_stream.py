"""A stored tree as NAR bytes for an HTTP response: rendered on the fly, sliced, compressed.

Nothing is kept on disk: each request renders the NAR from castore (through
:func:`tvix_store.nar.iter_nar`), coalesces the renderer's small writes into
large chunks, cuts out a byte range if one was asked for and compresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode
from tvix_castore.directoryservice.base import DirectoryService

from tvix_store.http.compression import ChunkCompressor, Compression
from tvix_store.nar import iter_nar

__all__ = ["ByteRange", "RangeNotSatisfiableError", "nar_chunks", "parse_range"]

OUT_CHUNK = 256 << 10
"""Bytes gathered before a chunk is compressed and sent."""

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True)
class ByteRange:
    """The bytes ``start`` to ``end`` inclusive of a ``size``-byte file."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        """How many bytes the range covers."""
        return self.end - self.start + 1

    def content_range(self) -> str:
        """The ``Content-Range`` header value."""
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiableError(ValueError):
    """A ``Range`` header asks for bytes beyond the end of the file (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks for, or None to send everything.

    Multiple ranges and unknown units are ignored (RFC 9110 allows a server to
    answer them with the whole file); an unsatisfiable range raises.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(header)
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiableError(header)
    return ByteRange(start, end, size)


def nar_chunks(
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
    compression: Compression,
    byte_range: ByteRange | None = None,
) -> Iterator[bytes]:
    """The NAR of ``root`` (or the range of it), compressed, in chunks of about OUT_CHUNK bytes."""
    compressor = ChunkCompressor(compression)
    skip = byte_range.start if byte_range else 0
    left = byte_range.length if byte_range else -1
    buffer = bytearray()
    chunks = iter_nar(root, blob_service, directory_service)
    try:
        for rendered in chunks:
            piece = rendered
            if skip:
                if len(piece) <= skip:
                    skip -= len(piece)
                    continue
                piece = piece[skip:]
                skip = 0
            if left >= 0:
                piece = piece[:left]
                left -= len(piece)
            buffer += piece
            if len(buffer) >= OUT_CHUNK:
                out = compressor.compress(bytes(buffer))
                buffer.clear()
                if out:
                    yield out
            if left == 0:
                break
        out = compressor.compress(bytes(buffer)) + compressor.flush()
        if out:
            yield out
    finally:
        chunks.close()
