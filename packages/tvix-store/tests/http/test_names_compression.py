"""File names of the cache and the streaming (de)compressors."""

from __future__ import annotations

import io
import os

import pytest
from nix_compat import nixbase32
from tvix_store.http.compression import (
    ChunkCompressor,
    Compression,
    CompressionError,
    DecompressingReader,
)
from tvix_store.http.names import BadNameError, nar_file_name, parse_nar_name, parse_narinfo_name
from tvix_store.http.nar_stream import ByteRange, RangeNotSatisfiableError, parse_range

from .conftest import COMPRESSORS, DECOMPRESSORS

OUT = "ffffph9fzxvs4x3w9h2f62d9sbp68bl4"
SHA = "1z3lvj61cd3y3fxxhgvpkixsffx53z0rblks5ql3ym8sjv8xm1xl"


def test_narinfo_name() -> None:
    assert parse_narinfo_name(f"{OUT}.narinfo") == nixbase32.decode(OUT)


@pytest.mark.parametrize(
    "name",
    [
        f"{OUT[:-1]}e.narinfo",  # 'e' is not a nixbase32 digit
        f"{OUT[:-1]}.narinfo",
        f"{OUT}x.narinfo",
        f"{OUT}.narinfo.bak",
        f"{OUT.upper()}.narinfo",
        "..narinfo",
    ],
)
def test_bad_narinfo_names(name: str) -> None:
    with pytest.raises(BadNameError) as e:
        parse_narinfo_name(name)
    assert str(e.value) == (
        f"invalid narinfo name {name!r}: expected <32 nixbase32 characters>.narinfo"
    )


def test_nar_names() -> None:
    served = parse_nar_name(f"{OUT}-{SHA}.nar.zst")
    assert served.out_digest == nixbase32.decode(OUT)
    assert served.sha256 == nixbase32.decode(SHA)
    assert served.compression is Compression.ZSTD
    upload = parse_nar_name(f"{SHA}.nar.xz")
    assert (upload.out_digest, upload.compression) == (None, Compression.XZ)
    assert parse_nar_name(f"{SHA}.nar").compression is Compression.NONE
    assert parse_nar_name(f"{SHA}.nar.bz2").compression is Compression.BZIP2
    assert (
        nar_file_name(nixbase32.decode(OUT), nixbase32.decode(SHA), Compression.XZ)
        == f"nar/{OUT}-{SHA}.nar.xz"
    )


def test_unknown_compression_extension() -> None:
    with pytest.raises(BadNameError) as e:
        parse_nar_name(f"{SHA}.nar.gz")
    assert str(e.value) == f"invalid NAR name '{SHA}.nar.gz': unknown compression extension '.gz'"


@pytest.mark.parametrize("name", [f"{SHA[:-1]}.nar", f"{SHA}.nar/..", f"{OUT}-{SHA}", "x.nar"])
def test_bad_nar_names(name: str) -> None:
    with pytest.raises(BadNameError, match=r"^invalid NAR name"):
        parse_nar_name(name)


def test_unknown_compression_name() -> None:
    with pytest.raises(CompressionError) as e:
        Compression.from_name("br")
    assert str(e.value) == "unknown compression 'br' (known: none, xz, bzip2, zstd)"


@pytest.mark.parametrize("compression", list(Compression))
def test_round_trip(compression: Compression) -> None:
    data = os.urandom(300_000) + bytes(2_000_000)
    compressor = ChunkCompressor(compression)
    out = b"".join(compressor.compress(data[i : i + 70_000]) for i in range(0, len(data), 70_000))
    out += compressor.flush()
    assert DECOMPRESSORS[compression.value](out) == data
    reader = DecompressingReader(io.BytesIO(out), compression)
    pieces = []
    while piece := reader.read(10_000):
        assert len(piece) <= 10_000
        pieces.append(piece)
    assert b"".join(pieces) == data


@pytest.mark.parametrize("compression", [Compression.XZ, Compression.BZIP2])
def test_truncated_and_trailing_streams(compression: Compression) -> None:
    data = COMPRESSORS[compression.value][1](os.urandom(50_000))
    reader = DecompressingReader(io.BytesIO(data[:-10]), compression)
    with pytest.raises(CompressionError) as e:
        while reader.read(1 << 20):
            pass
    assert str(e.value) == f"the {compression.value} stream is truncated"
    reader = DecompressingReader(io.BytesIO(data + b"junk"), compression)
    with pytest.raises(CompressionError) as e:
        while reader.read(1 << 20):
            pass
    assert str(e.value) == f"data after the end of the {compression.value} stream"


def test_garbage_is_not_xz() -> None:
    with pytest.raises(CompressionError, match=r"^invalid xz data: "):
        DecompressingReader(io.BytesIO(b"not xz at all" * 10), Compression.XZ).read(100)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", ByteRange(0, 9, 100)),
        ("bytes=90-", ByteRange(90, 99, 100)),
        ("bytes=90-500", ByteRange(90, 99, 100)),
        ("bytes=-10", ByteRange(90, 99, 100)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, 100)
