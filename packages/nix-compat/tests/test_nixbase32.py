"""nixbase32: the reference's vectors, error reporting and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat import nixbase32
from nix_compat.errors import NixCompatError
from nix_compat.nixbase32 import Nixbase32Error

STORE_PATH_DIGEST = bytes.fromhex("8a12321522fd91efbd60ebb2481af88580f61600")
SHA256_DIGEST = bytes.fromhex("b3a24de97a8fdbc835b9833169501030b8977031bcb54b3b3ac13740f846ab30")

VECTORS = [
    ("", b""),
    ("0z", b"\x1f"),
    ("00bgd045z0d4icpbc2yyz4gx48ak44la", STORE_PATH_DIGEST),
    ("0c5b8vw40dy178xlpddw65q9gf1h2186jcc3p4swinwggbllv8mk", SHA256_DIGEST),
]


def reference_encode(data: bytes) -> str:
    """Bit-by-bit transcription of Nix's printHash32, to check the fast implementation."""
    length = (len(data) * 8 - 1) // 5 + 1 if data else 0
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i, j = b // 8, b % 8
        c = data[i] >> j
        if i + 1 < len(data):
            c |= (data[i + 1] << (8 - j)) & 0xFF
        out.append(nixbase32.ALPHABET[c & 0x1F])
    return "".join(out)


@pytest.mark.parametrize(("encoded", "decoded"), VECTORS)
def test_encode(encoded: str, decoded: bytes) -> None:
    assert nixbase32.encode(decoded) == encoded


@pytest.mark.parametrize(("encoded", "decoded"), VECTORS)
def test_decode(encoded: str, decoded: bytes) -> None:
    assert nixbase32.decode(encoded) == decoded
    assert nixbase32.decode(encoded.encode()) == decoded


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        # ten 1-bits do not fit in one byte
        ("zz", "non-zero leftover bits in nixbase32 character 'z' at offset 0"),
        # would decode as 00000000 11
        ("c0", "non-zero leftover bits in nixbase32 character 'c' at offset 0"),
        ("0e", "invalid nixbase32 character 'e' at offset 1"),
        ("o0", "invalid nixbase32 character 'o' at offset 0"),
        ("00bgd045z0d4icpbc2yyz4gx48aku4la", "invalid nixbase32 character 'u' at offset 28"),
        ("0T", "invalid nixbase32 character 'T' at offset 1"),
        ("0 ", "invalid nixbase32 character ' ' at offset 1"),
        ("_0", "invalid nixbase32 character '_' at offset 0"),
        ("0", "invalid nixbase32 length 1"),
        ("000", "invalid nixbase32 length 3"),
    ],
)
def test_decode_rejects(encoded: str, message: str) -> None:
    with pytest.raises(Nixbase32Error) as excinfo:
        nixbase32.decode(encoded)
    assert str(excinfo.value).startswith(message)
    assert isinstance(excinfo.value, NixCompatError)


def test_decode_rejects_non_ascii_bytes() -> None:
    with pytest.raises(Nixbase32Error, match="invalid nixbase32 byte 0xff at offset 1"):
        nixbase32.decode(b"0\xff")


def test_lengths() -> None:
    assert nixbase32.encoded_len(20) == 32
    assert nixbase32.decoded_len(32) == 20
    assert nixbase32.encoded_len(0) == 0
    assert nixbase32.encoded_len(32) == 52
    assert nixbase32.decoded_len(52) == 32
    assert nixbase32.encoded_len(64) == 103
    assert nixbase32.encoded_len(16) == 26


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_round_trip(data: bytes) -> None:
    encoded = nixbase32.encode(data)
    assert len(encoded) == nixbase32.encoded_len(len(data))
    assert encoded == reference_encode(data)
    assert nixbase32.decode(encoded) == data


def is_canonical(text: str) -> bool:
    """Whether ``text`` is the encoding of some byte string: right length, no leftover bits."""
    n_bytes = nixbase32.decoded_len(len(text))
    if nixbase32.encoded_len(n_bytes) != len(text):
        return False
    value = 0
    for char in text:
        value = value * 32 + nixbase32.ALPHABET.index(char)
    return value < 1 << (8 * n_bytes)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=nixbase32.ALPHABET, max_size=60))
def test_decode_accepts_exactly_canonical_encodings(text: str) -> None:
    if is_canonical(text):
        assert nixbase32.encode(nixbase32.decode(text)) == text
    else:
        with pytest.raises(Nixbase32Error):
            nixbase32.decode(text)
