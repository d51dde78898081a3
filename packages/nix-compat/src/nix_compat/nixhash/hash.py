"""A digest with its algorithm, and the parser for every textual form Nix accepts."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import NoReturn

from nix_compat import nixbase32
from nix_compat.errors import HashParseError, Nixbase32Error
from nix_compat.nixhash.algo import HashAlgo

__all__ = ["NixHash", "parse_digest", "parse_hash"]

_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
_NIX32_CHARS = frozenset(nixbase32.ALPHABET)
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


@dataclass(frozen=True)
class NixHash:
    """A digest together with the algorithm that produced it; the digest length is checked."""

    algo: HashAlgo
    digest: bytes

    def __post_init__(self) -> None:
        algo: object = self.algo
        digest: object = self.digest
        if not isinstance(algo, HashAlgo):
            raise TypeError(f"NixHash.algo must be a HashAlgo, not {type(algo).__name__}")
        if not isinstance(digest, bytes):
            if not isinstance(digest, bytearray | memoryview):
                raise TypeError(f"NixHash.digest must be bytes, not {type(digest).__name__}")
            object.__setattr__(self, "digest", bytes(digest))
        if len(self.digest) != self.algo.digest_size:
            raise HashParseError(
                f"a {self.algo.value} digest has {self.algo.digest_size} bytes, "
                f"got {len(self.digest)}"
            )

    @staticmethod
    def hash_bytes(algo: HashAlgo, data: bytes) -> NixHash:
        """Hash ``data`` with ``algo``."""
        hasher = algo.new()
        hasher.update(data)
        return NixHash(algo, hasher.digest())

    def hex(self) -> str:
        """The digest in lowercase hex (Nix's "base16")."""
        return self.digest.hex()

    def nix32(self) -> str:
        """The digest in nixbase32."""
        return nixbase32.encode(self.digest)

    def base64(self) -> str:
        """The digest in padded standard base64."""
        return base64.b64encode(self.digest).decode("ascii")

    def sri(self) -> str:
        """The Subresource Integrity form, e.g. ``sha256-<base64>``."""
        return f"{self.algo.value}-{self.base64()}"

    def to_nix_string(self) -> str:
        """``algo:<nixbase32>``, the form of narinfo ``NarHash`` and of ``nix-hash --type``."""
        return f"{self.algo.value}:{self.nix32()}"

    def to_hex_string(self) -> str:
        """``algo:<hex>``, the form used inside store path fingerprints."""
        return f"{self.algo.value}:{self.hex()}"


def parse_hash(text: str, algo: HashAlgo | str | None = None) -> NixHash:
    """Parse a hash the way C++ Nix's ``Hash::parseAny`` does.

    ``text`` is ``algo:<digest>``, an SRI string ``algo-<base64>``, or a bare digest. For
    ``algo:`` and bare digests the encoding follows from the length: hex (either case),
    nixbase32 or padded base64. SRI strings may omit the ``=`` padding but must not carry
    extra data, so strings with several hashes are rejected. A bare digest needs ``algo``;
    when both ``algo`` and an inline algorithm are given they must agree. ``algo`` may be a
    name; an empty name counts as absent.
    """
    external = _external_algo(algo)
    colon = text.find(":")
    dash = text.find("-") if colon < 0 else -1
    separator = colon if colon >= 0 else dash
    if separator < 0:
        if external is None:
            raise HashParseError(
                f"hash {text!r} does not include a type, nor is the type otherwise known "
                "from context"
            )
        return _decode_digest(text, external, text, 0)

    prefix = text[:separator]
    try:
        inline = HashAlgo.parse(prefix)
    except HashParseError as e:
        raise HashParseError(f"hash {text!r}: {e}") from None
    if external is not None and external is not inline:
        raise HashParseError(
            f"hash {text!r} should have type {external.value!r}, but its inline type is "
            f"{inline.value!r}"
        )
    rest = text[separator + 1 :]
    if colon >= 0:
        return _decode_digest(rest, inline, text, separator + 1)
    return _decode_sri(rest, inline, text, separator + 1)


def parse_digest(text: str, algo: HashAlgo | str) -> NixHash:
    """Parse a bare digest of a known algorithm, as C++ Nix's ``parseNonSRIUnprefixed``.

    The encoding follows from the length: hex (either case), nixbase32 or padded base64.
    """
    return _decode_digest(text, HashAlgo.parse(algo) if isinstance(algo, str) else algo, text, 0)


def _external_algo(algo: HashAlgo | str | None) -> HashAlgo | None:
    if algo is None or isinstance(algo, HashAlgo):
        return algo
    if algo == "":
        return None
    return HashAlgo.parse(algo)


def _decode_digest(encoded: str, algo: HashAlgo, whole: str, offset: int) -> NixHash:
    """Decode a digest whose encoding is told by its length: hex, nixbase32 or padded base64."""
    length = len(encoded)
    if length == algo.base16_len:
        if not _HEX_CHARS.issuperset(encoded):
            _raise_bad_char(encoded, _HEX_CHARS, "base-16", whole, offset)
        return NixHash(algo, bytes.fromhex(encoded))
    if length == algo.nix32_len:
        if not _NIX32_CHARS.issuperset(encoded):
            _raise_bad_char(encoded, _NIX32_CHARS, "base-32", whole, offset)
        try:
            return NixHash(algo, nixbase32.decode(encoded))
        except Nixbase32Error:
            raise HashParseError(
                f"invalid base-32 hash {whole!r}: non-zero leftover bits in character "
                f"{encoded[0]!r} at offset {offset}"
            ) from None
    if length == algo.base64_len:
        return NixHash(algo, _decode_base64(encoded, algo, whole, offset, "base-64"))
    raise HashParseError(
        f"hash {whole!r} has wrong length for hash type {algo.value!r}: the digest has "
        f"{length} characters, expected {algo.base16_len} (base-16), {algo.nix32_len} "
        f"(base-32) or {algo.base64_len} (base-64)"
    )


def _decode_sri(encoded: str, algo: HashAlgo, whole: str, offset: int) -> NixHash:
    """Decode the base64 part of an SRI hash, padded or not."""
    if len(encoded) == algo.base64_nopad_len:
        encoded_padded = encoded + "=" * (-len(encoded) % 4)
    elif len(encoded) == algo.base64_len:
        encoded_padded = encoded
    else:
        raise HashParseError(
            f"invalid SRI hash {whole!r}: a {algo.value} digest has {algo.base64_len} base-64 "
            f"characters ({algo.base64_nopad_len} without padding), got {len(encoded)}"
        )
    return NixHash(algo, _decode_base64(encoded_padded, algo, whole, offset, "SRI"))


def _decode_base64(encoded: str, algo: HashAlgo, whole: str, offset: int, kind: str) -> bytes:
    body = encoded.rstrip("=")
    if not _BASE64_CHARS.issuperset(body):
        _raise_bad_char(body, _BASE64_CHARS, kind, whole, offset)
    try:
        digest = binascii.a2b_base64(encoded, strict_mode=True)
    except binascii.Error as e:
        raise HashParseError(f"invalid {kind} hash {whole!r}: {e}") from None
    if len(digest) != algo.digest_size:
        raise HashParseError(
            f"invalid {kind} hash {whole!r}: decodes to {len(digest)} bytes, a {algo.value} "
            f"digest has {algo.digest_size}"
        )
    return digest


def _raise_bad_char(
    encoded: str, alphabet: frozenset[str], kind: str, whole: str, offset: int
) -> NoReturn:
    position, char = next((i, c) for i, c in enumerate(encoded) if c not in alphabet)
    raise HashParseError(
        f"invalid {kind} hash {whole!r}: character {char!r} at offset {offset + position} "
        f"is not in the {kind} alphabet"
    )
