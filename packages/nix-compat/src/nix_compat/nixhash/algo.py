"""The hash algorithms C++ Nix supports: md5, sha1, sha256 and sha512."""

from __future__ import annotations

import enum
import hashlib
from typing import TYPE_CHECKING

from nix_compat.errors import HashParseError

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = ["HashAlgo"]

_DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}


class HashAlgo(enum.Enum):
    """A hash algorithm, named as Nix spells it (``md5``, ``sha1``, ``sha256``, ``sha512``)."""

    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"

    @property
    def digest_size(self) -> int:
        """Length of a digest in bytes."""
        return _DIGEST_SIZES[self.value]

    @property
    def base16_len(self) -> int:
        """Length of a digest written in lowercase hex."""
        return 2 * self.digest_size

    @property
    def nix32_len(self) -> int:
        """Length of a digest written in nixbase32."""
        return (self.digest_size * 8 - 1) // 5 + 1

    @property
    def base64_len(self) -> int:
        """Length of a digest written in padded base64."""
        return ((self.digest_size + 2) // 3) * 4

    @property
    def base64_nopad_len(self) -> int:
        """Length of a digest written in base64 without ``=`` padding."""
        return (self.digest_size * 4 + 2) // 3

    def new(self) -> _Hash:
        """A fresh :mod:`hashlib` object computing this algorithm, for streaming input."""
        return hashlib.new(self.value)

    @classmethod
    def parse(cls, name: str) -> HashAlgo:
        """The algorithm called ``name``; raises :class:`HashParseError` for anything else."""
        try:
            return cls(name)
        except ValueError:
            supported = ", ".join(a.value for a in cls)
            raise HashParseError(
                f"unknown or unsupported hash algorithm {name!r} (supported: {supported})"
            ) from None

    def __str__(self) -> str:
        return self.value
