"""Nix's own base-32 encoding ("nix32"), used for store path digests and hashes.

It differs from RFC 4648 base32: the alphabet omits ``e``, ``o``, ``u`` and ``t``, there is no
padding, and the input is read as one little-endian number whose most significant 5-bit group
is written first.
"""

from __future__ import annotations

from nix_compat.errors import Nixbase32Error

__all__ = ["ALPHABET", "Nixbase32Error", "decode", "decoded_len", "encode", "encoded_len"]

ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"

_VALID_CHARS = frozenset(ALPHABET)
# Maps each nixbase32 digit to the digit of the same value in Python's base-32 int() syntax.
_TO_PYTHON_DIGITS = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")
#: every two-digit string, indexed by the 10-bit value it encodes
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def encoded_len(n_bytes: int) -> int:
    """Number of characters that encode ``n_bytes`` bytes."""
    if n_bytes == 0:
        return 0
    return (n_bytes * 8 - 1) // 5 + 1


def decoded_len(n_chars: int) -> int:
    """Number of bytes that ``n_chars`` characters decode to."""
    return (n_chars * 5) // 8


def encode(data: bytes) -> str:
    """Encode ``data`` as nixbase32."""
    n_chars = encoded_len(len(data))
    if n_chars == 0:
        return ""
    # The digits of one little-endian number, most significant first, two per table lookup.
    value = int.from_bytes(data, "little")
    shift = 5 * (n_chars - 2)
    if n_chars & 1:
        head = ALPHABET[value >> (shift + 5)]
        return head + "".join([_PAIRS[(value >> s) & 0x3FF] for s in range(shift - 5, -1, -10)])
    return "".join([_PAIRS[(value >> s) & 0x3FF] for s in range(shift, -1, -10)])


def decode(text: str | bytes) -> bytes:
    """Decode nixbase32 ``text``.

    Raises :class:`Nixbase32Error` for a character outside the alphabet, for a length that no
    byte string encodes to, and for non-zero bits beyond the decoded length (a non-canonical
    encoding).
    """
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if not raw.isascii():
            offset = next(i for i, byte in enumerate(raw) if byte >= 0x80)
            raise Nixbase32Error(f"invalid nixbase32 byte 0x{raw[offset]:02x} at offset {offset}")
        text = raw.decode("ascii")
    if not _VALID_CHARS.issuperset(text):
        offset, char = next((i, c) for i, c in enumerate(text) if c not in _VALID_CHARS)
        raise Nixbase32Error(f"invalid nixbase32 character {char!r} at offset {offset}")
    n_bytes = decoded_len(len(text))
    if encoded_len(n_bytes) != len(text):
        raise Nixbase32Error(
            f"invalid nixbase32 length {len(text)}: no byte string encodes to that many characters"
        )
    if not text:
        return b""
    value = int(text.translate(_TO_PYTHON_DIGITS), 32)
    if value >> (8 * n_bytes):
        raise Nixbase32Error(
            f"non-zero leftover bits in nixbase32 character {text[0]!r} at offset 0: "
            f"the value does not fit in {n_bytes} byte{'s' if n_bytes != 1 else ''}"
        )
    return value.to_bytes(n_bytes, "little")
