"""Compressed NARs: deterministic passes, the remembered sizes, a pass that disagrees."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Generator

import pytest
from tvix_store.http.compressed_files import CompressedFile, CompressedFiles
from tvix_store.http.compression import Compression
from tvix_store.http.nar_stream import (
    OUT_CHUNK,
    ByteRange,
    CompressedStreamMismatchError,
    checked_chunks,
    sliced,
)

XZ = Compression.XZ


def _file(data: bytes) -> CompressedFile:
    return CompressedFile(len(data), hashlib.sha256(data).digest())


def _gen(*chunks: bytes) -> Generator[bytes, None, None]:
    yield from chunks


def test_lru_bound_and_peek() -> None:
    files = CompressedFiles(2)
    files.put(b"a", XZ, _file(b"1"))
    files.put(b"b", XZ, _file(b"22"))
    assert files.peek(b"a", XZ) == _file(b"1")  # a is now the most recent
    files.put(b"c", XZ, _file(b"333"))
    assert files.peek(b"b", XZ) is None
    assert files.peek(b"a", XZ) == _file(b"1")
    assert files.peek(b"a", Compression.ZSTD) is None
    assert len(files) == 2
    files.forget(b"a", XZ)
    assert files.peek(b"a", XZ) is None
    disabled = CompressedFiles(0)
    assert disabled.get(b"a", XZ, lambda: _file(b"x")) == _file(b"x")
    assert len(disabled) == 0


def test_concurrent_requests_share_one_pass() -> None:
    files = CompressedFiles(10)
    calls: list[int] = []

    def measure() -> CompressedFile:
        calls.append(1)
        time.sleep(0.2)
        return _file(b"compressed")

    results: list[CompressedFile] = []
    threads = [
        threading.Thread(target=lambda: results.append(files.get(b"n", XZ, measure)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert results == [_file(b"compressed")] * 8


def test_failed_pass_is_not_remembered() -> None:
    files = CompressedFiles(10)

    def broken() -> CompressedFile:
        raise OSError("blob gone")

    with pytest.raises(OSError):
        files.get(b"n", XZ, broken)
    assert files.peek(b"n", XZ) is None
    assert files.get(b"n", XZ, lambda: _file(b"ok")) == _file(b"ok")


def test_checked_chunks_pass_through() -> None:
    seen: list[str] = []
    out = b"".join(checked_chunks(_gen(b"abc", b"def"), _file(b"abcdef"), seen.append))
    assert (out, seen) == (b"abcdef", [])


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ((b"abc", b"defg"), "compressed to more than the 6 bytes announced"),
        ((b"abc", b"de"), "compressed to 5 bytes, not the 6 bytes announced"),
        ((b"abc", b"deX"), "compressed to other bytes than announced"),
    ],
)
def test_checked_chunks_refuse_other_bytes(chunks: tuple[bytes, ...], message: str) -> None:
    seen: list[str] = []
    sent = bytearray()
    with pytest.raises(CompressedStreamMismatchError, match=message):
        for chunk in checked_chunks(_gen(*chunks), _file(b"abcdef"), seen.append):
            sent += chunk
    assert seen == [message]
    assert len(sent) <= 6  # never more than announced


def test_sliced() -> None:
    data = bytes(range(200))
    chunks = [data[i : i + 30] for i in range(0, 200, 30)]
    for start, end in [(0, 199), (5, 5), (29, 30), (31, 150), (190, 199)]:
        got = b"".join(sliced(_gen(*chunks), ByteRange(start, end, 200)))
        assert got == data[start : end + 1]
    assert b"".join(sliced(_gen(*chunks), None)) == data


def test_pieces_are_fixed_size() -> None:
    from tvix_store.http.nar_stream import _pieces

    parts = [b"x" * n for n in (1, OUT_CHUNK, 7, 3 * OUT_CHUNK + 5, 2)]
    pieces = list(_pieces(iter(parts)))
    assert b"".join(pieces) == b"".join(parts)
    assert all(len(p) == OUT_CHUNK for p in pieces[:-1])
    assert 0 < len(pieces[-1]) <= OUT_CHUNK
