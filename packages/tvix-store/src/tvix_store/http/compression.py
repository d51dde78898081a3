"""The compressions of a Nix binary cache: names, file extensions, streaming (de)compressors.

Nix names a narinfo's ``Compression`` ``none``, ``xz``, ``bzip2`` or ``zstd`` and
stores the file as ``nar/<hash>.nar``, ``.nar.xz``, ``.nar.bz2`` or ``.nar.zst``.
Compressors work chunk by chunk (for NARs rendered on the fly); decompressors
are file-like readers that hand out at most the requested size, so a small
compressed upload cannot expand into unbounded memory.
"""

from __future__ import annotations

import bz2
import enum
import lzma
from typing import Any, Protocol

__all__ = [
    "ChunkCompressor",
    "Compression",
    "CompressionError",
    "DecompressingReader",
    "RawReader",
]


class CompressionError(ValueError):
    """A compressed stream is malformed, or a compression name is unknown."""


class Compression(enum.Enum):
    """A compression a binary cache may store NARs in, by its narinfo name."""

    NONE = "none"
    XZ = "xz"
    BZIP2 = "bzip2"
    ZSTD = "zstd"

    @property
    def extension(self) -> str:
        """What follows ``.nar`` in a file name (empty for none)."""
        return _EXTENSIONS[self]

    @classmethod
    def from_name(cls, name: str) -> Compression:
        """The compression a narinfo ``Compression:`` value names."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise CompressionError(f"unknown compression {name!r} (known: {known})") from None

    @classmethod
    def from_extension(cls, extension: str) -> Compression:
        """The compression a file name suffix after ``.nar`` stands for."""
        for compression, ext in _EXTENSIONS.items():
            if ext == extension:
                return compression
        raise CompressionError(f"unknown compression extension {extension!r}")


_EXTENSIONS = {
    Compression.NONE: "",
    Compression.XZ: ".xz",
    Compression.BZIP2: ".bz2",
    Compression.ZSTD: ".zst",
}


class ChunkCompressor:
    """Compresses a stream given in chunks; :meth:`flush` ends it.

    Levels favour speed (NARs are compressed while being served): xz preset 1,
    zstd level 3, bzip2 level 9 (bzip2's speed barely depends on the level).
    """

    def __init__(self, compression: Compression) -> None:
        self.compression = compression
        self._impl: Any
        if compression is Compression.XZ:
            self._impl = lzma.LZMACompressor(lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=1)
        elif compression is Compression.BZIP2:
            self._impl = bz2.BZ2Compressor(9)
        elif compression is Compression.ZSTD:
            import zstandard

            self._impl = zstandard.ZstdCompressor(level=3).compressobj()
        else:
            self._impl = None

    def compress(self, data: bytes) -> bytes:
        """The compressed bytes available after ``data`` (possibly empty)."""
        if self._impl is None:
            return data
        out: bytes = self._impl.compress(data)
        return out

    def flush(self) -> bytes:
        """The rest of the compressed stream."""
        if self._impl is None:
            return b""
        out: bytes = self._impl.flush()
        return out


class RawReader(Protocol):
    """Where compressed bytes come from."""

    def read(self, size: int, /) -> bytes: ...


_INPUT_CHUNK = 1 << 16


class DecompressingReader:
    """A reader of the decompressed form of ``raw``.

    ``read(n)`` returns at most ``n`` bytes and ``b""`` only at the end. A
    stream that ends before the compressed data does, or has data after it,
    is a :class:`CompressionError`.
    """

    def __init__(self, raw: RawReader, compression: Compression) -> None:
        self._raw = raw
        self.compression = compression
        self._stream: Any = None
        self._impl: Any = None
        self._pending = b""
        self._eof = False
        if compression is Compression.ZSTD:
            import zstandard

            source: Any = raw  # zstandard only needs read(); its stubs ask for IO[bytes]
            self._stream = zstandard.ZstdDecompressor().stream_reader(
                source, read_size=_INPUT_CHUNK, read_across_frames=True, closefd=False
            )
        elif compression is Compression.XZ:
            self._impl = lzma.LZMADecompressor(lzma.FORMAT_XZ)
        elif compression is Compression.BZIP2:
            self._impl = bz2.BZ2Decompressor()

    def read(self, size: int, /) -> bytes:
        if size <= 0 or self._eof:
            return b""
        if self.compression is Compression.NONE:
            return self._raw.read(size)
        if self._stream is not None:
            return self._read_zstd(size)
        return self._read_incremental(size)

    def _read_zstd(self, size: int) -> bytes:
        import zstandard

        try:
            data: bytes = self._stream.read(size)
        except zstandard.ZstdError as e:
            raise CompressionError(f"invalid zstd data: {e}") from None
        if not data:
            self._eof = True
        return data

    def _read_incremental(self, size: int) -> bytes:
        impl = self._impl
        while True:
            if impl.eof:
                self._eof = True
                if impl.unused_data or self._raw.read(1):
                    raise CompressionError(
                        f"data after the end of the {self.compression.value} stream"
                    )
                return b""
            if impl.needs_input:
                chunk = self._raw.read(_INPUT_CHUNK)
                if not chunk:
                    raise CompressionError(f"the {self.compression.value} stream is truncated")
            else:
                chunk = b""
            try:
                out: bytes = impl.decompress(chunk, max_length=size)
            except (OSError, lzma.LZMAError, EOFError) as e:
                raise CompressionError(f"invalid {self.compression.value} data: {e}") from None
            if out:
                return out
