"""Positioned reads over a forward-streaming blob reader (the FUSE file handle)."""

from __future__ import annotations

import io
import os
import random

from tvix_store.fs.handle import WINDOW, BlobHandle


class ForwardReader(io.RawIOBase):
    """Streams forward; seeking back restarts from the beginning (like the gRPC reader)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self.restarts = 0
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        end = len(self._data) if size < 0 else self._pos + min(size, 100_000)
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        self.bytes_read += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        if offset < self._pos:
            self.restarts += 1
            self.bytes_read += offset  # what a restart has to stream again
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos


DATA = random.Random(7).randbytes(6 << 20)


def test_sequential_and_random_reads_are_exact() -> None:
    reader = ForwardReader(DATA)
    handle = BlobHandle(reader)  # type: ignore[arg-type]
    rng = random.Random(1)
    for _ in range(300):
        offset = rng.randrange(0, len(DATA) + 10)
        size = rng.randrange(0, 300_000)
        assert handle.read(size, offset) == DATA[offset : offset + size]


def test_out_of_order_readahead_needs_no_restart() -> None:
    reader = ForwardReader(DATA)
    handle = BlobHandle(reader)  # type: ignore[arg-type]
    block = 128 << 10
    offsets = list(range(0, len(DATA), block))
    # Pairs of neighbouring requests arrive swapped, as concurrent readahead does.
    order = [o for pair in zip(offsets[1::2], offsets[0::2], strict=False) for o in pair]
    for offset in order:
        assert handle.read(block, offset) == DATA[offset : offset + block]
    assert reader.restarts == 0
    assert reader.bytes_read == len(DATA)


def test_far_jumps_seek() -> None:
    reader = ForwardReader(DATA)
    handle = BlobHandle(reader)  # type: ignore[arg-type]
    far = WINDOW + 12345
    assert handle.read(10, far) == DATA[far : far + 10]
    assert reader.bytes_read == 10
    assert handle.read(10, 0) == DATA[:10]
    assert reader.restarts == 1
