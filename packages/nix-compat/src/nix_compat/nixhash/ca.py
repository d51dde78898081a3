"""Content addresses: a hash together with how the content was hashed.

``FlatHash`` hashes a file's bytes, ``NarHash`` hashes the NAR serialisation of a file or tree
(Nix's "recursive" mode, prefix ``r:``), ``TextHash`` is the sha256 of a text file as written by
``builtins.toFile`` or for a ``.drv``. They appear in three spellings: the narinfo ``CA:`` field
(``fixed:r:sha256:<nix32>``, ``text:sha256:<nix32>``), the ``hashAlgo`` column of a derivation
output (``r:sha256``), and the ``outputHash``/``outputHashAlgo``/``outputHashMode`` attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nix_compat.errors import HashParseError
from nix_compat.nixhash.algo import HashAlgo
from nix_compat.nixhash.hash import NixHash, parse_digest, parse_hash

__all__ = [
    "CAHash",
    "FlatHash",
    "NarHash",
    "TextHash",
    "ca_hash_from_drv_output",
    "ca_hash_from_output_hash",
    "output_hash_algo_string",
    "parse_ca",
]


@dataclass(frozen=True)
class FlatHash:
    """The hash of a regular file's contents (``outputHashMode = "flat"``)."""

    hash: NixHash
    mode: ClassVar[str] = "flat"
    method_prefix: ClassVar[str] = ""

    def to_nix_string(self) -> str:
        """The narinfo ``CA`` form: ``fixed:<algo>:<nix32>``."""
        return f"fixed:{self.hash.to_nix_string()}"


@dataclass(frozen=True)
class NarHash:
    """The hash of a NAR serialisation (``outputHashMode = "recursive"``, prefix ``r:``)."""

    hash: NixHash
    mode: ClassVar[str] = "recursive"
    method_prefix: ClassVar[str] = "r:"

    def to_nix_string(self) -> str:
        """The narinfo ``CA`` form: ``fixed:r:<algo>:<nix32>``."""
        return f"fixed:r:{self.hash.to_nix_string()}"


@dataclass(frozen=True)
class TextHash:
    """The sha256 digest of a text file (``builtins.toFile``, ``.drv`` files)."""

    digest: bytes
    mode: ClassVar[str] = "text"
    method_prefix: ClassVar[str] = "text:"

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", NixHash(HashAlgo.SHA256, self.digest).digest)

    @property
    def hash(self) -> NixHash:
        """The digest as a sha256 :class:`NixHash`."""
        return NixHash(HashAlgo.SHA256, self.digest)

    def to_nix_string(self) -> str:
        """The narinfo ``CA`` form: ``text:sha256:<nix32>``."""
        return f"text:{self.hash.to_nix_string()}"


CAHash = FlatHash | NarHash | TextHash

_MODES = ("flat", "recursive", "text")


def output_hash_algo_string(ca: CAHash) -> str:
    """The ``hashAlgo`` column of a derivation output: ``sha256``, ``r:sha256``, ``text:sha256``."""
    return f"{ca.method_prefix}{ca.hash.algo.value}"


def ca_hash_from_output_hash(
    hash_str: str, algo_str: str | HashAlgo | None, mode: str | None = None
) -> CAHash:
    """Build a content address from a derivation's ``outputHash`` attributes.

    ``algo_str`` is ``outputHashAlgo``; empty or absent means the algorithm comes from the hash
    itself (SRI or ``algo:`` form). ``mode`` is ``outputHashMode``: absent means ``flat``;
    ``text`` requires sha256. Like C++ Nix, an empty ``hash_str`` with an algorithm stands for
    the all-zero digest; Nix then warns "found empty hash, assuming '<sri>'", which is left to
    the caller.
    """
    if mode is None:
        mode = "flat"
    if mode not in _MODES:
        raise HashParseError(
            f"invalid value {mode!r} for 'outputHashMode': expected 'flat', 'recursive' or 'text'"
        )
    if hash_str == "":
        algo = HashAlgo.parse(algo_str) if isinstance(algo_str, str) and algo_str else algo_str
        if not isinstance(algo, HashAlgo):
            raise HashParseError("empty hash requires explicit hash type")
        nix_hash = NixHash(algo, bytes(algo.digest_size))
    else:
        nix_hash = parse_hash(hash_str, algo_str)
    return _with_mode(mode, nix_hash, f"outputHash {hash_str!r}")


def ca_hash_from_drv_output(hash_algo: str, hash_digest: str) -> CAHash:
    """Build a content address from a derivation output's ``hashAlgo`` and ``hash`` columns.

    ``hash_algo`` is ``[r:|text:]<algo>``; ``hash_digest`` is the bare digest, normally lowercase
    hex, though like C++ Nix any non-SRI encoding is accepted.
    """
    mode, algo_name = _split_method(hash_algo)
    try:
        algo = HashAlgo.parse(algo_name)
    except HashParseError as e:
        raise HashParseError(f"derivation output hashAlgo {hash_algo!r}: {e}") from None
    nix_hash = parse_digest(hash_digest, algo)
    return _with_mode(mode, nix_hash, f"derivation output hashAlgo {hash_algo!r}")


def parse_ca(text: str) -> CAHash:
    """Parse a narinfo ``CA`` field: ``fixed:[r:]<algo>:<digest>`` or ``text:sha256:<digest>``.

    The digest may be hex, nixbase32 or padded base64, told apart by length.
    """
    kind, sep, rest = text.partition(":")
    if not sep:
        raise HashParseError(
            f"content address {text!r} is not in the form '<prefix>:<rest>' at offset 0"
        )
    if kind == "text":
        mode = "text"
    elif kind == "fixed":
        mode = "recursive" if rest.startswith("r:") else "flat"
        rest = rest.removeprefix("r:")
    else:
        raise HashParseError(
            f"content address {text!r} has unknown prefix {kind!r} at offset 0: "
            "expected 'fixed' or 'text'"
        )
    algo_name, sep, digest = rest.partition(":")
    if not sep:
        raise HashParseError(
            f"content address {text!r}: the hash must be in the form '<algo>:<digest>'"
        )
    try:
        algo = HashAlgo.parse(algo_name)
    except HashParseError as e:
        raise HashParseError(f"content address {text!r}: {e}") from None
    try:
        nix_hash = parse_digest(digest, algo)
    except HashParseError as e:
        offset = len(text) - len(digest)
        raise HashParseError(f"content address {text!r}, digest at offset {offset}: {e}") from None
    return _with_mode(mode, nix_hash, f"content address {text!r}")


def _split_method(hash_algo: str) -> tuple[str, str]:
    if hash_algo.startswith("r:"):
        return "recursive", hash_algo[2:]
    if hash_algo.startswith("text:"):
        return "text", hash_algo[5:]
    return "flat", hash_algo


def _with_mode(mode: str, nix_hash: NixHash, what: str) -> CAHash:
    if mode == "recursive":
        return NarHash(nix_hash)
    if mode == "flat":
        return FlatHash(nix_hash)
    if nix_hash.algo is not HashAlgo.SHA256:
        raise HashParseError(
            f"{what}: a text content address must use sha256, not {nix_hash.algo.value}"
        )
    return TextHash(nix_hash.digest)
