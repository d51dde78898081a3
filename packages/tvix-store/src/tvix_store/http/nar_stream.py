"""A stored tree as NAR bytes for an HTTP response: rendered on the fly, sliced, compressed.

Nothing is kept on disk: each request renders the NAR from castore (through
:func:`tvix_store.nar.iter_nar`), coalesces the renderer's small writes into
pieces of a fixed size, compresses them and cuts out a byte range (of the
file as sent, i.e. of the compressed bytes) if one was asked for. A
compressed file's size is learnt by a first pass that only counts the bytes
(:func:`measure_compressed`); the compressors are deterministic, so the pass
that is sent produces the same bytes, which :func:`checked_chunks` confirms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode
from tvix_castore.directoryservice.base import DirectoryService

from tvix_store.http.compressed_files import CompressedFile
from tvix_store.http.compression import ChunkCompressor, Compression
from tvix_store.nar import iter_nar

__all__ = [
    "ByteRange",
    "CompressedStreamMismatchError",
    "RangeNotSatisfiableError",
    "checked_chunks",
    "compressed_chunks",
    "measure_compressed",
    "nar_chunks",
    "parse_range",
    "sliced",
]

OUT_CHUNK = 256 << 10
"""Bytes gathered before a chunk is compressed and sent."""

Chunks = Generator[bytes, None, None]
"""A stream of byte chunks that can be closed early (which releases what renders it)."""

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


def _pieces(rendered: Iterator[bytes]) -> Iterator[bytes]:
    """The rendered NAR in pieces of exactly OUT_CHUNK bytes (the last one shorter).

    The compressors see the same sequence of inputs whatever the renderer's
    write sizes, so compressing a NAR twice yields the same bytes.
    """
    buffer = bytearray()
    for chunk in rendered:
        buffer += chunk
        while len(buffer) >= OUT_CHUNK:
            yield bytes(buffer[:OUT_CHUNK])
            del buffer[:OUT_CHUNK]
    if buffer:
        yield bytes(buffer)


def compressed_chunks(
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
    compression: Compression,
) -> Chunks:
    """The NAR of ``root``, compressed, in non-empty chunks; the same bytes on every call."""
    compressor = ChunkCompressor(compression)
    rendered = iter_nar(root, blob_service, directory_service)
    try:
        for piece in _pieces(rendered):
            out = compressor.compress(piece)
            if out:
                yield out
        out = compressor.flush()
        if out:
            yield out
    finally:
        rendered.close()


def measure_compressed(
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
    compression: Compression,
) -> CompressedFile:
    """Compress the NAR of ``root`` only to learn the file's size and sha256 (nothing is kept)."""
    size = 0
    digest = hashlib.sha256()
    chunks = compressed_chunks(root, blob_service, directory_service, compression)
    try:
        for chunk in chunks:
            size += len(chunk)
            digest.update(chunk)
    finally:
        chunks.close()
    return CompressedFile(size, digest.digest())


def checked_chunks(
    chunks: Chunks, expected: CompressedFile, on_mismatch: Callable[[str], None]
) -> Chunks:
    """``chunks``, checked to add up to ``expected``; a difference ends the stream with an error.

    The response announced ``expected.size`` bytes, so a stream producing
    other bytes cannot be answered correctly: ``on_mismatch`` hears why and
    the response is cut off (the client sees a failed transfer, not wrong data).
    """
    size = 0
    digest = hashlib.sha256()
    try:
        message = None
        for chunk in chunks:
            size += len(chunk)
            if size > expected.size:
                message = f"compressed to more than the {expected.size} bytes announced"
                break
            digest.update(chunk)
            yield chunk
        else:
            if size != expected.size:
                message = f"compressed to {size} bytes, not the {expected.size} bytes announced"
            elif digest.digest() != expected.sha256:
                message = "compressed to other bytes than announced"
        if message is not None:
            on_mismatch(message)
            raise CompressedStreamMismatchError(message)
    finally:
        chunks.close()


class CompressedStreamMismatchError(RuntimeError):
    """A compression pass produced other bytes than the measuring pass did."""


def sliced(chunks: Chunks, byte_range: ByteRange | None) -> Chunks:
    """The bytes of ``byte_range`` out of ``chunks`` (all of them without a range)."""
    if byte_range is None:
        yield from chunks
        return
    skip = byte_range.start
    left = byte_range.length
    try:
        for chunk in chunks:
            piece = chunk
            if skip:
                if len(piece) <= skip:
                    skip -= len(piece)
                    continue
                piece = piece[skip:]
                skip = 0
            piece = piece[:left]
            left -= len(piece)
            if piece:
                yield piece
            if left == 0:
                break
    finally:
        chunks.close()


def nar_chunks(
    root: ChildNode,
    blob_service: BlobService,
    directory_service: DirectoryService,
    compression: Compression,
    byte_range: ByteRange | None = None,
) -> Chunks:
    """The NAR of ``root``, compressed, in chunks (the range of the compressed file, if given)."""
    return sliced(compressed_chunks(root, blob_service, directory_service, compression), byte_range)
