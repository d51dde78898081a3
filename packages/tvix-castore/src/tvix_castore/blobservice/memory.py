"""``memory://``: blobs in a dict, for tests and throw-away stores."""

from __future__ import annotations

import bisect
import os
import threading
from typing import Self

import blake3

from tvix_castore.blobservice.base import BlobReader, BlobService, BlobStat, BlobWriter
from tvix_castore.digests import B3Digest
from tvix_castore.registry import ServiceUrl, require_no_host, require_no_path


class BytesBlobReader(BlobReader):
    """A seekable reader over a blob held in memory as a sequence of immutable parts."""

    def __init__(self, data: bytes | tuple[bytes | memoryview, ...]) -> None:
        super().__init__()
        self._parts = (data,) if isinstance(data, bytes) else data
        self._starts: list[int] = []
        total = 0
        for part in self._parts:
            self._starts.append(total)
            total += len(part)
        self._size = total
        self._pos = 0

    def read(self, size: int = -1, /) -> bytes:
        self._checkClosed()
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        pieces: list[bytes | memoryview] = []
        while self._pos < end:
            index = bisect.bisect_right(self._starts, self._pos) - 1
            part, offset = self._parts[index], self._pos - self._starts[index]
            take = min(len(part) - offset, end - self._pos)
            pieces.append(part if take == len(part) else part[offset : offset + take])
            self._pos += take
        if len(pieces) == 1 and isinstance(pieces[0], bytes):
            return pieces[0]
        return b"".join(pieces)

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        self._checkClosed()
        self._pos = resolve_seek(offset, whence, self._pos, self._size)
        return self._pos

    def tell(self) -> int:
        return self._pos


def resolve_seek(offset: int, whence: int, position: int, size: int | None) -> int:
    """The absolute position a ``seek(offset, whence)`` asks for; negative results are errors."""
    if whence == os.SEEK_SET:
        target = offset
    elif whence == os.SEEK_CUR:
        target = position + offset
    elif whence == os.SEEK_END:
        if size is None:
            raise OSError("seeking relative to the end is not supported by this reader")
        target = size + offset
    else:
        raise ValueError(f"invalid whence {whence}")
    if target < 0:
        raise OSError(f"negative seek position {target}")
    return target


class MemoryBlobWriter(BlobWriter):
    """Collects the blob in memory and inserts it into the dict on close."""

    def __init__(self, service: MemoryBlobService) -> None:
        super().__init__()
        self._service = service
        self._parts: list[bytes | memoryview] = []
        self._hasher = blake3.blake3()

    def _write(self, data: bytes | memoryview) -> None:
        self._hasher.update(data)
        immutable = isinstance(data, bytes) or isinstance(data.obj, bytes)
        self._parts.append(data if immutable else bytes(data))

    def _commit(self) -> B3Digest:
        digest = B3Digest(self._hasher.digest())
        data = tuple(part for part in self._parts if part)
        self._parts = []
        with self._service._lock:
            self._service._blobs.setdefault(digest, data)
        return digest

    def _discard(self) -> None:
        self._parts = []


class MemoryBlobService(BlobService):
    """Blobs kept in a dict in this process."""

    def __init__(self) -> None:
        self._blobs: dict[bytes, tuple[bytes | memoryview, ...]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``memory://`` or ``memory:``; a host or a path is refused."""
        require_no_host(url)
        require_no_path(url)
        return cls()

    def has(self, digest: B3Digest) -> bool:
        return digest in self._blobs

    def stat(self, digest: B3Digest) -> BlobStat | None:
        data = self._blobs.get(digest)
        return None if data is None else BlobStat(size=sum(map(len, data)))

    def open_read(self, digest: B3Digest) -> BlobReader | None:
        data = self._blobs.get(digest)
        return None if data is None else BytesBlobReader(data)

    def open_write(self) -> BlobWriter:
        return MemoryBlobWriter(self)
